// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64 || arm64

package percpu

// counterAdd is Add's fast path in assembly (counter_amd64.s, counter_arm64.s): with rseq
// on the thread and c in use, one restartable load-add-store on the
// current CPU's rseq word; otherwise it jumps to counterAddSlow. Keeping
// Add a one-call wrapper lets it inline. c is an argument for the whole
// call, so it stays reachable (and its Block allocated) until the commit.
// Not noescape: the slow path attaches a cleanup to c, which needs c on
// the heap.
func counterAdd(c *Counter, v int64)

// counterAddRelease is addRelease's fast path (the same section as
// counterAdd, committing with a store-release on arm64); otherwise it
// jumps to counterAddReleaseSlow.
func counterAddRelease(c *Counter, v int64)
