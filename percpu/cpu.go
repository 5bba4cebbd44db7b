// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

// CPU returns the number of the CPU the calling goroutine is running on.
//
// The result is a hint: the goroutine may run on another CPU by the time
// the caller looks at it. With rseq it costs about one function call; see
// [Status] for the fallback used without it.
func CPU() int {
	if c := rseqCPU(); c >= 0 {
		return int(c)
	}
	cpu, _ := fallbackCPUNode()
	return cpu
}

// Node returns the NUMA node of the CPU the calling goroutine is running
// on, a hint like [CPU].
func Node() int {
	if hasNode {
		if n := rseqNode(); n >= 0 {
			return int(n)
		}
	}
	_, node := fallbackCPUNode()
	return node
}

// CID returns the calling thread's concurrency ID: the kernel's mm_cid, a
// number below min(number of CPUs, number of threads of the process) that
// no other running thread of the process has at the same time. Shards
// indexed by CID stay dense when the process runs on a few CPUs of a large
// machine. Where the kernel has no mm_cid (before 6.3, or without rseq),
// CID returns the CPU number, which is unique among running threads too.
func CID() int {
	if hasCID {
		if c := rseqCID(); c >= 0 {
			return int(c)
		}
	}
	return CPU()
}
