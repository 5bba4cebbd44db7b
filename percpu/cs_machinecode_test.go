// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64

package percpu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
)

// The machine code of the critical sections, checked against what the
// kernel requires of a struct rseq_cs and of the code it describes
// (design-notes.md section 1). The descriptors are set up at init whether
// or not the process has rseq, so this test means the same with the stock
// and the patched toolchain. With -tags gorseq_inject it checks the
// injectable variants (the same functions, with delay loops at the four
// injection points, cs_amd64.h) and the delays themselves.

// csExpectedStores is, per critical section, how many instructions in
// [start, post) store to shared memory (anything but the goroutine's own
// stack), the commit included, and how many store to the stack (results
// written before the commit, which no other thread sees).
var csExpectedStores = map[string]struct{ shared, stack int }{
	"csAdd":             {1, 0}, // commit
	"csCmpStore":        {1, 0}, // commit
	"csPop":             {1, 0}, // commit
	"csPush":            {2, 0}, // links[item] = head, commit
	"csStoreCommit":     {2, 0}, // *dst = v, commit
	"csCopyCommit":      {3, 1}, // copy loop: MOVQ and MOVB, commit; the result on the stack
	"counterAdd":        {1, 0}, // commit
	"csAddIndirect":     {1, 0}, // commit
	"poolPop":           {1, 0}, // commit
	"poolPush":          {2, 0}, // the object into the slab slot, commit
	"counterAddRelease": {1, 0}, // commit
	"floatCounterAdd":   {1, 0}, // commit (the sum, moved from X0 to an integer register)
}

// csInst is an instruction decoded at an offset of a function.
type csInst struct {
	off int // from the function's entry (the first anchor)
	x86asm.Inst
}

func (in csInst) String() string {
	return fmt.Sprintf("+%#x: %v (%d bytes)", in.off, in.Inst, in.Len)
}

// csCode is the decoded text of one critical-section function.
type csCode struct {
	name  string
	fn    unsafe.Pointer // the function's entry: its first anchor
	insts []csInst       // every instruction of the function, in order
	at    map[int]int    // offset -> index in insts
}

// decodeCSFunction decodes the function at fn linearly until the runtime
// says the code belongs to another function (or padding).
func decodeCSFunction(t *testing.T, name string, fn unsafe.Pointer) *csCode {
	t.Helper()
	f := runtime.FuncForPC(uintptr(fn))
	if f == nil || f.Entry() != uintptr(fn) {
		t.Fatalf("%s: no function starts at %p", name, fn)
	}
	c := &csCode{name: name, fn: fn, at: map[int]int{}}
	for off := 0; ; {
		if g := runtime.FuncForPC(uintptr(fn) + uintptr(off)); g == nil || g.Entry() != f.Entry() {
			break
		}
		code := unsafe.Slice((*byte)(unsafe.Add(fn, off)), 16)
		if code[0] == 0xcc { // INT3: the linker's padding after RET
			break
		}
		in, err := x86asm.Decode(code, 64)
		if err != nil {
			t.Fatalf("%s: decoding at +%#x (% x): %v", name, off, code, err)
		}
		c.at[off] = len(c.insts)
		c.insts = append(c.insts, csInst{off, in})
		off += in.Len
		if off > 1<<16 {
			t.Fatalf("%s: runs past 64 KiB", name)
		}
	}
	if !strings.HasSuffix(f.Name(), "."+name) {
		t.Fatalf("function at %p is %s, want …%s", fn, f.Name(), name)
	}
	return c
}

// instAt returns the index of the instruction at off, failing the test
// when no instruction starts there (the linear decoding would straddle it).
func (c *csCode) instAt(t *testing.T, what string, off int) int {
	t.Helper()
	i, ok := c.at[off]
	if !ok {
		t.Fatalf("%s: %s +%#x is not on an instruction boundary of the linear decoding:\n%s", c.name, what, off, c.listing(0, len(c.insts)))
	}
	return i
}

func (c *csCode) listing(from, to int) string {
	var b strings.Builder
	for _, in := range c.insts[from:to] {
		fmt.Fprintf(&b, "\t%v\n", in)
	}
	return b.String()
}

// branchTarget returns the offset a relative branch goes to.
func branchTarget(in csInst) (int, bool) {
	if len(in.Args) == 0 || in.Args[0] == nil {
		return 0, false
	}
	rel, ok := in.Args[0].(x86asm.Rel)
	if !ok {
		return 0, false
	}
	return in.off + in.Len + int(rel), true
}

