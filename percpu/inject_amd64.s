// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject

#include "textflag.h"
#include "rseq_amd64.h"

// func rseqThreadArea() uintptr
TEXT ·rseqThreadArea(SB), NOSPLIT|NOFRAME, $0-8
	RSEQ_AREA(none, viam, found)
	MOVQ	AX, ret+0(FP)
	RET
none:
	MOVQ	$0, ret+0(FP)
	RET

// func counterAddSlowCounted(c *Counter, v int64)
//
// In assembly, not Go: counterAdd reaches it only through go_asm.h
// (COUNTER_ADD_SLOW, counter_amd64.s), which the go command leaves empty
// when it collects the assembly's references to Go functions, so no ABI0
// wrapper of a Go function would be made for it.
TEXT ·counterAddSlowCounted(SB), NOSPLIT|NOFRAME, $0-16
	LOCK; INCQ ·counterAddSlows(SB)
	JMP	·counterAddSlow(SB)

// func counterAddReleaseSlowCounted(c *Counter, v int64)
//
// counterAddRelease's slow path in this build, as counterAddSlowCounted.
TEXT ·counterAddReleaseSlowCounted(SB), NOSPLIT|NOFRAME, $0-16
	LOCK; INCQ ·counterAddSlows(SB)
	JMP	·counterAddReleaseSlow(SB)
