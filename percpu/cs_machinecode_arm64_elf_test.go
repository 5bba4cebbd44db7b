// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64 || arm64

package percpu

// TestArm64MachineCode checks the arm64 machine code of the critical
// sections (cs_arm64.s, counter_arm64.s, pool_arm64.s), of the area
// readers (cpu_arm64.s) and of the Go functions whose memory ordering the
// arm64 port relies on, by reading it: it builds a program that imports
// percpu for linux/arm64 (without and with -tags gorseq_inject), opens the
// ELF, finds each function by its symbol and disassembles it with
// arm64asm.
//
// Why it reads the code instead of running it: on an amd64 host the arm64
// code can only run under qemu-user, which has no rseq, and even with rseq
// qemu's TCG keeps the host's (TSO-like) memory order, so a missing
// barrier would never show (design-notes.md section 5). On arm64 hardware
// a missing STLR shows only as a rare torn read under load. So this test,
// which runs wherever the package's tests run (amd64 and arm64 hosts, the
// stock and the patched toolchain, with and without -short), is the check
// of the arm64 barriers. It is the arm64 counterpart of
// TestCriticalSectionMachineCode (cs_machinecode_test.go), which checks
// the amd64 sections in the running process.
//
// For every section of csNames, in both builds, it checks:
//
//   - the anchors (CS_ANCHORS in cs_arm64.h): B instructions at +0, +4,
//     +8, +12 to entry (+16), start, post and abort, entry < start < post,
//     abort outside [start, post);
//   - the signature word 0xd428bc00 (brk #0x45e0) right before abort,
//     after a RET or B (never executed) and targeted by no branch;
//   - inside [start, post): no call, return, indirect branch, trap, system
//     call or system register write, no exclusive or LSE atomic access, no
//     barrier, no acquire load and no release store but the commit; every
//     branch stays inside or leaves to one of the section's exits (the
//     failure labels after the abort handler), never to post; nothing
//     writes R0 (the area, which the re-arm needs), R8 (the descriptor),
//     R28 (g), R30 (LR) or SP; nothing outside the section branches into
//     it;
//   - the commit is the last instruction before post, an 8-byte store of
//     an X register, STLR where a reader on another CPU relies on the
//     stores before it (csStoreCommit, csCopyCommit, counterAddRelease),
//     a plain STR everywhere else; the number of stores in the section
//     (a64Specs); csAddIndirect's accesses through the published base are
//     address-dependent on the load of the base;
//   - the arming store STR X8, [X0, #8] right before start, R8 loaded from
//     the section's own csDesc entry; the abort handler counts the abort
//     with an LDXR/STXR loop on abortCount and nothing else, then branches
//     back to the arming store (in the inject build, to injection point 1
//     right before it); no register the abort handler or the section
//     writes is read again after the re-arm before it is rewritten
//     (registers survive an abort, so a value the code needs after retry
//     must not be clobbered on the way there);
//   - the shard index: the section's first memory access is a 32-bit load
//     from the area (R0 plus the field the caller names, cpu_id for
//     Counter and Pool), compared with shardCount32 and branched out on
//     >= (B.HS) to an exit before any shared memory is touched;
//   - the injection points: with the tag, one delay each at points 1 to 4
//     (1 right before the arming store, 2 after the index check, 3 after
//     the first access to shared memory, 4 right before the commit), each
//     ADRP; LDR X15, injectLoops[n]; CBZ; SUB; CBNZ, whose registers are
//     dead where it ends and after an abort; without the tag, no
//     injectLoops symbol and no use of R15;
//   - the globals each function addresses (ADRP pairs resolved through the
//     ELF symbol table): csDesc[op], shardCount32, rseqPath, rseqGM,
//     rseqMArea, rseqTPOffset, abortCount (only in the abort handler),
//     counterLSE and counterPerP (only in counterAdd's atomic fallback),
//     injectLoops[1..4] (only with the tag, only in the delays),
//     runtime.writeBarrier (poolPush only), and nothing else; exits leave
//     only by B to the expected slow path.
//
// For CPU, Node and CID: no call, no store but the result, a single
// branch out (the tail B to the fallback), and 32-bit loads of cpu_id
// (offset 4) and node_id (20) or mm_cid (24) from the area.
//
// For the Go side: every load of (*Counter).Load from memory other than
// the stack and globals is an LDAR (atomic.Pointer.Load and
// atomic.LoadInt64 of the shard words, in its loop), and in
// (*RWMutex).RLock the first load after the reader's add (the call of
// counterAdd) is an LDAR W (atomic.Int32.Load of the writer flag). Both
// functions are kept out of line by the built program, which takes their
// method values, so the compiler cannot hide them by inlining.

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

// a64Spec is what the test expects of a critical section on arm64.
type a64Spec struct {
	// commit is the mnemonic of the commit, and why.
	commit, why string
	// shared is how many instructions in [start, post) store to memory,
	// the commit included. The arm64 sections store their results after
	// post, so none stores to the stack inside.
	shared int
	// fn is the Go declaration, whose last argument is field, the offset
	// of the shard index in the area; nil for the sections that always
	// read cpu_id.
	fn any
	// slow lists the functions the section's exits may branch to, in the
	// production and the inject build (separated by spaces).
	slow [2]string
}

// slowOK reports whether the section may branch (B) to target, for the
// build inject says: slow's entry for the build, a space-separated list.
func (s a64Spec) slowOK(inject bool, target string) bool {
	return slices.Contains(strings.Fields(s.slow[b2i(inject)]), target)
}