func isJump(op x86asm.Op) bool {
	switch op {
	case x86asm.JMP, x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JNE,
		x86asm.JG, x86asm.JGE, x86asm.JL, x86asm.JLE, x86asm.JS, x86asm.JNS, x86asm.JO,
		x86asm.JNO, x86asm.JP, x86asm.JNP, x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ,
		x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		return true
	}
	return false
}

// forbiddenInCS reports instructions that leave the section in a way the
// kernel cannot restart from, or that trap.
func forbiddenInCS(op x86asm.Op) bool {
	switch op {
	case x86asm.CALL, x86asm.LCALL, x86asm.SYSCALL, x86asm.SYSENTER, x86asm.SYSRET, x86asm.SYSEXIT,
		x86asm.INT, x86asm.INTO, x86asm.RET, x86asm.LRET, x86asm.IRET, x86asm.IRETD, x86asm.IRETQ,
		x86asm.UD0, x86asm.UD1, x86asm.UD2, x86asm.HLT, x86asm.PUSH, x86asm.POP:
		return true
	}
	return false
}

// storesMemory reports whether the instruction writes memory: its
// destination (the first argument in Intel order) is memory and it is not
// a compare or test, or it is a string store.
func storesMemory(in x86asm.Inst) (x86asm.Mem, bool) {
	switch in.Op {
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ,
		x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ:
		return x86asm.Mem{Base: x86asm.RDI}, true
	case x86asm.CMP, x86asm.TEST, x86asm.BT, x86asm.UCOMISS, x86asm.UCOMISD, x86asm.COMISS, x86asm.COMISD,
		x86asm.PREFETCHT0, x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHNTA, x86asm.PREFETCHW, x86asm.NOP:
		return x86asm.Mem{}, false
	}
	if len(in.Args) > 0 {
		if m, ok := in.Args[0].(x86asm.Mem); ok {
			return m, true
		}
	}
	return x86asm.Mem{}, false
}

func isMOVStore(in x86asm.Inst) bool {
	if in.Op != x86asm.MOV {
		return false
	}
	_, ok := in.Args[0].(x86asm.Mem)
	return ok
}

