// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && goexperiment.rseqinline && (amd64 || arm64)

package percpu

// The inline Counter.Add sequences of gorseq's compiler for arm64, checked
// in inlineMain built for linux/arm64 (as an executable and as a PIE) on
// any host, as cs_inline_machinecode_test.go checks amd64's: every
// sequence the linker listed against the kernel's rules, the list's
// completeness by the signatures in Go code, and the unsafe points in the
// compiler's listing. (Not named _arm64_test.go, which would run it only
// on arm64.)

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

// inlineSigArm64 is the arm64 rseq signature, brk #0x45e0, as a word.
const inlineSigArm64 = 0xd428bc00

// a64InlineInst is one decoded word of a function.
type a64InlineInst struct {
	addr uint64
	word uint32
	in   arm64asm.Inst
	ok   bool // the word decodes
}

func (i a64InlineInst) String() string {
	if !i.ok {
		return fmt.Sprintf("%#x: .word %#08x", i.addr, i.word)
	}
	return fmt.Sprintf("%#x: %v", i.addr, i.in)
}

func (i a64InlineInst) op() string { return i.in.Op.String() }

// target returns where a branch goes.
func (i a64InlineInst) target() (uint64, bool) {
	for _, a := range i.in.Args {
		if rel, ok := a.(arm64asm.PCRel); ok {
			return i.addr + uint64(rel), true
		}
	}
	return 0, false
}

// isJump: an unconditional B (a conditional one has the condition first).
func (i a64InlineInst) isJump() bool {
	_, rel := i.in.Args[0].(arm64asm.PCRel)
	return i.op() == "B" && rel
}

func (i a64InlineInst) isBranch() bool {
	switch i.op() {
	case "B", "BL", "BR", "BLR", "RET", "CBZ", "CBNZ", "TBZ", "TBNZ":
		return true
	}
	return false
}

// forbidden: what leaves a section in a way the kernel cannot restart from.
func (i a64InlineInst) forbidden() bool {
	switch i.op() {
	case "BL", "BLR", "BR", "RET", "SVC", "HVC", "SMC", "BRK", "HLT", "UDF":
		return true
	}
	return !i.ok
}

func (i a64InlineInst) stores() bool {
	return i.ok && (a64IsStore(i.op()) || a64IsAtomic(i.op()))
}

// a64InlineFunc decodes a function of an arm64 inlineBinary.
func a64InlineFunc(t *testing.T, b *inlineBinary, addr uint64) (string, []a64InlineInst) {
	t.Helper()
	fn, ok := b.funcAt(addr)
	if !ok {
		t.Fatalf("%s: %#x is in no function", b.path, addr)
	}
	code := b.read(t, fn.Value, fn.Size)
	insts := make([]a64InlineInst, 0, len(code)/4)
	for off := 0; off+4 <= len(code); off += 4 {
		w := binary.LittleEndian.Uint32(code[off:])
		in, err := arm64asm.Decode(code[off : off+4])
		insts = append(insts, a64InlineInst{addr: fn.Value + uint64(off), word: w, in: in, ok: err == nil})
	}
	return fn.Name, insts
}

// adrpAdd returns the address an ADRP+ADD pair ending at insts[k] forms.
func adrpAdd(insts []a64InlineInst, k int) (uint64, bool) {
	if k < 1 || insts[k].op() != "ADD" || insts[k-1].op() != "ADRP" {
		return 0, false
	}
	rel, ok := insts[k-1].in.Args[1].(arm64asm.PCRel)
	if !ok || insts[k].word&0x7f800000 != 0x11000000 {
		return 0, false
	}
	imm := uint64(insts[k].word>>10) & 0xfff
	if insts[k].word>>22&1 == 1 {
		imm <<= 12
	}
	return (insts[k-1].addr &^ 0xfff) + uint64(rel) + imm, true
}

func TestInlineSequencesArm64(t *testing.T) {
	for _, mode := range []string{"exe", "pie"} {
		t.Run(mode, func(t *testing.T) {
			bin, _ := buildInlineMain(t, "arm64", t.TempDir(), "inline-arm64-"+mode, "-buildmode="+mode)
			b := openInlineBinary(t, bin)
			checkInlineWant(t, checkInlineList(t, b, binary.LittleEndian.AppendUint32(nil, inlineSigArm64), 4, func(d uint64) (string, uint64) {
				return a64CheckInlineSequence(t, b, d)
			}))
		})
	}
	t.Run("unsafe points", func(t *testing.T) {
		_, listing := buildInlineMain(t, "arm64", t.TempDir(), "inline-arm64-S", "-gcflags=-S")
		checkInlineListing(t, listing, inlineListingArm64)
	})
}

