// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject

package percpu

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Test-only critical sections, built with -tags gorseq_inject
// (cs_inject_amd64.s). Production builds carry none of this.

// The test-only critical sections, in the order of injectEntries and of
// the INJECT_* offsets in cs_inject_amd64.s.
const (
	injectAdd = iota
	injectCounterAdd
	injectCount
)

var injectNames = [injectCount]string{"csAddInject", "counterAddInject"}

// csAddInject is csAdd with a delay loop of loops iterations between the
// load and the commit store, inside the section.
//
//go:noescape
func csAddInject(addr uintptr, v int64, field uintptr, loops uintptr) int32

// counterAddInject is counterAdd, Counter.Add's fast path, with the same
// delay loop between the load and the commit store, inside the section.
// Anything counterAdd leaves to counterAddSlow it leaves to
// counterAddInjectSlow.
//
//go:noescape
func counterAddInject(c *Counter, v int64, loops uintptr)

// counterAddInjectSlow is counterAddInject's slow path: counterAddSlow,
// as for counterAdd (no delay there), counted in counterAddInjectSlows.
// Its frame is counterAddInject's, which jumps to it.
func counterAddInjectSlow(c *Counter, v int64, loops uintptr) {
	counterAddInjectSlows.Add(1)
	counterAddSlow(c, v)
}

// counterAddInjectSlows counts the calls of counterAddInject that took
// the slow path.
var counterAddInjectSlows atomic.Uint64

// injectEntries returns the code addresses (ABI0) of the test-only
// critical sections, whose anchors decodeAnchors reads.
//
//go:noescape
func injectEntries(out *[injectCount]unsafe.Pointer)

// rseqThreadArea returns the address of the current thread's rseq area,
// as the critical sections find it, or 0 when the process has no rseq.
func rseqThreadArea() uintptr

// csInjectDesc holds the address of each test-only section's struct
// rseq_cs, in a page of its own (csInjectPage), written once by init and
// read by the assembly. It is separate from csDesc so that the production
// descriptors are untouched by the test build.
var csInjectDesc [injectCount]uintptr

// csInjectPage keeps the descriptors' mapping referenced.
var csInjectPage []byte

func init() {
	if err := initInjectSections(); err != nil {
		panic(err)
	}
}

// initInjectSections fills csInjectDesc as initCriticalSections fills
// csDesc: decoded anchors, 32-byte aligned descriptors outside the Go
// heap, write-protected afterwards.
func initInjectSections() error {
	var entries [injectCount]unsafe.Pointer
	injectEntries(&entries)
	page, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return fmt.Errorf("percpu: mapping the injection descriptors: %w", err)
	}
	for i, entry := range entries {
		b, err := decodeAnchors(entry)
		if err != nil {
			return fmt.Errorf("percpu: critical section %s: %w", injectNames[i], err)
		}
		d := (*rseqCS)(unsafe.Pointer(&page[i*32]))
		*d = rseqCS{
			startIP:          uint64(b.start),
			postCommitOffset: uint64(b.post - b.start),
			abortIP:          uint64(b.abort),
		}
		csInjectDesc[i] = uintptr(unsafe.Pointer(d))
	}
	if err := unix.Mprotect(page, unix.PROT_READ); err != nil {
		return fmt.Errorf("percpu: write-protecting the injection descriptors: %w", err)
	}
	csInjectPage = page
	return nil
}
