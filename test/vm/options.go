// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// selectKernels returns the guests that spec (GORSEQ_VM) selects: a
// comma-separated list of arch/series ("amd64/6.12") or arch ("arm64")
// items; "" or "all" is every guest. Guests keep the kernels list's
// order.
func selectKernels(spec string) ([]kernel, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "all" {
		return kernels, nil
	}
	want := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		found := false
		for _, k := range kernels {
			if item == k.name() || item == k.arch {
				want[k.name()] = true
				found = true
			}
		}
		if !found {
			var names []string
			for _, k := range kernels {
				names = append(names, k.name())
			}
			return nil, fmt.Errorf("GORSEQ_VM: no guest %q (guests: %s, or an arch, or all)", item, strings.Join(names, ", "))
		}
	}
	var sel []kernel
	for _, k := range kernels {
		if want[k.name()] {
			sel = append(sel, k)
		}
	}
	return sel, nil
}

// programFilter returns a test of program names from GORSEQ_VM_RUN (a
// regexp; "" keeps every program).
func programFilter(spec string) (func(string) bool, error) {
	if spec == "" {
		return func(string) bool { return true }, nil
	}
	re, err := regexp.Compile(spec)
	if err != nil {
		return nil, fmt.Errorf("GORSEQ_VM_RUN: %v", err)
	}
	return re.MatchString, nil
}

// moduleRoot returns the directory of github.com/gorseq/gorseq's go.mod
// at or above the working directory.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/gorseq/gorseq\n") {
			return dir, nil
		}
		if dir == filepath.Dir(dir) {
			return "", fmt.Errorf("no github.com/gorseq/gorseq go.mod above %s", wd)
		}
	}
}

// patchedGo returns the patched toolchain's go command: $GORSEQ_GO, else
// _toolchain/goroot/bin/go under root.
func patchedGo(root string) (string, error) {
	goBin := os.Getenv("GORSEQ_GO")
	if goBin == "" {
		goBin = filepath.Join(root, "_toolchain", "goroot", "bin", "go")
	}
	if _, err := os.Stat(goBin); err != nil {
		return "", fmt.Errorf("patched go %s not found: run ./build.sh first (or set GORSEQ_GO)", goBin)
	}
	return goBin, nil
}

// cacheDir returns GORSEQ_VM_DIR, else _vm under root: kernels, logs and
// bench output (ignored by git).
func cacheDir(root string) string {
	if d := os.Getenv("GORSEQ_VM_DIR"); d != "" {
		return d
	}
	return filepath.Join(root, "_vm")
}
