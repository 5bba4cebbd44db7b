// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && amd64

package registration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorseq/gorseq/internal/childtest"
)

func TestMain(m *testing.M) { childtest.Main(m, "registration") }

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// overlayFile returns the overlay for the stock go.
func overlayFile(t *testing.T) string {
	t.Helper()
	path := os.Getenv("GORSEQ_OVERLAY")
	if path == "" {
		path = filepath.Join(childtest.ModuleRoot, "_toolchain", "overlay.json")
	}
	if !fileExists(path) {
		t.Fatalf("overlay %s not found: run ./build.sh first (or set GORSEQ_OVERLAY)", path)
	}
	return path
}

var stock struct {
	once  sync.Once
	goBin string
	err   error
}

// goroot returns the GOROOT of the go command goBin.
func goroot(goBin string) (string, error) {
	cmd := exec.Command(goBin, "env", "GOROOT")
	cmd.Env = childtest.CleanEnv("GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s env GOROOT: %v", goBin, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// isPatched reports whether the GOROOT of goBin has the gorseq runtime.
func isPatched(goBin string) (bool, error) {
	root, err := goroot(goBin)
	if err != nil {
		return false, err
	}
	return fileExists(filepath.Join(root, "src", "runtime", "rseq_linux.go")), nil
}

// stockGo returns a go command whose GOROOT has no gorseq patch.
func stockGo(t *testing.T) string {
	t.Helper()
	stock.once.Do(func() {
		if goBin := os.Getenv("GORSEQ_STOCK_GO"); goBin != "" {
			stock.goBin = goBin
			patched, err := isPatched(goBin)
			if err == nil && patched {
				err = fmt.Errorf("GORSEQ_STOCK_GO=%s has the gorseq patch", goBin)
			}
			stock.err = err
			return
		}
		var tried []string
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			goBin := filepath.Join(dir, "go")
			if !fileExists(goBin) {
				continue
			}
			patched, err := isPatched(goBin)
			if err == nil && !patched {
				stock.goBin = goBin
				return
			}
			tried = append(tried, goBin)
		}
		stock.err = fmt.Errorf("no unpatched go on PATH (tried %v): set GORSEQ_STOCK_GO", tried)
	})
	if stock.err != nil {
		t.Fatal(stock.err)
	}
	return stock.goBin
}

// A build is one child program built one way. Builds are shared by the
// tests of a run: the first test that needs one makes it.
type build struct {
	goBin string   // go command
	pkg   string   // directory under testdata
	flags []string // build flags
	env   []string // extra environment (CGO_ENABLED)
}

var builds struct {
	mu   sync.Mutex
	done map[string]*buildResult
}

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// binary returns the path of b's executable, building it if needed.
func (b build) binary(t *testing.T) string {
	t.Helper()
	key := fmt.Sprintf("%s|%s|%q|%q", b.goBin, b.pkg, b.flags, b.env)
	builds.mu.Lock()
	if builds.done == nil {
		builds.done = map[string]*buildResult{}
	}
	r := builds.done[key]
	if r == nil {
		r = &buildResult{}
		builds.done[key] = r
	}
	n := len(builds.done)
	builds.mu.Unlock()

	r.once.Do(func() {
		out := filepath.Join(childtest.BuildDir, fmt.Sprintf("%s-%d", b.pkg, n))
		args := append([]string{"build", "-C", childtest.ModuleRoot, "-o", out}, b.flags...)
		args = append(args, "./test/registration/testdata/"+b.pkg)
		cmd := exec.Command(b.goBin, args...)
		cmd.Env = childtest.CleanEnv(append([]string{"GOTOOLCHAIN=local"}, b.env...)...)
		start := time.Now()
		if output, err := cmd.CombinedOutput(); err != nil {
			r.err = fmt.Errorf("%v (env %v): %v\n%s", cmd.Args, b.env, err, output)
			return
		}
		t.Logf("built %s with %s %v %v in %v", b.pkg, b.goBin, b.flags, b.env, time.Since(start).Round(time.Millisecond))
		r.path = out
	})
	if r.err != nil {
		t.Fatalf("build: %v", r.err)
	}
	return r.path
}

// The child programs.
func probePatched(t *testing.T) string {
	t.Helper()
	return build{goBin: childtest.PatchedGo(t), pkg: "probe", env: []string{"CGO_ENABLED=0"}}.binary(t)
}

func probeStock(t *testing.T) string {
	t.Helper()
	return build{goBin: stockGo(t), pkg: "probe", env: []string{"CGO_ENABLED=0"}}.binary(t)
}

func probeOverlay(t *testing.T) string {
	t.Helper()
	return build{goBin: stockGo(t), pkg: "probe", flags: []string{"-overlay=" + overlayFile(t)}, env: []string{"CGO_ENABLED=0"}}.binary(t)
}

// probeRuntimeCgo is the probe with runtime/cgo linked in and no C code
// of its own: the go command links it internally by default.
func probeRuntimeCgo(t *testing.T) string {
	t.Helper()
	return build{goBin: childtest.PatchedGo(t), pkg: "probe", flags: []string{"-tags=withcgo"}, env: []string{"CGO_ENABLED=1"}}.binary(t)
}

// cgoProbe is the cgo child, linked as linkmode says ("" for the go
// command's choice, external for this package).
func cgoProbe(t *testing.T, linkmode string) string {
	t.Helper()
	var flags []string
	if linkmode != "" {
		flags = []string{"-ldflags=-linkmode=" + linkmode}
	}
	return build{goBin: childtest.PatchedGo(t), pkg: "cgoprobe", flags: flags, env: []string{"CGO_ENABLED=1"}}.binary(t)
}

func seccompWrapper(t *testing.T) string {
	t.Helper()
	return build{goBin: stockGo(t), pkg: "seccomp", env: []string{"CGO_ENABLED=0"}}.binary(t)
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
	if err != nil {
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
