// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/analysis/passes/copylock"
	"golang.org/x/tools/go/packages"
)

// TestCopyAnalyzer checks percpucopy against testdata/src/copycheck.
func TestCopyAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), CopyAnalyzer, "copycheck")
}

// TestCopyLeavesCopylocks runs vet's copylocks and percpucopy over the
// testdata: copylocks must report every line marked "// copylocks" and no
// line with a "// want", and percpucopy must report no line that copylocks
// reports. So running both never reports a copy twice.
func TestCopyLeavesCopylocks(t *testing.T) {
	dir, err := filepath.Abs(analysistest.TestData())
	if err != nil {
		t.Fatal(err)
	}
	cfg := &packages.Config{
		Mode: packages.LoadAllSyntax,
		Dir:  filepath.Join(dir, "src"),
		Env:  append(os.Environ(), "GOPATH="+dir, "GO111MODULE=off", "GOPROXY=off", "GOFLAGS="),
	}
	pkgs, err := packages.Load(cfg, "copycheck")
	if err != nil {
		t.Fatal(err)
	}
	if packages.PrintErrors(pkgs) > 0 {
		t.Fatal("testdata does not load")
	}
	g, err := checker.Analyze([]*analysis.Analyzer{copylock.Analyzer, CopyAnalyzer}, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[*analysis.Analyzer]map[int]bool{copylock.Analyzer: {}, CopyAnalyzer: {}}
	file := filepath.Join(dir, "src", "copycheck", "copycheck.go")
	for _, act := range g.Roots {
		for _, d := range act.Diagnostics {
			p := act.Package.Fset.Position(d.Pos)
			if p.Filename == file {
				lines[act.Analyzer][p.Line] = true
			}
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	marked := 0
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		switch {
		case strings.HasSuffix(text, "// copylocks"):
			marked++
			if !lines[copylock.Analyzer][n] {
				t.Errorf("line %d: copylocks does not report %q", n, strings.TrimSpace(text))
			}
		case strings.Contains(text, "// want"):
			if lines[copylock.Analyzer][n] {
				t.Errorf("line %d: copylocks reports %q too", n, strings.TrimSpace(text))
			}
		}
		if lines[copylock.Analyzer][n] && lines[CopyAnalyzer][n] {
			t.Errorf("line %d: both copylocks and percpucopy report %q", n, strings.TrimSpace(text))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if marked == 0 {
		t.Fatal("no line is marked // copylocks")
	}
}
