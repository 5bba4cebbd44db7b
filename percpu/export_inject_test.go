// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && (amd64 || arm64)

package percpu

import (
	"sync/atomic"
	"unsafe"
)

// Hooks for the tests of the gorseq_inject build (counter_inject_test.go,
// ops_inject_test.go). The injection points themselves are public API of
// that build (inject.go); the machine-code test of the injected sections
// is TestCriticalSectionMachineCode.

// CounterAddSlow is Counter.Add's slow path, counterAddSlow: the Counter's
// rseq word through csAdd (the section of Add), or its fallback word. Its
// injection points are csAdd's.
func CounterAddSlow(c *Counter, v int64) { counterAddSlow(c, v) }

// CounterAddSection is the assembly section counterAdd, which Counter.Add
// calls, or, in builds where the compiler inlines Add's section
// (counter_add_inline.go), calls when the inline sequence cannot run: the
// delay tests widen it.
func CounterAddSection(c *Counter, v int64) { counterAdd(c, v) }

// CounterAddSlows returns how many Counter.Add calls so far took the slow
// path (counterAddSlow) instead of their critical section, counterAdd.
func CounterAddSlows() uint64 { return atomic.LoadUint64(&counterAddSlows) }

// ThreadRseqArea returns the calling thread's rseq area, 0 without rseq.
// The caller must be locked to its thread.
func ThreadRseqArea() uintptr { return rseqThreadArea() }

// ThreadCPUID returns cpu_id of the calling thread's rseq area: the CPU,
// or < 0 when the thread has no live registration. The caller must be
// locked to its thread; the process must have rseq.
func ThreadCPUID() int32 {
	a := rseqThreadArea()
	if a == 0 {
		panic("percpu: ThreadCPUID without rseq")
	}
	p := *(*unsafe.Pointer)(unsafe.Pointer(&a))
	return atomic.LoadInt32((*int32)(unsafe.Add(p, rseqCPUIDOffset)))
}
