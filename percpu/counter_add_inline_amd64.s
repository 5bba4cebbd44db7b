// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && goexperiment.rseqinline

#include "textflag.h"

// func counterAddInline(c *Counter, v int64, abi *inlineABI, shift uintptr) bool
//
// What runs when the compiler does not emit the intrinsic: it adds
// nothing and reports so, and Add makes its usual call.
TEXT ·counterAddInline(SB), NOSPLIT|NOFRAME, $0-33
	MOVB	$0, ret+32(FP)
	RET
