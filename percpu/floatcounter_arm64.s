// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_arm64.h"

// func floatCounterAdd(c *FloatCounter, v float64)
//
// FloatCounter.Add's critical section: a load-add-store of the float64 in
// the rseq word of the current CPU's shard of c (FADDD, rounding as Go's
// float64 +), committed from an integer register by one plain STR (a count
// publishes nothing: no release), as every section commits. Before c is in
// use, a branch to floatCounterAddInit; without rseq in the process or on
// this thread, or on a CPU beyond the shard count, to floatCounterAddSlow
// (both have the same frame). The abort handler clobbers only R1, R10 and
// R11; R3 (the Block), R8 (the descriptor) and F1 (v) survive it, and
// retry reads the CPU and the word again. Injection points as in
// cs_arm64.s, in R15.
TEXT ·floatCounterAdd(SB), NOSPLIT|NOFRAME, $0-16
	CS_ANCHORS
	MOVD	c+0(FP), R3
	MOVD	FloatCounter_shard0(R3), R3
	CBZ	R3, init
	RSEQ_AREA(slow, viam, found)
	MOVW	RSEQ_CPU_ID(R0), R1
	TBNZ	$31, R1, slow
	FMOVD	v+8(FP), F1
	MOVD	·csDesc+CS_FLOATCOUNTERADD(SB), R8
	CS_ARM
	MOVWU	RSEQ_CPU_ID(R0), R9
	MOVWU	·shardCount32(SB), R1
	CMPW	R1, R9
	BHS	slow
	ADD	R9<<REGION_STRIDE_SHIFT, R3, R10
	INJECT(2, R15)
	FMOVD	(R10), F0
	INJECT(3, R15)
	FADDD	F1, F0, F0
	FMOVD	F0, R11
	INJECT(4, R15)
	MOVD	R11, (R10)
post:
	RET
	CS_ABORT
slow:
	B	·floatCounterAddSlow(SB)
init:
	B	·floatCounterAddInit(SB)
