// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"

#define SYS_rseq 293

// func sysRseq(area unsafe.Pointer, length uint32, flags int32, sig uint32) int32
TEXT runtime·sysRseq(SB),NOSPLIT|NOFRAME,$0-28
	MOVD	area+0(FP), R0
	MOVWU	length+8(FP), R1
	MOVW	flags+12(FP), R2
	MOVWU	sig+16(FP), R3
	MOVD	$SYS_rseq, R8
	SVC
	MOVW	R0, ret+24(FP)
	RET

// func rseqThreadPointer() uintptr
TEXT runtime·rseqThreadPointer(SB),NOSPLIT|NOFRAME,$0-8
	MRS	TPIDR_EL0, R0
	MOVD	R0, ret+0(FP)
	RET
