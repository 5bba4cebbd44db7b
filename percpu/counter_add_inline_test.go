// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && goexperiment.rseqinline && (amd64 || arm64)

package percpu_test

import (
	"testing"
	"time"

	"github.com/gorseq/gorseq/percpu"
)

// TestCounterInlineAborts: where the compiler emits Add's section inline,
// the exact-sum run under a SIGURG storm must see the inline sequences'
// own abort handlers run (a signal inside one moves the thread to its
// abort handler, which counts, re-reads the area and re-arms), and every
// add after the Counter's first lands in an rseq word.
func TestCounterInlineAborts(t *testing.T) {
	if !percpu.Status().Mode.Rseq() {
		t.Skipf("mode %v: no rseq, the inline sequences never run", percpu.Status().Mode)
	}
	if percpu.Status().InlineSequences == 0 {
		t.Fatalf("a binary built with GOEXPERIMENT=rseqinline lists no inline sequence")
	}
	inline0 := percpu.InlineAbortCount()
	res := runCounterSum(t, counterSum{workers: counterWorkers(), adds: counterAdds, minTime: time.Second, add: counterAddPositive, signals: true, monotonic: true})
	inline := percpu.InlineAbortCount() - inline0
	t.Logf("%d of the run's %d aborts in inline sequences, %d SIGURGs", inline, res.aborts, res.signals)
	checkCounterPaths(t, res)
	if inline == 0 {
		t.Errorf("no inline sequence was aborted (want > 0)")
	}
	if st := percpu.Status(); st.ThreadsFailed == 0 && res.fallbackWords != 0 {
		t.Errorf("%d added to fallback words with every thread registered: the inline path was not taken", res.fallbackWords)
	}
}
