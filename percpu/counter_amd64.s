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
// load-add-store on the rseq word of the current CPU's shard of c.
// Anything else (c not yet in use, no rseq in the process or on this
// thread) jumps to SLOW, whose frame is the same. Injection points as in
// cs_amd64.s, counted down in CX. On amd64 every store is a release
// (x86-TSO keeps stores in order and after earlier loads), so the two
// sections are the same code.
#define COUNTER_ADD(desc, SLOW) \
	CS_ANCHORS; \
	MOVQ	c+0(FP), SI; \
	MOVQ	Counter_shard0(SI), SI; \
	TESTQ	SI, SI; \
	JZ	slow; \
	RSEQ_AREA(slow, viam, found); \
	MOVL	RSEQ_CPU_ID(AX), CX; \
	TESTL	CX, CX; \
	JS	slow; \
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
slow: \
	JMP	SLOW

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
