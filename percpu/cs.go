// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import "sync/atomic"

// The critical sections, in the order of csEntries. The assembly's CS_*
// offsets in csDesc (cs_amd64.h, cs_arm64.h) are computed from these
// constants.
const (
	opAdd = iota
	opCmpStore
	opPop
	opPush
	opStoreCommit
	opCopyCommit
	opCounterAdd
	opAddIndirect
	opPoolPop
	opPoolPush
	opCounterAddRelease
	opFloatCounterAdd
	csCount
)

var csNames = [csCount]string{"csAdd", "csCmpStore", "csPop", "csPush", "csStoreCommit", "csCopyCommit", "counterAdd", "csAddIndirect", "poolPop", "poolPush", "counterAddRelease", "floatCounterAdd"}

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

// inlineAbortCount counts the aborts of the sequences that the compiler
// emits inline (counter_add_inline.go): their abort handlers increment
// it atomically, by this name. Zero in builds without them.
var inlineAbortCount uint64

// AbortCount returns how many restartable operations the kernel has
// aborted (and percpu retried) since the process started: a diagnostic,
// and the proof in tests that preemption really hit critical sections.
func AbortCount() uint64 {
	return atomic.LoadUint64(&abortCount) + atomic.LoadUint64(&inlineAbortCount)
}

// rseqCS is struct rseq_cs (include/uapi/linux/rseq.h): 32 bytes, aligned
// to 32.
type rseqCS struct {
	version          uint32
	flags            uint32
	startIP          uint64
	postCommitOffset uint64
	abortIP          uint64
}
