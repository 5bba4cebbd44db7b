// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_arm64.h"

// The sections of cs_amd64.s, for arm64, with the same results: >= 0 the
// shard committed to; -1 no rseq on this thread; -2 the compare failed (or
// the list is empty, or the base is 0); -3 a corrupt list link.
//
// Commits are plain stores (STR), except where a reader on another CPU
// relies on the stores before the commit: StoreCommit and CopyCommit
// commit with a store-release (STLR), so that whoever reads the commit
// word with an acquire load (atomic.Load) sees the stored value or the
// copied bytes. The injection points count down in R15.

// func csAdd(addr uintptr, v int64, field uintptr) int32
//
// load-add-store: *(addr + shard) += v.
TEXT ·csAdd(SB), NOSPLIT|NOFRAME, $0-28
	CS_ANCHORS
	CS_AREA
	MOVD	addr+0(FP), R3
	MOVD	v+8(FP), R4
	MOVD	field+16(FP), R5
	MOVD	·csDesc+CS_ADD(SB), R8
	CS_ARM
	CS_INDEX(R5)
	INJECT(2, R15)
	ADD	R3, R10, R10
	MOVD	(R10), R11
	INJECT(3, R15)
	ADD	R4, R11, R11
	INJECT(4, R15)
	MOVD	R11, (R10)
post:
	MOVW	R9, ret+24(FP)
	RET
	CS_ABORT
norseq:
	RESULT32(-1, ret+24)
	RET

// func csCmpStore(addr uintptr, old, new uint64, field uintptr) int32
//
// load-compare-store: if *(addr + shard) == old { *(addr + shard) = new }.
TEXT ·csCmpStore(SB), NOSPLIT|NOFRAME, $0-36
	CS_ANCHORS
	CS_AREA
	MOVD	addr+0(FP), R3
	MOVD	old+8(FP), R4
	MOVD	new+16(FP), R5
	MOVD	field+24(FP), R6
	MOVD	·csDesc+CS_CMPSTORE(SB), R8
	CS_ARM
	CS_INDEX(R6)
	INJECT(2, R15)
	ADD	R3, R10, R10
	MOVD	(R10), R11
	CMP	R4, R11
	BNE	mismatch
	// Points 3 and 4 meet: the compare is the only load.
	INJECT(3, R15)
	INJECT(4, R15)
	MOVD	R5, (R10)
post:
	MOVW	R9, ret+32(FP)
	RET
	CS_ABORT
mismatch:
	RESULT32(-2, ret+32)
	RET
norseq:
	RESULT32(-1, ret+32)
	RET

// func csPop(addr uintptr, links unsafe.Pointer, n uintptr, field uintptr) (item uint64, shard int32)
//
// list pop: head := *(addr + shard) (item+1, 0 when empty); fail if 0;
// *(addr + shard) = links[head-1].
TEXT ·csPop(SB), NOSPLIT|NOFRAME, $0-44
	CS_ANCHORS
	CS_AREA
	MOVD	addr+0(FP), R3
	MOVD	links+8(FP), R4
	MOVD	n+16(FP), R5
	MOVD	field+24(FP), R6
	MOVD	·csDesc+CS_POP(SB), R8
	CS_ARM
	CS_INDEX(R6)
	INJECT(2, R15)
	ADD	R3, R10, R10
	MOVD	(R10), R11
	INJECT(3, R15)
	CBZ	R11, empty
	CMP	R5, R11
	BHI	corrupt
	SUB	$1, R11, R13
	MOVD	(R4)(R13<<3), R12
	INJECT(4, R15)
	MOVD	R12, (R10)
post:
	SUB	$1, R11, R11
	MOVD	R11, item+32(FP)
	MOVW	R9, shard+40(FP)
	RET
	CS_ABORT
empty:
	MOVD	ZR, item+32(FP)
	RESULT32(-2, shard+40)
	RET
corrupt:
	MOVD	R11, item+32(FP)
	RESULT32(-3, shard+40)
	RET
norseq:
	MOVD	ZR, item+32(FP)
	RESULT32(-1, shard+40)
	RET

// func csPush(addr uintptr, links unsafe.Pointer, item uintptr, field uintptr) int32
//
// list push: links[item] = *(addr + shard) (item is the caller's, not yet
// published); commit *(addr + shard) = item+1.
TEXT ·csPush(SB), NOSPLIT|NOFRAME, $0-36
	CS_ANCHORS
	CS_AREA
	MOVD	addr+0(FP), R3
	MOVD	links+8(FP), R4
	MOVD	item+16(FP), R5
	MOVD	field+24(FP), R6
	MOVD	·csDesc+CS_PUSH(SB), R8
	ADD	R5<<3, R4, R4
	ADD	$1, R5, R5
	CS_ARM
	CS_INDEX(R6)
	INJECT(2, R15)
	ADD	R3, R10, R10
	MOVD	(R10), R11
	INJECT(3, R15)
	MOVD	R11, (R4)
	INJECT(4, R15)
	MOVD	R5, (R10)
post:
	MOVW	R9, ret+32(FP)
	RET
	CS_ABORT
norseq:
	RESULT32(-1, ret+32)
	RET

