// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64 || arm64

package percpu

// The arm64 object code that TestArm64MachineCode reads
// (cs_machinecode_arm64_elf_test.go): building percpu for GOARCH=arm64,
// finding functions in the ELF, decoding them with arm64asm, and a small
// model of the instructions (which registers each reads and writes, where
// it branches, which global an ADRP pair addresses).
//
// (The files are not named cs_machinecode_arm64_test.go: a _arm64 suffix
// would restrict them to GOARCH=arm64, and the test is meant to run on
// amd64 hosts, where the arm64 code cannot be executed with rseq.)

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

// a64Pkg prefixes the package's symbols.
const a64Pkg = "github.com/gorseq/gorseq/percpu."

// a64Main is the program that is built for arm64: it imports percpu (whose
// init references every critical section through csEntries) and keeps the
// area readers and the Go functions whose ordering the test checks, which
// are otherwise inlined into their callers or dropped by the linker.
const a64Main = `package main

import (
	"fmt"

	"github.com/gorseq/gorseq/percpu"
)

var keep = []any{(*percpu.Counter).Load, (*percpu.RWMutex).RLock, percpu.CPU, percpu.Node, percpu.CID, (*percpu.Values[int]).Update}

func main() { fmt.Println(len(keep)) }
`

// a64Binary is one arm64 build of the program.
type a64Binary struct {
	variant string // "noinject" or "inject" (-tags gorseq_inject)
	inject  bool
	f       *elf.File
	text    *elf.Section
	code    []byte
	syms    map[string]elf.Symbol
	byAddr  []elf.Symbol // symbols with an address, sorted by it
}

// a64Build builds the program for linux/arm64 twice, without and with
// -tags gorseq_inject, with the go command of the toolchain running the
// test (so the patched toolchain checks its own runtime), in the module
// root.
func a64Build(t *testing.T) [2]*a64Binary {
	t.Helper()
	gocmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gocmd); err != nil {
		t.Skipf("no go command to build the arm64 code with: %v", err)
	}
	t.Logf("building for linux/arm64 with %s", gocmd)
	root := moduleRoot(t)
	dir := t.TempDir()
	mainFile := filepath.Join(dir, "main.go")
	if err := os.WriteFile(mainFile, []byte(a64Main), 0o666); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOROOT", "GOFLAGS", "GOOS", "GOARCH", "GOARM64", "CGO_ENABLED", "GOTOOLCHAIN", "GOWORK":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOWORK=off")

	var bins [2]*a64Binary
	var errs [2]error
	var wg sync.WaitGroup
	for i, variant := range []string{"noinject", "inject"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(dir, "percpu-arm64-"+variant)
			args := []string{"build", "-buildvcs=false", "-o", out}
			if i == 1 {
				args = append(args, "-tags", "gorseq_inject")
			}
			cmd := exec.Command(gocmd, append(args, mainFile)...)
			cmd.Dir = root
			cmd.Env = env
			if b, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("%s %s (in %s): %v\n%s", gocmd, strings.Join(cmd.Args[1:], " "), root, err, b)
				return
			}
			bins[i], errs[i] = a64Open(out, variant, i == 1)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range bins {
		t.Cleanup(func() { b.f.Close() })
	}
	return bins
}

// moduleRoot returns the root directory of module github.com/gorseq/gorseq,
// where the tests run the go command.
func moduleRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for root := wd; ; {
		if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err == nil && regexp.MustCompile(`(?m)^module github.com/gorseq/gorseq\s*$`).Match(b) {
			return root
		}
		up := filepath.Dir(root)
		if up == root {
			t.Fatalf("no go.mod of module github.com/gorseq/gorseq above %s", wd)
		}
		root = up
	}
}

