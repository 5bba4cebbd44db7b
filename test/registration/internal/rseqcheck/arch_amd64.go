// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux

package rseqcheck

import "fmt"

// Sig is the rseq signature glibc, the gorseq runtime and these probes
// use on amd64.
const Sig = 0x53053053

// tpRule is the thread-pointer rule (gorseqABI.tpArea) the runtime may
// publish on amd64: area = *(thread pointer) + tpOffset, the word at %fs:0
// being glibc's TCB self-pointer under cgo and m.tls[1] (the runtime's copy
// of the area address) in a Go program without cgo.
const tpRule = 1

// tpRuleArea returns the area tpRule gives with offset off, and how.
func tpRuleArea(off uintptr) (uintptr, string) {
	w := fsWord0()
	return w + off, fmt.Sprintf("%%fs:0=%#x %+d", w, int(off))
}

// fsWord0 returns the word at %fs:0: the thread pointer under glibc, and
// m.tls[1] in a Go program without cgo.
func fsWord0() uintptr
