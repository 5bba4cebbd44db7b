// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package percpu gives Go programs per-CPU data built on Linux restartable
// sequences (rseq): the current CPU, per-CPU memory, restartable per-CPU
// operations, and structures built on them: [Counter], [FloatCounter],
// [Pool], [RWMutex] and [Values].
//
// With a Go toolchain patched by gorseq's build.sh, every thread of the
// process has an rseq registration. [CPU], [Node] and [CID] read the
// kernel's published values from it, about the cost of a function call,
// and the operations ([Add], [CompareAndStore], [Pop], [Push],
// [StoreCommit], [CopyCommit], [AddIndirect]) update the current CPU's shard of a [Block]
// with plain loads and stores in a critical section that the kernel
// restarts if the thread is preempted, migrated or signalled before its
// final store. Go's own preemption is no danger: the runtime never stops a
// goroutine inside assembly, and the signal it would use restarts the
// section anyway. The sections exist for amd64 and arm64, with the same
// structure; on arm64 the commits that publish data to other CPUs are
// store-releases (see the Memory ordering paragraphs of the types). On
// other architectures percpu reports the fallback, whatever the runtime
// registered.
//
// With a stock toolchain, an old kernel, GODEBUG=rseq=0 or a seccomp
// filter that refuses rseq, [CPU], [Node] and [CID] stay correct through a
// fallback (RDPID or RDTSCP on amd64, else the getcpu system call; arm64
// has no vDSO getcpu), the
// operations return [ErrNoRseq], and [Counter] and [FloatCounter] shard by
// P with atomics.
// [Status] tells which the process has and why. The same source builds
// with both toolchains; there are no build tags. (Tests may build with
// -tags gorseq_inject: every critical section then has delay loops at
// four injection points, set with SetInjectDelay, which only that build
// has; see inject.go.)
//
// When to use what: a [Counter] for hot counters read rarely (instead of
// one atomic word, which every CPU fights over, or a mutex), a
// [FloatCounter] for float64 sums (instead of a compare-and-swap loop on
// one word); the
// operations on a [Block] to build your own per-CPU structures (they are
// what the kernel's and librseq's per-CPU lists, buffers and locks are
// made of); [CPU] for a hint where to look first. Values returned by
// [CPU], [Node] and [CID] can be stale as soon as they are returned.
package percpu
