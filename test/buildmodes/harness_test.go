// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && amd64

package buildmodes

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

func TestMain(m *testing.M) {
	// No table: this suite builds its children itself (libraries and C
	// programs that childtest's table cannot describe), into
	// childtest.BuildDir.
	childtest.Main(m, "buildmodes", nil)
}

const testdata = "./test/buildmodes/testdata/"

// A toolchain is a go command that builds children.
type toolchain int

const (
	stock   toolchain = iota // the stock go
	patched                  // the patched go
	overlay                  // the stock go with -overlay
)

func (tc toolchain) String() string {
	return [...]string{"stock", "patched", "overlay"}[tc]
}

// A goBuild says how to build one child with the go command: the
// toolchain, the package (relative to the module root), the build flags,
// cgo, and extra environment (CC=musl-gcc).
type goBuild struct {
	tc    toolchain
	pkg   string
	flags []string
	cgo   bool
	env   []string
}

func (b goBuild) String() string {
	s := fmt.Sprintf("%s go build %s", b.tc, strings.Join(append(append([]string(nil), b.flags...), b.pkg), " "))
	if b.cgo {
		s += " (CGO_ENABLED=1"
		for _, kv := range b.env {
			s += " " + kv
		}
		s += ")"
	}
	return s
}

// once memoises builds by output name, so that rows that need the same
// program share one build.
var builds sync.Map // name -> *buildOnce

type buildOnce struct {
	once sync.Once
	path string
	err  error
}

// built returns the path of the child name (a file in the build
// directory), building it with build on first use, and fails the test if
// the build fails.
func built(t *testing.T, name, desc string, build func(out string) error) string {
	t.Helper()
	if childtest.Prebuilt != "" {
		t.Fatalf("%s is set, but test/buildmodes builds its children itself: it needs the go toolchains and gcc where it runs", childtest.EnvChildren)
	}
	v, _ := builds.LoadOrStore(name, &buildOnce{})
	b := v.(*buildOnce)
	var took time.Duration
	b.once.Do(func() {
		start := time.Now()
		out := filepath.Join(childtest.BuildDir, name)
		if b.err = build(out); b.err == nil {
			b.path = out
			took = time.Since(start)
		}
	})
	if took != 0 {
		t.Logf("built %s (%s) in %v", name, desc, took.Round(time.Millisecond))
	}
	if b.err != nil {
		t.Fatalf("build %s (%s): %v", name, desc, b.err)
	}
	return b.path
}

// goBinary builds b into name (with -buildmode=c-shared or c-archive in
// its flags, the library; the c-archive's header is written next to it).
func goBinary(t *testing.T, name string, b goBuild) string {
	t.Helper()
	return built(t, name, b.String(), func(out string) error {
		goBin, flags, err := goCommand(b.tc)
		if err != nil {
			return err
		}
		cgo := "CGO_ENABLED=0"
		if b.cgo {
			cgo = "CGO_ENABLED=1"
		}
		env := append([]string{"GOTOOLCHAIN=local", cgo}, b.env...)
		args := append([]string{"build", "-C", childtest.ModuleRoot, "-o", out}, flags...)
		args = append(append(args, b.flags...), b.pkg)
		return command(env, goBin, args...)
	})
}

// hostBinary builds the C host program into name with gcc and the extra
// arguments (a library to link, -DUSE_DLOPEN).
func hostBinary(t *testing.T, name string, args ...string) string {
	t.Helper()
	src := filepath.Join(childtest.ModuleRoot, "test", "buildmodes", "testdata", "host", "host.c")
	return built(t, name, "gcc host.c "+strings.Join(args, " "), func(out string) error {
		gcc := append([]string{"-O2", "-Wall", "-Werror", "-o", out, src}, args...)
		return command(nil, "gcc", append(gcc, "-lpthread", "-ldl")...)
	})
}

// command runs a build command in the clean environment plus env, and
// fails on an error or on any output (a compiler's warnings included).
func command(env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = childtest.CleanEnv(env...)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		return fmt.Errorf("%s %s (env %v): %v\n%s", name, strings.Join(args, " "), env, err, out)
	}
	return nil
}

// goCommand returns the go command of tc and the flags it needs.
func goCommand(tc toolchain) (string, []string, error) {
	switch tc {
	case patched:
		goBin := os.Getenv("GORSEQ_GO")
		if goBin == "" {
			goBin = filepath.Join(childtest.ModuleRoot, "_toolchain", "goroot", "bin", "go")
		}
		if _, err := os.Stat(goBin); err != nil {
			return "", nil, fmt.Errorf("patched go %s not found: run ./build.sh first (or set GORSEQ_GO)", goBin)
		}
		return goBin, nil, nil
	case overlay:
		path := os.Getenv("GORSEQ_OVERLAY")
		if path == "" {
			path = filepath.Join(childtest.ModuleRoot, "_toolchain", "overlay.json")
		}
		if _, err := os.Stat(path); err != nil {
			return "", nil, fmt.Errorf("overlay %s not found: run ./build.sh first (or set GORSEQ_OVERLAY)", path)
		}
		goBin, err := stockGo()
		return goBin, []string{"-overlay=" + path}, err
	}
	goBin, err := stockGo()
	return goBin, nil, err
}