var a64Specs = map[string]a64Spec{
	// commit *(addr + shard) = old + v.
	"csAdd": {commit: "STR", shared: 1, fn: csAdd},
	// commit *(addr + shard) = new, after the compare.
	"csCmpStore": {commit: "STR", shared: 1, fn: csCmpStore},
	// commit *(addr + shard) = links[head-1].
	"csPop": {commit: "STR", shared: 1, fn: csPop},
	// links[item] = head (the item is not yet published), then the commit
	// *(addr + shard) = item+1. Both are read only by sections on the same
	// CPU, so the commit needs no release.
	"csPush": {commit: "STR", shared: 2, fn: csPush},
	// *(dst + shard) = v, then the commit.
	"csStoreCommit": {commit: "STLR", shared: 2, fn: csStoreCommit,
		why: "a reader that sees the commit with an acquire load must see *dst = v"},
	// the copy loop's 8-byte store (STR X14, [X11, X13]) and 1-byte store
	// (STRB), then the commit.
	"csCopyCommit": {commit: "STLR", shared: 3, fn: csCopyCommit,
		why: "a reader that sees the commit with an acquire load must see every copied byte"},
	// commit the shard's rseq word + v.
	"counterAdd": {commit: "STR", shared: 1,
		slow: [2]string{"counterAddSlow.abi0", "counterAddSlowCounted.abi0"}},
	// commit *(p + shard + off) += v, p loaded from *base in the section.
	"csAddIndirect": {commit: "STR", shared: 1, fn: csAddIndirect},
	// commit top = n-1 (the object is loaded, not stored).
	"poolPop": {commit: "STR", shared: 1},
	// slab[n] = x, then the commit top = n+1; both only ever accessed on
	// this CPU (pool_arm64.s).
	"poolPush": {commit: "STR", shared: 2},
	// commit the shard's rseq word + v, as counterAdd, with a release.
	"counterAddRelease": {commit: "STLR", shared: 1,
		why:  "RWMutex's writer reads left with acquire loads and must see the reader's add to in, and its reads, before the add to left",
		slow: [2]string{"counterAddReleaseSlow.abi0", "counterAddReleaseSlowCounted.abi0"}},
	// commit the float64 sum of the shard's rseq word and v (FADDD, then
	// FMOV to an integer register).
	"floatCounterAdd": {commit: "STR", shared: 1,
		slow: [2]string{"floatCounterAddInit.abi0 floatCounterAddSlow.abi0", "floatCounterAddInit.abi0 floatCounterAddSlow.abi0"}},
}

// a64CPUField is the offset of cpu_id in struct rseq.
const a64CPUField = 4

func TestArm64MachineCode(t *testing.T) {
	if len(a64Specs) != int(csCount) {
		t.Errorf("a64Specs has %d sections, the package %d: update the test", len(a64Specs), csCount)
	}
	bins := a64Build(t)
	for _, bin := range bins {
		t.Run(bin.variant, func(t *testing.T) {
			injectSym, ok := bin.syms[a64Pkg+"injectLoops"]
			switch {
			case bin.inject && !ok:
				t.Errorf("no injectLoops symbol in the -tags gorseq_inject build")
			case !bin.inject && ok:
				t.Errorf("the production build has injectLoops at %#x", injectSym.Value)
			}
			for op, name := range csNames {
				t.Run(name, func(t *testing.T) { a64CheckSection(t, bin, op) })
			}
			for _, r := range []struct {
				name, has, fallback string
				field               int
			}{
				{"CPU", "", "fallbackCPU.abi0", 0},
				{"Node", "hasNode", "fallbackNode.abi0", 20},
				{"CID", "hasCID", "CPU.abi0", 24},
			} {
				t.Run(r.name, func(t *testing.T) { a64CheckReader(t, bin, r.name, r.has, r.fallback, r.field) })
			}
			t.Run("Counter.Load", func(t *testing.T) { a64CheckCounterLoad(t, bin) })
			t.Run("RWMutex.RLock", func(t *testing.T) { a64CheckRLock(t, bin) })
			t.Run("Values.barriers", func(t *testing.T) { a64CheckValuesBarriers(t, bin) })
		})
	}
}

// a64Delay is the delay loop of an injection point: insts[first:end].
type a64Delay struct {
	point      int
	first, end int
}

