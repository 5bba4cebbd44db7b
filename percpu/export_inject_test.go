// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && amd64

package percpu

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"
)

// Hooks for counter_inject_test.go: the delay-injection critical sections
// (cs_inject_amd64.s) and the calling thread's rseq registration. The
// machine-code test of the injected sections is here too
// (TestInjectedSectionsMachineCode): it needs the package's internals.

// AddInject is Counter.Add through csAddInject: the same critical section
// with a delay of loops iterations between the load and the commit, on the
// same rseq word, and the same fallback.
func AddInject(c *Counter, v int64, loops uintptr) {
	s := c.shard0.Load()
	if s == nil {
		s = c.init()
	}
	if mode == ModeFallback || csAddInject(uintptr(unsafe.Pointer(s)), v, rseqCPUIDOffset, loops) < 0 {
		counterAddFallback(s, v)
	}
	runtime.KeepAlive(c)
}

// CounterAddInject is Counter.Add through counterAddInject: Add's own fast
// path (counterAdd) with a delay of loops iterations between the load and
// the commit, and the same slow path.
func CounterAddInject(c *Counter, v int64, loops uintptr) { counterAddInject(c, v, loops) }

// CounterAddInjectSlows returns how many CounterAddInject calls so far
// took the slow path (counterAddSlow) instead of the injected section.
func CounterAddInjectSlows() uint64 { return counterAddInjectSlows.Load() }

// ThreadRseqArea returns the calling thread's rseq area, 0 without rseq.
// The caller must be locked to its thread.
func ThreadRseqArea() uintptr { return rseqThreadArea() }

// ThreadCPUID returns cpu_id of the calling thread's rseq area: the CPU,
// or < 0 when the thread has no live registration. The caller must be
// locked to its thread; the process must have rseq.
func ThreadCPUID() int32 {
	a := rseqThreadArea()
	if a == 0 {
		panic("percpu: ThreadCPUID without rseq")
	}
	p := *(*unsafe.Pointer)(unsafe.Pointer(&a))
	return atomic.LoadInt32((*int32)(unsafe.Add(p, rseqCPUIDOffset)))
}

