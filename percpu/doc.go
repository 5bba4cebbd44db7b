// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package percpu gives Go programs the current CPU and, in later slices,
// per-CPU data built on Linux restartable sequences (rseq).
//
// With a Go toolchain patched by gorseq's build.sh, every thread of the
// process has an rseq registration, and [CPU], [Node] and [CID] read the
// kernel's published values from it: about the cost of a function call.
// With a stock toolchain, an old kernel, GODEBUG=rseq=0 or a seccomp filter
// that refuses rseq, the same functions stay correct through a fallback
// (the RDPID or RDTSCP instruction on amd64, else the getcpu system call).
// [Status] tells which one the process has and why.
//
// The values are hints: the goroutine may move to another CPU as soon as
// the function returns. Code that must stay on one CPU while it works uses
// the restartable operations of this package, which the kernel restarts
// when the thread is preempted, migrated or signalled.
package percpu
