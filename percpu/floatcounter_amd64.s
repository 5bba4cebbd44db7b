// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_amd64.h"

// func floatCounterAdd(c *FloatCounter, v float64)
//
// FloatCounter.Add's critical section: a load-add-store of the float64 in
// the rseq word of the current CPU's shard of c (ADDSD, rounding as Go's
// float64 +), committed from an integer register by one MOVQ, as every
// section commits. Before c is in use, a jump to floatCounterAddInit;
// without rseq in the process or on this thread, or on a CPU beyond the
// shard count, to floatCounterAddSlow (both have the same frame). The
// abort handler leaves X1 (v) and SI (the Block) alone; retry reads the
// CPU and the word again. Injection points as in cs_amd64.s, counted down
// in CX.
TEXT ·floatCounterAdd(SB), NOSPLIT|NOFRAME, $0-16
	CS_ANCHORS
	MOVQ	c+0(FP), SI
	MOVQ	FloatCounter_shard0(SI), SI
	TESTQ	SI, SI
	JZ	init
	RSEQ_AREA(slow, viam, found)
	MOVL	RSEQ_CPU_ID(AX), CX
	TESTL	CX, CX
	JS	slow
	MOVSD	v+8(FP), X1
	MOVQ	·csDesc+CS_FLOATCOUNTERADD(SB), R8
	CS_ARM
	MOVL	RSEQ_CPU_ID(AX), R9
	CMPL	R9, ·shardCount32(SB)
	JAE	slow
	SHLQ	$REGION_STRIDE_SHIFT, R9
	INJECT(2, CX)
	MOVSD	(SI)(R9*1), X0
	INJECT(3, CX)
	ADDSD	X1, X0
	MOVQ	X0, R10
	INJECT(4, CX)
	MOVQ	R10, (SI)(R9*1)
post:
	RET
	CS_ABORT
slow:
	JMP	·floatCounterAddSlow(SB)
init:
	JMP	·floatCounterAddInit(SB)
