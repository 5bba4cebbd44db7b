// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "rseq_amd64.h"

// func CPU() int
TEXT ·CPU(SB), NOSPLIT, $0-8
	RSEQ_AREA(fallback, viam, found)
	MOVL	RSEQ_CPU_ID(AX), AX
	TESTL	AX, AX
	JS	fallback
	MOVQ	AX, ret+0(FP)
	RET
fallback:
	// Same frame: the Go function's ABI0 wrapper fills in ret.
	JMP	·fallbackCPU(SB)

// AREA_FIELD returns the area's 32-bit field at offset FIELD, if the
// kernel publishes it (the byte flag HAS is set) and the thread has rseq
// (cpu_id >= 0); otherwise it jumps to OTHERWISE, which has the same frame.
#define AREA_FIELD(HAS, FIELD, OTHERWISE) \
	CMPB	HAS, $0; \
	JEQ	otherwise; \
	RSEQ_AREA(otherwise, viam, found); \
	MOVL	RSEQ_CPU_ID(AX), CX; \
	TESTL	CX, CX; \
	JS	otherwise; \
	MOVL	FIELD(AX), AX; \
	MOVQ	AX, ret+0(FP); \
	RET; \
otherwise: \
	JMP	OTHERWISE

// func Node() int
TEXT ·Node(SB), NOSPLIT, $0-8
	AREA_FIELD(·hasNode(SB), RSEQ_NODE_ID, ·fallbackNode(SB))

// func CID() int
TEXT ·CID(SB), NOSPLIT, $0-8
	AREA_FIELD(·hasCID(SB), RSEQ_MM_CID, ·CPU(SB))
