// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_arm64.h"

// Pool's sections of pool_amd64.s, for arm64. A Pool's per-CPU slab: shard
// i's PoolCacheSize slots start at slabs + i<<POOL_SLAB_SHIFT (a Go
// []unsafe.Pointer); the number of objects in it is the word at tops +
// i<<REGION_STRIDE_SHIFT (per-CPU memory). Both are only read and written
// by sections running on CPU i (and by the garbage collector, which scans
// the slab with the world stopped or after it started marking, when Put
// no longer stores there), so neither commit needs a barrier: a CPU sees
// its own stores in order, and a thread that moves to CPU i arrives
// through the scheduler's full barriers.
#define POOL_SLAB_SHIFT (const_poolSlabShift)

// func poolPop(tops uintptr, slabs unsafe.Pointer) (x unsafe.Pointer, r int32)
//
// n := top of the current shard; fail (-2) if 0 (or poolDraining); x :=
// slab[n-1]; commit top = n-1. The slot keeps its pointer (it is above
// top, so no one reads it until a push overwrites it). Injection points as
// in cs_arm64.s, in R15.
TEXT ·poolPop(SB), NOSPLIT|NOFRAME, $0-28
	CS_ANCHORS
	CS_AREA
	MOVD	tops+0(FP), R3
	MOVD	slabs+8(FP), R4
	MOVD	$RSEQ_CPU_ID, R5
	MOVD	·csDesc+CS_POOLPOP(SB), R8
	CS_ARM
	CS_INDEX(R5)
	INJECT(2, R15)
	ADD	R3, R10, R10
	MOVD	(R10), R11
	INJECT(3, R15)
	CBZ	R11, empty
	CMP	$const_PoolCacheSize, R11
	BHI	empty // poolDraining: Drain is clearing the slab
	ADD	R9<<POOL_SLAB_SHIFT, R4, R12
	SUB	$1, R11, R11
	MOVD	(R12)(R11<<3), R13
	INJECT(4, R15)
	MOVD	R11, (R10)
post:
	MOVD	R13, x+16(FP)
	MOVW	R9, r+24(FP)
	RET
	CS_ABORT
empty:
	MOVD	ZR, x+16(FP)
	RESULT32(-2, r+24)
	RET
norseq:
	MOVD	ZR, x+16(FP)
	RESULT32(-1, r+24)
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
	MOVWU	runtime·writeBarrier(SB), R1
	CBNZW	R1, marking
	CS_AREA
	MOVD	tops+0(FP), R3
	MOVD	slabs+8(FP), R4
	MOVD	x+16(FP), R5
	MOVD	$RSEQ_CPU_ID, R6
	MOVD	·csDesc+CS_POOLPUSH(SB), R8
	CS_ARM
	CS_INDEX(R6)
	INJECT(2, R15)
	ADD	R3, R10, R10
	MOVD	(R10), R11
	INJECT(3, R15)
	CMP	$const_PoolCacheSize, R11
	BHS	full
	ADD	R9<<POOL_SLAB_SHIFT, R4, R12
	MOVD	R5, (R12)(R11<<3)
	ADD	$1, R11, R11
	INJECT(4, R15)
	MOVD	R11, (R10)
post:
	MOVW	R9, ret+24(FP)
	RET
	CS_ABORT
full:
	RESULT32(-2, ret+24)
	RET
marking:
	RESULT32(-4, ret+24)
	RET
norseq:
	RESULT32(-1, ret+24)
	RET

// func writeBarrierAddr() uintptr
//
// The address of runtime.writeBarrier, for the machine-code test that
// checks which globals the critical sections read.
TEXT ·writeBarrierAddr(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	$runtime·writeBarrier(SB), R0
	MOVD	R0, ret+0(FP)
	RET
