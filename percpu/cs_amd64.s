// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_amd64.h"

// Results: >= 0 the shard committed to; -1 no rseq on this thread;
// -2 the compare failed (or the list is empty, or the base is 0); -3 a
// corrupt list link.
//
// The injection points (INJECT, cs_amd64.h) count down in CX, which every
// section but csCopyCommit only uses before retry (CS_AREA), and
// csCopyCommit only between points 3 and 4 (the copy's length, loaded
// again on every try). With -tags gorseq_inject the sections below are
// their injectable variants; without it INJECT is empty.

// func csAdd(addr uintptr, v int64, field uintptr) int32
//
// load-add-store: *(addr + shard) += v.
TEXT ·csAdd(SB), NOSPLIT|NOFRAME, $0-28
	CS_ANCHORS
	CS_AREA
	MOVQ	addr+0(FP), SI
	MOVQ	v+8(FP), DI
	MOVQ	field+16(FP), DX
	MOVQ	·csDesc+CS_ADD(SB), R8
	CS_ARM
	CS_INDEX(DX)
	INJECT(2, CX)
	ADDQ	SI, R10
	MOVQ	(R10), R11
	INJECT(3, CX)
	ADDQ	DI, R11
	INJECT(4, CX)
	MOVQ	R11, (R10)
post:
	MOVL	R9, ret+24(FP)
	RET
	CS_ABORT
norseq:
	MOVL	$-1, ret+24(FP)
	RET

// func csCmpStore(addr uintptr, old, new uint64, field uintptr) int32
//
// load-compare-store: if *(addr + shard) == old { *(addr + shard) = new }.
TEXT ·csCmpStore(SB), NOSPLIT|NOFRAME, $0-36
	CS_ANCHORS
	CS_AREA
	MOVQ	addr+0(FP), SI
	MOVQ	old+8(FP), DI
	MOVQ	new+16(FP), BX
	MOVQ	field+24(FP), DX
	MOVQ	·csDesc+CS_CMPSTORE(SB), R8
	CS_ARM
	CS_INDEX(DX)
	INJECT(2, CX)
	ADDQ	SI, R10
	CMPQ	(R10), DI
	JNE	mismatch
	// Points 3 and 4 meet: the compare is the only load.
	INJECT(3, CX)
	INJECT(4, CX)
	MOVQ	BX, (R10)
post:
	MOVL	R9, ret+32(FP)
	RET
	CS_ABORT
mismatch:
	MOVL	$-2, ret+32(FP)
	RET
norseq:
	MOVL	$-1, ret+32(FP)
	RET

// func csPop(addr uintptr, links unsafe.Pointer, n uintptr, field uintptr) (item uint64, shard int32)
//
// list pop: head := *(addr + shard) (item+1, 0 when empty); fail if 0;
// *(addr + shard) = links[head-1].
TEXT ·csPop(SB), NOSPLIT|NOFRAME, $0-44
	CS_ANCHORS
	CS_AREA
	MOVQ	addr+0(FP), SI
	MOVQ	links+8(FP), DI
	MOVQ	n+16(FP), BX
	MOVQ	field+24(FP), DX
	MOVQ	·csDesc+CS_POP(SB), R8
	CS_ARM
	CS_INDEX(DX)
	INJECT(2, CX)
	ADDQ	SI, R10
	MOVQ	(R10), R11
	INJECT(3, CX)
	TESTQ	R11, R11
	JZ	empty
	CMPQ	R11, BX
	JA	corrupt
	MOVQ	-8(DI)(R11*8), R12
	INJECT(4, CX)
	MOVQ	R12, (R10)
post:
	DECQ	R11
	MOVQ	R11, item+32(FP)
	MOVL	R9, shard+40(FP)
	RET
	CS_ABORT
empty:
	MOVQ	$0, item+32(FP)
	MOVL	$-2, shard+40(FP)
	RET
corrupt:
	MOVQ	R11, item+32(FP)
	MOVL	$-3, shard+40(FP)
	RET
norseq:
	MOVQ	$0, item+32(FP)
	MOVL	$-1, shard+40(FP)
	RET

// func csPush(addr uintptr, links unsafe.Pointer, item uintptr, field uintptr) int32
//
// list push: links[item] = *(addr + shard) (item is the caller's, not yet
// published); commit *(addr + shard) = item+1.
TEXT ·csPush(SB), NOSPLIT|NOFRAME, $0-36
	CS_ANCHORS
	CS_AREA
	MOVQ	addr+0(FP), SI
	MOVQ	links+8(FP), DI
	MOVQ	item+16(FP), BX
	MOVQ	field+24(FP), DX
	MOVQ	·csDesc+CS_PUSH(SB), R8
	LEAQ	(DI)(BX*8), DI
	INCQ	BX
	CS_ARM
	CS_INDEX(DX)
	INJECT(2, CX)
	ADDQ	SI, R10
	MOVQ	(R10), R11
	INJECT(3, CX)
	MOVQ	R11, (DI)
	INJECT(4, CX)
	MOVQ	BX, (R10)
post:
	MOVL	R9, ret+32(FP)
	RET
	CS_ABORT
norseq:
	MOVL	$-1, ret+32(FP)
	RET