func TestCriticalSectionMachineCode(t *testing.T) {
	var entries [csCount]unsafe.Pointer
	csEntries(&entries)
	if len(csExpectedStores) != int(csCount) {
		t.Errorf("csExpectedStores has %d sections, the package %d: update the test", len(csExpectedStores), csCount)
	}
	sig := []byte{0x0f, 0xb9, 0x3d, 0x53, 0x30, 0x05, 0x53}
	for i, fn := range entries {
		name := csNames[i]
		t.Run(name, func(t *testing.T) {
			b, err := decodeAnchors(fn)
			if err != nil {
				t.Fatalf("decodeAnchors: %v", err)
			}
			// The descriptor.
			dp := *(*unsafe.Pointer)(unsafe.Pointer(&csDesc[i]))
			if dp == nil {
				t.Fatal("csDesc is 0")
			}
			if uintptr(dp)%32 != 0 {
				t.Errorf("descriptor at %p is not 32-byte aligned", dp)
			}
			d := *(*rseqCS)(dp)
			if d.version != 0 || d.flags != 0 {
				t.Errorf("descriptor version %d flags %#x, want 0 and 0", d.version, d.flags)
			}
			if d.startIP != uint64(b.start) || d.postCommitOffset != uint64(b.post-b.start) || d.abortIP != uint64(b.abort) {
				t.Errorf("descriptor {start %#x, post_commit_offset %#x, abort %#x}, anchors say {%#x, %#x, %#x}",
					d.startIP, d.postCommitOffset, d.abortIP, b.start, b.post-b.start, b.abort)
			}
			for j, other := range csDesc {
				if j != i && other == csDesc[i] {
					t.Errorf("shares its descriptor with %s", csNames[j])
				}
			}

			c := decodeCSFunction(t, name, fn)
			base := uintptr(fn)
			entry, start, post, abort := int(b.entry-base), int(b.start-base), int(b.post-base), int(b.abort-base)
			t.Logf("entry +%#x start +%#x post +%#x abort +%#x, %d instructions", entry, start, post, abort, len(c.insts))

			// The four anchors are jumps to entry, start, post, abort.
			for k, want := range []int{entry, start, post, abort} {
				if k >= len(c.insts) {
					t.Fatalf("only %d instructions", len(c.insts))
				}
				in := c.insts[k]
				if to, ok := branchTarget(in); in.Op != x86asm.JMP || !ok || to != want {
					t.Errorf("anchor %d is %v, want JMP to +%#x", k, in, want)
				}
			}
			if c.instAt(t, "entry", entry) != 4 {
				t.Errorf("entry +%#x does not follow the four anchors", entry)
			}

			// The signature: the 7-byte ud1 right before abort, whose
			// last 4 bytes are 0x53053053.
			if abort < 7 {
				t.Fatalf("abort +%#x leaves no room for the signature", abort)
			}
			before := unsafe.Slice((*byte)(unsafe.Add(fn, abort-7)), 7)
			if !bytes.Equal(before, sig) {
				t.Errorf("the 7 bytes before abort are % x, want % x", before, sig)
			}
			if s := binary.LittleEndian.Uint32(before[3:]); s != rseqSig {
				t.Errorf("the 4 bytes before abort hold %#x, want %#x", s, rseqSig)
			}
			if si := c.instAt(t, "signature", abort-7); c.insts[si].Op != x86asm.UD1 || c.insts[si].Len != 7 {
				t.Errorf("the signature decodes as %v, want a 7-byte UD1", c.insts[si])
			}
			// The signature is never executed: the instruction before it
			// does not fall through.
			if si := c.at[abort-7]; si > 0 {
				if prev := c.insts[si-1]; prev.Op != x86asm.RET && prev.Op != x86asm.JMP {
					t.Errorf("%v falls through into the signature", prev)
				}
			}

			// [start, post): instruction by instruction, exactly to post.
			if abort >= start && abort < post {
				t.Errorf("abort +%#x inside [+%#x, +%#x)", abort, start, post)
			}
			first := c.instAt(t, "start", start)
			end := c.instAt(t, "post", post) // post is an instruction boundary: nothing straddles it
			c.instAt(t, "abort", abort)
			if end <= first {
				t.Fatalf("no instructions between start and post")
			}
			c.checkGlobals(t, i, abort)
			cs := c.insts[first:end]
			t.Logf("critical section:\n%s", c.listing(first, end))
			var shared, stack []csInst
			for _, in := range cs {
				if forbiddenInCS(in.Op) {
					t.Errorf("%v inside the critical section", in)
				}
				if in.Prefix[0] != 0 {
					for _, p := range in.Prefix {
						if p&0xff == x86asm.PrefixLOCK {
							t.Errorf("%v: a locked instruction inside the critical section", in)
						}
					}
				}
				if m, ok := storesMemory(in.Inst); ok {
					if m.Base == x86asm.RSP && m.Index == 0 {
						stack = append(stack, in)
					} else {
						shared = append(shared, in)
					}
				}
				// Branches inside stay inside, or leave it anywhere but
				// post: post is reached only through the commit.
				if isJump(in.Op) {
					to, ok := branchTarget(in)
					if !ok {
						t.Errorf("%v: an indirect jump inside the critical section", in)
						continue
					}
					switch {
					case to == post:
						t.Errorf("%v jumps to post, skipping the commit", in)
					case to >= start && to < post:
						c.instAt(t, "a branch target", to)
					}
				}
			}
			commit := cs[len(cs)-1]
			if !isMOVStore(commit.Inst) {
				t.Errorf("the last instruction before post is %v, want a MOV to memory (the commit)", commit)
			}
			if m, _ := storesMemory(commit.Inst); m.Base == x86asm.RSP {
				t.Errorf("the commit %v stores to the stack", commit)
			}
			want, ok := csExpectedStores[name]
			if !ok {
				t.Errorf("no expected store count for %s", name)
			}
			if len(shared) != want.shared || len(stack) != want.stack {
				t.Errorf("stores inside the section: %d to memory %v and %d to the stack %v, want %d and %d",
					len(shared), shared, len(stack), stack, want.shared, want.stack)
			}

			// Nothing outside the section jumps into its middle: it is
			// entered only at start, by falling through the arming store.
			for k, in := range c.insts {
				if k < 4 || (in.off >= start && in.off < post) || !isJump(in.Op) {
					continue
				}
				if to, ok := branchTarget(in); ok && to >= start && to < post {
					t.Errorf("%v jumps into the critical section from outside", in)
				}
			}
			arm := c.insts[first-1]
			am, ok := storesMemory(arm.Inst)
			if !ok || am.Disp != 8 {
				t.Errorf("the instruction before start is %v, want the arming store to rseq_cs (offset 8 of the area)", c.insts[first-1])
			}
			// Where the abort handler must go back to: the arming store,
			// or in the gorseq_inject build the delay of point 1 before it.
			retry := arm.off
			if d1 := c.checkDelays(t, am.Base, first, end, c.at[abort]); d1 != nil {
				retry = c.insts[d1.first].off
			}

			// The abort handler goes back to the arming store within a
			// few instructions, without returning or calling.
			ai := c.at[abort]
			found := false
			for k := ai; k < len(c.insts) && k < ai+4; k++ {
				in := c.insts[k]
				if in.Op == x86asm.RET || in.Op == x86asm.CALL || (isJump(in.Op) && in.Op != x86asm.JMP) {
					t.Errorf("abort handler: %v before the jump back", in)
					break
				}
				if in.Op == x86asm.JMP {
					to, ok := branchTarget(in)
					switch {
					case !ok:
						t.Errorf("abort handler: indirect %v", in)
					case to >= start:
						t.Errorf("abort handler: %v goes to +%#x, not before start +%#x", in, to, start)
					case to != retry:
						t.Errorf("abort handler: %v goes to +%#x, want the arming store (or point 1 before it) at +%#x", in, to, retry)
					}
					found = true
					break
				}
			}
			if !found {
				t.Errorf("abort handler does not jump back within 4 instructions:\n%s", c.listing(ai, min(ai+4, len(c.insts))))
			}
		})
	}
}

