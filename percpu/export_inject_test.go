// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && amd64

package percpu

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Hooks for counter_inject_test.go: the delay-injection critical section
// (cs_inject_amd64.s) and the calling thread's rseq registration.

// AddInject is Counter.Add through csAddInject: the same critical section
// with a delay of loops iterations between the load and the commit, on the
// same rseq word, and the same fallback.
func AddInject(c *Counter, v int64, loops uintptr) {
	s := c.shard0.Load()
	if s == nil {
		s = c.init()
	}
	if mode == ModeFallback || csAddInject(uintptr(unsafe.Pointer(s)), v, rseqCPUIDOffset, loops) < 0 {
		counterAddFallback(s, v)
	}
	runtime.KeepAlive(c)
}

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

// ThreadRseq unregisters (unregister true) or registers again the calling
// thread's area, with the runtime's length and signature. The caller must
// be locked to its thread, and must register again before it unlocks or
// exits: the runtime unregisters the area itself then, and throws if that
// fails.
func ThreadRseq(unregister bool) error {
	var flags uintptr
	if unregister {
		flags = 1 // RSEQ_FLAG_UNREGISTER
	}
	_, _, errno := unix.RawSyscall6(unix.SYS_RSEQ, rseqThreadArea(), uintptr(rt.length), flags, rseqSigAMD64, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
