// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && goexperiment.rseqinline && (amd64 || arm64)

package percpu

// What the machine-code tests of the inline Counter.Add sequences share
// (cs_inline_machinecode_test.go for amd64,
// cs_inline_machinecode_arm64elf_test.go for arm64): the program they
// build, and the reading of an ELF binary's sequences and functions.

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// inlineMain is the program built by the tests: each //go:noinline
// function has a known number of call sites of Counter.Add.
const inlineMain = `package main

import (
	"fmt"

	"github.com/gorseq/gorseq/percpu"
)

var c percpu.Counter

type meter struct{ n percpu.Counter }

//go:noinline
func one() { c.Add(1) }

//go:noinline
func loop(n int) {
	for i := 0; i < n; i++ {
		c.Inc()
		c.Add(int64(i))
	}
}

//go:noinline
func (m *meter) mark(v int64) { m.n.Add(v) }

//go:noinline
func generic[T ~int64](v T) { c.Add(int64(v)) }

func helper(v int64) { c.Add(v) }

//go:noinline
func twice() { helper(1); helper(2) }

//go:noinline
func closure() func() { return func() { c.Dec() } }

func main() {
	var m meter
	one()
	loop(10)
	m.mark(3)
	generic(int64(4))
	twice()
	closure()()
	fmt.Println(c.Load()+m.n.Load(), percpu.Status().InlineSequences)
}
`

// inlineWant is how many sequences each function of inlineMain has.
var inlineWant = map[string]int{
	"main.one":                     1,
	"main.loop":                    2,
	"main.(*meter).mark":           1,
	"main.generic[go.shape.int64]": 1,
	"main.twice":                   2,
	"main.closure.func1":           1,
}

// inlineSig is the rseq signature instruction, ud1 0x53053053(%rip), %edi.
var inlineSig = []byte{0x0f, 0xb9, 0x3d, 0x53, 0x30, 0x05, 0x53}

// inlineBinary is an ELF executable opened for the checks.
type inlineBinary struct {
	path  string
	f     *elf.File
	funcs []elf.Symbol      // text symbols with a size, sorted by address
	rel   map[uint64]uint64 // R_*_RELATIVE: address -> value (PIE)
	// self: the running test binary, linked without a symbol table (go
	// test's -s): functions come from the runtime, the list from
	// inlineCS, and the code from the file, as it is not PIE.
	self bool
}

func openInlineBinary(t *testing.T, path string) *inlineBinary {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	b := &inlineBinary{path: path, f: f, rel: map[uint64]uint64{}}
	syms, err := f.Symbols()
	if err != nil && err != elf.ErrNoSymbols {
		t.Fatalf("%s: %v", path, err)
	}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Size > 0 {
			b.funcs = append(b.funcs, s)
		}
	}
	sort.Slice(b.funcs, func(i, j int) bool { return b.funcs[i].Value < b.funcs[j].Value })
	if s := f.Section(".rela.dyn"); s != nil {
		data, err := s.Data()
		if err != nil {
			t.Fatal(err)
		}
		for ; len(data) >= 24; data = data[24:] {
			off, info, addend := binary.LittleEndian.Uint64(data), binary.LittleEndian.Uint64(data[8:]), binary.LittleEndian.Uint64(data[16:])
			if typ := info & 0xffffffff; f.Machine == elf.EM_X86_64 && elf.R_X86_64(typ) == elf.R_X86_64_RELATIVE ||
				f.Machine == elf.EM_AARCH64 && elf.R_AARCH64(typ) == elf.R_AARCH64_RELATIVE {
				b.rel[off] = addend
			}
		}
	}
	return b
}

// section returns the allocated section holding [addr, addr+n).
func (b *inlineBinary) section(addr, n uint64) *elf.Section {
	for _, s := range b.f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS && addr >= s.Addr && addr+n <= s.Addr+s.Size {
			return s
		}
	}
	return nil
}

func (b *inlineBinary) read(t *testing.T, addr, n uint64) []byte {
	t.Helper()
	s := b.section(addr, n)
	if s == nil {
		t.Fatalf("%s: no section holds %#x+%d", b.path, addr, n)
	}
	p := make([]byte, n)
	if _, err := s.ReadAt(p, int64(addr-s.Addr)); err != nil {
		t.Fatal(err)
	}
	return p
}

// word reads an address-sized word as the loader leaves it (relocated).
func (b *inlineBinary) word(t *testing.T, addr uint64) uint64 {
	if v, ok := b.rel[addr]; ok {
		return v
	}
	return binary.LittleEndian.Uint64(b.read(t, addr, 8))
}

