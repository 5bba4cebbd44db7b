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

// The runtime's TLS slot for g, as in the runtime's go_tls.h.
#define get_tls(r) MOVQ TLS, r
#define g(r) 0(r)(TLS*1)

// RSEQ_AREA loads the address of the current M's rseq area into reg, or
// jumps to none when the process has no rseq. Clobbers CX and DX. The M
// cannot change under the caller: assembly is not an async preemption
// point and nothing here calls out.
#define RSEQ_AREA(reg, none) \
	MOVQ	·rseqMArea(SB), CX; \
	TESTQ	CX, CX; \
	JZ	none; \
	get_tls(reg); \
	MOVQ	g(reg), reg; \
	MOVQ	·rseqGM(SB), DX; \
	MOVQ	(reg)(DX*1), reg; \
	MOVQ	(reg)(CX*1), reg
