// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package childtest is the common ground of the test suites that build
// child programs with gorseq's toolchains and run them (test/registration,
// test/stress): the table of a suite's child programs, the builds, the
// children's environment, and the patched and stock go commands.
//
// A suite declares its children once, as a Children table (name ->
// Build), passes it to Main from its TestMain, and gets each child's path
// with Binary. The table is the single source of truth for what the tests
// run; the names are the children's file names in every mode.
//
// # Modes
//
// By default (the host) Binary builds a child the first time a test asks
// for it, into a temporary directory of the run, with the toolchain its
// Build names, for the host's GOARCH.
//
// Prebuild (the host, for a guest without a Go toolchain, such as
// test/vm's): with GORSEQ_PREBUILD_OUT=dir, Main builds every child of
// the table into dir, for GORSEQ_CHILD_GOARCH (amd64 or arm64; default
// the GOARCH of the test binary), and exits 0 without running the tests
// (1 if a build failed). A cgo child for another GOARCH is built with the
// Debian cross compiler (CC=aarch64-linux-gnu-gcc for arm64, from the
// packages gcc-aarch64-linux-gnu and libc6-arm64-cross;
// x86_64-linux-gnu-gcc for amd64).
//
// Prebuilt (the guest): with GORSEQ_CHILDREN=dir, Binary returns dir/name
// and fails the test when it is missing or was built for another
// architecture; nothing looks for a go command, a GOROOT, an overlay or
// the module's source.
//
//	GORSEQ_PREBUILD_OUT=/tmp/ch GORSEQ_CHILD_GOARCH=arm64 go test ./test/registration
//	GOARCH=arm64 _toolchain/goroot/bin/go test -c -o registration.test ./test/registration
//	GORSEQ_CHILDREN=/tmp/ch ./registration.test -test.v     # in the guest
//
// # Toolchains
//
// Patched is GORSEQ_GO, default <module root>/_toolchain/goroot/bin/go;
// Overlay is the stock go with -overlay=GORSEQ_OVERLAY, default
// <module root>/_toolchain/overlay.json; both are made by ./build.sh. The
// stock go is GORSEQ_STOCK_GO, or the first go on PATH whose GOROOT has no
// gorseq patch (go test puts its own GOROOT/bin first on PATH, which is
// the patched one when a suite runs under it).
package childtest

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The environment variables of the modes (see the package documentation).
const (
	EnvPrebuildOut = "GORSEQ_PREBUILD_OUT"
	EnvChildGOARCH = "GORSEQ_CHILD_GOARCH"
	EnvChildren    = "GORSEQ_CHILDREN"
)

var (
	// ModuleRoot is the directory of github.com/gorseq/gorseq's go.mod
	// ("" with GORSEQ_CHILDREN).
	ModuleRoot string
	// BuildDir holds the child programs of one test run ("" with
	// GORSEQ_CHILDREN).
	BuildDir string
	// Prebuilt is the directory of GORSEQ_CHILDREN, "" on the host.
	Prebuilt string
)

// Toolchain says which go command builds a child.
type Toolchain int

const (
	Patched Toolchain = iota // the patched go
	Stock                    // the stock go
	Overlay                  // the stock go with -overlay
)

func (tc Toolchain) String() string {
	switch tc {
	case Patched:
		return "patched go"
	case Stock:
		return "stock go"
	case Overlay:
		return "stock go -overlay"
	}
	return fmt.Sprintf("Toolchain(%d)", int(tc))
}

// A Build says how one child program is built.
type Build struct {
	Toolchain Toolchain
	Pkg       string   // the package, relative to the module root: "./test/stress"
	Flags     []string // build flags
	Cgo       bool     // CGO_ENABLED=1, else 0
}

func (b Build) String() string {
	s := fmt.Sprintf("%s build %s", b.Toolchain, strings.Join(append(append([]string(nil), b.Flags...), b.Pkg), " "))
	if b.Cgo {
		return s + " (cgo)"
	}
	return s
}

// Children is a suite's table of child programs: name -> how it is built.
// A name is the child's file name, in the build directory and in the
// prebuilt one.
type Children map[string]Build

var (
	suite    string
	children Children
	built    sync.Map // name -> *buildResult
)

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// Main sets up the mode, runs the tests (or, with GORSEQ_PREBUILD_OUT, only
// builds every child of table) and exits: call it from a package's
// TestMain. name prefixes its errors and the build directory.
func Main(m *testing.M, name string, table Children) {
	suite, children = name, table
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s: "+format+"\n", append([]any{name}, args...)...)
		os.Exit(1)
	}
	out, dir := os.Getenv(EnvPrebuildOut), os.Getenv(EnvChildren)
	if out != "" && dir != "" {
		fail("%s and %s are both set: build on the host, run in the guest", EnvPrebuildOut, EnvChildren)
	}
	if arch := os.Getenv(EnvChildGOARCH); arch != "" && out == "" {
		fail("%s=%s needs %s (children for another GOARCH are only prebuilt)", EnvChildGOARCH, arch, EnvPrebuildOut)
	}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			fail("%s: %v", EnvChildren, err)
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			fail("%s=%s is not a directory of prebuilt children", EnvChildren, dir)
		}
		Prebuilt = abs
		os.Exit(m.Run())
	}

	root, err := findModuleRoot()
	if err != nil {
		fail("%v", err)
	}
	ModuleRoot = root
	if out != "" {
		os.Exit(prebuild(out))
	}
	BuildDir, err = os.MkdirTemp("", "gorseq-"+name+"-")
	if err != nil {
		fail("%v", err)
	}
	code := m.Run()
	os.RemoveAll(BuildDir)
	os.Exit(code)
}

