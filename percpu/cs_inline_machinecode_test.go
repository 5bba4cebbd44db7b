// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && goexperiment.rseqinline && amd64

package percpu

// The machine code of the sequences that gorseq's compiler emits inline
// for Counter.Add (counter_add_inline.go), checked in real binaries: this
// test binary, and a program built here as an executable and as a PIE,
// whose functions hold call sites of every shape (a loop, a closure, a
// method, a generic function, a function inlined twice). Every sequence
// the linker listed (runtime.gorseqInlineCS) is checked against what the
// kernel requires (design-notes.md section 1); every rseq signature in Go
// code must belong to a listed sequence, so the list is complete; and the
// compiler's listing shows the sequences are unsafe points.

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// decode decodes a function linearly.
func (b *inlineBinary) decode(t *testing.T, fn elf.Symbol) *csCode {
	t.Helper()
	code := b.read(t, fn.Value, fn.Size)
	c := &csCode{name: fn.Name, at: map[int]int{}}
	for off := 0; off < len(code); {
		in, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			// Padding after the last instruction (INT3s decode).
			t.Fatalf("%s: %s+%#x: %v", b.path, fn.Name, off, err)
		}
		c.at[off] = len(c.insts)
		c.insts = append(c.insts, csInst{off: off, Inst: in})
		off += in.Len
	}
	return c
}

// checkInlineSequences checks every sequence of an amd64 binary and the
// list's completeness (checkInlineList), and returns how many sequences
// each function has.
func checkInlineSequences(t *testing.T, b *inlineBinary) map[string]int {
	t.Helper()
	decoded := map[string]*csCode{}
	return checkInlineList(t, b, inlineSig, 1, func(d uint64) (string, uint64) {
		return checkInlineSequence(t, b, d, decoded)
	})
}

// checkInlineSequence checks one descriptor and the code it describes, and
// returns the function and the abort address.
func checkInlineSequence(t *testing.T, b *inlineBinary, d uint64, decoded map[string]*csCode) (string, uint64) {
	t.Helper()
	where := fmt.Sprintf("%s: descriptor %#x", filepath.Base(b.path), d)
	start, post, abort := checkInlineDescriptor(t, b, d, where)
	fn, _ := b.funcAt(start)
	where += " (" + fn.Name + ")"
	c := decoded[fn.Name]
	if c == nil {
		c = b.decode(t, fn)
		decoded[fn.Name] = c
	}
	off := func(a uint64) int { return int(a - fn.Value) }
	si, pi, ai := c.instAt(t, "start", off(start)), c.instAt(t, "post", off(post)), c.instAt(t, "abort", off(abort))

	// The arming: LEAQ desc(IP), r; MOVQ r, 8(area); then start.
	if si < 2 {
		t.Fatalf("%s: no arming before start:\n%s", where, c.listing(0, si+1))
	}
	lea, arm := c.insts[si-2], c.insts[si-1]
	m, isStore := storesMemory(arm.Inst)
	if !isMOVStore(arm.Inst) || !isStore || m.Disp != 8 || m.Index != 0 || arm.Args[1] != lea.Args[0] {
		t.Errorf("%s: %v before start is not the store of the descriptor (from %v) into rseq_cs, 8(area)", where, arm, lea)
	}
	if lea.Op != x86asm.LEA || lea.Args[1].(x86asm.Mem).Base != x86asm.RIP ||
		fn.Value+uint64(lea.off+lea.Len)+uint64(lea.Args[1].(x86asm.Mem).Disp) != d {
		t.Errorf("%s: %v does not take the descriptor's address", where, lea)
	}
	area := m.Base
	// start: the read of cpu_id, 4(area).
	if in := c.insts[si]; in.Op != x86asm.MOV || in.Args[1] != (x86asm.Mem{Base: area, Disp: 4}) {
		t.Errorf("%s: the section starts with %v, want the load of cpu_id from 4(%v)", where, in, area)
	}
	// [start, post): no call or trap, branches only leave, one store:
	// the commit, the last instruction.
	for k := si; k < pi; k++ {
		in := c.insts[k]
		if forbiddenInCS(in.Op) {
			t.Errorf("%s: %v in the section", where, in)
		}
		if to, ok := branchTarget(in); ok && isJump(in.Op) && to >= off(start) && to < off(post) {
			t.Errorf("%s: %v branches inside the section", where, in)
		}
		if m, ok := storesMemory(in.Inst); ok {
			if k != pi-1 {
				t.Errorf("%s: %v stores before the commit", where, in)
			} else if in.Op != x86asm.ADD || m.Base == x86asm.RSP || m.Base == 0 {
				t.Errorf("%s: the commit is %v, want an ADD to a shard", where, in)
			}
		}
	}
	if _, ok := storesMemory(c.insts[pi-1].Inst); !ok {
		t.Errorf("%s: the instruction before post, %v, is not the commit", where, c.insts[pi-1])
	}
	// The signature right before abort, never fallen into.
	if ai < 1 || !bytes.Equal(b.read(t, abort-7, 7), inlineSig) || c.insts[ai-1].off != off(abort)-7 {
		t.Errorf("%s: no rseq signature right before abort", where)
	} else if prev := c.insts[ai-2]; prev.Op != x86asm.JMP {
		t.Errorf("%s: %v falls through into the signature", where, prev)
	}
	// The abort handler: counts the abort (LEA, LOCK INC) and jumps back
	// to retry, before the arming, where g.m and the area are read again.
	var back csInst
	for k := ai; k < len(c.insts); k++ {
		in := c.insts[k]
		if forbiddenInCS(in.Op) || in.Op != x86asm.JMP && isJump(in.Op) {
			t.Fatalf("%s: %v in the abort handler", where, in)
		}
		if _, ok := storesMemory(in.Inst); ok && (in.Op != x86asm.INC || in.Prefix[0]&0xff != x86asm.PrefixLOCK) {
			t.Errorf("%s: %v stores in the abort handler", where, in)
		}
		if in.Op == x86asm.JMP {
			back = in
			break
		}
	}
	retry, ok := branchTarget(back)
	if !ok || retry >= lea.off {
		t.Fatalf("%s: the abort handler ends in %v, not a jump back before the arming", where, back)
	}
	// retry: the offset of m (from abi), then g.m from g (R14).
	ri := c.instAt(t, "retry", retry)
	if ri+1 >= si {
		t.Fatalf("%s: retry is at the arming", where)
	}
	if in := c.insts[ri+1]; in.Op != x86asm.MOV || in.Args[1].(x86asm.Mem).Base != x86asm.R14 {
		t.Errorf("%s: retry's second instruction is %v, want the load of g.m from g (R14)", where, in)
	}
	for k := ri; k < si-1; k++ {
		if in := c.insts[k]; forbiddenInCS(in.Op) {
			t.Errorf("%s: %v between retry and the arming", where, in)
		} else if _, ok := storesMemory(in.Inst); ok {
			t.Errorf("%s: %v stores between retry and the arming", where, in)
		}
	}
	return fn.Name, abort
}

func TestInlineSequencesMachineCode(t *testing.T) {
	t.Run("test binary", func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		b := openInlineBinary(t, exe)
		b.self = true
		checkInlineSequences(t, b)
		if n := Status().InlineSequences; n == 0 {
			t.Errorf("Status().InlineSequences = 0 in a binary with inline sequences")
		}
	})
	for _, mode := range []string{"exe", "pie"} {
		t.Run("program "+mode, func(t *testing.T) {
			bin, _ := buildInlineMain(t, "amd64", t.TempDir(), "inline-"+mode, "-buildmode="+mode)
			checkInlineWant(t, checkInlineSequences(t, openInlineBinary(t, bin)))
			// And the program runs: every add counted.
			out, err := exec.Command(bin).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", bin, err, out)
			}
			var sum, n int
			if _, err := fmt.Sscan(string(out), &sum, &n); err != nil || sum != 1+10+45+3+4+3-1 || n == 0 {
				t.Errorf("%s printed %q, want the sum %d and the number of its inline sequences", bin, out, 1+10+45+3+4+3-1)
			}
		})
	}
}

// TestInlineSequencesUnsafePoints reads the compiler's listing of the
// program (checkInlineListing).
func TestInlineSequencesUnsafePoints(t *testing.T) {
	_, listing := buildInlineMain(t, "amd64", t.TempDir(), "inline-S", "-gcflags=-S")
	checkInlineListing(t, listing, inlineListingAMD64)
}

// inlineListingAMD64 finds amd64's sequences in a listing.
var inlineListingAMD64 = inlineListing{
	arm:    "LEAQ\tgo:rseqcs.",
	first:  ", R10",
	commit: "ADDQ\t",
	fail:   "XORL\t",
}
