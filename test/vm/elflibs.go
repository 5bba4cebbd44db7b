// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// A libc is where a guest's dynamically linked programs get their
// loader and shared libraries: the host's glibc for amd64, the Debian
// cross sysroot (libc6-arm64-cross) for arm64. Both are glibc 2.36.
type libc struct {
	machine  elf.Machine
	hostDirs []string // searched in order for the loader and each library
	guestDir string   // where the libraries go in the guest (the multiarch directory glibc's loader searches)
}

var libcs = map[string]libc{
	"amd64": {elf.EM_X86_64, []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64"}, "/lib/x86_64-linux-gnu"},
	"arm64": {elf.EM_AARCH64, []string{"/usr/aarch64-linux-gnu/lib"}, "/lib/aarch64-linux-gnu"},
}

// addELF adds the program host at name, and, when it is dynamically
// linked, its loader (at its PT_INTERP path) and every library it needs
// (DT_NEEDED, transitively). It fails on an ELF for another machine.
func (r *initramfs) addELF(name, host, arch string) error {
	lc, ok := libcs[arch]
	if !ok {
		return fmt.Errorf("no libc for GOARCH %s", arch)
	}
	interp, needed, err := elfInfo(host, lc.machine)
	if err != nil {
		return err
	}
	if err := r.file(name, host, 0o755); err != nil {
		return err
	}
	if interp == "" && len(needed) == 0 {
		return nil // static
	}
	if interp != "" {
		h, err := lc.find(path.Base(interp))
		if err != nil {
			return fmt.Errorf("%s: loader: %v", host, err)
		}
		if err := r.file(interp, h, 0o755); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for len(needed) > 0 {
		lib := needed[0]
		needed = needed[1:]
		if seen[lib] {
			continue
		}
		seen[lib] = true
		h, err := lc.find(lib)
		if err != nil {
			return fmt.Errorf("%s: %v", host, err)
		}
		_, more, err := elfInfo(h, lc.machine)
		if err != nil {
			return err
		}
		needed = append(needed, more...)
		if err := r.file(path.Join(lc.guestDir, lib), h, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// find returns the host path of the library name.
func (lc libc) find(name string) (string, error) {
	for _, dir := range lc.hostDirs {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %v", name, lc.hostDirs)
}

// elfInfo returns the PT_INTERP path and the DT_NEEDED names of the ELF
// file name, which must be for machine.
func elfInfo(name string, machine elf.Machine) (interp string, needed []string, err error) {
	f, err := elf.Open(name)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	if f.Machine != machine {
		return "", nil, fmt.Errorf("%s: ELF for %v, want %v", name, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			data := make([]byte, p.Filesz)
			if _, err := p.ReadAt(data, 0); err != nil {
				return "", nil, fmt.Errorf("%s: PT_INTERP: %v", name, err)
			}
			if n := len(data); n > 0 && data[n-1] == 0 {
				data = data[:n-1]
			}
			interp = string(data)
		}
	}
	needed, err = f.ImportedLibraries()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return "", nil, fmt.Errorf("%s: DT_NEEDED: %v", name, err)
	}
	return interp, needed, nil
}
