// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "go_asm.h"
#include "cs_arm64.h"

// The slow paths. The test-only build (gorseq_inject) goes through
// counterAddSlowCounted and counterAddReleaseSlowCounted (inject_arm64.s),
// which count their calls, so that tests can tell how many adds took the
// section.
#ifdef const_injectBuild
#define COUNTER_ADD_SLOW ·counterAddSlowCounted(SB)
#define COUNTER_ADD_RELEASE_SLOW ·counterAddReleaseSlowCounted(SB)
#else
#define COUNTER_ADD_SLOW ·counterAddSlow(SB)
#define COUNTER_ADD_RELEASE_SLOW ·counterAddReleaseSlow(SB)
#endif

// COUNTER_ATOMIC adds v to the fallback word of a shard picked from the
// stack pointer, atomically and as a full barrier (LDADDAL where the CPU
// has LSE atomics, else an LDAXR/STLXR loop), and returns: the add of a
// thread without rseq in a process with rseq, with no hop to Go. The
// stripe is the amd64 one (counter_amd64.s). R3 is the Counter's Block in
// shard 0.
#define COUNTER_ATOMIC \
	MOVD	RSP, R1; \
	LSR	$13, R1, R1; \
	MOVW	$0x9e3779b9, R2; \
	MULW	R2, R1, R1; \
	MOVWU	·shardCount32(SB), R2; \
	MUL	R2, R1, R1; \
	LSR	$32, R1, R1; \
	ADD	R1<<REGION_STRIDE_SHIFT, R3, R1; \
	ADD	$counterShard_fallback, R1, R1; \
	MOVD	v+8(FP), R4; \
	MOVBU	·counterLSE(SB), R2; \
	CBZ	R2, 3(PC); \
	LDADDALD	R4, (R1), R5; \
	RET; \
	LDAXR	(R1), R2; \
	ADD	R4, R2, R2; \
	STLXR	R2, (R1), R5; \
	CBNZW	R5, -3(PC); \
	RET

// COUNTER_ADD is the body of counterAdd and counterAddRelease: a
// load-add-store on the rseq word of the current CPU's shard of c, the
// commit being COMMIT (MOVD or STLR) of R11 to (R10). Without rseq in the
// process or on this thread, COUNTER_ATOMIC instead; before c is in use, a
// branch to SLOW, whose frame is the same. Injection points as in
// cs_arm64.s, in R15.
#define COUNTER_ADD(desc, COMMIT, SLOW) \
	CS_ANCHORS; \
	MOVD	c+0(FP), R3; \
	MOVD	Counter_shard0(R3), R3; \
	CBZ	R3, slow; \
	RSEQ_AREA(atomic, viam, found); \
	MOVW	RSEQ_CPU_ID(R0), R1; \
	TBNZ	$31, R1, atomic; \
	MOVD	v+8(FP), R4; \
	MOVD	·csDesc+desc(SB), R8; \
	CS_ARM; \
	MOVWU	RSEQ_CPU_ID(R0), R9; \
	MOVWU	·shardCount32(SB), R1; \
	CMPW	R1, R9; \
	BHS	slow; \
	ADD	R9<<REGION_STRIDE_SHIFT, R3, R10; \
	INJECT(2, R15); \
	MOVD	(R10), R11; \
	INJECT(3, R15); \
	ADD	R4, R11, R11; \
	INJECT(4, R15); \
	COMMIT	R11, (R10); \
post: \
	RET; \
	CS_ABORT; \
atomic: \
	MOVBU	·counterPerP(SB), R1; \
	CBNZ	R1, slow; \
	COUNTER_ATOMIC; \
slow: \
	B	SLOW

// func counterAdd(c *Counter, v int64)
//
// Counter.Add's critical section; the commit is a plain store.
TEXT ·counterAdd(SB), NOSPLIT|NOFRAME, $0-16
	COUNTER_ADD(CS_COUNTERADD, MOVD, COUNTER_ADD_SLOW)

// func counterAddRelease(c *Counter, v int64)
//
// Counter.addRelease's critical section; the commit is a store-release
// (STLR), ordered after every load and store before it.
TEXT ·counterAddRelease(SB), NOSPLIT|NOFRAME, $0-16
	COUNTER_ADD(CS_COUNTERADDRELEASE, STLR, COUNTER_ADD_RELEASE_SLOW)
