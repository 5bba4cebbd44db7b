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
// load-add-store on the rseq word of the current CPU's shard of c. On a
// thread without rseq, an atomic add on a fallback word instead
// (COUNTER_ATOMIC); when the whole process has none (counterPerP), and
// before c is in use, a jump to SLOW, whose frame is the same (it adds
// atomically to the P's fallback word). Injection points as in
// cs_amd64.s, counted down in CX. On amd64 every store is a release
// (x86-TSO keeps stores in order and after earlier loads), so the two
// sections are the same code.
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
	CMPB	·counterPerP(SB), $0; \
	JNE	perp; \
	COUNTER_ATOMIC; \
perp: \
	JMP	·counterAddPerP(SB); \
slow: \
	JMP	SLOW

// COUNTER_ATOMIC adds v to the fallback word of a shard picked from the
// stack pointer, with LOCK XADD, and returns: the add of a thread without
// rseq in a process with rseq, with no hop to Go (which would pick the
// P's word: counterAddFallback). The stripe is
// (uint32(sp>>13) * 0x9e3779b9 * shardCount) >> 32: each goroutine's
// stack is its own 8 KiB or more, so goroutines spread over the shards
// with a multiplicative hash. Any shard is correct: the add is atomic and
// Load sums them all. SI is the Counter's Block in shard 0.
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