// ripAddr returns the address that a RIP-relative memory operand of in
// names.
func (c *csCode) ripAddr(in csInst) (uintptr, bool) {
	for _, arg := range in.Args {
		if m, ok := arg.(x86asm.Mem); ok && m.Base == x86asm.RIP {
			return uintptr(c.fn) + uintptr(in.off+in.Len) + uintptr(m.Disp), true
		}
	}
	return 0, false
}

// checkGlobals checks the globals (RIP-relative operands) that section
// op's function reads: its own descriptor, the shard count, the rseq
// area's path, the abort count and, with -tags gorseq_inject only, the
// injection delays. A production build loads nothing else, in particular
// no delay. The signature's operand before abort is never executed.
func (c *csCode) checkGlobals(t *testing.T, op int, abort int) {
	t.Helper()
	allowed := map[uintptr]string{
		uintptr(unsafe.Pointer(&shardCount32)): "shardCount32",
		uintptr(unsafe.Pointer(&rseqPath)):     "rseqPath",
		uintptr(unsafe.Pointer(&rseqTPOffset)): "rseqTPOffset",
		uintptr(unsafe.Pointer(&rseqMArea)):    "rseqMArea",
		uintptr(unsafe.Pointer(&rseqGM)):       "rseqGM",
		uintptr(unsafe.Pointer(&abortCount)):   "abortCount",
		uintptr(unsafe.Pointer(&counterPerP)):  "counterPerP",
		writeBarrierAddr():                     "runtime.writeBarrier",
	}
	for n, a := range injectLoopAddrs() {
		allowed[a] = fmt.Sprintf("injectLoops[%d]", n+1)
	}
	desc := uintptr(unsafe.Pointer(&csDesc[op]))
	armed := false
	for _, in := range c.insts {
		a, ok := c.ripAddr(in)
		if !ok || in.off == abort-7 {
			continue
		}
		if a == desc {
			armed = true
			continue
		}
		if _, ok := allowed[a]; !ok {
			what := "an unknown address"
			for j := range csDesc {
				if a == uintptr(unsafe.Pointer(&csDesc[j])) {
					what = "the descriptor of " + csNames[j]
				}
			}
			t.Errorf("%v reads %#x, %s", in, a, what)
		}
	}
	if !armed {
		t.Errorf("nothing loads its descriptor csDesc[%d]", op)
	}
}

// csDelay is the delay loop of an injection point in a critical-section
// function: insts[first:end].
type csDelay struct {
	point      int
	reg        x86asm.Reg
	first, end int
}

