// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_amd64.h"

// func counterAdd(c *Counter, v int64)
//
// Counter.Add's critical section: load-add-store on the rseq word of the
// current CPU's shard of c. Anything else (c not yet in use, no rseq in
// the process or on this thread) jumps to counterAddSlow, whose frame is
// the same.
TEXT ·counterAdd(SB), NOSPLIT|NOFRAME, $0-16
	CS_ANCHORS
	MOVQ	c+0(FP), SI
	MOVQ	Counter_shard0(SI), SI
	TESTQ	SI, SI
	JZ	slow
	RSEQ_AREA(slow, viam, found)
	MOVL	RSEQ_CPU_ID(AX), CX
	TESTL	CX, CX
	JS	slow
	MOVQ	v+8(FP), DI
	MOVQ	·csDesc+CS_COUNTERADD(SB), R8
retry:
	MOVQ	R8, RSEQ_CS(AX)
start:
	MOVL	RSEQ_CPU_ID(AX), R9
	CMPL	R9, ·shardCount32(SB)
	JAE	slow
	SHLQ	$REGION_STRIDE_SHIFT, R9
	MOVQ	(SI)(R9*1), R10
	ADDQ	DI, R10
	MOVQ	R10, (SI)(R9*1)
post:
	RET
	CS_ABORT_SIG
abort:
	CS_COUNT_ABORT
	JMP	retry
slow:
	JMP	·counterAddSlow(SB)