var stockOnce struct {
	sync.Once
	goBin string
	err   error
}

// stockGo returns GORSEQ_STOCK_GO, or the first go on PATH whose GOROOT
// has no gorseq runtime (go test puts its own GOROOT/bin first on PATH:
// the patched one when the patched go runs this package).
func stockGo() (string, error) {
	stockOnce.Do(func() {
		if goBin := os.Getenv("GORSEQ_STOCK_GO"); goBin != "" {
			stockOnce.goBin = goBin
			if p, err := isPatched(goBin); err != nil || p {
				stockOnce.err = fmt.Errorf("GORSEQ_STOCK_GO=%s: patched %v, %v", goBin, p, err)
			}
			return
		}
		var tried []string
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			goBin := filepath.Join(dir, "go")
			if _, err := os.Stat(goBin); err != nil {
				continue
			}
			if p, err := isPatched(goBin); err == nil && !p {
				stockOnce.goBin = goBin
				return
			}
			tried = append(tried, goBin)
		}
		stockOnce.err = fmt.Errorf("no unpatched go on PATH (tried %v): set GORSEQ_STOCK_GO", tried)
	})
	return stockOnce.goBin, stockOnce.err
}

// isPatched reports whether the GOROOT of goBin has the gorseq runtime.
func isPatched(goBin string) (bool, error) {
	cmd := exec.Command(goBin, "env", "GOROOT")
	cmd.Env = childtest.CleanEnv("GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		return false, fmt.Errorf("%s env GOROOT: %v", goBin, err)
	}
	_, err = os.Stat(filepath.Join(strings.TrimSpace(string(out)), "src", "runtime", "rseq_linux.go"))
	return err == nil, nil
}

var muslOnce struct {
	sync.Once
	err error
}

// needMusl makes sure musl-gcc is on PATH, installing musl-tools with
// apt-get when it is not (CI runs as root), and fails the test if that is
// impossible.
func needMusl(t *testing.T) {
	t.Helper()
	muslOnce.Do(func() {
		if _, err := exec.LookPath("musl-gcc"); err == nil {
			return
		}
		t.Logf("musl-gcc is missing: installing musl-tools")
		var out bytes.Buffer
		for _, args := range [][]string{{"update"}, {"install", "-y", "musl-tools"}} {
			cmd := exec.Command("apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				muslOnce.err = fmt.Errorf("musl-gcc is missing and apt-get %s failed (install musl-tools, as root): %v\n%s", strings.Join(args, " "), err, out.String())
				return
			}
		}
		if _, err := exec.LookPath("musl-gcc"); err != nil {
			muslOnce.err = fmt.Errorf("musl-tools installed, but still no musl-gcc on PATH: %v\n%s", err, out.String())
		}
	})
	if muslOnce.err != nil {
		t.Fatal(muslOnce.err)
	}
}

// A run is the output of one child run.
type run struct {
	t      *testing.T
	desc   string
	stdout string
	stderr string
	kv     map[string]string
	dumped bool
}

// runChild runs bin with args in the clean environment plus env, and fails
// the test unless it exits 0 with done=1 and nothing on stderr.
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
		desc:   strings.TrimSpace(fmt.Sprintf("%s %s %s", strings.Join(env, " "), filepath.Base(bin), strings.Join(args, " "))),
		stdout: stdout.String(),
		stderr: stderr.String(),
		kv:     map[string]string{},
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if _, dup := r.kv[k]; dup {
			r.errorf("%s printed twice", k)
		}
		r.kv[k] = v
	}
	t.Logf("ran %s in %v: mode=%s", r.desc, time.Since(start).Round(time.Millisecond), r.kv["mode"])
	if err != nil {
		r.errorf("exit: %v", err)
	}
	if r.stderr != "" {
		r.errorf("unexpected output on stderr")
	}
	if r.kv["done"] != "1" {
		r.errorf("no done=1 line")
	}
	return r
}

// errorf reports a failure of the run, with the child's whole output the
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

// num returns the integer value of key, failing if it is missing or not a
// number.
func (r *run) num(key string) int64 {
	r.t.Helper()
	s := r.str(key)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && s != "" {
		r.errorf("%s=%q is not a number", key, s)
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
func (r *run) wantNum(key string, n int64) {
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