// checkDelays finds the delay loops of the gorseq_inject build (none in a
// production build) and checks them: each point once, each delay a load
// of its count and a register countdown (no other memory access, no
// store, no call, branches only within itself), at its place (cs_amd64.h:
// 1 right before the arming store, 2 after start before any shared memory
// access, 3 right after the first one (and its branch), 4 right before the
// commit), and neither its register nor the flags live where it ends or at
// abort. area is the register holding the rseq area; [first, end) the
// section's instructions; abort the abort handler's index. It returns the
// delay of point 1, nil in a production build.
func (c *csCode) checkDelays(t *testing.T, area x86asm.Reg, first, end, abort int) *csDelay {
	t.Helper()
	addrs := injectLoopAddrs()
	byPoint := map[int]*csDelay{}
	for k, in := range c.insts {
		a, ok := c.ripAddr(in)
		n := slices.Index(addrs, a) + 1
		if !ok || n == 0 {
			continue
		}
		if byPoint[n] != nil {
			t.Errorf("two delays of point %d", n)
		}
		d := &csDelay{point: n, first: k, end: k + 5}
		byPoint[n] = d
		if d.end >= len(c.insts) {
			t.Fatalf("point %d: the function ends in its delay", n)
		}
		ld, tst, jz, dec, jnz := c.insts[k], c.insts[k+1], c.insts[k+2], c.insts[k+3], c.insts[k+4]
		d.reg, _ = ld.Args[0].(x86asm.Reg)
		jzTo, _ := branchTarget(jz)
		jnzTo, _ := branchTarget(jnz)
		if ld.Op != x86asm.MOV || regFamily(d.reg) != d.reg || ld.MemBytes != 8 ||
			tst.Op != x86asm.TEST || tst.Args[0] != d.reg || tst.Args[1] != d.reg ||
			jz.Op != x86asm.JE || jzTo != c.insts[d.end].off ||
			dec.Op != x86asm.DEC || dec.Args[0] != d.reg || dec.Args[1] != nil ||
			jnz.Op != x86asm.JNE || jnzTo != dec.off {
			t.Errorf("point %d: the delay is not MOV reg, injectLoops[%d]; TEST reg, reg; JE out; loop: DEC reg; JNE loop:\n%s",
				n, n, c.listing(k, d.end))
		}
	}
	if addrs == nil {
		return nil
	}
	for n := 1; n <= len(addrs); n++ {
		if byPoint[n] == nil {
			t.Fatalf("no delay at injection point %d:\n%s", n, c.listing(0, len(c.insts)))
		}
	}
	d1, d2, d3, d4 := byPoint[1], byPoint[2], byPoint[3], byPoint[4]

	// The places.
	if d1.end != first-1 {
		t.Errorf("point 1 does not end right at the arming store %v", c.insts[first-1])
	}
	for _, d := range []*csDelay{d2, d3, d4} {
		if d.first < first || d.end >= end {
			t.Errorf("point %d is not inside the section", d.point)
		}
	}
	if !(d2.end <= d3.first && d3.end <= d4.first) {
		t.Errorf("points 2, 3, 4 out of order")
	}
	if d4.end != end-1 {
		t.Errorf("point 4 is not right before the commit %v", c.insts[end-1])
	}
	shared := -1 // the first access to shared memory in the section
	for k := first; k < end && shared < 0; k++ {
		if c.insts[k].Op == x86asm.LEA {
			continue
		}
		for _, arg := range c.insts[k].Args {
			if m, ok := arg.(x86asm.Mem); ok && m.Base != x86asm.RIP && m.Base != x86asm.RSP && m.Base != area {
				shared = k
			}
		}
	}
	switch {
	case shared < 0:
		t.Errorf("no access to shared memory in the section")
	case shared < d2.first:
		t.Errorf("%v accesses shared memory before point 2", c.insts[shared])
	case shared >= d3.first:
		t.Errorf("point 3 is before the first access to shared memory %v", c.insts[shared])
	case d3.first-shared > 2 || d3.first-shared == 2 && (!isJump(c.insts[shared+1].Op) || c.insts[shared+1].Op == x86asm.JMP):
		t.Errorf("point 3 does not follow the first access to shared memory %v (or its branch)", c.insts[shared])
	}

	// Nothing the delays clobber is live.
	for _, d := range []*csDelay{d1, d2, d3, d4} {
		reg := d.reg
		regUse := func(in csInst) (bool, bool) { return readsReg(in.Inst, reg) }
		if in, live := c.firstUse(d.end, regUse); live {
			t.Errorf("point %d: %v reads %v, which the delay clobbers", d.point, in, reg)
		}
		if in, live := c.firstUse(abort, regUse); live {
			t.Errorf("point %d: after an abort, %v reads %v, which the delay clobbers", d.point, in, reg)
		}
		if in, live := c.firstUse(d.end, flagsUse); live {
			t.Errorf("point %d: %v reads the flags, which the delay clobbers", d.point, in)
		}
	}
	t.Logf("injection points: 1 at +%#x, 2 at +%#x, 3 at +%#x, 4 at +%#x; delays in %v, %v, %v, %v",
		c.insts[d1.first].off, c.insts[d2.first].off, c.insts[d3.first].off, c.insts[d4.first].off, d1.reg, d2.reg, d3.reg, d4.reg)
	return d1
}

