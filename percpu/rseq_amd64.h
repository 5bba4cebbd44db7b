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

// TP_BASE_AX loads the base of the thread-pointer path into AX: the word
// at %fs:0. It is MOVQ %fs:0, AX (64 48 8b 04 25 00 00 00 00), which the
// assembler has no syntax for.
#define TP_BASE_AX \
	BYTE $0x64; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $0

// rseqPath values (runtime_abi.go).
#define RSEQ_PATH_TP 1
#define RSEQ_PATH_M 2

// RSEQ_AREA loads the address of the current thread's rseq area into AX,
// or jumps to none when the process has no rseq. Clobbers CX and DX. The
// thread cannot change under the caller: assembly is not an async
// preemption point and nothing here calls out. viam and found are labels
// for the macro's own use.
#define RSEQ_AREA(none, viam, found) \
	CMPB	·rseqPath(SB), $RSEQ_PATH_TP; \
	JNE	viam; \
	TP_BASE_AX; \
	ADDQ	·rseqTPOffset(SB), AX; \
	JMP	found; \
viam: \
	CMPB	·rseqPath(SB), $RSEQ_PATH_M; \
	JNE	none; \
	MOVQ	·rseqMArea(SB), CX; \
	get_tls(AX); \
	MOVQ	g(AX), AX; \
	MOVQ	·rseqGM(SB), DX; \
	MOVQ	(AX)(DX*1), AX; \
	MOVQ	(AX)(CX*1), AX; \
found:
