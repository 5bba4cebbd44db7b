// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/gorseq/gorseq/test/vm/internal/manifest"
)

// programsFor returns the programs of payload that guest k runs, among
// the selected guests, whose names match keep.
func programsFor(k kernel, selected []kernel, keep func(string) bool) []program {
	var ps []program
	for _, p := range payload {
		if (p.only == nil || p.only(k, selected)) && keep(p.name) {
			ps = append(ps, p)
		}
	}
	return ps
}

// assemble returns the initramfs of a guest that runs progs (built by b)
// under /init (initBin), and its manifest.
func assemble(b *builder, initBin string, progs []program) (*initramfs, *manifest.Manifest, error) {
	r := newInitramfs()
	for _, d := range []string{"/proc", "/sys", "/dev", "/tmp", "/root", guestBin} {
		if err := r.dir(d, 0o755); err != nil {
			return nil, nil, err
		}
	}
	// The kernel opens /dev/console for /init's stdin, stdout and stderr
	// before /init mounts devtmpfs.
	if err := r.chardev("/dev/console", 0o600, 5, 1); err != nil {
		return nil, nil, err
	}
	if err := r.bytes("/etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		return nil, nil, err
	}
	if err := r.bytes("/etc/group", []byte("root:x:0:\n"), 0o644); err != nil {
		return nil, nil, err
	}
	if err := r.addELF("/init", initBin, b.arch); err != nil {
		return nil, nil, err
	}
	m := &manifest.Manifest{}
	for _, p := range progs {
		bin := path.Join(guestBin, p.binary())
		if err := r.addELF(bin, filepath.Join(b.dir, p.binary()), b.arch); err != nil {
			return nil, nil, err
		}
		c := manifest.Command{
			Name:    p.name,
			Argv:    append([]string{bin}, p.args...),
			Env:     append([]string{}, p.env...),
			Dir:     "/tmp",
			Timeout: p.timeout,
		}
		if p.children {
			dir := path.Join(guestChildren, p.name)
			if err := r.addTree(dir, b.childrenDir(p), b.arch); err != nil {
				return nil, nil, err
			}
			c.Env = append(c.Env, "GORSEQ_CHILDREN="+dir)
		}
		m.Commands = append(m.Commands, c)
	}
	data, err := m.Encode()
	if err != nil {
		return nil, nil, err
	}
	if err := r.bytes(manifest.Path, data, 0o644); err != nil {
		return nil, nil, err
	}
	return r, m, nil
}

// addTree adds the host directory host at dir: ELF files with their
// libraries, other files as they are.
func (r *initramfs) addTree(dir, host, arch string) error {
	return filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(host, p)
		if err != nil {
			return err
		}
		name := path.Join(dir, filepath.ToSlash(rel))
		if d.IsDir() {
			return r.dir(name, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if isELF(p) {
			return r.addELF(name, p, arch)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return r.file(name, p, uint32(info.Mode().Perm()))
	})
}

func isELF(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, _ := f.Read(magic)
	return n == 4 && bytes.Equal(magic, []byte("\x7fELF"))
}
