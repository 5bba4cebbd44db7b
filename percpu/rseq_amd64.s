// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "rseq_amd64.h"

// func rseqCPU() int32
TEXT ·rseqCPU(SB), NOSPLIT, $0-4
	RSEQ_AREA(AX, none)
	MOVL	RSEQ_CPU_ID(AX), AX
	MOVL	AX, ret+0(FP)
	RET
none:
	MOVL	$-1, ret+0(FP)
	RET

// func rseqNode() int32
TEXT ·rseqNode(SB), NOSPLIT, $0-4
	RSEQ_AREA(AX, none)
	MOVL	RSEQ_CPU_ID(AX), CX
	TESTL	CX, CX
	JS	none
	MOVL	RSEQ_NODE_ID(AX), AX
	MOVL	AX, ret+0(FP)
	RET
none:
	MOVL	$-1, ret+0(FP)
	RET

// func rseqCID() int32
TEXT ·rseqCID(SB), NOSPLIT, $0-4
	RSEQ_AREA(AX, none)
	MOVL	RSEQ_CPU_ID(AX), CX
	TESTL	CX, CX
	JS	none
	MOVL	RSEQ_MM_CID(AX), AX
	MOVL	AX, ret+0(FP)
	RET
none:
	MOVL	$-1, ret+0(FP)
	RET
