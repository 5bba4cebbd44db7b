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

// func Node() int
TEXT ·Node(SB), NOSPLIT, $0-8
	CMPB	·hasNode(SB), $0
	JEQ	fallback
	RSEQ_AREA(fallback, viam, found)
	MOVL	RSEQ_CPU_ID(AX), CX
	TESTL	CX, CX
	JS	fallback
	MOVL	RSEQ_NODE_ID(AX), AX
	MOVQ	AX, ret+0(FP)
	RET
fallback:
	JMP	·fallbackNode(SB)

// func CID() int
TEXT ·CID(SB), NOSPLIT, $0-8
	CMPB	·hasCID(SB), $0
	JEQ	cpu
	RSEQ_AREA(cpu, viam, found)
	MOVL	RSEQ_CPU_ID(AX), CX
	TESTL	CX, CX
	JS	cpu
	MOVL	RSEQ_MM_CID(AX), AX
	MOVQ	AX, ret+0(FP)
	RET
cpu:
	JMP	·CPU(SB)
