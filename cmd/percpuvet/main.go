// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/multichecker"
)

// analyzers are the checks of percpuvet, each with its own flag.
var analyzers = []*analysis.Analyzer{ErrAnalyzer, IndexAnalyzer, CopyAnalyzer}

func main() { multichecker.Main(analyzers...) }
