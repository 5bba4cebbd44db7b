// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "rseq_arm64.h"

// func CPU() int
TEXT ·CPU(SB), NOSPLIT|NOFRAME, $0-8
	RSEQ_AREA(fallback, viam, found)
	MOVW	RSEQ_CPU_ID(R0), R0
	TBNZ	$31, R0, fallback
	MOVD	R0, ret+0(FP)
	RET
fallback:
	// Same frame: the Go function's ABI0 wrapper fills in ret.
	B	·fallbackCPU(SB)

// AREA_FIELD returns the area's 32-bit field at offset FIELD, if the
// kernel publishes it (the byte flag HAS is set) and the thread has rseq
// (cpu_id >= 0); otherwise it branches to OTHERWISE, which has the same
// frame. Clobbers R0 to R2.
#define AREA_FIELD(HAS, FIELD, OTHERWISE) \
	MOVBU	HAS, R2; \
	CBZ	R2, otherwise; \
	RSEQ_AREA(otherwise, viam, found); \
	MOVW	RSEQ_CPU_ID(R0), R2; \
	TBNZ	$31, R2, otherwise; \
	MOVWU	FIELD(R0), R0; \
	MOVD	R0, ret+0(FP); \
	RET; \
otherwise: \
	B	OTHERWISE

// func Node() int
TEXT ·Node(SB), NOSPLIT|NOFRAME, $0-8
	AREA_FIELD(·hasNode(SB), RSEQ_NODE_ID, ·fallbackNode(SB))

// func CID() int
TEXT ·CID(SB), NOSPLIT|NOFRAME, $0-8
	AREA_FIELD(·hasCID(SB), RSEQ_MM_CID, ·CPU(SB))
