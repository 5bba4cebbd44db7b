// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Building blocks of percpu's restartable critical sections.
//
// Layout of every critical-section function:
//
//	CS_ANCHORS          four jumps, never executed: to entry, start, post
//	                    and abort. cs.go decodes them at init to fill the
//	                    function's struct rseq_cs, since the assembler
//	                    cannot take a label's address.
//	entry: CS_AREA      AX = the thread's rseq area; no rseq: -> norseq
//	        load arguments, R8 = descriptor
//	retry:  INJECT(1)
//	        MOVQ R8, RSEQ_CS(AX)    arm the section
//	start:  CS_INDEX    read the shard index, compute the shard's address
//	        INJECT(2)
//	        the first load or compare (may leave early to a fail label)
//	        INJECT(3)
//	        more loads, compares, stores
//	        INJECT(4)
//	        the commit: one store, the last instruction of the section
//	post:   results; RET
//	        CS_ABORT_SIG  the registered signature, right before abort
//	abort:  count the abort; JMP retry  (everything is read again)
//
// The kernel moves the IP to abort when the thread is preempted, migrated
// or signalled between start and post; it never interrupts anything else
// here. Registers survive an abort. Nothing between start and post calls
// or makes a system call. R14, R15 and BP are not used.
//
// Include go_asm.h before this file: the offsets below and INJECT come
// from the package's constants.

#include "rseq_amd64.h"

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
// (go test -tags gorseq_inject), in the spirit of RSEQ_INJECT_ASM(n) of
// the kernel's rseq selftests: a delay of ·injectLoops[n] iterations
// (inject.go; 0: only the load and test), counted down in reg. reg must
// be dead at the point, and the flags too; the delay reads memory only to
// load its count, stores nothing and calls nothing. The points, the same
// in every section:
//
//	1  before the arming store, after retry: outside the section. (Not
//	   after the arming store: a preemption between it and start would
//	   find the IP outside the section, and the kernel would clear
//	   rseq_cs; the section would then run unprotected.)
//	2  right after start and the shard index
//	3  right after the section's first load of shared memory (when the
//	   load is a compare, after its branch)
//	4  right before the commit store
//
// inject.go, built only with the tag, defines the constant injectBuild,
// which go_asm.h then has. Without it INJECT expands to nothing: the
// production sections have no trace of the injection. Code under
// #ifdef const_injectBuild may name Go variables but not Go functions:
// when the go command collects the assembly's references to Go functions
// (asm -gensymabis), to make their ABI0 wrappers, go_asm.h is empty.
#ifdef const_injectBuild
#define INJECT(n, reg) \
	MOVQ	·injectLoops+(n*8)(SB), reg; \
	TESTQ	reg, reg; \
	JZ	3(PC); \
	DECQ	reg; \
	JNZ	-1(PC)
#else
#define INJECT(n, reg)
#endif

#define CS_ANCHORS \
	JMP	entry; \
	JMP	start; \
	JMP	post; \
	JMP	abort; \
entry:

// CS_AREA loads the rseq area into AX, or jumps to norseq when the process
// or this thread has none (cpu_id < 0). Clobbers CX, DX.
#define CS_AREA \
	RSEQ_AREA(norseq, viam, found); \
	MOVL	RSEQ_CPU_ID(AX), CX; \
	TESTL	CX, CX; \
	JS	norseq

// CS_INDEX reads the shard index at field offset FIELD (a register) of the
// area into R9, bounds it by the shard count (out of range: norseq), and
// leaves the shard's byte offset (R9 << stride) in R10.
#define CS_INDEX(FIELD) \
	MOVL	(AX)(FIELD*1), R9; \
	CMPL	R9, ·shardCount32(SB); \
	JAE	norseq; \
	MOVQ	R9, R10; \
	SHLQ	$REGION_STRIDE_SHIFT, R10

// CS_ABORT_SIG emits the amd64 rseq signature 0x53053053 as the
// instruction ud1 0x53053053(%rip), %edi (0f b9 3d 53 30 05 53), whose last
// four bytes are the signature, as glibc and librseq emit it.
#define CS_ABORT_SIG \
	BYTE	$0x0f; BYTE $0xb9; BYTE $0x3d; LONG $0x53053053

#define CS_COUNT_ABORT \
	LOCK; INCQ ·abortCount(SB)

// CS_ARM arms the section: injection point 1, then the store of the
// descriptor (in R8) into the area's rseq_cs; start follows. The abort
// handler comes back to retry, so every try re-arms and re-reads.
#define CS_ARM \
retry: \
	INJECT(1, CX); \
	MOVQ	R8, RSEQ_CS(AX); \
start:

// CS_ABORT is the signature and the abort handler after it: count the
// abort and try again.
#define CS_ABORT \
	CS_ABORT_SIG; \
abort: \
	CS_COUNT_ABORT; \
	JMP	retry
