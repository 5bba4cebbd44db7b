// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

// The readers of the current thread's rseq area (rseq_amd64.s). Each
// returns -1 when the process has no rseq or the thread's area says
// cpu_id < 0 (not registered, or its registration failed).

//go:noescape
func rseqCPU() int32

//go:noescape
func rseqNode() int32

//go:noescape
func rseqCID() int32
