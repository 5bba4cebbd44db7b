// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"
#include "rseq_amd64.h"

// func tpBase() uintptr
TEXT ·tpBase(SB), NOSPLIT|NOFRAME, $0-8
	TP_BASE_AX
	MOVQ	AX, ret+0(FP)
	RET
