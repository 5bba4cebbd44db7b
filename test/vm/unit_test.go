// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorseq/gorseq/test/vm/internal/manifest"
)

// readNewc parses a newc archive: name -> (mode, data), in order.
func readNewc(t *testing.T, data []byte) (names []string, modes map[string]uint32, files map[string]string) {
	t.Helper()
	modes, files = map[string]uint32{}, map[string]string{}
	off := 0
	field := func(i int) int {
		v, err := strconv.ParseUint(string(data[off+6+8*i:off+14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("offset %d: field %d: %v", off, i, err)
		}
		return int(v)
	}
	for {
		if off%4 != 0 || string(data[off:off+6]) != "070701" {
			t.Fatalf("offset %d: no newc header", off)
		}
		mode, size, namesize := field(1), field(6), field(11)
		name := string(data[off+110 : off+110+namesize-1])
		off += 110 + namesize
		off = (off + 3) &^ 3
		if name == "TRAILER!!!" {
			if off != len(data) {
				t.Fatalf("%d bytes after the trailer", len(data)-off)
			}
			return
		}
		names = append(names, name)
		modes[name] = uint32(mode)
		files[name] = string(data[off : off+size])
		off += size
		off = (off + 3) &^ 3
	}
}

func TestInitramfs(t *testing.T) {
	host := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(host, []byte("12345"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := newInitramfs()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.chardev("/dev/console", 0o600, 5, 1))
	must(r.file("/vm/bin/prog", host, 0o755))
	must(r.bytes("/vm/manifest.json", []byte("{}"), 0o644))
	must(r.dir("/tmp", 0o755))
	must(r.file("/vm/bin/prog", host, 0o755)) // the same file again: kept once
	if err := r.bytes("/vm/bin/prog", []byte("x"), 0o644); err == nil {
		t.Error("a second, different /vm/bin/prog was accepted")
	}
	var buf bytes.Buffer
	must(r.write(&buf))
	names, modes, files := readNewc(t, buf.Bytes())
	want := []string{"dev", "dev/console", "vm", "vm/bin", "vm/bin/prog", "vm/manifest.json", "tmp"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
	if files["vm/bin/prog"] != "12345" || files["vm/manifest.json"] != "{}" {
		t.Errorf("contents: %q", files)
	}
	if modes["dev/console"] != sIFCHR|0o600 || modes["vm"] != sIFDIR|0o755 || modes["vm/bin/prog"] != sIFREG|0o755 {
		t.Errorf("modes: %v", modes)
	}
}

func TestParseLog(t *testing.T) {
	log := strings.Join([]string{
		"[    0.000000] Linux version 6.1.0",
		"@@vm info kernel=6.1.0-57-amd64 arch=amd64 cpus=2 online=0-1 rseq_feature_size=absent rseq_align=absent\r",
		"@@vm begin a\r",
		"=== RUN   TestX\r",
		"PASS",
		"@@vm end a exit=0 elapsed=1.5s",
		"@@vm begin b",
		"partial line@@vm end b exit=1 elapsed=2s",
		"@@vm begin c",
		"[   9.1] kernel message",
		"@@vm done",
	}, "\n")
	g := parseLog(strings.NewReader(log))
	if g.infoField("kernel") != "6.1.0-57-amd64" || g.infoField("rseq_feature_size") != "absent" {
		t.Errorf("info %q", g.info)
	}
	a, b, c := g.commands["a"], g.commands["b"], g.commands["c"]
	if a == nil || !a.ended || a.exit != "0" || a.elapsed != "1.5s" || !reflect.DeepEqual(a.output, []string{"=== RUN   TestX", "PASS"}) {
		t.Errorf("a: %+v", a)
	}
	if b == nil || !b.ended || b.exit != "1" || !reflect.DeepEqual(b.output, []string{"partial line"}) {
		t.Errorf("b: %+v", b)
	}
	if c == nil || c.ended || !reflect.DeepEqual(c.output, []string{"[   9.1] kernel message"}) {
		t.Errorf("c: %+v", c)
	}
	if !g.done || len(g.boot) != 1 {
		t.Errorf("done %v, boot %q", g.done, g.boot)
	}
}

func TestUnzboot(t *testing.T) {
	plain := []byte("ARMd kernel image")
	if out, err := unzboot(plain); err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("plain image: %q, %v", out, err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	hdr := make([]byte, 64)
	copy(hdr, "MZ")
	copy(hdr[4:], "zimg")
	binary.LittleEndian.PutUint32(hdr[8:], 64)
	binary.LittleEndian.PutUint32(hdr[12:], uint32(z.Len()))
	copy(hdr[24:], "gzip")
	image := append(hdr, z.Bytes()...)
	if out, err := unzboot(image); err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("zboot gzip image: %q, %v", out, err)
	}
	copy(hdr[24:], "zstd")
	if _, err := unzboot(append(hdr, z.Bytes()...)); err == nil {
		t.Error("zboot zstd image: no error")
	}
}

func TestSelectKernels(t *testing.T) {
	for spec, want := range map[string][]string{
		"":                     {"amd64/6.1", "amd64/6.12", "arm64/6.1", "arm64/6.12"},
		"all":                  {"amd64/6.1", "amd64/6.12", "arm64/6.1", "arm64/6.12"},
		"arm64/6.1,amd64/6.12": {"amd64/6.12", "arm64/6.1"},
		"arm64":                {"arm64/6.1", "arm64/6.12"},
	} {
		ks, err := selectKernels(spec)
		if err != nil {
			t.Errorf("%q: %v", spec, err)
			continue
		}
		var got []string
		for _, k := range ks {
			got = append(got, k.name())
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, want %q", spec, got, want)
		}
	}
	if _, err := selectKernels("riscv64"); err == nil {
		t.Error("riscv64: no error")
	}
}

// TestPayload checks the payload list: valid commands, names unique, and
// bench only with GORSEQ_VM_BENCH=1 and in one arm64 guest.
func TestPayload(t *testing.T) {
	m := manifest.Manifest{}
	for _, p := range payload {
		m.Commands = append(m.Commands, manifest.Command{Name: p.name, Argv: []string{p.binary()}, Timeout: p.timeout})
		if p.timeout <= 0 || p.timeout > 30*time.Minute {
			t.Errorf("%s: timeout %v", p.name, p.timeout)
		}
	}
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
	count := func() int {
		n := 0
		for _, k := range kernels {
			for _, p := range programsFor(k, kernels, func(string) bool { return true }) {
				if p.name == "bench" {
					n++
					if k.name() != "arm64/6.12" {
						t.Errorf("bench in %s", k.name())
					}
				}
			}
		}
		return n
	}
	t.Setenv("GORSEQ_VM_BENCH", "")
	if n := count(); n != 0 {
		t.Errorf("bench in %d guests without GORSEQ_VM_BENCH", n)
	}
	t.Setenv("GORSEQ_VM_BENCH", "1")
	if n := count(); n != 1 {
		t.Errorf("bench in %d guests with GORSEQ_VM_BENCH=1", n)
	}
}
