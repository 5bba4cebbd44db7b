// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Building blocks of percpu's restartable critical sections on arm64.
//
// Layout of every critical-section function, as on amd64 (cs_amd64.h):
//
//	CS_ANCHORS          four branches, never executed: to entry, start,
//	                    post and abort. cs_anchors_arm64.go decodes them
//	                    at init to fill the function's struct rseq_cs.
//	entry: CS_AREA      R0 = the thread's rseq area; no rseq: -> norseq
//	        load arguments, R8 = descriptor
//	retry:  INJECT(1)
//	        MOVD R8, RSEQ_CS(R0)    arm the section
//	start:  CS_INDEX    read the shard index, compute the shard's address
//	        INJECT(2)
//	        the first load or compare (may leave early to a fail label)
//	        INJECT(3)
//	        more loads, compares, stores
//	        INJECT(4)
//	        the commit: one store (STR, or STLR where readers on other
//	        CPUs rely on what precedes it), the last instruction
//	post:   results; RET
//	        CS_ABORT_SIG  the signature word, right before abort; it
//	                      follows a RET, so it is never executed
//	abort:  count the abort; B retry  (everything is read again)
//
// Registers: R0 the area, R1 scratch of the macros, R8 the descriptor, R9
// the shard index, R10 the shard's byte offset, R15 the injection delay
// count; the sections use R2 to R7 and R11 to R14 for themselves. What is
// set before retry (R0, R8, the arguments in R2 to R7 and R12) must not
// be written in [retry, post) or by the abort handler, which only uses R1,
// R10 and R11. R16 and
// R17 (the linker's veneers), R18 (platform), R26 to R30 (context, REGTMP,
// g, frame pointer, link register) are left alone. Registers survive an
// abort.
//
// The arming store needs no barrier: only the kernel reads rseq_cs, on
// this thread's own CPU, when it interrupts the thread (an exception is a
// context synchronization event, and a CPU sees its own stores in program
// order). The same holds for the loads of cpu_id and the other fields of
// the area, which the kernel writes on this CPU before it returns to the
// thread.
//
// Include go_asm.h before this file: the offsets below and INJECT come
// from the package's constants.

#include "rseq_arm64.h"

#define REGION_STRIDE_SHIFT const_regionStrideShift

// Byte offsets in ·csDesc (cs.go: opAdd, opCmpStore, ...).
#define CS_ADD (const_opAdd*8)
#define CS_CMPSTORE (const_opCmpStore*8)
#define CS_POP (const_opPop*8)
#define CS_PUSH (const_opPush*8)
#define CS_STORECOMMIT (const_opStoreCommit*8)
#define CS_COPYCOMMIT (const_opCopyCommit*8)
#define CS_COUNTERADD (const_opCounterAdd*8)
#define CS_ADDINDIRECT (const_opAddIndirect*8)
#define CS_POOLPOP (const_opPoolPop*8)
#define CS_POOLPUSH (const_opPoolPush*8)
#define CS_COUNTERADDRELEASE (const_opCounterAddRelease*8)
#define CS_FLOATCOUNTERADD (const_opFloatCounterAdd*8)

// INJECT(n, reg) is injection point n (1 to 4) of the test-only build
// (go test -tags gorseq_inject), as on amd64 (see cs_amd64.h for the
// points): a delay of ·injectLoops[n] iterations counted down in reg,
// which must be dead at the point (the sections use R15). It changes no
// flags, reads memory only to load its count, stores nothing and calls
// nothing. Without the tag it expands to nothing.
#ifdef const_injectBuild
#define INJECT(n, reg) \
	MOVD	·injectLoops+(n*8)(SB), reg; \
	CBZ	reg, 3(PC); \
	SUB	$1, reg, reg; \
	CBNZ	reg, -1(PC)
#else
#define INJECT(n, reg)
#endif

#define CS_ANCHORS \
	B	entry; \
	B	start; \
	B	post; \
	B	abort; \
entry:

// CS_AREA loads the rseq area into R0, or branches to norseq when the
// process or this thread has none (cpu_id < 0). Clobbers R1.
#define CS_AREA \
	RSEQ_AREA(norseq, viam, found); \
	MOVW	RSEQ_CPU_ID(R0), R1; \
	TBNZ	$31, R1, norseq

// CS_INDEX reads the shard index at field offset FIELD (a register) of the
// area into R9, bounds it by the shard count (out of range: norseq), and
// leaves the shard's byte offset (R9 << stride) in R10. Clobbers R1.
#define CS_INDEX(FIELD) \
	MOVWU	(R0)(FIELD), R9; \
	MOVWU	·shardCount32(SB), R1; \
	CMPW	R1, R9; \
	BHS	norseq; \
	LSL	$REGION_STRIDE_SHIFT, R9, R10

// CS_ABORT_SIG emits the arm64 rseq signature 0xd428bc00 (brk #0x45e0) as
// a data word.
#define CS_ABORT_SIG \
	WORD	$0xd428bc00

// CS_COUNT_ABORT increments ·abortCount atomically with a load-exclusive/
// store-exclusive loop (no LSE atomics assumed). It clobbers only R1, R10
// and R11, which every section computes afresh after start: the arguments
// and anything set up before retry must survive the abort.
#define CS_COUNT_ABORT \
	MOVD	$·abortCount(SB), R1; \
	LDXR	(R1), R10; \
	ADD	$1, R10, R10; \
	STXR	R10, (R1), R11; \
	CBNZW	R11, -3(PC)

// RESULT32 stores the 32-bit constant c as the result at off(FP), for the
// exits that report a failure. Clobbers R1.
#define RESULT32(c, off) \
	MOVW	$c, R1; \
	MOVW	R1, off(FP)

// CS_ARM arms the section: injection point 1, then the store of the
// descriptor (in R8) into the area's rseq_cs; start follows. The abort
// handler comes back to retry, so every try re-arms and re-reads.
#define CS_ARM \
retry: \
	INJECT(1, R15); \
	MOVD	R8, RSEQ_CS(R0); \
start:

// CS_ABORT is the signature and the abort handler after it: count the
// abort and try again.
#define CS_ABORT \
	CS_ABORT_SIG; \
abort: \
	CS_COUNT_ABORT; \
	B	retry
