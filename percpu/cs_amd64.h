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
//	retry: MOVQ R8, RSEQ_CS(AX)    arm the section
//	start:  CS_INDEX    read the shard index, compute the shard's address
//	        loads, compares (may leave early to a fail label)
//	        the commit: one store, the last instruction of the section
//	post:   results; RET
//	        CS_ABORT_SIG  the registered signature, right before abort
//	abort:  count the abort; JMP retry  (everything is read again)
//
// The kernel moves the IP to abort when the thread is preempted, migrated
// or signalled between start and post; it never interrupts anything else
// here. Registers survive an abort. Nothing between start and post calls
// or makes a system call. R14, R15 and BP are not used.

#include "rseq_amd64.h"

// Keep in sync with block.go.
#define REGION_STRIDE_SHIFT 16

// Byte offsets in ·csDesc (cs.go: csAdd, csCmpStore, ...).
#define CS_ADD 0
#define CS_CMPSTORE 8
#define CS_POP 16
#define CS_PUSH 24
#define CS_STORECOMMIT 32
#define CS_COPYCOMMIT 40
#define CS_COUNTERADD 48

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
