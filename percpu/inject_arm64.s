// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject

#include "textflag.h"
#include "rseq_arm64.h"

// func rseqThreadArea() uintptr
TEXT ·rseqThreadArea(SB), NOSPLIT|NOFRAME, $0-8
	RSEQ_AREA(none, viam, found)
	MOVD	R0, ret+0(FP)
	RET
none:
	MOVD	ZR, ret+0(FP)
	RET

// COUNT_SLOW increments ·counterAddSlows atomically. Clobbers R1 to R3.
#define COUNT_SLOW \
	MOVD	$·counterAddSlows(SB), R1; \
	LDXR	(R1), R2; \
	ADD	$1, R2, R2; \
	STXR	R2, (R1), R3; \
	CBNZW	R3, -3(PC)

// func counterAddSlowCounted(c *Counter, v int64)
//
// In assembly, not Go, for the reason given in inject_amd64.s.
TEXT ·counterAddSlowCounted(SB), NOSPLIT|NOFRAME, $0-16
	COUNT_SLOW
	B	·counterAddSlow(SB)

// func counterAddReleaseSlowCounted(c *Counter, v int64)
TEXT ·counterAddReleaseSlowCounted(SB), NOSPLIT|NOFRAME, $0-16
	COUNT_SLOW
	B	·counterAddReleaseSlow(SB)
