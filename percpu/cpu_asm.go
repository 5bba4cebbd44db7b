// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64 || arm64

package percpu

// CPU, Node and CID are assembly (cpu_amd64.s, cpu_arm64.s): with rseq each is a few
// loads from the current thread's rseq area, about the cost of any call
// into assembly. They jump to the fallback when the process has no rseq or
// the thread's area says cpu_id < 0.

// CPU returns the number of the CPU the calling goroutine is running on.
//
// The result is a hint: the goroutine may run on another CPU by the time
// the caller looks at it. With rseq it costs about one function call; see
// [Status] for the fallback used without it.
func CPU() int

// Node returns the NUMA node of the CPU the calling goroutine is running
// on, a hint like [CPU].
func Node() int

// CID returns the calling thread's concurrency ID: the kernel's mm_cid, a
// number below min(number of CPUs, number of threads of the process) that
// no other running thread of the process has at the same time. Shards
// indexed by CID stay dense when the process runs on a few CPUs of a large
// machine. Where the kernel has no mm_cid (before 6.3, or without rseq),
// CID returns the CPU number, which is unique among running threads too.
func CID() int
