// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// This file joins percpu's tests (go test -overlay) in test/vm's
// percpu-cgo build: it links runtime/cgo into the test binary, so that
// glibc registers rseq for every thread and the patched runtime adopts
// glibc's areas.

package percpu_test

import (
	"os"
	_ "runtime/cgo"
	"testing"

	"github.com/gorseq/gorseq/percpu"
)

// TestVMGlibcMode checks that, with GORSEQ_EXPECT=rseq, the process runs
// on glibc's registration.
func TestVMGlibcMode(t *testing.T) {
	st := percpu.Status()
	t.Logf("mode %v, feature size %d, length %d", st.Mode, st.FeatureSize, st.Length)
	if os.Getenv("GORSEQ_EXPECT") == "rseq" && st.Mode != percpu.ModeRseqGlibc {
		t.Fatalf("GORSEQ_EXPECT=rseq with runtime/cgo linked in: mode %v, want %v (%s)", st.Mode, percpu.ModeRseqGlibc, st.Reason)
	}
}
