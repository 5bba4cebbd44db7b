// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_amd64.h"

// A Pool's per-CPU slab: shard i's PoolCacheSize slots start at
// slabs + i*PoolCacheSize*8 (a Go []unsafe.Pointer); the number of objects
// in it is the word at tops + i<<REGION_STRIDE_SHIFT (per-CPU memory).
#define POOL_SLAB_SHIFT (const_poolSlabShift)

// func poolPop(tops uintptr, slabs unsafe.Pointer) (x unsafe.Pointer, r int32)
//
// n := top of the current shard; fail (-2) if 0 (or poolDraining); x :=
// slab[n-1]; commit
// top = n-1. The slot keeps its pointer (it is above top, so no one reads
// it until a push overwrites it). Injection points as in cs_amd64.s, in CX.
TEXT ·poolPop(SB), NOSPLIT|NOFRAME, $0-28
	CS_ANCHORS
	CS_AREA
	MOVQ	tops+0(FP), SI
	MOVQ	slabs+8(FP), DI
	MOVQ	$RSEQ_CPU_ID, DX
	MOVQ	·csDesc+CS_POOLPOP(SB), R8
	CS_ARM
	CS_INDEX(DX)
	INJECT(2, CX)
	MOVQ	(SI)(R10*1), R11
	INJECT(3, CX)
	TESTQ	R11, R11
	JZ	empty
	CMPQ	R11, $const_PoolCacheSize
	JA	empty // poolDraining: Drain is clearing the slab
	MOVQ	R9, R12
	SHLQ	$POOL_SLAB_SHIFT, R12
	ADDQ	DI, R12
	MOVQ	-8(R12)(R11*8), R13
	DECQ	R11
	INJECT(4, CX)
	MOVQ	R11, (SI)(R10*1)
post:
	MOVQ	R13, x+16(FP)
	MOVL	R9, r+24(FP)
	RET
	CS_ABORT
empty:
	MOVQ	$0, x+16(FP)
	MOVL	$-2, r+24(FP)
	RET
norseq:
	MOVQ	$0, x+16(FP)
	MOVL	$-1, r+24(FP)
	RET

// func poolPush(tops uintptr, slabs unsafe.Pointer, x unsafe.Pointer) int32
//
// n := top of the current shard; fail (-2) if PoolCacheSize; slab[n] = x;
// commit top = n+1. Storing a Go pointer from assembly skips the write
// barrier, which is only allowed while the garbage collector is not
// marking: the section checks runtime.writeBarrier first (-4 when it is
// set). The flag cannot change before this function returns: it only
// changes with the world stopped, and a goroutine is never stopped inside
// assembly. An aborted try may leave x in the slot above top: harmless,
// the slot is not read until a push overwrites it.
TEXT ·poolPush(SB), NOSPLIT|NOFRAME, $0-28
	CS_ANCHORS
	CMPL	runtime·writeBarrier(SB), $0
	JNE	marking
	CS_AREA
	MOVQ	tops+0(FP), SI
	MOVQ	slabs+8(FP), DI
	MOVQ	x+16(FP), BX
	MOVQ	$RSEQ_CPU_ID, DX
	MOVQ	·csDesc+CS_POOLPUSH(SB), R8
	CS_ARM
	CS_INDEX(DX)
	INJECT(2, CX)
	MOVQ	(SI)(R10*1), R11
	INJECT(3, CX)
	CMPQ	R11, $const_PoolCacheSize
	JAE	full
	MOVQ	R9, R12
	SHLQ	$POOL_SLAB_SHIFT, R12
	ADDQ	DI, R12
	MOVQ	BX, (R12)(R11*8)
	INCQ	R11
	INJECT(4, CX)
	MOVQ	R11, (SI)(R10*1)
post:
	MOVL	R9, ret+24(FP)
	RET
	CS_ABORT
full:
	MOVL	$-2, ret+24(FP)
	RET
marking:
	MOVL	$-4, ret+24(FP)
	RET
norseq:
	MOVL	$-1, ret+24(FP)
	RET

// func writeBarrierAddr() uintptr
//
// The address of runtime.writeBarrier, for the machine-code test that
// checks which globals the critical sections read.
TEXT ·writeBarrierAddr(SB), NOSPLIT, $0-8
	MOVQ	$runtime·writeBarrier(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
