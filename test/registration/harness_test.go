// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && (amd64 || arm64)

package registration

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorseq/gorseq/internal/childtest"
)

// The child programs of the suite: what each test runs, by name (see
// internal/childtest for the modes: built here, or prebuilt for a guest).
var children = childtest.Children{
	// The pure-Go probe, with the patched toolchain, the stock one with
	// -overlay, and the stock one alone.
	"probe":         {Toolchain: childtest.Patched, Pkg: testdata + "probe"},
	"probe-overlay": {Toolchain: childtest.Overlay, Pkg: testdata + "probe"},
	"probe-stock":   {Toolchain: childtest.Stock, Pkg: testdata + "probe"},
	// A PIE without cgo: glibc's dynamic loader is its interpreter.
	"probe-pie": {Toolchain: childtest.Patched, Pkg: testdata + "probe", Flags: []string{"-buildmode=pie"}},
	// The probe with runtime/cgo linked in and no C code of its own:
	// the go command links it internally by default.
	"probe-runtime-cgo": {Toolchain: childtest.Patched, Pkg: testdata + "probe", Flags: []string{"-tags=withcgo"}, Cgo: true},
	// The cgo child, linked as the go command chooses (external for a
	// package with C code), and with each link mode asked for.
	"cgoprobe":          {Toolchain: childtest.Patched, Pkg: testdata + "cgoprobe", Cgo: true},
	"cgoprobe-external": {Toolchain: childtest.Patched, Pkg: testdata + "cgoprobe", Flags: []string{"-ldflags=-linkmode=external"}, Cgo: true},
	"cgoprobe-internal": {Toolchain: childtest.Patched, Pkg: testdata + "cgoprobe", Flags: []string{"-ldflags=-linkmode=internal"}, Cgo: true},
	// The seccomp wrapper, with the stock toolchain: no rseq of its own.
	"seccomp": {Toolchain: childtest.Stock, Pkg: testdata + "seccomp"},
}

const testdata = "./test/registration/testdata/"

func TestMain(m *testing.M) { childtest.Main(m, "registration", children) }

// cgoProbe is the cgo child, linked as linkmode says ("" for the go
// command's choice, external for this package).
func cgoProbe(t *testing.T, linkmode string) string {
	t.Helper()
	if linkmode == "" {
		return childtest.Binary(t, "cgoprobe")
	}
	return childtest.Binary(t, "cgoprobe-"+linkmode)
}

// A run is the output of one child run.
type run struct {
	t      *testing.T
	desc   string
	stdout string
	stderr string
	kv     map[string]string
	multi  map[string][]string // keys that appear more than once, error and *_fail
	dumped bool
}

// runChild runs bin with args in the clean environment plus env, and fails
// the test unless it exits 0 with done=1 on stdout, no error or *_fail
// lines, and nothing on stderr.
func runChild(t *testing.T, env []string, bin string, args ...string) *run {
	t.Helper()
	timeout := childtest.Timeout(t, 2*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childtest.CleanEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := &run{
		t:      t,
		desc:   fmt.Sprintf("%v %s %s", env, filepath.Base(bin), strings.Join(args, " ")),
		stdout: stdout.String(),
		stderr: stderr.String(),
		kv:     map[string]string{},
		multi:  map[string][]string{},
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if _, dup := r.kv[k]; dup || k == "error" || strings.HasSuffix(k, "_fail") {
			r.multi[k] = append(r.multi[k], v)
		}
		r.kv[k] = v
	}
	t.Logf("ran %s in %v", r.desc, time.Since(start).Round(time.Millisecond))
	if err != nil && ctx.Err() != nil {
		r.errorf("exit: %v (killed as hung after %v)", err, timeout.Round(time.Second))
	} else if err != nil {
		r.errorf("exit: %v", err)
	}
	if r.stderr != "" {
		r.errorf("unexpected output on stderr")
	}
	if r.kv["done"] != "1" {
		r.errorf("no done=1 line")
	}
	for k, vs := range r.multi {
		if k == "error" || strings.HasSuffix(k, "_fail") {
			r.errorf("%s: %q", k, vs)
		}
	}
	return r
}

// errorf reports a failure of the run, with the child's full output the
// first time.
func (r *run) errorf(format string, args ...any) {
	r.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if !r.dumped {
		r.dumped = true
		msg += fmt.Sprintf("\n--- %s\n--- stdout:\n%s--- stderr:\n%s---", r.desc, r.stdout, r.stderr)
	}
	r.t.Errorf("%s: %s", r.desc, msg)
}

// str returns the value of key, failing if it is missing.
func (r *run) str(key string) string {
	r.t.Helper()
	v, ok := r.kv[key]
	if !ok {
		r.errorf("no %s line", key)
	}
	return v
}

// num returns the integer value of key; a missing key counts as 0 (the
// tallies print only the results that occurred).
func (r *run) num(key string) int {
	r.t.Helper()
	v, ok := r.kv[key]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.errorf("%s=%q is not a number", key, v)
	}
	return n
}

