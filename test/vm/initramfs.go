// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// An initramfs collects the files of a guest's root file system and
// writes them as the kernel's initramfs format: a cpio archive in the
// "newc" format (see the kernel's Documentation/driver-api/early-userspace/
// buffer-format.rst), uncompressed. Parent directories are added before
// their entries.
type initramfs struct {
	entries []cpioEntry
	paths   map[string]bool
}

// A cpioEntry is one file of the archive: a directory, a regular file
// (from host, or data), or a character device.
type cpioEntry struct {
	name         string // without the leading slash
	mode         uint32 // type and permissions
	host         string // regular file: copy this host file...
	data         []byte // ...or write these bytes
	rmajor, rmin uint32 // character device
}

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFCHR = 0o020000
)

func newInitramfs() *initramfs { return &initramfs{paths: map[string]bool{}} }

// add records e after its parent directories; a path added twice keeps
// its first entry unless both are regular files, which is an error
// unless they come from the same host file.
func (r *initramfs) add(e cpioEntry) error {
	e.name = strings.TrimPrefix(path.Clean("/"+e.name), "/")
	if e.name == "" {
		return nil
	}
	if dir := path.Dir(e.name); dir != "." {
		if err := r.add(cpioEntry{name: dir, mode: sIFDIR | 0o755}); err != nil {
			return err
		}
	}
	if r.paths[e.name] {
		if e.mode&sIFDIR != 0 {
			return nil
		}
		for _, old := range r.entries {
			if old.name == e.name && old.host != "" && old.host == e.host {
				return nil
			}
		}
		return fmt.Errorf("initramfs: /%s added twice", e.name)
	}
	r.paths[e.name] = true
	r.entries = append(r.entries, e)
	return nil
}

// dir adds a directory.
func (r *initramfs) dir(name string, perm uint32) error {
	return r.add(cpioEntry{name: name, mode: sIFDIR | perm})
}

// file adds the host file host at name with perm.
func (r *initramfs) file(name, host string, perm uint32) error {
	if _, err := os.Stat(host); err != nil {
		return err
	}
	return r.add(cpioEntry{name: name, mode: sIFREG | perm, host: host})
}

// bytes adds a regular file holding data.
func (r *initramfs) bytes(name string, data []byte, perm uint32) error {
	return r.add(cpioEntry{name: name, mode: sIFREG | perm, data: data})
}

// chardev adds a character device node.
func (r *initramfs) chardev(name string, perm, major, minor uint32) error {
	return r.add(cpioEntry{name: name, mode: sIFCHR | perm, rmajor: major, rmin: minor})
}

// files returns the archive's paths, sorted (for logs and tests).
func (r *initramfs) files() []string {
	var names []string
	for _, e := range r.entries {
		names = append(names, "/"+e.name)
	}
	sort.Strings(names)
	return names
}

// writeFile writes the archive to name and returns its size.
func (r *initramfs) writeFile(name string) (int64, error) {
	f, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: bufio.NewWriterSize(f, 1<<20)}
	err = r.write(cw)
	if err == nil {
		err = cw.w.(*bufio.Writer).Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return cw.n, err
}

// write writes the archive to w: every entry, then the trailer.
func (r *initramfs) write(w io.Writer) error {
	cw, ok := w.(*countWriter)
	if !ok {
		cw = &countWriter{w: w}
	}
	for i, e := range r.entries {
		if err := writeEntry(cw, uint32(i+1), e); err != nil {
			return fmt.Errorf("initramfs: /%s: %v", e.name, err)
		}
	}
	return writeEntry(cw, 0, cpioEntry{name: "TRAILER!!!"})
}

func writeEntry(w *countWriter, ino uint32, e cpioEntry) error {
	var size int64
	var src io.Reader
	switch {
	case e.host != "":
		f, err := os.Open(e.host)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		size, src = st.Size(), f
	case e.mode&sIFREG != 0:
		size, src = int64(len(e.data)), strings.NewReader(string(e.data))
	}
	if size > 0xffffffff {
		return fmt.Errorf("%d bytes: too large for newc", size)
	}
	nlink := 1
	if e.mode&sIFDIR != 0 {
		nlink = 2
	}
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	// devminor, rdevmajor, rdevminor, namesize (with the NUL), check.
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, e.mode, 0, 0, nlink, 0, size, 0, 0, e.rmajor, e.rmin, len(e.name)+1, 0)
	if _, err := io.WriteString(w, hdr+e.name+"\x00"); err != nil {
		return err
	}
	if err := w.pad(); err != nil {
		return err
	}
	if src != nil {
		n, err := io.Copy(w, src)
		if err != nil {
			return err
		}
		if n != size {
			return fmt.Errorf("copied %d bytes of %d", n, size)
		}
	}
	return w.pad()
}

// A countWriter counts what it writes and pads to 4 bytes.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countWriter) pad() error {
	if r := c.n % 4; r != 0 {
		_, err := c.Write(make([]byte, 4-r))
		return err
	}
	return nil
}