func (b *inlineBinary) funcAt(addr uint64) (elf.Symbol, bool) {
	if b.self {
		f := runtime.FuncForPC(uintptr(addr))
		if f == nil {
			return elf.Symbol{}, false
		}
		end := addr
		for g := f; g != nil && g.Entry() == f.Entry(); g = runtime.FuncForPC(uintptr(end)) {
			end++
		}
		// f is the innermost inlined function at addr; the entry's is
		// the function itself.
		name := runtime.FuncForPC(f.Entry()).Name()
		if inlineAsmFunc(name) {
			name += ".abi0" // as the symbol table names assembly functions
		}
		return elf.Symbol{Name: name, Value: uint64(f.Entry()), Size: end - uint64(f.Entry())}, true
	}
	i := sort.Search(len(b.funcs), func(i int) bool { return b.funcs[i].Value+b.funcs[i].Size > addr })
	if i < len(b.funcs) && b.funcs[i].Value <= addr {
		return b.funcs[i], true
	}
	return elf.Symbol{}, false
}

// table returns runtime.gorseqInlineCS: the descriptors' addresses.
func (b *inlineBinary) table(t *testing.T) []uint64 {
	t.Helper()
	if b.self {
		descs := make([]uint64, len(inlineCS))
		for i, d := range inlineCS {
			descs[i] = uint64(d)
		}
		return descs
	}
	syms, err := b.f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != "runtime.gorseqInlineCS" {
			continue
		}
		ptr, n := b.word(t, s.Value), binary.LittleEndian.Uint64(b.read(t, s.Value+8, 8))
		descs := make([]uint64, n)
		for i := range descs {
			descs[i] = b.word(t, ptr+8*uint64(i))
		}
		return descs
	}
	t.Fatalf("%s: no runtime.gorseqInlineCS (the linker's list of inline sequences)", b.path)
	return nil
}

// inlineAsmFunc reports the assembly functions that have rseq signatures
// (their own sections, checked by TestCriticalSectionMachineCode and the
// runtime's tests), by the runtime's name for them.
func inlineAsmFunc(name string) bool {
	pkg, fn, _ := strings.Cut(name, ".")
	for _, n := range csNames {
		if name == "github.com/gorseq/gorseq/percpu."+n {
			return true
		}
	}
	return pkg == "runtime" && strings.HasPrefix(fn, "rseq") || pkg == "internal/percpu"
}

// buildInlineMain builds inlineMain for linux/goarch with the running
// toolchain's go command and extra build flags, and returns the binary and what the
// command printed (the compiler's listing, with -gcflags=-S).
func buildInlineMain(t *testing.T, goarch, dir, name string, flags ...string) (string, []byte) {
	t.Helper()
	gocmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gocmd); err != nil {
		t.Skipf("no go command to build the program with: %v", err)
	}
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(inlineMain), 0o666); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command(gocmd, append(append([]string{"build", "-buildvcs=false", "-o", out}, flags...), src)...)
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOROOT=")
	listing, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, listing)
	}
	return out, listing
}

// symIs reports whether addr is the start of the data symbol name.
func (b *inlineBinary) symIs(addr uint64, name string) bool {
	syms, _ := b.f.Symbols()
	for _, s := range syms {
		if s.Name == name {
			return s.Value == addr
		}
	}
	return false
}

// checkInlineDescriptor checks a descriptor of an inline sequence, d, as
// the kernel reads it (include/uapi/linux/rseq.h): 32-byte aligned, in
// read-only data, version and flags 0, and start, post and abort in one
// function with abort outside [start, post). It returns the three.
func checkInlineDescriptor(t *testing.T, b *inlineBinary, d uint64, where string) (start, post, abort uint64) {
	t.Helper()
	if d%32 != 0 {
		t.Errorf("%s: not 32-byte aligned", where)
	}
	if s := b.section(d, 32); s == nil || s.Flags&elf.SHF_WRITE != 0 && s.Name != ".data.rel.ro" {
		t.Errorf("%s: not in read-only data (section %v)", where, s)
	}
	raw := b.read(t, d, 32)
	version, flags := binary.LittleEndian.Uint32(raw), binary.LittleEndian.Uint32(raw[4:])
	start, postOff, abort := b.word(t, d+8), binary.LittleEndian.Uint64(raw[16:]), b.word(t, d+24)
	if version != 0 || flags != 0 {
		t.Errorf("%s: version %d, flags %#x; want 0, 0", where, version, flags)
	}
	fn, ok := b.funcAt(start)
	if !ok {
		t.Fatalf("%s: start %#x is in no function", where, start)
	}
	end := fn.Value + fn.Size
	post = start + postOff
	if postOff == 0 || post > end || abort < fn.Value || abort >= end || abort >= start && abort < post {
		t.Fatalf("%s: start %#x, post %#x, abort %#x: not all in %s [%#x, %#x) with abort outside the section", where, start, post, abort, fn.Name, fn.Value, end)
	}
	return start, post, abort
}

// inlineListing says how an architecture's inline sequences look in the
// compiler's listing (-gcflags=-S): prefixes and suffixes of instructions.
type inlineListing struct {
	arm    string // prefix: the instruction that takes the descriptor's address
	first  string // suffix: the sequence's first instruction, the load of shard 0 (into R10)
	commit string // prefix: the commit
	fail   string // prefix: the out-of-line failure exit, before the signature
}

