// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// A program is one command of the guests' payload: a test binary (go
// test -c) or a command (go build) of this module, built on the host with
// the patched toolchain for the guest's GOARCH and run in the guest.
type program struct {
	name string // sub-test, marker and binary name
	pkg  string // the package, module-relative ("./percpu")
	test bool   // go test -c, else go build
	tags string // -tags
	cgo  bool   // CGO_ENABLED=1 (with the cross compiler for arm64); the guest gets glibc
	// children: the suite's child programs are prebuilt on the host
	// (GORSEQ_PREBUILD_OUT, GORSEQ_CHILD_GOARCH; internal/childtest)
	// and the guest's run uses them (GORSEQ_CHILDREN).
	children bool
	args     []string
	env      []string
	timeout  time.Duration // in the guest
	// output, if set, is a file under the cache directory that gets the
	// command's output (%s is the guest's arch-series).
	output string
	// only, if set, picks the guests that run the program among the
	// selected ones (default: all).
	only func(k kernel, selected []kernel) bool
}

// testFlags are every guest test binary's flags.
var testFlags = []string{"-test.short", "-test.v", "-test.timeout", "10m"}

// stressRun is the stress matrix a guest runs: every scenario with
// delay injection and with signals, at delay point 2 (12 runs of 1 s, 2
// at a time). The stress suite runs without -test.short, which would
// keep one kind per scenario and point.
const stressRun = `^[a-z]+/p2/(delay|signal)$`

// payload is every guest's run, in order: the one list to extend.
var payload = []program{
	// percpu's tests on the runtime's own registration (no cgo).
	{name: "percpu", pkg: "./percpu", test: true, args: testFlags, env: []string{"GORSEQ_EXPECT=rseq"}, timeout: 11 * time.Minute},
	// The same with the test-only delay loops inside the sections.
	{name: "percpu-inject", pkg: "./percpu", test: true, tags: "gorseq_inject", args: testFlags, env: []string{"GORSEQ_EXPECT=rseq"}, timeout: 11 * time.Minute},
	// percpu's tests with runtime/cgo linked in (-tags gorseq_cgo,
	// percpu/cgo_link_test.go): glibc registered rseq for every thread
	// and the runtime adopted its areas; TestExpectedMode checks the
	// mode is "rseq (glibc)".
	{name: "percpu-cgo", pkg: "./percpu", test: true, tags: "gorseq_cgo", cgo: true,
		args: testFlags, env: []string{"GORSEQ_EXPECT=glibc"}, timeout: 11 * time.Minute},
	// The registration suite, on prebuilt children.
	{name: "registration", pkg: "./test/registration", test: true, children: true, args: testFlags, env: []string{"GORSEQ_EXPECT=rseq"}, timeout: 11 * time.Minute},
	// The stress suite, bounded to one injection point.
	{name: "stress", pkg: "./test/stress", test: true, children: true, args: []string{"-test.v", "-test.timeout", "10m"},
		env: []string{"GORSEQ_EXPECT=rseq", "GORSEQ_STRESS_RUN=" + stressRun}, timeout: 11 * time.Minute},
	// percpu bench, with GORSEQ_VM_BENCH=1 only, in one arm64 guest (the
	// last one selected): indicative emulated timings.
	{name: "bench", pkg: "./cmd/percpu", args: []string{"bench"}, timeout: 20 * time.Minute,
		output: "bench/percpu-bench-%s.txt", only: benchGuest},
}

// benchGuest picks the last selected arm64 guest, and only with
// GORSEQ_VM_BENCH=1.
func benchGuest(k kernel, selected []kernel) bool {
	if os.Getenv("GORSEQ_VM_BENCH") != "1" {
		return false
	}
	var last kernel
	for _, s := range selected {
		if s.arch == "arm64" {
			last = s
		}
	}
	return k == last
}

// binary is the program's file name.
func (p program) binary() string {
	if p.test {
		return p.name + ".test"
	}
	return p.name
}

// A builder builds programs for one GOARCH into dir.
type builder struct {
	root  string // the module root
	goBin string // the patched go
	arch  string
	dir   string
	logf  func(string, ...any)
}

// goEnv is the go command's environment: the test's own without what
// the builds choose (the target, cgo, flags, and the guest-side GORSEQ_
// settings), plus extra.
func goEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOROOT", "GOTOOLCHAIN", "GOFLAGS", "GOOS", "GOARCH", "CGO_ENABLED", "CC", "CXX", "GODEBUG", "GOMAXPROCS", "GOGC", "GLIBC_TUNABLES",
			"GORSEQ_EXPECT", "GORSEQ_CHILDREN", "GORSEQ_PREBUILD_OUT", "GORSEQ_CHILD_GOARCH":
			continue
		}
		if strings.HasPrefix(k, "GORSEQ_STRESS_") || strings.HasPrefix(k, "GORSEQ_VM") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// run runs the go command in the module root, in goEnv(extra...).
func (b *builder) run(extra []string, args ...string) error {
	cmd := exec.Command(b.goBin, args...)
	cmd.Dir = b.root
	cmd.Env = goEnv(extra...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s %s: %v\n%s", strings.Join(extra, " "), b.goBin, strings.Join(args, " "), err, out.Bytes())
	}
	return nil
}

// build builds p into b.dir, and its children into b.dir/children/NAME.
func (b *builder) build(p program) error {
	env := []string{"GOOS=linux", "GOARCH=" + b.arch, "CGO_ENABLED=0"}
	if p.cgo {
		env[2] = "CGO_ENABLED=1"
		if b.arch == "arm64" {
			env = append(env, "CC=aarch64-linux-gnu-gcc")
		}
	}
	args := []string{"build"}
	if p.test {
		args = []string{"test", "-c"}
	}
	args = append(args, "-o", filepath.Join(b.dir, p.binary()))
	if p.tags != "" {
		args = append(args, "-tags", p.tags)
	}
	args = append(args, p.pkg)
	if err := b.run(env, args...); err != nil {
		return err
	}
	if !p.children {
		return nil
	}
	// The host's go test of the suite with the prebuild settings builds
	// the children and exits without running a test (-run '^$' makes sure
	// of that even if the mode were missing; then the directory stays
	// empty, which fails here).
	out := b.childrenDir(p)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := b.run([]string{"GORSEQ_PREBUILD_OUT=" + out, "GORSEQ_CHILD_GOARCH=" + b.arch}, "test", "-count=1", "-run", "^$", p.pkg); err != nil {
		return err
	}
	if ents, err := os.ReadDir(out); err != nil || len(ents) == 0 {
		return fmt.Errorf("GORSEQ_PREBUILD_OUT=%s GORSEQ_CHILD_GOARCH=%s go test %s built no children (%v)", out, b.arch, p.pkg, err)
	}
	return nil
}

func (b *builder) childrenDir(p program) string { return filepath.Join(b.dir, "children", p.name) }

// Guest paths.
const (
	guestBin      = "/vm/bin"
	guestChildren = "/vm/children"
)
