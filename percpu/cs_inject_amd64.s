// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject

// Test-only critical sections (go test -tags gorseq_inject): production
// builds carry none of this.

#include "textflag.h"
#include "cs_amd64.h"

// func csAddInject(addr uintptr, v int64, field uintptr, loops uintptr) int32
//
// csAdd (cs_amd64.s) with a delay loop of loops iterations between the
// load and the commit store, inside the section, so that preemption and
// signals land inside it: *(addr + shard) += v. Same anchors layout as
// csAdd; its descriptor is ·csInjectDesc (cs_inject_amd64.go), not csDesc.
TEXT ·csAddInject(SB), NOSPLIT|NOFRAME, $0-36
	CS_ANCHORS
	CS_AREA
	MOVQ	addr+0(FP), SI
	MOVQ	v+8(FP), DI
	MOVQ	field+16(FP), DX
	MOVQ	loops+24(FP), BX
	MOVQ	·csInjectDesc(SB), R8
retry:
	MOVQ	R8, RSEQ_CS(AX)
start:
	CS_INDEX(DX)
	ADDQ	SI, R10
	MOVQ	(R10), R11
	// The injected delay: the loaded value is held in R11 while CX
	// counts down.
	MOVQ	BX, CX
delay:
	TESTQ	CX, CX
	JZ	commit
	DECQ	CX
	JMP	delay
commit:
	ADDQ	DI, R11
	MOVQ	R11, (R10)
post:
	MOVL	R9, ret+32(FP)
	RET
	CS_ABORT_SIG
abort:
	CS_COUNT_ABORT
	JMP	retry
norseq:
	MOVL	$-1, ret+32(FP)
	RET

// func csAddInjectEntry() unsafe.Pointer
TEXT ·csAddInjectEntry(SB), NOSPLIT, $0-8
	MOVQ	$·csAddInject(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func rseqThreadArea() uintptr
//
// The address of the current thread's rseq area (RSEQ_AREA), 0 when the
// process has no rseq. The caller must be locked to its thread for the
// result to stay its own.
TEXT ·rseqThreadArea(SB), NOSPLIT|NOFRAME, $0-8
	RSEQ_AREA(none, viam, found)
	MOVQ	AX, ret+0(FP)
	RET
none:
	MOVQ	$0, ret+0(FP)
	RET
