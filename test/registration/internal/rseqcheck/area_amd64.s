// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux

#include "textflag.h"

// func getg() unsafe.Pointer
TEXT ·getg(SB), NOSPLIT, $0-8
	MOVQ	TLS, CX
	MOVQ	0(CX)(TLS*1), AX
	MOVQ	AX, ret+0(FP)
	RET

// func fsWord0() uintptr
TEXT ·fsWord0(SB), NOSPLIT, $0-8
	// MOVQ %fs:0, AX: the assembler has no syntax for it.
	BYTE	$0x64; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25
	LONG	$0
	MOVQ	AX, ret+0(FP)
	RET
