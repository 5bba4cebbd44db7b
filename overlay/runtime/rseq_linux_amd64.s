// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"

#define SYS_rseq 334

// func sysRseq(area unsafe.Pointer, length uint32, flags int32, sig uint32) int32
TEXT runtime·sysRseq(SB),NOSPLIT,$0-28
	MOVQ	area+0(FP), DI
	MOVL	length+8(FP), SI
	MOVL	flags+12(FP), DX
	MOVL	sig+16(FP), R10
	MOVL	$SYS_rseq, AX
	SYSCALL
	MOVL	AX, ret+24(FP)
	RET

// func rseqThreadPointer() uintptr
//
// The x86-64 TLS ABI keeps the thread pointer in the first word of the
// thread control block, at %fs:0.
TEXT runtime·rseqThreadPointer(SB),NOSPLIT,$0-8
	// MOVQ %fs:0, AX (64 48 8b 04 25 00 00 00 00): the assembler has no
	// syntax for an %fs-relative absolute address.
	BYTE	$0x64; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25
	LONG	$0
	MOVQ	AX, ret+0(FP)
	RET