func a64Open(path, variant string, inject bool) (*a64Binary, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	if f.Machine != elf.EM_AARCH64 {
		f.Close()
		return nil, fmt.Errorf("%s: machine %v, want EM_AARCH64", path, f.Machine)
	}
	b := &a64Binary{variant: variant, inject: inject, f: f, syms: map[string]elf.Symbol{}}
	if b.text = f.Section(".text"); b.text == nil {
		f.Close()
		return nil, fmt.Errorf("%s: no .text", path)
	}
	if b.code, err = b.text.Data(); err != nil {
		f.Close()
		return nil, err
	}
	syms, err := f.Symbols()
	if err != nil {
		f.Close()
		return nil, err
	}
	for _, s := range syms {
		b.syms[s.Name] = s
		if s.Value != 0 && s.Section != elf.SHN_UNDEF {
			b.byAddr = append(b.byAddr, s)
		}
	}
	sort.Slice(b.byAddr, func(i, j int) bool { return b.byAddr[i].Value < b.byAddr[j].Value })
	return b, nil
}

// symAt names the symbol that holds addr: the smallest one whose extent
// contains it, or one that starts there.
func (b *a64Binary) symAt(addr uint64) (string, uint64, bool) {
	best := -1
	for i, s := range b.byAddr {
		if s.Value > addr {
			break
		}
		if addr < s.Value+s.Size || s.Value == addr {
			if best < 0 || s.Size < b.byAddr[best].Size {
				best = i
			}
		}
	}
	if best < 0 {
		return "", 0, false
	}
	s := b.byAddr[best]
	return s.Name, addr - s.Value, true
}

// symName is symAt for messages, with the package prefix dropped.
func (b *a64Binary) symName(addr uint64) string {
	name, off, ok := b.symAt(addr)
	if !ok {
		return fmt.Sprintf("%#x (no symbol)", addr)
	}
	name = strings.TrimPrefix(name, a64Pkg)
	if off != 0 {
		return fmt.Sprintf("%s+%#x", name, off)
	}
	return name
}

// a64Inst is an instruction at an offset of a function.
type a64Inst struct {
	off  int // from the function's first byte
	word uint32
	arm64asm.Inst
	err error   // a word that does not decode
	ref *a64Ref // the global this instruction addresses, loads or stores (resolved ADRP pairs)
}

// a64Ref is a global's address, as an ADRP pair computes it.
type a64Ref struct {
	addr   uint64
	sym    string // full symbol name
	off    uint64 // in the symbol
	kind   string // "load", "store", "addr" (the address itself: ADR, ADRP+ADD)
	viaReg int    // the register that held the page (or address); -1 for PC-relative literals
}

func (in a64Inst) String() string {
	if in.err != nil {
		return fmt.Sprintf("+%#x: .word %#08x (%v)", in.off, in.word, in.err)
	}
	return fmt.Sprintf("+%#x: %v", in.off, in.Inst)
}

// a64Func is the decoded code of one function.
type a64Func struct {
	name  string // without the package prefix
	bin   *a64Binary
	addr  uint64
	insts []a64Inst // one per word; offsets are 4*index
}

// fn decodes the function named name (without the package prefix, with
// .abi0 for assembly). The linker pads functions with zero words: they
// are dropped from the end.
func (b *a64Binary) fn(t *testing.T, name string) *a64Func {
	t.Helper()
	full := name
	if !strings.HasPrefix(name, "runtime.") {
		full = a64Pkg + name
	}
	s, ok := b.syms[full]
	if !ok {
		var similar []string
		base, _, _ := strings.Cut(name, ".")
		for n := range b.syms {
			if strings.HasPrefix(n, a64Pkg+base) {
				similar = append(similar, n)
			}
		}
		sort.Strings(similar)
		t.Fatalf("no symbol %s in the %s arm64 build (similar: %v)", full, b.variant, similar)
	}
	if s.Value < b.text.Addr || s.Value+s.Size > b.text.Addr+uint64(len(b.code)) || s.Size%4 != 0 || s.Size == 0 {
		t.Fatalf("%s: symbol at %#x size %d is not in .text or not whole instructions", full, s.Value, s.Size)
	}
	code := b.code[s.Value-b.text.Addr : s.Value-b.text.Addr+s.Size]
	for len(code) >= 4 && binary.LittleEndian.Uint32(code[len(code)-4:]) == 0 {
		code = code[:len(code)-4]
	}
	f := &a64Func{name: name, bin: b, addr: s.Value}
	for off := 0; off+4 <= len(code); off += 4 {
		w := binary.LittleEndian.Uint32(code[off:])
		in, err := arm64asm.Decode(code[off:])
		f.insts = append(f.insts, a64Inst{off: off, word: w, Inst: in, err: err})
	}
	f.resolve()
	return f
}

