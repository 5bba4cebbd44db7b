// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64 || arm64

package percpu

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The critical sections (cs_amd64.s, cs_arm64.s). Each works on the current thread's
// shard of per-CPU memory at addr (shard 0's address; csAddIndirect reads
// it from *base), the shard index read from the rseq area at offset field.
// Results: >= 0 the shard committed to; csNoRseq, csFailed, csCorrupt.

//go:noescape
func csAdd(addr uintptr, v int64, field uintptr) int32

//go:noescape
func csCmpStore(addr uintptr, old, new uint64, field uintptr) int32

//go:noescape
func csPop(addr uintptr, links unsafe.Pointer, n uintptr, field uintptr) (item uint64, shard int32)

//go:noescape
func csPush(addr uintptr, links unsafe.Pointer, item uintptr, field uintptr) int32

//go:noescape
func csStoreCommit(addr uintptr, old, new uint64, dst uintptr, v uint64, field uintptr) int32

//go:noescape
func csCopyCommit(addr uintptr, old, new uint64, dst uintptr, src unsafe.Pointer, n uintptr, field uintptr) int32

//go:noescape
func csAddIndirect(base *uint64, off uintptr, v int64, field uintptr) int32

//go:noescape
func csEntries(out *[csCount]unsafe.Pointer)

// csBounds are a critical section's addresses, as decoded from its
// anchors.
type csBounds struct {
	entry, start, post, abort uintptr
}

func init() {
	shardCount32 = uint32(shardCount)
	if err := initCriticalSections(); err != nil {
		panic(err)
	}
}

// initCriticalSections fills csDesc. The descriptors live in a page of
// their own outside the Go heap, each 32-byte aligned as the kernel
// requires, and are never written again.
func initCriticalSections() error {
	var entries [csCount]unsafe.Pointer
	csEntries(&entries)
	page, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return fmt.Errorf("percpu: mapping the critical-section descriptors: %w", err)
	}
	for i, entry := range entries {
		b, err := decodeAnchors(entry)
		if err != nil {
			return fmt.Errorf("percpu: critical section %s: %w", csNames[i], err)
		}
		d := (*rseqCS)(unsafe.Pointer(&page[i*32]))
		*d = rseqCS{
			startIP:          uint64(b.start),
			postCommitOffset: uint64(b.post - b.start),
			abortIP:          uint64(b.abort),
		}
		csDesc[i] = uintptr(unsafe.Pointer(d))
	}
	if err := unix.Mprotect(page, unix.PROT_READ); err != nil {
		return fmt.Errorf("percpu: write-protecting the critical-section descriptors: %w", err)
	}
	csPage = page
	return nil
}

// csPage keeps the descriptors' mapping referenced.
var csPage []byte
