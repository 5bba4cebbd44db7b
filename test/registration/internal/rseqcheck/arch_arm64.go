// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux

package rseqcheck

import "fmt"

// Sig is the rseq signature glibc, the gorseq runtime and these probes
// use on arm64 (a brk #0x45e0 instruction word).
const Sig = 0xd428bc00

// tpRule is the thread-pointer rule (gorseqABI.tpArea) the runtime may
// publish on arm64: area = thread pointer + tpOffset, the thread pointer
// being TPIDR_EL0, glibc's under cgo (TLS variant I: the offset is
// negative).
const tpRule = 2

// tpRuleArea returns the area tpRule gives with offset off, and how.
func tpRuleArea(off uintptr) (uintptr, string) {
	tp := threadPointer()
	return tp + off, fmt.Sprintf("TPIDR_EL0=%#x %+d", tp, int(off))
}

// threadPointer returns TPIDR_EL0.
func threadPointer() uintptr
