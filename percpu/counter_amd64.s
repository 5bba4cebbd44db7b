// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_amd64.h"

// The slow path. The test-only build (gorseq_inject) goes through
// counterAddSlowCounted (inject_amd64.s), which counts its calls and jumps
// to counterAddSlow, so that tests can tell how many adds took the
// section.
#ifdef const_injectBuild
#define COUNTER_ADD_SLOW ·counterAddSlowCounted(SB)
#else
#define COUNTER_ADD_SLOW ·counterAddSlow(SB)
#endif

// func counterAdd(c *Counter, v int64)
//
// Counter.Add's critical section: load-add-store on the rseq word of the
// current CPU's shard of c. Anything else (c not yet in use, no rseq in
// the process or on this thread) jumps to counterAddSlow, whose frame is
// the same. Injection points as in cs_amd64.s, counted down in CX.
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
	CS_ARM
	MOVL	RSEQ_CPU_ID(AX), R9
	CMPL	R9, ·shardCount32(SB)
	JAE	slow
	SHLQ	$REGION_STRIDE_SHIFT, R9
	INJECT(2, CX)
	MOVQ	(SI)(R9*1), R10
	INJECT(3, CX)
	ADDQ	DI, R10
	INJECT(4, CX)
	MOVQ	R10, (SI)(R9*1)
post:
	RET
	CS_ABORT
slow:
	JMP	COUNTER_ADD_SLOW
