// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build cgo && gorseq_cgo

package percpu

import (
	"debug/elf"
	"errors"
	"os"
	"testing"
)

// TestLoaderSymbols looks up glibc's rseq symbols in the dynamic loader
// mapped in this process (cgo builds have one) through each hash table it
// has, and checks the addresses against the loader's file read with
// debug/elf.
func TestLoaderSymbols(t *testing.T) {
	base := auxvValue(atBase)
	if base == 0 {
		t.Fatal("AT_BASE is 0 in a cgo build")
	}
	ld, err := openLoadedELF(base, archELFMachine)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	var interp string
	for _, p := range exe.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				t.Fatal(err)
			}
			interp = string(b[:len(b)-1])
		}
	}
	if interp == "" {
		t.Fatal("no PT_INTERP in a cgo build")
	}
	f, err := elf.Open(interp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uintptr{}
	for _, s := range syms {
		want[s.Name] = base + uintptr(s.Value)
	}
	tables := 0
	for _, table := range []struct {
		name   string
		has    bool
		lookup func(string) (uintptr, error)
	}{
		{"DT_GNU_HASH", ld.gnuHash != 0, ld.lookupGNU},
		{"DT_HASH", ld.hash != 0, ld.lookupSysV},
	} {
		if !table.has {
			t.Logf("%s: no %s", interp, table.name)
			continue
		}
		tables++
		for _, name := range []string{"__rseq_offset", "__rseq_size", "__rseq_flags"} {
			got, err := table.lookup(name)
			if err != nil || got != want[name] || got == 0 {
				t.Errorf("%s: %s: %#x, %v; debug/elf says %#x", table.name, name, got, err, want[name])
			}
		}
		if _, err := table.lookup("__rseq_no_such_symbol"); !errors.Is(err, errNoSymbol) {
			t.Errorf("%s: a missing symbol: %v, want errNoSymbol", table.name, err)
		}
	}
	if tables == 0 {
		t.Errorf("%s has neither DT_GNU_HASH nor DT_HASH", interp)
	}
	if os.Getenv("GLIBC_TUNABLES") == "" && Status().ABIVersion == 0 && Status().Mode != ModeRseqGlibc {
		t.Errorf("stock runtime with cgo and glibc's registration: mode %v (%s)", Status().Mode, Status().Reason)
	}
}
