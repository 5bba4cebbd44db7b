// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_amd64.h"

// The slow paths. The test-only build (gorseq_inject) goes through
// counterAddSlowCounted and counterAddReleaseSlowCounted (inject_amd64.s),
// which count their calls and jump to the slow path, so that tests can
// tell how many adds took the section.
#ifdef const_injectBuild
#define COUNTER_ADD_SLOW ·counterAddSlowCounted(SB)
#define COUNTER_ADD_RELEASE_SLOW ·counterAddReleaseSlowCounted(SB)
#else
#define COUNTER_ADD_SLOW ·counterAddSlow(SB)
#define COUNTER_ADD_RELEASE_SLOW ·counterAddReleaseSlow(SB)
#endif

// COUNTER_ADD is the body of counterAdd and counterAddRelease: a
// load-add-store on the rseq word of the current CPU's shard of c. Without
// rseq in the process or on this thread, an atomic add on a fallback word
// instead (COUNTER_ATOMIC); before c is in use, a jump to SLOW, whose frame
// is the same. Injection points as in cs_amd64.s, counted down in CX. On
// amd64 every store is a release (x86-TSO keeps stores in order and after
// earlier loads), so the two sections are the same code.
#define COUNTER_ADD(desc, SLOW) \
	CS_ANCHORS; \
	MOVQ	c+0(FP), SI; \
	MOVQ	Counter_shard0(SI), SI; \
	TESTQ	SI, SI; \
	JZ	slow; \
	RSEQ_AREA(atomic, viam, found); \
	MOVL	RSEQ_CPU_ID(AX), CX; \
	TESTL	CX, CX; \
	JS	atomic; \
	MOVQ	v+8(FP), DI; \
	MOVQ	·csDesc+desc(SB), R8; \
	CS_ARM; \
	MOVL	RSEQ_CPU_ID(AX), R9; \
	CMPL	R9, ·shardCount32(SB); \
	JAE	slow; \
	SHLQ	$REGION_STRIDE_SHIFT, R9; \
	INJECT(2, CX); \
	MOVQ	(SI)(R9*1), R10; \
	INJECT(3, CX); \
	ADDQ	DI, R10; \
	INJECT(4, CX); \
	MOVQ	R10, (SI)(R9*1); \
post: \
	RET; \
	CS_ABORT; \
atomic: \
	COUNTER_ATOMIC; \
slow: \
	JMP	SLOW

// COUNTER_ATOMIC adds v to the fallback word of the shard that
// fallbackStripe (counter.go) picks from the stack pointer, with LOCK
// XADD, and returns: the add of a thread without rseq, with no hop to Go.
// SI is the Counter's Block in shard 0.
#define COUNTER_ATOMIC \
	MOVQ	SP, AX; \
	SHRQ	$13, AX; \
	IMUL3L	$-1640531527, AX, AX; \
	MOVL	·shardCount32(SB), CX; \
	IMULQ	CX, AX; \
	SHRQ	$32, AX; \
	SHLQ	$REGION_STRIDE_SHIFT, AX; \
	MOVQ	v+8(FP), DI; \
	LOCK; \
	XADDQ	DI, counterShard_fallback(SI)(AX*1); \
	RET

// func counterAdd(c *Counter, v int64)
//
// Counter.Add's critical section.
TEXT ·counterAdd(SB), NOSPLIT|NOFRAME, $0-16
	COUNTER_ADD(CS_COUNTERADD, COUNTER_ADD_SLOW)

// func counterAddRelease(c *Counter, v int64)
//
// Counter.addRelease's critical section: the commit is a release, as
// every x86 store is.
TEXT ·counterAddRelease(SB), NOSPLIT|NOFRAME, $0-16
	COUNTER_ADD(CS_COUNTERADDRELEASE, COUNTER_ADD_RELEASE_SLOW)
