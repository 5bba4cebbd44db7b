// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// rseqSig is the signature that precedes every abort handler: the
// instruction word brk #0x45e0, which the code never executes (it follows
// a RET), as glibc, librseq and the kernel selftests emit it.
const rseqSig = 0xd428bc00

// decodeAnchors reads the four branches at the start of a critical-section
// function (CS_ANCHORS in cs_arm64.h) and checks what the kernel relies
// on: start < post, abort outside [start, post), and the signature in the
// word before abort.
func decodeAnchors(fn unsafe.Pointer) (csBounds, error) {
	// Offsets from fn.
	var targets [4]int
	for i := range targets {
		pc := 4 * i
		insn := binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(fn, pc)), 4))
		if insn>>26 != 0b000101 { // B imm26
			return csBounds{}, fmt.Errorf("anchor %d at +%d is not a branch (word %#08x)", i, pc, insn)
		}
		imm := int32(insn<<6) >> 6 // sign-extend imm26
		targets[i] = pc + 4*int(imm)
	}
	entry, start, post, abort := targets[0], targets[1], targets[2], targets[3]
	base := uintptr(fn)
	b := csBounds{entry: base + uintptr(entry), start: base + uintptr(start), post: base + uintptr(post), abort: base + uintptr(abort)}
	switch {
	case entry != 4*len(targets):
		return b, fmt.Errorf("the first anchor does not branch over the anchors")
	case !(entry < start && start < post):
		return b, fmt.Errorf("start +%d and post +%d out of order", start, post)
	case abort >= start && abort < post, abort < 4:
		return b, fmt.Errorf("abort +%d inside the section", abort)
	case binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(fn, abort-4)), 4)) != rseqSig:
		return b, fmt.Errorf("no signature before abort +%d", abort)
	}
	return b, nil
}
