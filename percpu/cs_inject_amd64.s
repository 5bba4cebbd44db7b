// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject

// Test-only critical sections (go test -tags gorseq_inject): production
// builds carry none of this.

#include "textflag.h"
#include "go_asm.h"
#include "cs_amd64.h"

// Byte offsets in ·csInjectDesc (cs_inject_amd64.go: injectAdd, ...).
#define INJECT_ADD 0
#define INJECT_COUNTERADD 8

// func csAddInject(addr uintptr, v int64, field uintptr, loops uintptr) int32
//
// csAdd (cs_amd64.s) with a delay loop of loops iterations between the
// load and the commit store, inside the section, so that preemption and
// signals land inside it: *(addr + shard) += v. Same anchors layout as
// csAdd; its descriptor is in ·csInjectDesc (cs_inject_amd64.go), not
// csDesc.
TEXT ·csAddInject(SB), NOSPLIT|NOFRAME, $0-36
	CS_ANCHORS
	CS_AREA
	MOVQ	addr+0(FP), SI
	MOVQ	v+8(FP), DI
	MOVQ	field+16(FP), DX
	MOVQ	loops+24(FP), BX
	MOVQ	·csInjectDesc+INJECT_ADD(SB), R8
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

// func counterAddInject(c *Counter, v int64, loops uintptr)
//
// counterAdd (counter_amd64.s), Counter.Add's fast path, instruction for
// instruction, with the same delay loop as csAddInject between the load of
// the shard's rseq word and the add and commit. Its descriptor is in
// ·csInjectDesc. The slow path jumps to counterAddInjectSlow, whose frame
// is this one (loops is one more argument than counterAdd's).
TEXT ·counterAddInject(SB), NOSPLIT|NOFRAME, $0-24
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
	MOVQ	loops+16(FP), BX
	MOVQ	·csInjectDesc+INJECT_COUNTERADD(SB), R8
retry:
	MOVQ	R8, RSEQ_CS(AX)
start:
	MOVL	RSEQ_CPU_ID(AX), R9
	CMPL	R9, ·shardCount32(SB)
	JAE	slow
	SHLQ	$REGION_STRIDE_SHIFT, R9
	MOVQ	(SI)(R9*1), R10
	// The injected delay: the loaded value is held in R10 while CX
	// counts down.
	MOVQ	BX, CX
delay:
	TESTQ	CX, CX
	JZ	commit
	DECQ	CX
	JMP	delay
commit:
	ADDQ	DI, R10
	MOVQ	R10, (SI)(R9*1)
post:
	RET
	CS_ABORT_SIG
abort:
	CS_COUNT_ABORT
	JMP	retry
slow:
	JMP	·counterAddInjectSlow(SB)

// func injectEntries(out *[injectCount]unsafe.Pointer)
//
// The injected sections' code addresses (ABI0), in the order of
// csInjectDesc, whose anchors decodeAnchors reads.
TEXT ·injectEntries(SB), NOSPLIT, $0-8
	MOVQ	out+0(FP), DI
	MOVQ	$·csAddInject(SB), AX
	MOVQ	AX, INJECT_ADD(DI)
	MOVQ	$·counterAddInject(SB), AX
	MOVQ	AX, INJECT_COUNTERADD(DI)
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
