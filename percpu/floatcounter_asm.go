// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64 || arm64

package percpu

// floatCounterAdd is FloatCounter.Add's fast path in assembly
// (floatcounter_amd64.s, floatcounter_arm64.s): with rseq on the thread
// and c in use, one restartable load-add-store of a float64 on the current
// CPU's rseq word; otherwise it jumps to floatCounterAddSlow
// (floatCounterAddInit before c is in use), whose frame is the same. As
// counterAdd, a one-call wrapper lets Add inline, c stays reachable until
// the commit, and c is not noescape (the slow path attaches a cleanup to
// it).
func floatCounterAdd(c *FloatCounter, v float64)