// firstUse follows every path of the function's control flow from
// instruction index k, and returns the first instruction on one of them
// for which use reports a read before any reports a kill. Paths end at
// RET and at jumps out of the function (its slow paths are ABI0
// functions, which take nothing in registers).
func (c *csCode) firstUse(k int, use func(csInst) (read, kill bool)) (csInst, bool) {
	seen := map[int]bool{}
	todo := []int{k}
	last := c.insts[len(c.insts)-1]
	for len(todo) > 0 {
		k := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for ; k < len(c.insts) && !seen[k]; k++ {
			seen[k] = true
			in := c.insts[k]
			read, kill := use(in)
			if read {
				return in, true
			}
			if kill || in.Op == x86asm.RET {
				break
			}
			if isJump(in.Op) {
				to, ok := branchTarget(in)
				if ti, inside := c.at[to]; ok && inside {
					todo = append(todo, ti)
				} else if !ok || to >= 0 && to < last.off+last.Len {
					return in, true // indirect, or into an instruction: assume the worst
				}
				if in.Op == x86asm.JMP {
					break
				}
			}
		}
	}
	return csInst{}, false
}

// regFamily returns the 64-bit register that r is part of, 0 for none.
func regFamily(r x86asm.Reg) x86asm.Reg {
	switch {
	case r >= x86asm.AH && r <= x86asm.BH:
		return x86asm.RAX + (r - x86asm.AH)
	case r >= x86asm.AL && r <= x86asm.R15B:
		return x86asm.RAX + (r - x86asm.AL)
	case r >= x86asm.AX && r <= x86asm.R15W:
		return x86asm.RAX + (r - x86asm.AX)
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return x86asm.RAX + (r - x86asm.EAX)
	case r >= x86asm.RAX && r <= x86asm.R15:
		return r
	}
	return 0
}

// readsReg reports whether in reads the 64-bit register reg (any part of
// it), and whether it overwrites all of it. Instructions that use
// registers implicitly count as reading it.
func readsReg(in x86asm.Inst, reg x86asm.Reg) (read, kill bool) {
	switch in.Op {
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ, x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ,
		x86asm.CMPXCHG, x86asm.MUL, x86asm.DIV, x86asm.IDIV, x86asm.CQO, x86asm.CDQ, x86asm.CPUID,
		x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE, x86asm.JRCXZ, x86asm.JECXZ:
		return true, false
	}
	if r, ok := in.Args[0].(x86asm.Reg); ok && in.Op == x86asm.XOR && in.Args[1] == r && regFamily(r) == reg {
		return false, true // the zeroing idiom
	}
	for i, arg := range in.Args {
		switch a := arg.(type) {
		case x86asm.Mem:
			if regFamily(a.Base) == reg || regFamily(a.Index) == reg {
				read = true
			}
		case x86asm.Reg:
			if regFamily(a) != reg {
				continue
			}
			// A 32-bit write zero-extends: all of reg.
			full := a >= x86asm.EAX && a <= x86asm.R15
			switch {
			case i == 0 && full && (in.Op == x86asm.MOV || in.Op == x86asm.MOVZX || in.Op == x86asm.MOVSX ||
				in.Op == x86asm.MOVSXD || in.Op == x86asm.LEA):
				kill = true
			default:
				read = true
			}
		}
	}
	return read, kill && !read
}

// flagsUse reports whether in reads the arithmetic flags, and whether it
// sets all of them.
func flagsUse(in csInst) (read, kill bool) {
	switch in.Op {
	case x86asm.JMP:
		return false, false
	case x86asm.CMP, x86asm.TEST, x86asm.ADD, x86asm.SUB, x86asm.AND, x86asm.OR, x86asm.XOR, x86asm.NEG:
		return false, true
	case x86asm.ADC, x86asm.SBB, x86asm.PUSHF, x86asm.PUSHFQ, x86asm.LAHF:
		return true, false
	}
	op := in.Op.String()
	return isJump(in.Op) || strings.HasPrefix(op, "SET") || strings.HasPrefix(op, "CMOV"), false
}
