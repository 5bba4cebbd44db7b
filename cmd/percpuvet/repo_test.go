// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"os"
	"testing"

	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"
)

// TestRepository runs percpuvet over the repository's own packages, the
// real percpu among them, with their tests, for amd64 and arm64, and
// expects no finding.
func TestRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("loads and type-checks the whole repository twice")
	}
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			cfg := &packages.Config{
				Mode:  packages.LoadAllSyntax,
				Dir:   "../..",
				Tests: true,
				Env:   append(os.Environ(), "GOOS=linux", "GOARCH="+arch),
			}
			pkgs, err := packages.Load(cfg, "./...")
			if err != nil {
				t.Fatal(err)
			}
			if packages.PrintErrors(pkgs) > 0 {
				t.Fatal("the repository does not load")
			}
			g, err := checker.Analyze(analyzers, pkgs, nil)
			if err != nil {
				t.Fatal(err)
			}
			seen := make(map[string]bool)
			for _, act := range g.Roots {
				if act.Err != nil {
					t.Errorf("%v: %v", act, act.Err)
				}
				for _, d := range act.Diagnostics {
					pos := act.Package.Fset.Position(d.Pos)
					key := pos.String() + ": " + d.Message
					if seen[key] {
						continue // a package and its test variant
					}
					seen[key] = true
					t.Errorf("%s", key)
				}
			}
			t.Logf("%d packages", len(pkgs))
		})
	}
}