// resolve finds the globals that ADRP pairs (and PC-relative literals)
// address, following the page through the register it was put in, in
// program order: the assembler puts the pair's halves next to each other
// (ADRP then LDR/STR/ADD), so a linear pass is enough. A register holds a
// known address until something else writes it.
func (f *a64Func) resolve() {
	known := map[int]uint64{}
	for k := range f.insts {
		in := &f.insts[k]
		if in.err != nil {
			clear(known)
			continue
		}
		pc := f.addr + uint64(in.off)
		op := in.Op.String()
		set := func(addr uint64, kind string, via int) {
			name, off, _ := f.bin.symAt(addr)
			in.ref = &a64Ref{addr: addr, sym: name, off: off, kind: kind, viaReg: via}
		}
		newKnown := map[int]uint64{}
		switch {
		case op == "ADRP" || op == "ADR":
			rd, _ := a64Reg(in.Args[0])
			rel, _ := in.Args[1].(arm64asm.PCRel)
			if op == "ADRP" {
				newKnown[rd] = (pc &^ 0xfff) + uint64(rel)
			} else {
				newKnown[rd] = pc + uint64(rel)
				set(newKnown[rd], "addr", -1)
			}
		case op == "ADD" && in.word&0x7f800000 == 0x11000000: // ADD (immediate), 32 or 64 bits
			rn := int(in.word>>5) & 31
			rd := int(in.word) & 31
			if base, ok := known[rn]; ok && rn != 31 {
				imm := uint64(in.word>>10) & 0xfff
				if in.word>>22&1 == 1 {
					imm <<= 12
				}
				newKnown[rd] = base + imm
				set(base+imm, "addr", rn)
			}
		default:
			if m, ok := a64MemArg(in.Inst); ok {
				kind := "load"
				if a64IsStore(op) {
					kind = "store"
				}
				if m.pcrel {
					set(pc+uint64(m.disp), kind, -1)
				} else if base, ok := known[m.base]; ok {
					if m.index >= 0 {
						set(base, kind+" (indexed)", m.base)
					} else {
						set(base+uint64(m.disp), kind, m.base)
					}
				}
			}
		}
		_, w := a64Uses(in.Inst)
		for r := range known {
			if w.has(r) {
				delete(known, r)
			}
		}
		for r, v := range newKnown {
			known[r] = v
		}
	}
}

// target returns the offset a direct branch of the function goes to.
func (f *a64Func) target(in a64Inst) (int, bool) {
	if in.err != nil || !a64IsBranch(in.Op.String()) {
		return 0, false
	}
	for _, a := range in.Args {
		if rel, ok := a.(arm64asm.PCRel); ok {
			return in.off + int(rel), true
		}
	}
	return 0, false
}

// inside reports whether off is the offset of one of f's instructions.
func (f *a64Func) inside(off int) bool { return off >= 0 && off < 4*len(f.insts) && off%4 == 0 }

// targetName describes a branch target outside f.
func (f *a64Func) targetName(off int) string {
	return f.bin.symName(f.addr + uint64(int64(off)))
}

// text is an instruction with the global it addresses, or the function
// it branches to, for listings and messages.
func (f *a64Func) text(in a64Inst) string {
	s := in.String()
	if in.ref != nil {
		s += fmt.Sprintf("\t<%s %s>", in.ref.kind, f.bin.symName(in.ref.addr))
	} else if to, ok := f.target(in); ok && !f.inside(to) {
		s += fmt.Sprintf("\t<%s>", f.targetName(to))
	} else if ok {
		s += fmt.Sprintf("\t<to +%#x>", to)
	}
	return s
}