// func csStoreCommit(addr uintptr, old, new uint64, dst uintptr, v uint64, field uintptr) int32
//
// store-then-commit: if *(addr + shard) == old { *(dst + shard) = v;
// *(addr + shard) = new }. The commit is a store-release: a reader that
// sees new with an acquire load sees v.
TEXT ·csStoreCommit(SB), NOSPLIT|NOFRAME, $0-52
	CS_ANCHORS
	CS_AREA
	MOVD	addr+0(FP), R3
	MOVD	old+8(FP), R4
	MOVD	new+16(FP), R5
	MOVD	dst+24(FP), R6
	MOVD	v+32(FP), R7
	MOVD	field+40(FP), R12
	MOVD	·csDesc+CS_STORECOMMIT(SB), R8
	CS_ARM
	CS_INDEX(R12)
	INJECT(2, R15)
	ADD	R6, R10, R11
	ADD	R3, R10, R10
	MOVD	(R10), R13
	CMP	R4, R13
	BNE	mismatch
	INJECT(3, R15)
	MOVD	R7, (R11)
	INJECT(4, R15)
	STLR	R5, (R10)
post:
	MOVW	R9, ret+48(FP)
	RET
	CS_ABORT
mismatch:
	RESULT32(-2, ret+48)
	RET
norseq:
	RESULT32(-1, ret+48)
	RET

// func csCopyCommit(addr uintptr, old, new uint64, dst uintptr, src unsafe.Pointer, n uintptr, field uintptr) int32
//
// copy-then-commit: if *(addr + shard) == old { copy n bytes from src to
// dst + shard; *(addr + shard) = new }. n is bounded by the caller. The
// commit is a store-release: a reader that sees new with an acquire load
// sees all of the copy.
TEXT ·csCopyCommit(SB), NOSPLIT|NOFRAME, $0-60
	CS_ANCHORS
	CS_AREA
	MOVD	addr+0(FP), R3
	MOVD	old+8(FP), R4
	MOVD	new+16(FP), R5
	MOVD	dst+24(FP), R6
	MOVD	src+32(FP), R7
	MOVD	n+40(FP), R12
	MOVD	field+48(FP), R2
	MOVD	·csDesc+CS_COPYCOMMIT(SB), R8
	CS_ARM
	CS_INDEX(R2)
	INJECT(2, R15)
	ADD	R6, R10, R11
	ADD	R3, R10, R10
	MOVD	(R10), R13
	CMP	R4, R13
	BNE	mismatch
	INJECT(3, R15)
	// R13 counts the bytes copied; R14 carries them.
	MOVD	ZR, R13
copy8:
	ADD	$8, R13, R14
	CMP	R12, R14
	BHI	copy1
	MOVD	(R7)(R13), R14
	MOVD	R14, (R11)(R13)
	ADD	$8, R13, R13
	B	copy8
copy1:
	CMP	R12, R13
	BHS	commit
	MOVBU	(R7)(R13), R14
	MOVB	R14, (R11)(R13)
	ADD	$1, R13, R13
	B	copy1
commit:
	INJECT(4, R15)
	STLR	R5, (R10)
post:
	MOVW	R9, ret+56(FP)
	RET
	CS_ABORT
mismatch:
	RESULT32(-2, ret+56)
	RET
norseq:
	RESULT32(-1, ret+56)
	RET

// func csAddIndirect(base *uint64, off uintptr, v int64, field uintptr) int32
//
// load-load-add-store through a published base: p := *base; fail if 0;
// *(p + shard + off) += v. *base is read inside the section, so a
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) after *base changed
// aborts every section still working with the old p. The accesses through
// p are address-dependent on the load of *base (p is added into their
// address), which arm64 orders after that load: with the manager's
// store-release of *base, they see the Block as it was published.
TEXT ·csAddIndirect(SB), NOSPLIT|NOFRAME, $0-36
	CS_ANCHORS
	CS_AREA
	MOVD	base+0(FP), R3
	MOVD	off+8(FP), R4
	MOVD	v+16(FP), R5
	MOVD	field+24(FP), R6
	MOVD	·csDesc+CS_ADDINDIRECT(SB), R8
	CS_ARM
	CS_INDEX(R6)
	INJECT(2, R15)
	MOVD	(R3), R11
	INJECT(3, R15)
	CBZ	R11, nilbase
	ADD	R4, R10, R10
	ADD	R11, R10, R12
	MOVD	(R12), R13
	ADD	R5, R13, R13
	INJECT(4, R15)
	MOVD	R13, (R12)
post:
	MOVW	R9, ret+32(FP)
	RET
	CS_ABORT
nilbase:
	RESULT32(-2, ret+32)
	RET
norseq:
	RESULT32(-1, ret+32)
	RET

// ENTRY stores the address of the function fn at offset off of R0.
#define ENTRY(fn, off) \
	MOVD	$fn, R1; \
	MOVD	R1, off(R0)

// func csEntries(out *[csCount]unsafe.Pointer)
TEXT ·csEntries(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	out+0(FP), R0
	ENTRY(·csAdd(SB), CS_ADD)
	ENTRY(·csCmpStore(SB), CS_CMPSTORE)
	ENTRY(·csPop(SB), CS_POP)
	ENTRY(·csPush(SB), CS_PUSH)
	ENTRY(·csStoreCommit(SB), CS_STORECOMMIT)
	ENTRY(·csCopyCommit(SB), CS_COPYCOMMIT)
	ENTRY(·counterAdd(SB), CS_COUNTERADD)
	ENTRY(·csAddIndirect(SB), CS_ADDINDIRECT)
	ENTRY(·poolPop(SB), CS_POOLPOP)
	ENTRY(·poolPush(SB), CS_POOLPUSH)
	ENTRY(·counterAddRelease(SB), CS_COUNTERADDRELEASE)
	ENTRY(·floatCounterAdd(SB), CS_FLOATCOUNTERADD)
	RET