// findModuleRoot looks for the module's go.mod above the working directory
// (go test runs a test in its package directory), then above this file's
// source (a test binary run from elsewhere).
func findModuleRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, start := range starts {
		for dir := start; ; dir = filepath.Dir(dir) {
			data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && strings.Contains(string(data), "module github.com/gorseq/gorseq\n") {
				return dir, nil
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	return "", fmt.Errorf("no github.com/gorseq/gorseq go.mod above %v (in a guest without the source, set %s to the prebuilt children)", starts, EnvChildren)
}

// prebuild builds every child for GORSEQ_CHILD_GOARCH into out and returns
// the exit code.
func prebuild(out string) int {
	arch := os.Getenv(EnvChildGOARCH)
	if arch == "" {
		arch = runtime.GOARCH
	}
	if arch != "amd64" && arch != "arm64" {
		fmt.Fprintf(os.Stderr, "%s: %s=%s: want amd64 or arm64\n", suite, EnvChildGOARCH, arch)
		return 1
	}
	out, err := filepath.Abs(out)
	if err == nil {
		err = os.MkdirAll(out, 0o755)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s: %v\n", suite, EnvPrebuildOut, err)
		return 1
	}
	names := make([]string, 0, len(children))
	for name := range children {
		names = append(names, name)
	}
	sort.Strings(names)
	errs := make([]error, len(names))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			path := filepath.Join(out, name)
			errs[i] = build(children[name], arch, path)
			if errs[i] == nil {
				// Stat it through os: go test then keys a cached
				// result of this run to the file, so that a
				// removed or changed child means a new build.
				_, errs[i] = os.Stat(path)
			}
			if errs[i] == nil {
				fmt.Printf("%s: built %s for %s (%s) in %v\n", suite, name, arch, children[name], time.Since(start).Round(time.Millisecond))
			}
		}()
	}
	wg.Wait()
	code := 0
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: building %s for %s: %v\n", suite, names[i], arch, err)
			code = 1
		}
	}
	if code == 0 {
		fmt.Printf("%s: %d children for %s in %s\n", suite, len(names), arch, out)
	}
	return code
}

// Binary returns the path of the child program name of the suite's table:
// built on first use on the host, from GORSEQ_CHILDREN in the guest. It
// fails the test if the child cannot be built or is missing.
func Binary(t testing.TB, name string) string {
	t.Helper()
	b, ok := children[name]
	if !ok {
		t.Fatalf("childtest: no child %q in the %s table", name, suite)
	}
	if Prebuilt != "" {
		path := filepath.Join(Prebuilt, name)
		if err := checkPrebuilt(path); err != nil {
			t.Fatalf("prebuilt child %s (%s): %v", name, b, err)
		}
		return path
	}
	v, _ := built.LoadOrStore(name, &buildResult{})
	r := v.(*buildResult)
	var took time.Duration // set by the call that builds
	r.once.Do(func() {
		start := time.Now()
		out := filepath.Join(BuildDir, name)
		if r.err = build(b, runtime.GOARCH, out); r.err == nil {
			r.path = out
			took = time.Since(start)
		}
	})
	if took != 0 {
		t.Logf("built %s (%s) in %v", name, b, took.Round(time.Millisecond))
	}
	if r.err != nil {
		t.Fatalf("build %s: %v", name, r.err)
	}
	return r.path
}

// Timeout returns how long a child of t may run before it is killed as
// hung: d on the host. With GORSEQ_CHILDREN the machine may be a guest
// under emulation, many times slower, so a child may run until shortly
// before the test binary's deadline (-test.timeout), if that is later (10
// times d without a deadline).
func Timeout(t *testing.T, d time.Duration) time.Duration {
	if Prebuilt == "" {
		return d
	}
	dl, ok := t.Deadline()
	if !ok {
		return 10 * d
	}
	return max(d, time.Until(dl)-30*time.Second)
}

