// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject

package percpu

import (
	"fmt"
	"sync/atomic"
)

// The test-only API of the gorseq_inject build (go test -tags
// gorseq_inject), for percpu's own tests and for stress tests in other
// packages. Production builds have none of it: neither these functions
// nor the delay loops in the critical sections.
//
// With the tag, every critical section (those of Add, CompareAndStore,
// Pop, Push, StoreCommit, CopyCommit, AddIndirect and Counter.Add) is
// built with delay loops at four numbered injection points, in the spirit
// of RSEQ_INJECT_ASM(n) of the kernel's rseq selftests (param_test). The
// points are the same in every section:
//
//	1  right before the section is armed (the store to rseq_cs), on
//	   every try: outside the section
//	2  right after start, once the shard index is read
//	3  after the section's first load of shared memory (when that load
//	   is a compare, after its branch)
//	4  right before the commit store
//
// A delay of n spins n iterations of a register countdown: no memory
// access but the load of n, no store, no call. Delays at points 2 to 4
// are inside the section, where a preemption, a migration or a signal
// aborts it; they make such aborts frequent. A point with no delay costs
// a load, a test and a branch.

// injectPoints is the number of injection points.
const injectPoints = 4

// injectBuild makes the assembly emit the delay loops: it reaches it as
// const_injectBuild in go_asm.h (INJECT in cs_amd64.h). Only its
// existence matters.
const injectBuild = 1

// injectLoops[n] is the delay at injection point n, in iterations; [0] is
// unused. The critical sections read it with plain loads, SetInjectDelay
// writes it with atomic stores.
var injectLoops [injectPoints + 1]uint64

// InjectPoints returns the number of injection points, 4. Test-only:
// built with -tags gorseq_inject.
func InjectPoints() int { return injectPoints }

// SetInjectDelay makes every critical section of the process spin loops
// iterations at injection point point (1 to [InjectPoints]) from now on; 0
// removes the delay. It panics on a point out of range or negative loops.
// Test-only: built with -tags gorseq_inject.
func SetInjectDelay(point, loops int) {
	if point < 1 || point > injectPoints {
		panic(fmt.Sprintf("percpu: SetInjectDelay: point %d out of range [1, %d]", point, injectPoints))
	}
	if loops < 0 {
		panic(fmt.Sprintf("percpu: SetInjectDelay: negative loops %d", loops))
	}
	atomic.StoreUint64(&injectLoops[point], uint64(loops))
}

// ThreadRseq unregisters (unregister true) or registers again (false) the
// calling thread's rseq area, with the runtime's registration length and
// signature, so that a test can mix threads with and without rseq: an
// unregistered thread has cpu_id -1 and takes the fallbacks. The caller
// must be locked to its thread (runtime.LockOSThread), and must register
// again before it unlocks or exits: the runtime unregisters the area
// itself then, and throws if that fails. It returns ErrNoRseq when the
// process has no rseq (or on an architecture without critical sections),
// else the error of the rseq system call, if any: EINVAL when
// unregistering an unregistered thread, EBUSY when registering a
// registered one. Test-only: built with -tags gorseq_inject.
func ThreadRseq(unregister bool) error { return threadRseq(unregister) }

// counterAddSlows counts the calls of counterAdd's slow path in this build
// (counterAddSlowCounted, inject_amd64.s), so that tests can tell how many
// adds did not take the critical section. Atomic.
var counterAddSlows uint64

// InlineAbortCount returns how many of AbortCount's aborts were of the
// Counter.Add sequences that gorseq's compiler emits inline (no injection
// points: only preemption, migration and signals abort them); 0 in builds
// where Add calls its assembly.
func InlineAbortCount() uint64 { return atomic.LoadUint64(&inlineAbortCount) }