// a64CheckInlineSequence checks one arm64 descriptor and its code.
func a64CheckInlineSequence(t *testing.T, b *inlineBinary, d uint64) (string, uint64) {
	t.Helper()
	where := fmt.Sprintf("%s: descriptor %#x", filepath.Base(b.path), d)
	start, post, abort := checkInlineDescriptor(t, b, d, where)
	name, insts := a64InlineFunc(t, b, start)
	where += " (" + name + ")"
	fn, _ := b.funcAt(start)
	idx := func(a uint64) int { return int(a-fn.Value) / 4 }
	si, pi, ai := idx(start), idx(post), idx(abort)
	listing := func(from, to int) string {
		var s strings.Builder
		for _, in := range insts[max(from, 0):min(to, len(insts))] {
			fmt.Fprintf(&s, "\t%v\n", in)
		}
		return s.String()
	}

	// The arming: ADRP+ADD of the descriptor into r, STR r, [area,#8].
	if si < 3 {
		t.Fatalf("%s: no arming before start", where)
	}
	arm := insts[si-1]
	if addr, ok := adrpAdd(insts, si-2); !ok || addr != d || arm.op() != "STR" || !strings.HasSuffix(arm.in.String(), ",#8]") {
		t.Errorf("%s: the arming is not ADRP+ADD of the descriptor and its store to rseq_cs:\n%s", where, listing(si-3, si+1))
	}
	area := arm.in.Args[1].(arm64asm.MemImmediate).Base
	// start: LDR W, [area,#4], cpu_id.
	if in := insts[si]; in.op() != "LDR" || !strings.HasSuffix(in.in.String(), fmt.Sprintf("[%v,#4]", area)) {
		t.Errorf("%s: the section starts with %v, want the load of cpu_id from [%v,#4]", where, in, area)
	}
	// [start, post): no call or trap, branches only leave, one store:
	// the commit, the last instruction.
	for k := si; k < pi; k++ {
		in := insts[k]
		if in.forbidden() {
			t.Errorf("%s: %v in the section", where, in)
		}
		if to, ok := in.target(); ok && in.isBranch() && to >= start && to < post {
			t.Errorf("%s: %v branches inside the section", where, in)
		}
		if in.stores() && (k != pi-1 || in.op() != "STR") {
			t.Errorf("%s: %v stores in the section before the commit", where, in)
		}
	}
	if !insts[pi-1].stores() {
		t.Errorf("%s: the instruction before post, %v, is not the commit", where, insts[pi-1])
	}
	// The signature right before abort, after an unconditional branch.
	if insts[ai-1].word != inlineSigArm64 {
		t.Errorf("%s: no rseq signature right before abort: %v", where, insts[ai-1])
	} else if prev := insts[ai-2]; !prev.isJump() {
		t.Errorf("%s: %v falls through into the signature", where, prev)
	}
	// The abort handler: the count's address, an exclusive increment,
	// and a branch back to retry, before the arming.
	k := ai
	if addr, ok := adrpAdd(insts, k+1); !ok || !b.symIs(addr, "github.com/gorseq/gorseq/percpu.inlineAbortCount") {
		t.Errorf("%s: the abort handler does not start with the address of percpu.inlineAbortCount:\n%s", where, listing(ai, ai+8))
	}
	var back a64InlineInst
	for k = ai; k < len(insts); k++ {
		in := insts[k]
		if in.forbidden() {
			t.Fatalf("%s: %v in the abort handler", where, in)
		}
		if in.stores() && in.op() != "STXR" {
			t.Errorf("%s: %v stores in the abort handler", where, in)
		}
		if in.isJump() {
			back = in
			break
		}
	}
	retry, ok := back.target()
	if !ok || retry >= arm.addr-8 || retry < fn.Value {
		t.Fatalf("%s: the abort handler ends in %v, not a branch back before the arming:\n%s", where, back, listing(ai, k+1))
	}
	// retry: the offset of m (from abi), then g.m from g (X28).
	ri := idx(retry)
	if ri+1 >= si {
		t.Fatalf("%s: retry is at the arming", where)
	}
	if in := insts[ri+1]; in.op() != "LDR" || !strings.Contains(in.in.String(), "[X28,") {
		t.Errorf("%s: retry's second instruction is %v, want the load of g.m from g (X28)", where, in)
	}
	for k := ri; k < si-1; k++ {
		if in := insts[k]; in.forbidden() || in.stores() {
			t.Errorf("%s: %v between retry and the arming", where, in)
		}
	}
	return name, abort
}

// inlineListingArm64 finds arm64's sequences in a listing.
var inlineListingArm64 = inlineListing{
	arm:    "MOVD\t$go:rseqcs.",
	first:  ", R10",
	commit: "MOVD\tR12, (",
	fail:   "MOVD\tZR, ",
}