// checkInlineListing reads the compiler's listing of inlineMain: from the
// load of the Counter's shard to post, and in the out-of-line code
// (failure exit, signature, abort handler), every instruction is under
// PCDATA $0, $-2 (abi.UnsafePointUnsafe), so the runtime never preempts
// the goroutine asynchronously there.
func checkInlineListing(t *testing.T, listing []byte, arch inlineListing) {
	t.Helper()
	type line struct {
		text   string
		unsafe bool
	}
	var lines []line
	unsafe := false
	instr := regexp.MustCompile(`^\s+0x[0-9a-f]{4} \d{5} \(\S+\)\s+(.*)$`)
	for _, l := range strings.Split(string(listing), "\n") {
		m := instr.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		text := m[1]
		switch {
		case strings.HasPrefix(text, "TEXT"):
			unsafe = false
		case strings.HasPrefix(text, "PCDATA\t$0, "):
			unsafe = strings.HasSuffix(text, "$-2")
			continue
		case strings.HasPrefix(text, "PCDATA") || strings.HasPrefix(text, "FUNCDATA"):
			continue
		}
		lines = append(lines, line{text, unsafe})
	}
	check := func(what string, from, to int) {
		for _, k := range lines[from : to+1] {
			if !k.unsafe {
				t.Errorf("%q of an inline sequence's %s is a safe point:\n%v", k.text, what, lines[from:to+1])
			}
		}
	}
	seqs, handlers := 0, 0
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l.text, arch.arm):
			// Back to the load of shard 0, forward to post after the
			// commit.
			from, to := i, i+1
			for from > 0 && !strings.HasSuffix(lines[from].text, arch.first) {
				from--
			}
			for to < len(lines)-1 && !strings.HasPrefix(lines[to-1].text, arch.commit) {
				to++
			}
			check("section", from, to)
			seqs++
		case strings.Contains(l.text, "percpu.inlineAbortCount(SB)"):
			// Back to the failure exit through the signature, forward
			// to the jump back.
			from, to := i, i
			for from > 0 && !strings.HasPrefix(lines[from].text, arch.fail) {
				from--
			}
			for to < len(lines)-1 && !strings.HasPrefix(lines[to].text, "JMP") {
				to++
			}
			check("out-of-line code", from, to)
			handlers++
		}
	}
	want := 0
	for _, n := range inlineWant {
		want += n
	}
	if seqs < want || handlers != seqs {
		t.Errorf("the listing has %d sequences and %d abort handlers; want at least %d, as many handlers", seqs, handlers, want)
	}
	t.Logf("%d inline sequences, each an unsafe point from its first load to post and in its out-of-line code", seqs)
}

// checkInlineList checks every sequence the linker listed in b with check
// (one architecture's rules: it returns the sequence's function and abort
// address), then that the list is complete: every signature sig in Go
// code (not an assembly function, named .abi0, whose sections percpu's
// own tests check), at a multiple of align in the text, sits right before
// a listed sequence's abort address. It returns how many sequences each
// function has.
func checkInlineList(t *testing.T, b *inlineBinary, sig []byte, align int, check func(d uint64) (string, uint64)) map[string]int {
	t.Helper()
	descs := b.table(t)
	if len(descs) == 0 {
		t.Fatalf("%s: the linker listed no inline sequence", b.path)
	}
	perFunc := map[string]int{}
	aborts := map[uint64]bool{}
	for _, d := range descs {
		fn, abort := check(d)
		if aborts[abort] {
			t.Errorf("%s: descriptor %#x: abort %#x listed twice", b.path, d, abort)
		}
		aborts[abort] = true
		perFunc[fn]++
	}
	text := b.f.Section(".text")
	data, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for off := 0; ; off++ {
		i := bytes.Index(data[off:], sig)
		if i < 0 {
			break
		}
		off += i
		addr := text.Addr + uint64(off)
		if off%align != 0 {
			continue
		}
		fn, ok := b.funcAt(addr)
		if !ok || strings.HasSuffix(fn.Name, ".abi0") {
			continue
		}
		found++
		if !aborts[addr+uint64(len(sig))] {
			t.Errorf("%s: an rseq signature at %#x in %s belongs to no listed sequence", b.path, addr, fn.Name)
		}
	}
	if found != len(descs) {
		t.Errorf("%s: %d signatures in Go code, %d sequences listed", b.path, found, len(descs))
	}
	t.Logf("%s: %d inline sequences in %d functions, each checked", filepath.Base(b.path), len(descs), len(perFunc))
	return perFunc
}

// checkInlineWant compares the sequences per function of a build of
// inlineMain with inlineWant.
func checkInlineWant(t *testing.T, got map[string]int) {
	t.Helper()
	for fn, want := range inlineWant {
		if got[fn] != want {
			t.Errorf("%s: %d inline sequences, want %d (all: %v)", fn, got[fn], want, got)
		}
	}
}