// listing disassembles insts[from:to], with labels at the offsets in
// marks.
func (f *a64Func) listing(from, to int, marks map[int]string) string {
	var b strings.Builder
	for _, in := range f.insts[from:to] {
		if m, ok := marks[in.off]; ok {
			fmt.Fprintf(&b, "%s:\n", m)
		}
		fmt.Fprintf(&b, "\t%s\n", f.text(in))
	}
	return b.String()
}

// The register model. Registers are numbered 0 to 30 (W and X alike), 31
// is SP and 32 the condition flags; XZR and WZR are no register.
const (
	a64SP    = 31
	a64Flags = 32
)

type a64Regs uint64

func (s a64Regs) has(r int) bool { return r >= 0 && s&(1<<r) != 0 }
func (s *a64Regs) add(r int) {
	if r >= 0 {
		*s |= 1 << r
	}
}

func a64RegName(r int) string {
	switch r {
	case a64SP:
		return "SP"
	case a64Flags:
		return "the flags"
	}
	return fmt.Sprintf("X%d", r)
}

// a64RegByName maps the decoder's register names to numbers.
var a64RegByName = func() map[string]int {
	m := map[string]int{"WZR": -1, "XZR": -1, "SP": a64SP, "WSP": a64SP}
	for i := 0; i <= 30; i++ {
		m[arm64asm.Reg(arm64asm.W0+arm64asm.Reg(i)).String()] = i
		m[arm64asm.Reg(arm64asm.X0+arm64asm.Reg(i)).String()] = i
	}
	return m
}()

// a64Reg returns the general-purpose register an argument names.
func a64Reg(a arm64asm.Arg) (int, bool) {
	switch a := a.(type) {
	case arm64asm.Reg:
		switch {
		case a >= arm64asm.W0 && a <= arm64asm.W30:
			return int(a - arm64asm.W0), true
		case a >= arm64asm.X0 && a <= arm64asm.X30:
			return int(a - arm64asm.X0), true
		case a == arm64asm.WZR || a == arm64asm.XZR:
			return -1, true
		}
	case arm64asm.RegSP:
		r := arm64asm.Reg(a)
		switch {
		case r >= arm64asm.W0 && r <= arm64asm.W30:
			return int(r - arm64asm.W0), true
		case r >= arm64asm.X0 && r <= arm64asm.X30:
			return int(r - arm64asm.X0), true
		case r == arm64asm.WZR || r == arm64asm.XZR:
			return a64SP, true
		}
	case arm64asm.RegExtshiftAmount: // its register is unexported: read it from the text
		name, _, _ := strings.Cut(a.String(), ",")
		if r, ok := a64RegByName[strings.TrimSpace(name)]; ok {
			return r, true
		}
	}
	return 0, false
}

// a64Is64 reports whether a register argument is an X register (or XZR).
func a64Is64(a arm64asm.Arg) bool {
	r, ok := a.(arm64asm.Reg)
	return ok && (r >= arm64asm.X0 && r <= arm64asm.X30 || r == arm64asm.XZR)
}

// a64Mem is a decoded memory operand.
type a64Mem struct {
	base, index int   // index -1 for none
	disp        int64 // immediate offset (or PC-relative distance)
	writeback   bool  // pre- or post-indexed: the base is written
	pcrel       bool  // a literal load: disp is from the instruction
}

var a64ImmRE = regexp.MustCompile(`#(-?(?:0x)?[0-9a-fA-F]+)`)

// a64MemArg returns the memory operand of a load or store.
func a64MemArg(in arm64asm.Inst) (a64Mem, bool) {
	op := in.Op.String()
	if !a64IsLoad(op) && !a64IsStore(op) && op != "PRFM" && !a64IsAtomic(op) {
		return a64Mem{}, false
	}
	for _, a := range in.Args {
		switch a := a.(type) {
		case arm64asm.MemImmediate:
			m := a64Mem{index: -1}
			m.base, _ = a64Reg(a.Base)
			if a.Mode == arm64asm.AddrPostReg {
				m.writeback = true
				return m, true
			}
			if s := a64ImmRE.FindStringSubmatch(a.String()); s != nil {
				m.disp, _ = strconv.ParseInt(s[1], 0, 64)
			}
			m.writeback = a.Mode == arm64asm.AddrPreIndex || a.Mode == arm64asm.AddrPostIndex
			return m, true
		case arm64asm.MemExtend:
			m := a64Mem{}
			m.base, _ = a64Reg(a.Base)
			m.index, _ = a64Reg(a.Index)
			return m, true
		case arm64asm.PCRel:
			return a64Mem{base: -1, index: -1, disp: int64(a), pcrel: true}, true
		}
	}
	return a64Mem{}, false
}