// want checks key=value.
func (r *run) want(key, value string) {
	r.t.Helper()
	if got := r.str(key); got != value {
		r.errorf("%s=%q, want %q", key, got, value)
	}
}

// wantNum checks that key is the number n.
func (r *run) wantNum(key string, n int) {
	r.t.Helper()
	if got := r.num(key); got != n {
		r.errorf("%s=%d, want %d", key, got, n)
	}
}

// wantContains checks that key's value contains sub.
func (r *run) wantContains(key, sub string) {
	r.t.Helper()
	if got := r.str(key); !strings.Contains(got, sub) {
		r.errorf("%s=%q, want it to contain %q", key, got, sub)
	}
}

// threads describes what every thread of a tally must show: n threads,
// on n distinct thread ids unless distinct says otherwise, each with
// Probe == probe; Area == area (rseqcheck.SameArea, "unchecked" when it
// was not asked); the thread-pointer path never a mismatch; and percpu.CPU
// agreeing with getcpu.
type threads struct {
	n, distinct int
	probe, area string
}

func (r *run) wantThreads(prefix string, w threads) {
	r.t.Helper()
	if w.distinct == 0 {
		w.distinct = w.n
	}
	r.wantNum(prefix+"_threads", w.n)
	r.wantNum(prefix+"_distinct_tids", w.distinct)
	r.wantNum(prefix+"_probe_"+w.probe, w.n)
	r.wantNum(prefix+"_area_"+w.area, w.n)
	r.wantNum(prefix+"_tp_mismatch", 0)
	if got := r.num(prefix+"_tp_match") + r.num(prefix+"_tp_unchecked"); got != w.n {
		r.errorf("%s_tp_match+%s_tp_unchecked=%d, want %d", prefix, prefix, got, w.n)
	}
	r.wantNum(prefix+"_cpu_bad", 0)
}

// wantStatus checks the mode and the runtime's view of it.
func (r *run) wantStatus(mode string) {
	r.t.Helper()
	r.want("mode", mode)
	switch mode {
	case "own":
		r.want("rt_mode", "1")
	case "glibc":
		r.want("rt_mode", "2")
		// glibc's area is at a fixed offset from the thread pointer
		// on every thread, and the runtime says so with the rule of
		// the architecture, which wantThreads then checks per thread.
		r.want("rt_tp_area", tpRule)
	}
	if mode != "fallback" {
		r.want("reason", "")
		r.want("abi_version", "1")
		r.wantNum("threads_failed", 0)
		r.wantNum("rt_threads_failed", 0)
		// node_id and mm_cid come with feature size 24 and 28.
		fs := r.num("feature_size")
		r.want("node_available", strconv.FormatBool(fs >= 24))
		r.want("cid_available", strconv.FormatBool(fs >= 28))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// tpRule is the thread-pointer rule (gorseqABI.tpArea) of the
// architecture: area = *(%fs:0) + tpOffset on amd64, TPIDR_EL0 + tpOffset
// on arm64.
var tpRule = map[string]string{"amd64": "1", "arm64": "2"}[runtime.GOARCH]
