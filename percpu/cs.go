// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The critical sections, in the order of csEntries and of the CS_*
// offsets in cs_amd64.h.
const (
	opAdd = iota
	opCmpStore
	opPop
	opPush
	opStoreCommit
	opCopyCommit
	csCount
)

var csNames = [csCount]string{"csAdd", "csCmpStore", "csPop", "csPush", "csStoreCommit", "csCopyCommit"}

// csDesc holds the address of each critical section's struct rseq_cs.
// Written once by initCriticalSections, read by the assembly.
var csDesc [csCount]uintptr

// shardCount32 is shardCount for the assembly's bounds check.
var shardCount32 uint32

// abortCount counts aborted critical sections, process-wide. The abort
// handlers increment it atomically; aborts are rare (a preemption, a
// migration or a signal inside a few instructions), so the shared word
// costs nothing on the fast path.
var abortCount uint64

// AbortCount returns how many restartable operations the kernel has
// aborted (and percpu retried) since the process started: a diagnostic,
// and the proof in tests that preemption really hit critical sections.
func AbortCount() uint64 { return atomic.LoadUint64(&abortCount) }

// rseqCS is struct rseq_cs (include/uapi/linux/rseq.h): 32 bytes, aligned
// to 32.
type rseqCS struct {
	version          uint32
	flags            uint32
	startIP          uint64
	postCommitOffset uint64
	abortIP          uint64
}

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