// ThreadRseq unregisters (unregister true) or registers again the calling
// thread's area, with the runtime's length and signature. The caller must
// be locked to its thread, and must register again before it unlocks or
// exits: the runtime unregisters the area itself then, and throws if that
// fails.
func ThreadRseq(unregister bool) error {
	var flags uintptr
	if unregister {
		flags = 1 // RSEQ_FLAG_UNREGISTER
	}
	_, _, errno := unix.RawSyscall6(unix.SYS_RSEQ, rseqThreadArea(), uintptr(rt.length), flags, rseqSigAMD64, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// TestInjectedSectionsMachineCode checks the test-only sections as
// TestCriticalSectionMachineCode (cs_machinecode_test.go, which covers
// csDesc only) checks the production ones, and against their production
// twins: each arms its own descriptor in csInjectDesc, which matches its
// anchors, and its section [start, post) is its twin's instruction for
// instruction, with the delay loop (no memory access) inserted right
// after the load of the word the commit stores to.
func TestInjectedSectionsMachineCode(t *testing.T) {
	var entries [injectCount]unsafe.Pointer
	injectEntries(&entries)
	var prod [csCount]unsafe.Pointer
	csEntries(&prod)
	twins := [injectCount]int{injectAdd: opAdd, injectCounterAdd: opCounterAdd}
	for i, fn := range entries {
		t.Run(injectNames[i], func(t *testing.T) {
			op := twins[i]
			inj := decodeInjectSection(t, injectNames[i], fn, &csInjectDesc[i])
			twin := decodeInjectSection(t, csNames[op], prod[op], &csDesc[op])
			for j, other := range csInjectDesc {
				if j != i && other == csInjectDesc[i] {
					t.Errorf("shares its descriptor with %s", injectNames[j])
				}
			}
			for j, other := range csDesc {
				if other == csInjectDesc[i] {
					t.Errorf("shares its descriptor with %s", csNames[j])
				}
			}

			// inj = twin[:k] + delay + twin[k:], compared by operation and
			// operands (RIP-relative operands by the address they name,
			// branches by whether they stay inside the section).
			a, b := inj.section(), twin.section()
			k := 0
			for k < len(b) && inj.key(a[k]) == twin.key(b[k]) {
				k++
			}
			n := len(a) - len(b) // the delay's length
			if n <= 0 {
				t.Fatalf("%d instructions in the section, %s has %d: no delay", len(a), twin.name, len(b))
			}
			for j := k; j < len(b); j++ {
				if inj.key(a[j+n]) != twin.key(b[j]) {
					t.Fatalf("differs from %s at its instruction %d (%v) besides the delay at %d:\n%s\n%s:\n%s",
						twin.name, j, b[j], k, inj.listing(inj.first, inj.end), twin.name, twin.listing(twin.first, twin.end))
				}
			}
			delay := a[k : k+n]
			t.Logf("the delay, after %v:\n%s", a[k-1], inj.listing(inj.first+k, inj.first+k+n))
			commit := a[len(a)-1]
			cm, _ := storesMemory(commit.Inst)
			if k == 0 || !hasMem(b[k-1].Inst, cm) {
				t.Errorf("the delay does not follow the load of the committed word %v", cm)
			}
			loop := false
			for _, in := range delay {
				for _, arg := range in.Args {
					if _, ok := arg.(x86asm.Mem); ok {
						t.Errorf("%v: the delay accesses memory", in)
					}
				}
				if isJump(in.Op) {
					to, ok := branchTarget(in)
					if !ok || to < delay[0].off || to > a[k+n].off {
						t.Errorf("%v: the delay branches outside itself", in)
					}
					if ok && to <= in.off {
						loop = true
					}
				}
			}
			if !loop {
				t.Errorf("the delay has no backward branch: not a loop")
			}
		})
	}
}

// injectSection is a decoded critical-section function and its bounds.
type injectSection struct {
	*csCode
	start, post, abort int // offsets
	first, end         int // [start, post) as indexes in insts
}

func (s *injectSection) section() []csInst { return s.insts[s.first:s.end] }

// key identifies an instruction of the section for the comparison of two
// functions: RIP-relative operands become absolute addresses, branches
// "in" or "out" of the section.
func (s *injectSection) key(in csInst) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v/%d/%d", in.Op, in.DataSize, in.MemBytes)
	for _, arg := range in.Args {
		switch a := arg.(type) {
		case nil:
			continue
		case x86asm.Mem:
			if a.Base == x86asm.RIP {
				fmt.Fprintf(&b, " [%#x]", uintptr(s.fn)+uintptr(in.off+in.Len)+uintptr(a.Disp))
				continue
			}
		case x86asm.Rel:
			to := in.off + in.Len + int(a)
			if to >= s.start && to < s.post {
				b.WriteString(" in")
			} else {
				b.WriteString(" out")
			}
			continue
		}
		fmt.Fprintf(&b, " %v", arg)
	}
	return b.String()
}

// hasMem reports whether an operand of in is the memory operand m.
func hasMem(in x86asm.Inst, m x86asm.Mem) bool {
	for _, arg := range in.Args {
		if a, ok := arg.(x86asm.Mem); ok && a == m {
			return true
		}
	}
	return false
}

// decodeInjectSection decodes the critical-section function at fn and
// checks it as TestCriticalSectionMachineCode does: the descriptor *desc
// matches the anchors and is armed by the function, the signature, nothing
// forbidden, locked or jumping to post inside, the commit a MOV to shared
// memory and the last instruction, nothing jumping in from outside, the
// abort handler back to the arming store.
func decodeInjectSection(t *testing.T, name string, fn unsafe.Pointer, desc *uintptr) *injectSection {
	t.Helper()
	b, err := decodeAnchors(fn)
	if err != nil {
		t.Fatalf("%s: decodeAnchors: %v", name, err)
	}
	dp := *(*unsafe.Pointer)(unsafe.Pointer(desc))
	if dp == nil {
		t.Fatalf("%s: no descriptor", name)
	}
	if uintptr(dp)%32 != 0 {
		t.Errorf("%s: descriptor at %p is not 32-byte aligned", name, dp)
	}
	if d := *(*rseqCS)(dp); d.version != 0 || d.flags != 0 ||
		d.startIP != uint64(b.start) || d.postCommitOffset != uint64(b.post-b.start) || d.abortIP != uint64(b.abort) {
		t.Errorf("%s: descriptor %+v, anchors say start %#x, post_commit_offset %#x, abort %#x", name, d, b.start, b.post-b.start, b.abort)
	}
	c := decodeCSFunction(t, name, fn)
	base := uintptr(fn)
	s := &injectSection{csCode: c, start: int(b.start - base), post: int(b.post - base), abort: int(b.abort - base)}
	s.first, s.end = c.instAt(t, "start", s.start), c.instAt(t, "post", s.post)
	ai := c.instAt(t, "abort", s.abort)
	if s.end <= s.first || s.first < 2 {
		t.Fatalf("%s: no critical section:\n%s", name, c.listing(0, len(c.insts)))
	}
	sig := []byte{0x0f, 0xb9, 0x3d, 0x53, 0x30, 0x05, 0x53}
	if si, ok := c.at[s.abort-7]; !ok || !bytes.Equal(unsafe.Slice((*byte)(unsafe.Add(fn, s.abort-7)), 7), sig) ||
		c.insts[si-1].Op != x86asm.RET && c.insts[si-1].Op != x86asm.JMP {
		t.Errorf("%s: no signature instruction (not fallen into) before abort +%#x", name, s.abort)
	}

	// The arming store, and the load of the descriptor it stores.
	arm := c.insts[s.first-1]
	am, ok := storesMemory(arm.Inst)
	if !ok || am.Disp != 8 || len(arm.Args) < 2 {
		t.Fatalf("%s: the instruction before start is %v, want the arming store to rseq_cs", name, arm)
	}
	for k := s.first - 2; ; k-- {
		if k < 4 {
			t.Errorf("%s: nothing loads the arming store's %v", name, arm.Args[1])
			break
		}
		in := c.insts[k]
		if in.Op == x86asm.MOV && in.Args[0] == arm.Args[1] {
			m, ok := in.Args[1].(x86asm.Mem)
			if !ok || m.Base != x86asm.RIP || base+uintptr(in.off+in.Len)+uintptr(m.Disp) != uintptr(unsafe.Pointer(desc)) {
				t.Errorf("%s: %v does not load the descriptor's address from %p", name, in, desc)
			}
			break
		}
	}

	stores := 0
	for _, in := range s.section() {
		if forbiddenInCS(in.Op) {
			t.Errorf("%s: %v inside the critical section", name, in)
		}
		for _, p := range in.Prefix {
			if p&0xff == x86asm.PrefixLOCK {
				t.Errorf("%s: %v: a locked instruction inside the critical section", name, in)
			}
		}
		if _, ok := storesMemory(in.Inst); ok {
			stores++
		}
		if isJump(in.Op) {
			to, ok := branchTarget(in)
			switch {
			case !ok:
				t.Errorf("%s: %v: an indirect jump inside the critical section", name, in)
			case to == s.post:
				t.Errorf("%s: %v jumps to post, skipping the commit", name, in)
			case to >= s.start && to < s.post:
				c.instAt(t, "a branch target", to)
			}
		}
	}
	commit := c.insts[s.end-1]
	if m, ok := storesMemory(commit.Inst); !isMOVStore(commit.Inst) || !ok || m.Base == x86asm.RSP {
		t.Errorf("%s: the last instruction before post is %v, want a MOV to shared memory (the commit)", name, commit)
	}
	if stores != 1 {
		t.Errorf("%s: %d stores inside the section, want the commit only", name, stores)
	}
	for k, in := range c.insts {
		if k < 4 || (in.off >= s.start && in.off < s.post) || !isJump(in.Op) {
			continue
		}
		if to, ok := branchTarget(in); ok && to >= s.start && to < s.post {
			t.Errorf("%s: %v jumps into the critical section from outside", name, in)
		}
	}
	back := false
	for k := ai; k < len(c.insts) && k < ai+4 && !back; k++ {
		in := c.insts[k]
		if in.Op == x86asm.RET || in.Op == x86asm.CALL || (isJump(in.Op) && in.Op != x86asm.JMP) {
			break
		}
		if in.Op == x86asm.JMP {
			to, ok := branchTarget(in)
			back = ok && to == arm.off
			break
		}
	}
	if !back {
		t.Errorf("%s: the abort handler does not jump back to the arming store within 4 instructions:\n%s", name, c.listing(ai, min(ai+4, len(c.insts))))
	}
	return s
}
