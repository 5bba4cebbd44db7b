// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The critical sections (cs_amd64.s). Each works on the current thread's
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

// rseqSigAMD64 is the signature that precedes every abort handler.
const rseqSigAMD64 = 0x53053053

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

// decodeAnchors reads the four jumps at the start of a critical-section
// function (CS_ANCHORS in cs_amd64.h) and checks what the kernel relies
// on: start < post, abort outside [start, post), and the signature in the
// four bytes before abort.
func decodeAnchors(fn unsafe.Pointer) (csBounds, error) {
	// Offsets from fn.
	var targets [4]int
	pc := 0
	for i := range targets {
		code := unsafe.Slice((*byte)(unsafe.Add(fn, pc)), 5)
		switch code[0] {
		case 0xeb: // JMP rel8
			targets[i] = pc + 2 + int(int8(code[1]))
			pc += 2
		case 0xe9: // JMP rel32
			targets[i] = pc + 5 + int(int32(binary.LittleEndian.Uint32(code[1:])))
			pc += 5
		default:
			return csBounds{}, fmt.Errorf("anchor %d at +%d is not a jump (byte %#x)", i, pc, code[0])
		}
	}
	entry, start, post, abort := targets[0], targets[1], targets[2], targets[3]
	base := uintptr(fn)
	b := csBounds{entry: base + uintptr(entry), start: base + uintptr(start), post: base + uintptr(post), abort: base + uintptr(abort)}
	switch {
	case entry != pc:
		return b, fmt.Errorf("the first anchor does not jump over the anchors")
	case !(entry < start && start < post):
		return b, fmt.Errorf("start +%d and post +%d out of order", start, post)
	case abort >= start && abort < post, abort < 4:
		return b, fmt.Errorf("abort +%d inside the section", abort)
	case binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(fn, abort-4)), 4)) != rseqSigAMD64:
		return b, fmt.Errorf("no signature before abort +%d", abort)
	}
	return b, nil
}
