// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && (amd64 || arm64)

package percpu_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/gorseq/gorseq/percpu"
)

// TestValuesInjectedDelay widens the lock word's critical section (the
// compare-and-store that takes it) with delay loops, at the point after
// the load and right before the commit, under a signal storm and
// migrations, while Do closes and reopens the words: every Update keeps
// its T exclusive, the sum stays exact, and sections were aborted (with
// lock words; without, Values takes mutexes and there is no section).
func TestValuesInjectedDelay(t *testing.T) {
	for _, tc := range []injectCase{
		{point: 3, loops: 500, signals: true},
		{point: 4, loops: 500, signals: true},
	} {
		t.Run(tc.String(), func(t *testing.T) {
			injectDelays(t, tc.delays())
			a0 := percpu.AbortCount()
			v := typValuesRun(t, typStress{Signals: true, Migrate: true, Procs: 6*runtime.NumCPU() + 2}, 400*time.Millisecond, 100_000, func(w, i int) {
				typSpin(10)
			})
			aborts := percpu.AbortCount() - a0
			if words, _ := percpu.ValuesLockWords(v); words && aborts == 0 {
				t.Errorf("no critical section aborted with the delays at point %d under signals", tc.point)
			}
		})
	}
}