// checkPrebuilt checks that path is an executable for this GOARCH whose
// program interpreter, if any, exists here.
func checkPrebuilt(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%v: build the children on the host with %s=dir %s=%s", err, EnvPrebuildOut, EnvChildGOARCH, runtime.GOARCH)
	}
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if f.Machine != want {
		return fmt.Errorf("built for %v, this is %s (%v): prebuild with %s=%s", f.Machine, runtime.GOARCH, want, EnvChildGOARCH, runtime.GOARCH)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return fmt.Errorf("reading PT_INTERP: %v", err)
		}
		interp := strings.TrimRight(string(data), "\x00")
		if _, err := os.Stat(interp); err != nil {
			return fmt.Errorf("it needs the dynamic loader %s (with its C library), which this system lacks", interp)
		}
	}
	return nil
}

// crossCC is the C compiler for cgo children of another GOARCH.
var crossCC = map[string]string{
	"arm64": "aarch64-linux-gnu-gcc",
	"amd64": "x86_64-linux-gnu-gcc",
}

// build builds b for arch into out.
func build(b Build, arch, out string) error {
	var goBin string
	var err error
	flags := b.Flags
	switch b.Toolchain {
	case Patched:
		goBin, err = patchedGo()
	case Stock:
		goBin, err = stockGo()
	case Overlay:
		goBin, err = stockGo()
		if err == nil {
			var overlay string
			overlay, err = overlayFile()
			flags = append([]string{"-overlay=" + overlay}, flags...)
		}
	default:
		err = fmt.Errorf("unknown toolchain %v", b.Toolchain)
	}
	if err != nil {
		return err
	}
	env := []string{"GOTOOLCHAIN=local", "GOARCH=" + arch, "CGO_ENABLED=0"}
	if b.Cgo {
		env[2] = "CGO_ENABLED=1"
		if arch != runtime.GOARCH {
			cc := crossCC[arch]
			if _, err := exec.LookPath(cc); err != nil {
				return fmt.Errorf("cgo for %s needs the cross compiler %s (Debian: gcc-aarch64-linux-gnu and libc6-arm64-cross for arm64): %v", arch, cc, err)
			}
			env = append(env, "CC="+cc)
		}
	}
	args := append([]string{"build", "-C", ModuleRoot, "-o", out}, flags...)
	cmd := exec.Command(goBin, append(args, b.Pkg)...)
	cmd.Env = CleanEnv(env...)
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v (env %v): %v\n%s", cmd.Args, env, err, output)
	}
	return nil
}

// CleanEnv is the environment for the go command and the children: the
// test's own, without the settings the tests choose themselves, then
// extra. GOROOT must go: a GOROOT from the environment would make the
// patched go build with the stock runtime.
func CleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOROOT", "GOTOOLCHAIN", "GODEBUG", "GLIBC_TUNABLES", "CGO_ENABLED", "GOMAXPROCS", "GOGC", "GOFLAGS",
			EnvPrebuildOut, EnvChildGOARCH, EnvChildren:
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// errGuest is the answer of the toolchain look-ups with GORSEQ_CHILDREN.
var errGuest = errors.New(EnvChildren + " is set: the children are prebuilt, there is no go command to use")

// PatchedGo returns the patched toolchain's go command: $GORSEQ_GO, else
// _toolchain/goroot/bin/go under ModuleRoot. It fails the test, never
// skips it, when there is none (or with GORSEQ_CHILDREN).
func PatchedGo(t testing.TB) string {
	t.Helper()
	goBin, err := patchedGo()
	if err != nil {
		t.Fatal(err)
	}
	return goBin
}

func patchedGo() (string, error) {
	if Prebuilt != "" {
		return "", errGuest
	}
	goBin := os.Getenv("GORSEQ_GO")
	if goBin == "" {
		goBin = filepath.Join(ModuleRoot, "_toolchain", "goroot", "bin", "go")
	}
	if _, err := os.Stat(goBin); err != nil {
		return "", fmt.Errorf("patched go %s not found: run ./build.sh first (or set GORSEQ_GO)", goBin)
	}
	return goBin, nil
}

// overlayFile returns the overlay for the stock go.
func overlayFile() (string, error) {
	if Prebuilt != "" {
		return "", errGuest
	}
	path := os.Getenv("GORSEQ_OVERLAY")
	if path == "" {
		path = filepath.Join(ModuleRoot, "_toolchain", "overlay.json")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("overlay %s not found: run ./build.sh first (or set GORSEQ_OVERLAY)", path)
	}
	return path, nil
}

var stock struct {
	once  sync.Once
	goBin string
	err   error
}

// goroot returns the GOROOT of the go command goBin.
func goroot(goBin string) (string, error) {
	cmd := exec.Command(goBin, "env", "GOROOT")
	cmd.Env = CleanEnv("GOTOOLCHAIN=local")
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
	_, err = os.Stat(filepath.Join(root, "src", "runtime", "rseq_linux.go"))
	return err == nil, nil
}

// stockGo returns a go command whose GOROOT has no gorseq patch.
func stockGo() (string, error) {
	if Prebuilt != "" {
		return "", errGuest
	}
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
			if _, err := os.Stat(goBin); err != nil {
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
	return stock.goBin, stock.err
}
