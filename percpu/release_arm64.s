// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"

// func storeRelease64(addr *uint64, v uint64)
TEXT ·storeRelease64(SB), NOSPLIT|NOFRAME, $0-16
	MOVD	addr+0(FP), R0
	MOVD	v+8(FP), R1
	STLR	R1, (R0)
	RET

// func acquireFence()
//
// DMB ISHLD: the thread's earlier loads are ordered before its later
// loads and stores.
TEXT ·acquireFence(SB), NOSPLIT|NOFRAME, $0-0
	DMB	$0x9
	RET
