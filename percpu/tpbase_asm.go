// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64 || arm64

package percpu

// tpBase returns the calling thread's base of the thread-pointer path, as
// RSEQ_AREA computes it before adding rseqTPOffset (tpbase_amd64.s,
// tpbase_arm64.s): the word at %fs:0 on amd64 (under glibc, the TCB's own
// address), TPIDR_EL0 on arm64.
func tpBase() uintptr
