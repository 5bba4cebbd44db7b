// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject

package percpu

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Test-only critical sections, built with -tags gorseq_inject
// (cs_inject_amd64.s). Production builds carry none of this.

// csAddInject is csAdd with a delay loop of loops iterations between the
// load and the commit store, inside the section.
//
//go:noescape
func csAddInject(addr uintptr, v int64, field uintptr, loops uintptr) int32

// csAddInjectEntry returns csAddInject's code address (ABI0), whose
// anchors decodeAnchors reads.
func csAddInjectEntry() unsafe.Pointer

// rseqThreadArea returns the address of the current thread's rseq area,
// as the critical sections find it, or 0 when the process has no rseq.
func rseqThreadArea() uintptr

// csInjectDesc is the address of csAddInject's struct rseq_cs, in a page
// of its own (csInjectPage), written once by init and read by the
// assembly. It is separate from csDesc so that the production descriptors
// are untouched by the test build.
var csInjectDesc uintptr

// csInjectPage keeps the descriptor's mapping referenced.
var csInjectPage []byte

func init() {
	if err := initInjectSection(); err != nil {
		panic(err)
	}
}

// initInjectSection fills csInjectDesc as initCriticalSections fills
// csDesc: decoded anchors, a 32-byte aligned descriptor outside the Go
// heap, write-protected afterwards.
func initInjectSection() error {
	b, err := decodeAnchors(csAddInjectEntry())
	if err != nil {
		return fmt.Errorf("percpu: critical section csAddInject: %w", err)
	}
	page, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return fmt.Errorf("percpu: mapping the injection descriptor: %w", err)
	}
	d := (*rseqCS)(unsafe.Pointer(&page[0]))
	*d = rseqCS{
		startIP:          uint64(b.start),
		postCommitOffset: uint64(b.post - b.start),
		abortIP:          uint64(b.abort),
	}
	if err := unix.Mprotect(page, unix.PROT_READ); err != nil {
		return fmt.Errorf("percpu: write-protecting the injection descriptor: %w", err)
	}
	csInjectDesc = uintptr(unsafe.Pointer(d))
	csInjectPage = page
	return nil
}
