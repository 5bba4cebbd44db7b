// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"

// func Nop()
TEXT ·Nop(SB), NOSPLIT, $0-0
	RET

// func Int32() int32
TEXT ·Int32(SB), NOSPLIT, $0-4
	MOVL	$0, ret+0(FP)
	RET