func a64CheckSection(t *testing.T, bin *a64Binary, op int) {
	name := csNames[op]
	spec, ok := a64Specs[name]
	if !ok {
		t.Fatalf("no a64Specs entry for %s", name)
	}
	f := bin.fn(t, name+".abi0")
	marks := map[int]string{}
	defer func() {
		if t.Failed() {
			t.Logf("disassembly of %s.abi0 (%s arm64 build):\n%s", name, bin.variant, f.listing(0, len(f.insts), marks))
		}
	}()
	n := len(f.insts)

	// The anchors.
	if n < 8 {
		t.Fatalf("only %d instructions", n)
	}
	var anchors [4]int
	for k := range anchors {
		in := f.insts[k]
		to, ok := f.target(in)
		if in.err != nil || !a64IsUncondB(in.Inst) || !ok {
			t.Fatalf("anchor %d %s is not a B", k, f.text(in))
		}
		anchors[k] = to
	}
	entry, start, post, abort := anchors[0], anchors[1], anchors[2], anchors[3]
	marks[entry], marks[start], marks[post], marks[abort] = "entry", "start", "post", "abort"
	switch {
	case entry != 16:
		t.Fatalf("the first anchor goes to +%#x, want +0x10 (right after the anchors)", entry)
	case !(entry < start && start < post):
		t.Fatalf("entry +%#x, start +%#x, post +%#x are not in order", entry, start, post)
	case abort >= start && abort < post:
		t.Fatalf("abort +%#x is inside [start +%#x, post +%#x)", abort, start, post)
	case abort < post:
		t.Fatalf("abort +%#x is before post +%#x: the test expects cs_arm64.h's layout (post, the results, RET, the signature, abort, the exits)", abort, post)
	case !f.inside(start) || !f.inside(post) || !f.inside(abort):
		t.Fatalf("start +%#x, post +%#x or abort +%#x is not an instruction of the function (%d bytes)", start, post, abort, 4*n)
	}
	startI, postI, abortI := start/4, post/4, abort/4
	t.Logf("entry +%#x start +%#x post +%#x abort +%#x, %d instructions", entry, start, post, abort, n)

	// The signature, never executed.
	sig := f.insts[abortI-1]
	marks[sig.off] = "signature"
	if sig.word != 0xd428bc00 {
		t.Errorf("the word before abort is %#08x (%s), want the signature 0xd428bc00 (brk #0x45e0)", sig.word, f.text(sig))
	} else if sig.err != nil || sig.Op.String() != "BRK" || fmt.Sprint(sig.Args[0]) != "#0x45e0" {
		t.Errorf("the signature decodes as %s, want BRK #0x45e0", f.text(sig))
	}
	if prev := f.insts[abortI-2]; prev.err != nil || (prev.Op.String() != "RET" && !a64IsUncondB(prev.Inst)) {
		t.Errorf("%s falls through into the signature at +%#x: want a RET or B before it", f.text(prev), sig.off)
	}
	for _, in := range f.insts {
		if to, ok := f.target(in); ok && to == sig.off {
			t.Errorf("%s branches to the signature word", f.text(in))
		}
	}

	// The abort handler: up to the B back.
	backI := -1
	for k := abortI; k < n && k < abortI+8; k++ {
		if a64IsUncondB(f.insts[k].Inst) {
			backI = k
			break
		}
	}
	if backI < 0 {
		t.Fatalf("the abort handler has no B back within 8 instructions:\n%s", f.listing(abortI, min(abortI+8, n), marks))
	}
	exits := backI + 1 // the failure labels follow the abort handler
	if exits < n {
		marks[4*exits] = "exits"
	}
	armI := startI - 1
	retry := f.insts[armI].off
	var delays map[int]*a64Delay
	if bin.inject {
		delays = a64FindDelays(t, f)
		if d1 := delays[1]; d1 != nil {
			retry = f.insts[d1.first].off
		}
	}
	marks[retry] = "retry"
	a64CheckAbortHandler(t, f, abortI, backI, retry)

	// Globals and branches out of the function.
	a64CheckSectionGlobals(t, f, op, startI, postI, abortI, backI, delays)
	if name == "counterAdd" || name == "counterAddRelease" {
		a64CheckCounterAtomic(t, f, backI)
	}
	for _, in := range f.insts {
		to, ok := f.target(in)
		if !ok || f.inside(to) {
			continue
		}
		target := f.targetName(to)
		if !a64IsUncondB(in.Inst) || (in.off >= start && in.off < post) || !spec.slowOK(bin.inject, target) {
			want := "none"
			if s := spec.slow[b2i(bin.inject)]; s != "" {
				want = "a B to one of " + s + " outside the section"
			}
			t.Errorf("%s leaves the function for %s: want %s", f.text(in), target, want)
		}
	}

	// [start, post).
	t.Logf("critical section:\n%s", f.listing(startI, postI, marks))
	var shared, stack []string
	for k := startI; k < postI; k++ {
		in := f.insts[k]
		if in.err != nil {
			t.Errorf("%s inside the critical section does not decode: %s", in, a64RawClass(in.word))
			continue
		}
		op := in.Op.String()
		switch {
		case a64Forbidden(op):
			t.Errorf("%s inside the critical section: no call, return, indirect branch, trap or system instruction may be between start and post", f.text(in))
		case a64IsExclusive(op) || a64IsAtomic(op):
			t.Errorf("%s inside the critical section: an exclusive or atomic access (a restartable section commits with one plain store)", f.text(in))
		case a64IsBarrier(op):
			t.Errorf("%s inside the critical section: no section needs a barrier", f.text(in))
		case a64IsOrdered(op) && !(k == postI-1 && op == spec.commit):
			t.Errorf("%s inside the critical section: a needless acquire/release (only the commit of csStoreCommit, csCopyCommit and counterAddRelease is STLR)", f.text(in))
		}
		_, w := a64Uses(in.Inst)
		for _, r := range []int{0, 8, 28, 30, a64SP} {
			if w.has(r) {
				t.Errorf("%s writes %s inside the critical section (R0 the area, R8 the descriptor, R28 g, R30 the link register, SP)", f.text(in), a64RegName(r))
			}
		}
		if to, ok := f.target(in); ok && f.inside(to) {
			switch {
			case to == post:
				t.Errorf("%s branches to post, skipping the commit", f.text(in))
			case to >= start && to < post:
			case to/4 >= exits:
			default:
				t.Errorf("%s branches to +%#x: a branch in the section must stay in [+%#x, +%#x) or go to an exit after the abort handler (+%#x...)", f.text(in), to, start, post, 4*exits)
			}
		}
		if a64IsStore(op) {
			if m, _ := a64MemArg(in.Inst); m.base == a64SP {
				stack = append(stack, in.String())
			} else {
				shared = append(shared, in.String())
			}
		}
	}
	for k, in := range f.insts {
		if k == 1 || (k >= startI && k < postI) {
			continue
		}
		if to, ok := f.target(in); ok && to >= start && to < post {
			t.Errorf("%s branches into the critical section from outside: it is entered only through the arming store", f.text(in))
		}
	}

	// The commit.
	commit := f.insts[postI-1]
	if m, ok := a64MemArg(commit.Inst); commit.err != nil || !ok || !a64IsStore(commit.Op.String()) || !a64Is64(commit.Args[0]) || m.base == a64SP || a64IsExclusive(commit.Op.String()) {
		t.Errorf("the last instruction before post is %s, want the commit: an 8-byte store (STR or STLR of an X register) to shared memory", f.text(commit))
	} else if got := commit.Op.String(); got != spec.commit {
		switch spec.commit {
		case "STLR":
			t.Errorf("the commit %s is %s, want STLR (a store-release): %s; a plain STR lets arm64 make the commit visible before the stores it publishes", f.text(commit), got, spec.why)
		default:
			t.Errorf("the commit %s is %s, want a plain STR: no reader relies on ordering here, so a release only slows the hot path", f.text(commit), got)
		}
	}
	if len(shared) != spec.shared || len(stack) != 0 {
		t.Errorf("stores inside the section: %d to memory %q and %d to the stack %q, want %d and 0", len(shared), shared, len(stack), stack, spec.shared)
	}

	// Arming.
	arm := f.insts[armI]
	if m, ok := a64MemArg(arm.Inst); arm.err != nil || arm.Op.String() != "STR" || !a64Is64(arm.Args[0]) || !a64RegIs(arm.Args[0], 8) || !ok || m.base != 0 || m.index >= 0 || m.disp != 8 || m.writeback {
		t.Errorf("the instruction before start is %s, want the arming store STR X8, [X0,#8] (the descriptor into rseq_cs, offset 8 of struct rseq)", f.text(arm))
	}
	for k := 4; k < n; k++ {
		in := f.insts[k]
		if k == armI || in.err != nil || !a64IsStore(in.Op.String()) {
			continue
		}
		if m, _ := a64MemArg(in.Inst); m.base == 0 {
			t.Errorf("%s stores to the rseq area: only the kernel writes it (the arming store aside)", f.text(in))
		}
	}

	// The shard index and its bounds check.
	boundsI := a64CheckIndex(t, f, spec, startI, postI, exits)

	// The injection points, or their absence.
	if bin.inject {
		a64CheckDelayPlaces(t, f, delays, armI, startI, postI, abortI, boundsI)
	} else {
		for _, in := range f.insts {
			if in.err != nil {
				continue
			}
			if r, w := a64Uses(in.Inst); r.has(15) || w.has(15) {
				t.Errorf("%s uses R15, the injection delay register, in the production build", f.text(in))
			}
		}
	}

	// Registers survive an abort: nothing the section or the abort
	// handler writes may be live at retry.
	a64CheckRetryLiveness(t, f, startI, postI, abortI, backI, retry)

	if name == "csAddIndirect" {
		a64CheckAddressDependency(t, f, startI, postI)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// a64RegIs reports whether a register argument is register r.
func a64RegIs(a arm64asm.Arg, r int) bool {
	got, ok := a64Reg(a)
	return ok && got == r
}

// a64RawClass names the kind of a word arm64asm does not decode (it
// predates the LSE atomics and RCpc loads).
func a64RawClass(w uint32) string {
	switch {
	case w&0x3f208c00 == 0x38200000:
		return "an LSE atomic (LDADD, LDCLR, LDEOR, LDSET, LD[SU]MAX/MIN, SWP family)"
	case w&0x3fa07c00 == 0x08a07c00:
		return "an LSE compare-and-swap (CAS family)"
	case w&0x3ffffc00 == 0x38bfc000:
		return "an RCpc load-acquire (LDAPR)"
	case w == 0:
		return "a zero word (UDF #0)"
	}
	return "unknown"
}

// a64CheckAbortHandler checks insts[abortI:backI+1]: it counts the abort
// with an LDXR/STXR loop on abortCount, touches no other memory, and its
// last instruction branches back to retry.
func a64CheckAbortHandler(t *testing.T, f *a64Func, abortI, backI int, retry int) {
	t.Helper()
	var ldxr, stxr *a64Inst
	for k := abortI; k < backI; k++ {
		in := &f.insts[k]
		if in.err != nil {
			t.Errorf("abort handler: %s does not decode", in)
			continue
		}
		op := in.Op.String()
		switch op {
		case "ADRP", "ADD", "MOV":
		case "LDXR", "STXR":
			data := in.Args[0] // LDXR Xt, [Xn]; STXR Ws, Xt, [Xn]
			if op == "STXR" {
				data = in.Args[1]
			}
			if !a64Is64(data) {
				t.Errorf("abort handler: %s is not a 64-bit exclusive access (abortCount is a uint64)", f.text(*in))
			}
			if in.ref == nil || in.ref.sym != a64Pkg+"abortCount" || in.ref.off != 0 {
				t.Errorf("abort handler: %s does not access abortCount", f.text(*in))
			}
			if op == "LDXR" {
				ldxr = in
			} else {
				stxr = in
			}
		case "CBNZ", "CBZ":
			if to, ok := f.target(*in); !ok || to/4 < abortI || to/4 > backI {
				t.Errorf("abort handler: %s leaves the handler", f.text(*in))
			}
		default:
			t.Errorf("abort handler: %s: the handler only counts the abort (ADRP, ADD, LDXR, STXR, CBNZ) and branches back", f.text(*in))
		}
		if _, ok := a64MemArg(in.Inst); ok && op != "LDXR" && op != "STXR" {
			t.Errorf("abort handler: %s accesses memory other than abortCount", f.text(*in))
		}
	}
	if ldxr == nil || stxr == nil {
		t.Errorf("abort handler: no LDXR/STXR pair counting the abort:\n%s", f.listing(abortI, backI+1, nil))
	} else if stxr.off < ldxr.off {
		t.Errorf("abort handler: %s before %s", f.text(*stxr), f.text(*ldxr))
	} else {
		// The retry of a failed STXR goes back to the LDXR.
		status, _ := a64Reg(stxr.Args[0])
		found := false
		for k := stxr.off/4 + 1; k < backI; k++ {
			in := f.insts[k]
			if to, ok := f.target(in); ok && in.Op.String() == "CBNZ" && a64RegIs(in.Args[0], status) && to == ldxr.off {
				found = true
			}
		}
		if !found {
			t.Errorf("abort handler: no CBNZ on the status of %s back to %s", f.text(*stxr), f.text(*ldxr))
		}
	}
	back := f.insts[backI]
	if to, _ := f.target(back); to != retry {
		t.Errorf("abort handler: %s goes to +%#x, want retry +%#x (the arming store, or injection point 1 right before it)", f.text(back), to, retry)
	}
}

// a64CheckSectionGlobals checks every global that section op's function
// addresses, and where.
func a64CheckSectionGlobals(t *testing.T, f *a64Func, op, startI, postI, abortI, backI int, delays map[int]*a64Delay) {
	t.Helper()
	name := csNames[op]
	inDelay := func(k int) bool {
		for _, d := range delays {
			if k >= d.first && k < d.end {
				return true
			}
		}
		return false
	}
	// counterAtomic: instruction k is in the atomic fallback of counterAdd
	// and counterAddRelease, which follows their abort handler.
	counterAtomic := func(k int) bool {
		return (name == "counterAdd" || name == "counterAddRelease") && k > backI
	}
	desc, count := 0, 0
	for k, in := range f.insts {
		r := in.ref
		if r == nil {
			continue
		}
		short := strings.TrimPrefix(r.sym, a64Pkg)
		where := ""
		switch {
		case k < startI-1:
			where = "before"
		case k >= startI && k < postI:
			where = "inside"
		case k >= abortI && k <= backI:
			where = "abort"
		}
		ok := false
		why := "a global no critical section uses"
		switch short {
		case "csDesc":
			switch {
			case r.off != uint64(8*op):
				j := int(r.off / 8)
				other := "?"
				if j < len(csNames) {
					other = csNames[j]
				}
				why = "the descriptor of " + other
			case r.kind != "load" || !a64RegIs(in.Args[0], 8) || !a64Is64(in.Args[0]) || where != "before":
				why = "its descriptor, but not as the load into R8 before the arming store"
			default:
				ok = true
				desc++
			}
		case "rseqPath", "rseqGM", "rseqMArea", "rseqTPOffset":
			ok = r.kind == "load" && where == "before"
			why = "the area's path (RSEQ_AREA), but not as a load before the arming store"
		case "shardCount32":
			if counterAtomic(k) {
				// The atomic fallback's stripe (COUNTER_ATOMIC).
				ok = r.kind == "load" && r.off == 0
				why = "the shard count, but not as a load in the atomic fallback"
				break
			}
			ok = r.kind == "load" && where == "inside" && r.off == 0
			why = "the shard count, but not as a load inside the section"
			if ok {
				count++
			}
		case "counterLSE":
			ok = counterAtomic(k) && r.kind == "load" && r.off == 0
			why = "the LSE flag, but not as a load in counterAdd's atomic fallback after the abort handler"
		case "counterPerP":
			ok = counterAtomic(k) && r.kind == "load" && r.off == 0
			why = "the process's fallback flag, but not as a load in counterAdd's atomic fallback after the abort handler"
		case "abortCount":
			ok = where == "abort" && r.off == 0
			why = "the abort count outside the abort handler"
		case "injectLoops":
			ok = f.bin.inject && r.kind == "load" && r.off >= 8 && r.off <= 32 && r.off%8 == 0 && inDelay(k)
			why = "an injection delay, but not in the delay of an injection point of the gorseq_inject build"
		case "runtime.writeBarrier":
			ok = name == "poolPush" && r.kind == "load" && where == "before"
			why = "the write barrier flag (only poolPush checks it, before the section)"
		}
		if !ok {
			t.Errorf("%s addresses %s: %s", f.text(in), f.bin.symName(r.addr), why)
		}
	}
	if desc != 1 {
		t.Errorf("%d loads of its descriptor csDesc[%d] into R8, want 1", desc, op)
	}
	if count != 1 {
		t.Errorf("%d loads of shardCount32 inside the section, want 1 (the bounds check of the shard index)", count)
	}
}

// a64IsSharedAccess reports a load or store of memory other than the
// stack, the rseq area (R0) and the globals.
func a64IsSharedAccess(in a64Inst) bool {
	if in.err != nil {
		return false
	}
	m, ok := a64MemArg(in.Inst)
	return ok && in.ref == nil && !m.pcrel && m.base != a64SP && m.base != 0 && in.Op.String() != "PRFM"
}

// a64CheckIndex checks the shard index at the start of the section: the
// first memory access is a 32-bit load from the area (at the field the
// caller names, or at cpu_id), then the load of shardCount32, a 32-bit
// compare of the two, and a B.HS to an exit, all before any shared memory
// is touched. It returns the index of the B.HS (-1 if not found).
func a64CheckIndex(t *testing.T, f *a64Func, spec a64Spec, startI, postI, exits int) int {
	t.Helper()
	first := -1
	for k := startI; k < postI; k++ {
		if _, ok := a64MemArg(f.insts[k].Inst); ok && f.insts[k].err == nil {
			first = k
			break
		}
	}
	if first < 0 {
		t.Errorf("no memory access in the section")
		return -1
	}
	ld := f.insts[first]
	m, _ := a64MemArg(ld.Inst)
	op := ld.Op.String()
	is32 := (op == "LDR" && !a64Is64(ld.Args[0])) || op == "LDRSW"
	if !is32 || m.base != 0 || m.writeback || m.pcrel {
		t.Errorf("the section's first memory access is %s, want the 32-bit load of the shard index from the area (R0)", f.text(ld))
		return -1
	}
	idx, _ := a64Reg(ld.Args[0])

	// Where the index comes from.
	wantArg := -1 // the frame offset of the field argument, or -1 for cpu_id
	if spec.fn != nil {
		ft := reflect.TypeOf(spec.fn)
		for i := range ft.NumIn() {
			if ft.In(i).Size() != 8 {
				t.Fatalf("%v: argument %d is not a word: update the test's frame arithmetic", ft, i)
			}
		}
		wantArg = 8*(ft.NumIn()-1) + 8 // ABI0: 0(FP) is 8(RSP) in a frameless arm64 function
	}
	switch {
	case m.index < 0 && wantArg >= 0:
		t.Errorf("%s reads the area at a fixed offset %d, want the field the caller passes (the argument at %d(RSP))", f.text(ld), m.disp, wantArg)
	case m.index < 0:
		if m.disp != a64CPUField {
			t.Errorf("%s reads the area at offset %d, want cpu_id (%d)", f.text(ld), m.disp, a64CPUField)
		}
	default:
		// The last write of the index register before the arming store,
		// in program order (the code before start is straight-line but for
		// its exits).
		var def *a64Inst
		for k := 4; k < startI-1; k++ {
			if in := f.insts[k]; in.err == nil {
				if _, w := a64Uses(in.Inst); w.has(m.index) {
					def = &f.insts[k]
				}
			}
		}
		got := "nothing"
		okField := false
		if def != nil {
			got = f.text(*def)
			dm, isMem := a64MemArg(def.Inst)
			switch {
			case isMem && a64IsLoad(def.Op.String()) && dm.base == a64SP && dm.index < 0:
				okField = wantArg >= 0 && dm.disp == int64(wantArg)
			case def.Op.String() == "MOV" || def.Op.String() == "ORR" || def.Op.String() == "MOVZ":
				okField = wantArg < 0 && a64ConstArg(def.Inst) == a64CPUField
			}
		}
		if !okField {
			want := fmt.Sprintf("a load of the field argument from %d(RSP)", wantArg)
			if wantArg < 0 {
				want = fmt.Sprintf("the constant %d (cpu_id)", a64CPUField)
			}
			t.Errorf("%s reads the area at the offset in %s, which is set by %s, want %s", f.text(ld), a64RegName(m.index), got, want)
		}
	}

	// The bounds check.
	cnt := -1
	for k := first + 1; k < postI && k < first+8; k++ {
		in := f.insts[k]
		if in.err != nil {
			break
		}
		if in.ref != nil && strings.TrimPrefix(in.ref.sym, a64Pkg) == "shardCount32" && in.ref.kind == "load" {
			cnt, _ = a64Reg(in.Args[0])
			if a64Is64(in.Args[0]) {
				t.Errorf("%s: shardCount32 is 32 bits", f.text(in))
			}
			continue
		}
		if in.Op.String() != "CMP" {
			continue
		}
		if !a64RegIs(in.Args[0], idx) || !a64RegIs(in.Args[1], cnt) || a64Is64(in.Args[0]) {
			t.Errorf("%s: want the 32-bit compare of the index %s with the shard count %s", f.text(in), a64RegName(idx), a64RegName(cnt))
			return -1
		}
		br := f.insts[k+1]
		to, ok := f.target(br)
		cond, isCond := br.Args[0].(arm64asm.Cond)
		if !ok || br.Op.String() != "B" || !isCond || cond.String() != "CS" {
			t.Errorf("%s after the bounds check, want B.HS (B.CS) to an exit", f.text(br))
			return -1
		}
		if !f.inside(to) || to/4 < exits {
			t.Errorf("%s: an index out of range must leave to an exit after the abort handler (the section's norseq/slow path)", f.text(br))
		}
		for j := startI; j <= k+1; j++ {
			if a64IsSharedAccess(f.insts[j]) {
				t.Errorf("%s touches shared memory before the shard index is checked", f.text(f.insts[j]))
			}
		}
		return k + 1
	}
	t.Errorf("no bounds check of the shard index %s (load of shardCount32, CMP, B.HS) after %s", a64RegName(idx), f.text(ld))
	return -1
}

// a64ConstArg returns the immediate of a MOV/ORR-with-zero constant, -1
// if it is not one.
func a64ConstArg(in arm64asm.Inst) int64 {
	op := in.Op.String()
	if op == "ORR" && !a64RegIs(in.Args[1], -1) {
		return -1
	}
	for _, a := range in.Args[1:] {
		switch a := a.(type) {
		case arm64asm.Imm:
			return int64(a.Imm)
		case arm64asm.Imm64:
			return int64(a.Imm)
		}
	}
	return -1
}

// a64FindDelays finds the delay loops of the gorseq_inject build by their
// load of injectLoops[n] and checks their shape: ADRP X27; LDR X15,
// [X27, injectLoops[n]]; CBZ X15, end; SUB X15, X15, #1; CBNZ X15, -1.
func a64FindDelays(t *testing.T, f *a64Func) map[int]*a64Delay {
	t.Helper()
	delays := map[int]*a64Delay{}
	for k, in := range f.insts {
		if in.ref == nil || strings.TrimPrefix(in.ref.sym, a64Pkg) != "injectLoops" || in.ref.kind != "load" {
			continue
		}
		n := int(in.ref.off / 8)
		if n < 1 || n > 4 || in.ref.off%8 != 0 {
			t.Errorf("%s loads injectLoops[%d]: no such injection point", f.text(in), n)
			continue
		}
		if delays[n] != nil {
			t.Errorf("two delays of point %d", n)
		}
		d := &a64Delay{point: n, first: k - 1, end: k + 4}
		delays[n] = d
		if d.first < 4 || d.end > len(f.insts) {
			t.Errorf("point %d: the delay is not inside the function", n)
			continue
		}
		adrp, ld, cbz, sub, cbnz := f.insts[k-1], in, f.insts[k+1], f.insts[k+2], f.insts[k+3]
		cbzTo, _ := f.target(cbz)
		cbnzTo, _ := f.target(cbnz)
		if adrp.err != nil || adrp.Op.String() != "ADRP" || in.ref.viaReg != 27 ||
			ld.Op.String() != "LDR" || !a64RegIs(ld.Args[0], 15) || !a64Is64(ld.Args[0]) ||
			cbz.err != nil || cbz.Op.String() != "CBZ" || !a64RegIs(cbz.Args[0], 15) || cbzTo != 4*d.end ||
			sub.err != nil || sub.word != 0xd10005ef || // SUB X15, X15, #1
			cbnz.err != nil || cbnz.Op.String() != "CBNZ" || !a64RegIs(cbnz.Args[0], 15) || cbnzTo != sub.off {
			t.Errorf("point %d: the delay is not ADRP X27; LDR X15, injectLoops[%d]; CBZ X15, out; loop: SUB X15, X15, #1; CBNZ X15, loop:\n%s",
				n, n, f.listing(d.first, min(d.end, len(f.insts)), nil))
		}
	}
	for n := 1; n <= 4; n++ {
		if delays[n] == nil {
			t.Errorf("no delay at injection point %d", n)
		}
	}
	// R15 is the delays' own.
	for k, in := range f.insts {
		if in.err != nil {
			continue
		}
		inside := false
		for _, d := range delays {
			inside = inside || (k >= d.first && k < d.end)
		}
		if r, w := a64Uses(in.Inst); !inside && (r.has(15) || w.has(15)) {
			t.Errorf("%s uses R15, the injection delay register, outside a delay", f.text(in))
		}
	}
	return delays
}

// a64CheckDelayPlaces checks where the delays are (cs_arm64.h): 1 ends at
// the arming store, 2, 3 and 4 are inside the section in order, 2 after
// the bounds check and before the first access to shared memory, 3 right
// after that access (or its compare and branch), 4 right before the
// commit; and that their registers (R15, and R27 for the ADRP) are dead
// where they end and after an abort.
func a64CheckDelayPlaces(t *testing.T, f *a64Func, delays map[int]*a64Delay, armI, startI, postI, abortI, boundsI int) {
	t.Helper()
	d1, d2, d3, d4 := delays[1], delays[2], delays[3], delays[4]
	if d1 == nil || d2 == nil || d3 == nil || d4 == nil {
		return
	}
	if d1.end != armI {
		t.Errorf("point 1 (+%#x) does not end right at the arming store %s", f.insts[d1.first].off, f.text(f.insts[armI]))
	}
	for _, d := range []*a64Delay{d2, d3, d4} {
		if d.first < startI || d.end > postI {
			t.Errorf("point %d (+%#x) is not inside the section [+%#x, +%#x)", d.point, f.insts[d.first].off, 4*startI, 4*postI)
		}
	}
	if !(d2.end <= d3.first && d3.end <= d4.first) {
		t.Errorf("points 2, 3, 4 out of order")
	}
	if d4.end != postI-1 {
		t.Errorf("point 4 is not right before the commit %s", f.text(f.insts[postI-1]))
	}
	if boundsI >= 0 && d2.first <= boundsI {
		t.Errorf("point 2 (+%#x) is before the bounds check of the shard index %s", f.insts[d2.first].off, f.text(f.insts[boundsI]))
	}
	shared := -1
	for k := startI; k < postI; k++ {
		if a64IsSharedAccess(f.insts[k]) {
			shared = k
			break
		}
	}
	switch {
	case shared < 0:
		t.Errorf("no access to shared memory in the section")
	case shared < d2.first:
		t.Errorf("%s accesses shared memory before point 2", f.text(f.insts[shared]))
	case shared >= d3.first:
		t.Errorf("point 3 is before the first access to shared memory %s", f.text(f.insts[shared]))
	default:
		between := f.insts[shared+1 : d3.first]
		okPlace := len(between) == 0 ||
			len(between) == 2 && between[0].err == nil && between[0].Op.String() == "CMP" && between[1].err == nil && between[1].Op.String() == "B" && !a64IsUncondB(between[1].Inst)
		if !okPlace {
			t.Errorf("point 3 does not follow the first access to shared memory %s (or its compare and branch)", f.text(f.insts[shared]))
		}
	}
	for _, d := range []*a64Delay{d1, d2, d3, d4} {
		for _, r := range []int{15, 27} {
			if in, live := f.firstRead(d.end, r); live {
				t.Errorf("point %d: %s reads %s, which the delay clobbers", d.point, f.text(in), a64RegName(r))
			}
			if in, live := f.firstRead(abortI, r); live {
				t.Errorf("point %d: after an abort, %s reads %s, which the delay clobbers", d.point, f.text(in), a64RegName(r))
			}
		}
	}
}

// a64CheckRetryLiveness checks that the abort can go back to retry: no
// register written by the section or by the abort handler is read after
// retry before it is written again. The kernel leaves the registers as
// the section left them when it moves the thread to abort, so a value
// needed after retry (the arguments, the area, the descriptor) must be
// kept where neither writes it.
func a64CheckRetryLiveness(t *testing.T, f *a64Func, startI, postI, abortI, backI int, retry int) {
	t.Helper()
	writers := map[int]a64Inst{}
	for _, rng := range [][2]int{{startI, postI}, {abortI, backI + 1}} {
		for k := rng[0]; k < rng[1]; k++ {
			in := f.insts[k]
			if in.err != nil {
				continue
			}
			_, w := a64Uses(in.Inst)
			for r := 0; r <= a64SP; r++ {
				if _, seen := writers[r]; w.has(r) && !seen {
					writers[r] = in
				}
			}
		}
	}
	for r := 0; r <= a64SP; r++ {
		w, ok := writers[r]
		if !ok {
			continue
		}
		if in, live := f.firstRead(retry/4, r); live {
			who := "the section"
			if w.off >= 4*abortI {
				who = "the abort handler"
			}
			t.Errorf("after an abort, %s reads %s, which %s overwrote (%s) before the branch back to retry +%#x: registers must survive an abort; use a register that is dead at retry",
				f.text(in), a64RegName(r), who, f.text(w), retry)
		}
	}
}

// a64CheckAddressDependency checks csAddIndirect's ordering argument: the
// accesses through p = *base are address-dependent on the load of *base
// (the address register is computed from the loaded register by ADDs),
// which arm64 orders after that load.
func a64CheckAddressDependency(t *testing.T, f *a64Func, startI, postI int) {
	t.Helper()
	var accesses []int
	for k := startI; k < postI; k++ {
		if a64IsSharedAccess(f.insts[k]) {
			accesses = append(accesses, k)
		}
	}
	if len(accesses) != 3 {
		t.Errorf("%d accesses to shared memory in the section, want 3: the load of the base, the load and the store through it", len(accesses))
		return
	}
	baseLd := f.insts[accesses[0]]
	if !a64IsLoad(baseLd.Op.String()) || !a64Is64(baseLd.Args[0]) {
		t.Errorf("the first access to shared memory is %s, want the 8-byte load of the published base", f.text(baseLd))
		return
	}
	p, _ := a64Reg(baseLd.Args[0])
	var dep a64Regs
	dep.add(p)
	for k := accesses[0] + 1; k < postI; k++ {
		in := f.insts[k]
		if in.err != nil {
			continue
		}
		if k == accesses[1] || k == accesses[2] {
			m, _ := a64MemArg(in.Inst)
			if !dep.has(m.base) && !dep.has(m.index) {
				t.Errorf("%s: its address is not computed from %s (the base loaded by %s): no address dependency orders it after that load",
					f.text(in), a64RegName(p), f.text(baseLd))
			}
		}
		r, w := a64Uses(in.Inst)
		for d := 0; d < a64SP; d++ {
			if !w.has(d) {
				continue
			}
			if in.Op.String() == "ADD" && r&dep != 0 {
				dep.add(d)
			} else {
				dep &^= 1 << d
			}
		}
	}
}

// a64CheckReader checks CPU, Node and CID (cpu_arm64.s).
func a64CheckReader(t *testing.T, bin *a64Binary, name, has, fallback string, field int) {
	f := bin.fn(t, name+".abi0")
	defer func() {
		if t.Failed() {
			t.Logf("disassembly of %s.abi0 (%s arm64 build):\n%s", name, bin.variant, f.listing(0, len(f.insts), nil))
		}
	}()
	want := map[int64]bool{a64CPUField: true}
	if field != 0 {
		want[int64(field)] = true
	}
	got := map[int64]bool{}
	last := len(f.insts) - 1
	for k, in := range f.insts {
		if in.err != nil {
			t.Errorf("%s does not decode", in)
			continue
		}
		op := in.Op.String()
		if a64Forbidden(op) && op != "RET" || a64IsExclusive(op) || a64IsAtomic(op) || a64IsBarrier(op) {
			t.Errorf("%s: a reader calls nothing and needs no atomic or barrier", f.text(in))
		}
		if to, ok := f.target(in); ok && !f.inside(to) {
			if k != last || !a64IsUncondB(in.Inst) || f.targetName(to) != fallback {
				t.Errorf("%s leaves the function: want only the tail B to %s as the last instruction", f.text(in), fallback)
			}
		}
		if k == last && (!a64IsUncondB(in.Inst) || f.targetName(mustTarget(f, in)) != fallback) {
			t.Errorf("the last instruction %s is not the tail B to %s", f.text(in), fallback)
		}
		m, isMem := a64MemArg(in.Inst)
		if isMem && a64IsStore(op) && m.base != a64SP {
			t.Errorf("%s stores to memory other than the result", f.text(in))
		}
		if in.ref != nil {
			short := strings.TrimPrefix(in.ref.sym, a64Pkg)
			switch {
			case in.ref.kind == "load" && (short == "rseqPath" || short == "rseqGM" || short == "rseqMArea" || short == "rseqTPOffset" || (has != "" && short == has)):
			default:
				t.Errorf("%s addresses %s: a reader uses only the area's path globals (and %s)", f.text(in), bin.symName(in.ref.addr), has)
			}
		}
		if isMem && a64IsLoad(op) && m.base == 0 && m.index < 0 && !m.pcrel {
			got[m.disp] = true
			if is32 := (op == "LDR" && !a64Is64(in.Args[0])) || op == "LDRSW"; !is32 {
				t.Errorf("%s: the area's fields are 32 bits", f.text(in))
			}
			if !want[m.disp] {
				t.Errorf("%s reads the area at offset %d, want only cpu_id (4) and the field at %d", f.text(in), m.disp, field)
			}
		}
	}
	for off := range want {
		if !got[off] {
			t.Errorf("no 32-bit load of the area's field at offset %d", off)
		}
	}
}

func mustTarget(f *a64Func, in a64Inst) int {
	to, ok := f.target(in)
	if !ok {
		return -1 << 30
	}
	return to
}

// a64OrderedLoads returns the loads of insts[from:to] from memory other
// than the stack and the globals: the acquire loads (LDAR) and the others.
func a64OrderedLoads(f *a64Func, from, to int) (ldar, plain []a64Inst) {
	for _, in := range f.insts[from:to] {
		if in.err != nil || !a64IsLoad(in.Op.String()) {
			continue
		}
		m, _ := a64MemArg(in.Inst)
		if m.base == a64SP || m.pcrel || in.ref != nil {
			continue
		}
		if strings.HasPrefix(in.Op.String(), "LDAR") {
			ldar = append(ldar, in)
		} else {
			plain = append(plain, in)
		}
	}
	return ldar, plain
}

// a64CheckCounterLoad checks that (*Counter).Load reads the shard words
// with LDAR (atomic.LoadInt64), in its loop, and shard0 with LDAR
// (atomic.Pointer.Load): the readers of RWMutex rely on the acquire.
func a64CheckCounterLoad(t *testing.T, bin *a64Binary) {
	f := bin.fn(t, "(*Counter).Load")
	defer func() {
		if t.Failed() {
			t.Logf("disassembly of (*Counter).Load (%s arm64 build):\n%s", bin.variant, f.listing(0, len(f.insts), nil))
		}
	}()
	ldar, plain := a64OrderedLoads(f, 0, len(f.insts))
	for _, in := range plain {
		t.Errorf("%s: a plain load of a Counter's memory, want LDAR (atomic loads of shard0 and the shard words)", f.text(in))
	}
	// The loop over the shards: the backward conditional branch.
	loop := false
	for k, in := range f.insts {
		to, ok := f.target(in)
		if !ok || to > in.off || a64IsUncondB(in.Inst) || in.Op.String() == "BL" {
			continue
		}
		loop = true
		l, _ := a64OrderedLoads(f, to/4, k+1)
		var x []a64Inst
		for _, in := range l {
			if in.Op.String() == "LDAR" && a64Is64(in.Args[0]) {
				x = append(x, in)
			}
		}
		if len(x) < 2 {
			t.Errorf("the loop +%#x..+%#x has %d 8-byte LDARs, want 2 per shard (the rseq and the fallback word)", to, in.off, len(x))
		}
	}
	if !loop {
		t.Errorf("no loop over the shards (a backward conditional branch) in (*Counter).Load")
	}
	if len(ldar) < 3 {
		t.Errorf("%d LDARs in (*Counter).Load, want at least 3 (shard0 and the two words of a shard)", len(ldar))
	}
}

// a64CheckRLock checks that (*RWMutex).RLock loads the writer flag with
// an acquire (LDAR W: atomic.Int32.Load) right after the reader's add to
// in (the call of counterAdd, which Counter.Add inlines to). The fast path
// calls the assembly section directly, which the compiler cannot inline,
// so the call is a reliable landmark.
func a64CheckRLock(t *testing.T, bin *a64Binary) {
	f := bin.fn(t, "(*RWMutex).RLock")
	defer func() {
		if t.Failed() {
			t.Logf("disassembly of (*RWMutex).RLock (%s arm64 build):\n%s", bin.variant, f.listing(0, len(f.insts), nil))
		}
	}()
	calls := 0
	for k, in := range f.insts {
		to, ok := f.target(in)
		if !ok || in.Op.String() != "BL" {
			continue
		}
		// The add to in; the back-out's counterAddRelease is followed
		// by the wake-up's loads, not a state check.
		if callee := f.targetName(to); callee != "counterAdd.abi0" {
			continue
		}
		calls++
		ldar, plain := a64OrderedLoads(f, k+1, len(f.insts))
		var next *a64Inst
		if len(ldar) > 0 {
			next = &ldar[0]
		}
		if len(plain) > 0 && (next == nil || plain[0].off < next.off) {
			next = &plain[0]
		}
		switch {
		case next == nil:
			t.Errorf("no load after the reader's add %s", f.text(in))
		case next.Op.String() != "LDAR" || a64Is64(next.Args[0]):
			t.Errorf("the first load after the reader's add %s is %s, want LDAR W (the writer flag, atomic.Int32.Load)", f.text(in), f.text(*next))
		}
	}
	if calls == 0 {
		t.Errorf("(*RWMutex).RLock does not call counterAdd (Counter.Add) any more: update the test to find the writer flag's load")
	}
}

// a64CheckCounterAtomic checks the atomic fallback of counterAdd and
// counterAddRelease (COUNTER_ATOMIC, after the abort handler): the add of
// a thread without rseq must be a full barrier, which RWMutex's fallback
// relies on (its comment, and Counter.addRelease): an LDADDAL (LSE) and,
// for CPUs without LSE, an LDAXR/STLXR loop, acquire and release both.
func a64CheckCounterAtomic(t *testing.T, f *a64Func, backI int) {
	t.Helper()
	var ldaddal, ldaxr, stlxr bool
	for _, in := range f.insts[backI+1:] {
		switch w := in.word; {
		case w&0xffe0fc00 == 0xf8e00000: // LDADDAL Xs, Xt, [Xn]
			ldaddal = true
		case w&0xfffffc00 == 0xc85ffc00: // LDAXR Xt, [Xn]
			ldaxr = true
		case w&0xffe0fc00 == 0xc800fc00: // STLXR Ws, Xt, [Xn]
			stlxr = true
		}
	}
	if !ldaddal || !ldaxr || !stlxr {
		t.Errorf("atomic fallback after the abort handler: LDADDAL %v, LDAXR %v, STLXR %v; want all three (a full-barrier add with and without LSE)", ldaddal, ldaxr, stlxr)
	}
}

// a64CheckValuesBarriers checks the two barriers of Values' lock words
// (see Values): the release is a store-release (STLR X, storeRelease64),
// and a successful take is followed by a load-load/load-store barrier
// (DMB ISHLD, acquireFence).
func a64CheckValuesBarriers(t *testing.T, bin *a64Binary) {
	for _, c := range []struct{ fn, want string }{
		{"storeRelease64.abi0", "STLR"},
		{"acquireFence.abi0", "DMB"},
	} {
		f := bin.fn(t, c.fn)
		found := false
		for _, in := range f.insts {
			switch w := in.word; c.want {
			case "STLR":
				found = found || w&0xfffffc00 == 0xc89ffc00 // STLR Xt, [Xn]
			case "DMB":
				found = found || w == 0xd50339bf // DMB ISHLD
			}
		}
		if !found {
			t.Errorf("%s has no %s (want STLR X for the release, DMB ISHLD for the acquire):\n%s", c.fn, c.want, f.listing(0, len(f.insts), nil))
		}
	}
}
