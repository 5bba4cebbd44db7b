// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// rseqSig is the signature that precedes every abort handler: the last
// four bytes of the instruction ud1 0x53053053(%rip), %edi.
const rseqSig = 0x53053053

// decodeAnchors reads the four jumps at the start of a critical-section
// function (CS_ANCHORS in cs_amd64.h) and checks what the kernel relies
// on: start < post, abort outside [start, post), and the signature in the
// four bytes before abort.
func decodeAnchors(fn unsafe.Pointer) (csBounds, error) {
	// Offsets from fn.
	var targets [4]int
	pc := 0
	for i := range targets {
		code := unsafe.Slice((*byte)(unsafe.Add(fn, pc)), 5)
		switch code[0] {
		case 0xeb: // JMP rel8
			targets[i] = pc + 2 + int(int8(code[1]))
			pc += 2
		case 0xe9: // JMP rel32
			targets[i] = pc + 5 + int(int32(binary.LittleEndian.Uint32(code[1:])))
			pc += 5
		default:
			return csBounds{}, fmt.Errorf("anchor %d at +%d is not a jump (byte %#x)", i, pc, code[0])
		}
	}
	entry, start, post, abort := targets[0], targets[1], targets[2], targets[3]
	base := uintptr(fn)
	b := csBounds{entry: base + uintptr(entry), start: base + uintptr(start), post: base + uintptr(post), abort: base + uintptr(abort)}
	switch {
	case entry != pc:
		return b, fmt.Errorf("the first anchor does not jump over the anchors")
	case !(entry < start && start < post):
		return b, fmt.Errorf("start +%d and post +%d out of order", start, post)
	case abort >= start && abort < post, abort < 4:
		return b, fmt.Errorf("abort +%d inside the section", abort)
	case binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(fn, abort-4)), 4)) != rseqSig:
		return b, fmt.Errorf("no signature before abort +%d", abort)
	}
	return b, nil
}