// func csStoreCommit(addr uintptr, old, new uint64, dst uintptr, v uint64, field uintptr) int32
//
// store-then-commit: if *(addr + shard) == old { *(dst + shard) = v;
// *(addr + shard) = new }.
TEXT ·csStoreCommit(SB), NOSPLIT|NOFRAME, $0-52
	CS_ANCHORS
	CS_AREA
	MOVQ	addr+0(FP), SI
	MOVQ	old+8(FP), DI
	MOVQ	new+16(FP), BX
	MOVQ	dst+24(FP), R12
	MOVQ	v+32(FP), R13
	MOVQ	field+40(FP), DX
	MOVQ	·csDesc+CS_STORECOMMIT(SB), R8
	CS_ARM
	CS_INDEX(DX)
	INJECT(2, CX)
	LEAQ	(R12)(R10*1), R11
	ADDQ	SI, R10
	CMPQ	(R10), DI
	JNE	mismatch
	INJECT(3, CX)
	MOVQ	R13, (R11)
	INJECT(4, CX)
	MOVQ	BX, (R10)
post:
	MOVL	R9, ret+48(FP)
	RET
	CS_ABORT
mismatch:
	MOVL	$-2, ret+48(FP)
	RET
norseq:
	MOVL	$-1, ret+48(FP)
	RET

// func csCopyCommit(addr uintptr, old, new uint64, dst uintptr, src unsafe.Pointer, n uintptr, field uintptr) int32
//
// copy-then-commit: if *(addr + shard) == old { copy n bytes from src to
// dst + shard; *(addr + shard) = new }. n is bounded by the caller.
TEXT ·csCopyCommit(SB), NOSPLIT|NOFRAME, $0-60
	CS_ANCHORS
	CS_AREA
	MOVQ	addr+0(FP), SI
	MOVQ	old+8(FP), DI
	MOVQ	new+16(FP), BX
	MOVQ	src+32(FP), R13
	MOVQ	field+48(FP), DX
	MOVQ	·csDesc+CS_COPYCOMMIT(SB), R8
	CS_ARM
	CS_INDEX(DX)
	INJECT(2, CX)
	MOVQ	dst+24(FP), R11
	ADDQ	R10, R11
	ADDQ	SI, R10
	CMPQ	(R10), DI
	JNE	mismatch
	INJECT(3, CX)
	// The result, stored now to free R9 for the copy; the stack is
	// private, so this is not a commit.
	MOVL	R9, ret+56(FP)
	MOVQ	n+40(FP), CX
	XORQ	R9, R9
copy8:
	LEAQ	8(R9), R12
	CMPQ	R12, CX
	JA	copy1
	MOVQ	(R13)(R9*1), R12
	MOVQ	R12, (R11)(R9*1)
	ADDQ	$8, R9
	JMP	copy8
copy1:
	CMPQ	R9, CX
	JAE	commit
	MOVB	(R13)(R9*1), R12
	MOVB	R12, (R11)(R9*1)
	INCQ	R9
	JMP	copy1
commit:
	INJECT(4, CX)
	MOVQ	BX, (R10)
post:
	RET
	CS_ABORT
mismatch:
	MOVL	$-2, ret+56(FP)
	RET
norseq:
	MOVL	$-1, ret+56(FP)
	RET

// func csAddIndirect(base *uint64, off uintptr, v int64, field uintptr) int32
//
// load-load-add-store through a published base: p := *base; fail if 0;
// *(p + shard + off) += v. *base is read inside the section, so a
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) after *base changed
// aborts every section still working with the old p.
TEXT ·csAddIndirect(SB), NOSPLIT|NOFRAME, $0-36
	CS_ANCHORS
	CS_AREA
	MOVQ	base+0(FP), SI
	MOVQ	off+8(FP), BX
	MOVQ	v+16(FP), DI
	MOVQ	field+24(FP), DX
	MOVQ	·csDesc+CS_ADDINDIRECT(SB), R8
	CS_ARM
	CS_INDEX(DX)
	INJECT(2, CX)
	MOVQ	(SI), R11
	INJECT(3, CX)
	TESTQ	R11, R11
	JZ	nilbase
	ADDQ	BX, R10
	MOVQ	(R11)(R10*1), R12
	ADDQ	DI, R12
	INJECT(4, CX)
	MOVQ	R12, (R11)(R10*1)
post:
	MOVL	R9, ret+32(FP)
	RET
	CS_ABORT
nilbase:
	MOVL	$-2, ret+32(FP)
	RET
norseq:
	MOVL	$-1, ret+32(FP)
	RET

// func csEntries(out *[csCount]unsafe.Pointer)
TEXT ·csEntries(SB), NOSPLIT, $0-8
	MOVQ	out+0(FP), DI
	MOVQ	$·csAdd(SB), AX
	MOVQ	AX, CS_ADD(DI)
	MOVQ	$·csCmpStore(SB), AX
	MOVQ	AX, CS_CMPSTORE(DI)
	MOVQ	$·csPop(SB), AX
	MOVQ	AX, CS_POP(DI)
	MOVQ	$·csPush(SB), AX
	MOVQ	AX, CS_PUSH(DI)
	MOVQ	$·csStoreCommit(SB), AX
	MOVQ	AX, CS_STORECOMMIT(DI)
	MOVQ	$·csCopyCommit(SB), AX
	MOVQ	AX, CS_COPYCOMMIT(DI)
	MOVQ	$·counterAdd(SB), AX
	MOVQ	AX, CS_COUNTERADD(DI)
	MOVQ	$·csAddIndirect(SB), AX
	MOVQ	AX, CS_ADDINDIRECT(DI)
	MOVQ	$·poolPop(SB), AX
	MOVQ	AX, CS_POOLPOP(DI)
	MOVQ	$·poolPush(SB), AX
	MOVQ	AX, CS_POOLPUSH(DI)
	MOVQ	$·counterAddRelease(SB), AX
	MOVQ	AX, CS_COUNTERADDRELEASE(DI)
	MOVQ	$·floatCounterAdd(SB), AX
	MOVQ	AX, CS_FLOATCOUNTERADD(DI)
	RET