// Instruction classes, by mnemonic.

func a64IsStore(op string) bool { return strings.HasPrefix(op, "ST") }

func a64IsLoad(op string) bool { return strings.HasPrefix(op, "LD") && !a64IsAtomic(op) }

// a64IsAtomic: LSE read-modify-writes (and their store aliases), swaps,
// compare-and-swaps.
func a64IsAtomic(op string) bool {
	for _, p := range []string{"CAS", "SWP", "LDADD", "LDCLR", "LDEOR", "LDSET", "LDSMAX", "LDSMIN", "LDUMAX", "LDUMIN",
		"STADD", "STCLR", "STEOR", "STSET", "STSMAX", "STSMIN", "STUMAX", "STUMIN"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// a64IsExclusive: load/store-exclusive (LDXR, STXR, LDAXR, STLXR and the
// pair forms) and CLREX.
func a64IsExclusive(op string) bool {
	switch {
	case op == "CLREX":
		return true
	case strings.HasPrefix(op, "LD") || strings.HasPrefix(op, "ST"):
		return strings.Contains(op, "XR") || strings.Contains(op, "XP")
	}
	return false
}

// a64IsOrdered: acquire loads and release stores (LDAR, LDAPR, LDLAR,
// STLR, STLLR, STLUR, LDAPUR), which order memory like a half barrier.
func a64IsOrdered(op string) bool {
	if a64IsExclusive(op) {
		return false
	}
	for _, p := range []string{"LDAR", "LDAPR", "LDAPUR", "LDLAR", "STLR", "STLLR", "STLUR"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

func a64IsBarrier(op string) bool {
	switch op {
	case "DMB", "DSB", "ISB", "SB", "SSBB", "PSSBB", "CSDB":
		return true
	}
	return false
}

// a64IsBranch: direct branches with a PC-relative target.
func a64IsBranch(op string) bool {
	switch op {
	case "B", "BL", "CBZ", "CBNZ", "TBZ", "TBNZ":
		return true
	}
	return false
}

// a64IsUncondB reports an unconditional B.
func a64IsUncondB(in arm64asm.Inst) bool {
	if in.Op.String() != "B" {
		return false
	}
	_, ok := in.Args[0].(arm64asm.PCRel)
	return ok
}

// a64Forbidden reports instructions no critical section may contain:
// calls, returns, indirect branches, traps, system calls, system
// register writes and cache or TLB maintenance.
func a64Forbidden(op string) bool {
	switch op {
	case "BL", "BLR", "BR", "RET", "RETAA", "RETAB", "BLRAA", "BLRAAZ", "BLRAB", "BLRABZ", "BRAA", "BRAAZ", "BRAB", "BRABZ",
		"ERET", "ERETAA", "ERETAB", "SVC", "HVC", "SMC", "BRK", "HLT", "UDF", "DCPS1", "DCPS2", "DCPS3",
		"WFI", "WFE", "MSR", "SYS", "SYSL", "DC", "IC", "TLBI", "AT":
		return true
	}
	return false
}

func a64SetsFlags(op string) bool {
	switch op {
	case "CMP", "CMN", "TST", "CCMP", "CCMN", "ADDS", "SUBS", "ANDS", "BICS", "ADCS", "SBCS", "NEGS", "NGCS", "FCMP", "FCMPE", "FCCMP", "FCCMPE":
		return true
	}
	return false
}

func a64ReadsFlags(in arm64asm.Inst) bool {
	switch in.Op.String() {
	case "CSEL", "CSINC", "CSINV", "CSNEG", "CSET", "CSETM", "CINC", "CINV", "CNEG", "ADC", "ADCS", "SBC", "SBCS", "NGC", "NGCS", "CCMP", "CCMN", "FCSEL":
		return true
	case "B":
		_, ok := in.Args[0].(arm64asm.Cond)
		return ok
	}
	return false
}

// a64Uses returns the registers (and flags) an instruction reads and
// writes. A write of a W register zero-extends: it writes all of it.
func a64Uses(in arm64asm.Inst) (reads, writes a64Regs) {
	op := in.Op.String()
	regArgs := func(from int, s *a64Regs) {
		for _, a := range in.Args[from:] {
			if a == nil {
				break
			}
			if r, ok := a64Reg(a); ok {
				s.add(r)
			}
		}
	}
	mem := func() {
		if m, ok := a64MemArg(in); ok {
			reads.add(m.base)
			reads.add(m.index)
			if m.writeback {
				writes.add(m.base)
			}
		}
	}
	if a64ReadsFlags(in) {
		reads.add(a64Flags)
	}
	if a64SetsFlags(op) {
		writes.add(a64Flags)
	}
	switch {
	case op == "B" || op == "NOP" || op == "BRK" || op == "HINT" || op == "YIELD" || a64IsBarrier(op) || op == "CLREX":
	case op == "BL":
		writes.add(30)
	case op == "BLR" || op == "BR" || op == "RET":
		regArgs(0, &reads)
		if op == "RET" && in.Args[0] == nil {
			reads.add(30)
		}
		if op == "BLR" {
			writes.add(30)
		}
	case op == "CBZ" || op == "CBNZ" || op == "TBZ" || op == "TBNZ":
		regArgs(0, &reads)
	case op == "CMP" || op == "CMN" || op == "TST" || op == "CCMP" || op == "CCMN":
		regArgs(0, &reads)
	case a64IsAtomic(op):
		regArgs(0, &reads)
		regArgs(0, &writes)
		mem()
	case a64IsStore(op):
		if a64IsExclusive(op) { // STXR Ws, Xt, [Xn]: Ws gets the status
			if r, ok := a64Reg(in.Args[0]); ok {
				writes.add(r)
			}
			regArgs(1, &reads)
		} else {
			regArgs(0, &reads)
		}
		mem()
	case a64IsLoad(op) || op == "PRFM":
		if op != "PRFM" {
			for _, a := range in.Args {
				if r, ok := a64Reg(a); ok {
					writes.add(r)
				}
			}
		}
		mem()
	case op == "MSR":
		regArgs(1, &reads)
	default: // data processing: the first argument is the destination
		if r, ok := a64Reg(in.Args[0]); ok {
			writes.add(r)
		}
		switch op {
		case "MOVK", "BFI", "BFXIL", "BFM": // keep the destination's other bits
			regArgs(0, &reads)
		default:
			regArgs(1, &reads)
		}
	}
	return reads, writes
}

// firstRead follows every path of the function's control flow from
// instruction index k and returns the first instruction on one of them
// that reads register r before any writes it. Paths end at RET, at the
// signature word (never executed) and at branches out of the function
// (tail calls of ABI0 functions, which take nothing in registers);
// indirect branches count as reads.
func (f *a64Func) firstRead(k, r int) (a64Inst, bool) {
	seen := map[int]bool{}
	todo := []int{k}
	for len(todo) > 0 {
		k := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for ; k < len(f.insts) && !seen[k]; k++ {
			seen[k] = true
			in := f.insts[k]
			if in.err != nil {
				return in, true
			}
			op := in.Op.String()
			rd, wr := a64Uses(in.Inst)
			if rd.has(r) || op == "BR" || op == "BLR" {
				return in, true
			}
			if wr.has(r) || op == "RET" || op == "BRK" {
				break
			}
			if to, ok := f.target(in); ok && op != "BL" {
				if f.inside(to) {
					todo = append(todo, to/4)
				}
				if a64IsUncondB(in.Inst) {
					break
				}
			}
		}
	}
	return a64Inst{}, false
}
