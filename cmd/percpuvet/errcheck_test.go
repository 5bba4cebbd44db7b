// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"
)

// TestErrAnalyzer checks percpuerr against testdata/src/errcheck.
func TestErrAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), ErrAnalyzer, "errcheck")
}
