// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Access to the current thread's rseq area from percpu's assembly.

// struct rseq field offsets (include/uapi/linux/rseq.h).
#define RSEQ_CPU_ID_START 0
#define RSEQ_CPU_ID 4
#define RSEQ_CS 8
#define RSEQ_NODE_ID 20
#define RSEQ_MM_CID 24

// TP_BASE loads the base of the thread-pointer path into r: TPIDR_EL0.
#define TP_BASE(r) \
	MRS	TPIDR_EL0, r

// rseqPath values (runtime_abi.go).
#define RSEQ_PATH_TP 1
#define RSEQ_PATH_M 2

// RSEQ_AREA loads the address of the current thread's rseq area into R0,
// or branches to none when the process has no rseq. Clobbers R1. The
// thread cannot change under the caller: assembly is not an async
// preemption point and nothing here calls out. The m path, the one the
// patched runtime's own mode takes, is tested first: g (R28) -> m -> area.
// The thread-pointer path (glibc's registration) is TPIDR_EL0 plus
// __rseq_offset, which is negative on arm64 (TLS variant I). viam and
// found are labels for the macro's own use.
#define RSEQ_AREA(none, viam, found) \
	MOVBU	·rseqPath(SB), R0; \
	CMP	$RSEQ_PATH_M, R0; \
	BNE	viam; \
	MOVD	·rseqGM(SB), R1; \
	MOVD	(g)(R1), R0; \
	MOVD	·rseqMArea(SB), R1; \
	MOVD	(R0)(R1), R0; \
	B	found; \
viam: \
	CMP	$RSEQ_PATH_TP, R0; \
	BNE	none; \
	TP_BASE(R0); \
	MOVD	·rseqTPOffset(SB), R1; \
	ADD	R1, R0, R0; \
found:
