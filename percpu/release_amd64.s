// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"

// func storeRelease64(addr *uint64, v uint64)
//
// A plain MOV: on amd64 every store is a release (x86-TSO keeps it after
// the thread's earlier loads and stores). sync/atomic's Store would be an
// XCHG, a full barrier that costs an atomic.
TEXT ·storeRelease64(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ	addr+0(FP), AX
	MOVQ	v+8(FP), BX
	MOVQ	BX, (AX)
	RET
