// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package childtest is the common ground of the test suites that build
// child programs with gorseq's toolchains and run them (test/registration,
// test/stress): the module root, a build directory for one test run, the
// children's environment, and the patched go command.
package childtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	// ModuleRoot is the directory of github.com/gorseq/gorseq's go.mod.
	ModuleRoot string
	// BuildDir holds the child programs of one test run.
	BuildDir string
)

// Main sets ModuleRoot and BuildDir, runs the tests, removes BuildDir and
// exits: call it from a package's TestMain. name prefixes its errors and
// the build directory.
func Main(m *testing.M, name string) {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/gorseq/gorseq\n") {
			ModuleRoot = dir
			break
		}
		if dir == filepath.Dir(dir) {
			fmt.Fprintf(os.Stderr, "%s: no github.com/gorseq/gorseq go.mod above %s\n", name, wd)
			os.Exit(1)
		}
	}
	BuildDir, err = os.MkdirTemp("", "gorseq-"+name+"-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(BuildDir)
	os.Exit(code)
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
		case "GOROOT", "GOTOOLCHAIN", "GODEBUG", "GLIBC_TUNABLES", "CGO_ENABLED", "GOMAXPROCS", "GOGC", "GOFLAGS":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// PatchedGo returns the patched toolchain's go command: $GORSEQ_GO, else
// _toolchain/goroot/bin/go under ModuleRoot. It fails the test, never
// skips it, when there is none.
func PatchedGo(t testing.TB) string {
	t.Helper()
	goBin := os.Getenv("GORSEQ_GO")
	if goBin == "" {
		goBin = filepath.Join(ModuleRoot, "_toolchain", "goroot", "bin", "go")
	}
	if _, err := os.Stat(goBin); err != nil {
		t.Fatalf("patched go %s not found: run ./build.sh first (or set GORSEQ_GO)", goBin)
	}
	return goBin
}
