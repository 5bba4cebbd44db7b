// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && (amd64 || arm64)

package percpu_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorseq/gorseq/percpu"
)

// TestFloatCounterInjectedDelay widens FloatCounter.Add's critical section
// (floatCounterAdd) with delay loops at each injection point in turn, as
// TestCounterAddInjectedDelay does Counter.Add's: 6 x NCPU locked threads
// x 100k adds with a concurrent reader; the sum is exact, Load never goes
// back, sections were aborted, and with rseq on every thread no add took
// the fallback word.
func TestFloatCounterInjectedDelay(t *testing.T) {
	for _, tc := range counterInjectCases {
		t.Run(tc.String(), func(t *testing.T) {
			injectDelays(t, tc.delays())
			res := runCounterSum(t, counterSum{
				workers:   counterWorkers(),
				adds:      counterAdds,
				addFloat:  floatAddPositive,
				signals:   tc.signals,
				monotonic: true,
			})
			checkCounterPaths(t, res)
			if tc.inside() {
				checkCounterAborts(t, res)
			}
		})
	}
}

// TestFloatCounterMixedRseqAndFallback: half of the 6 x NCPU locked
// threads switch their rseq registration off and on (every 10k adds)
// while all add to one FloatCounter under a SIGURG storm; some adds go
// through the slow path directly. The sum is exact, and so is the split
// between the rseq words and the fallback words (a thread's state
// decides the path): both paths were taken, concurrently.
func TestFloatCounterMixedRseqAndFallback(t *testing.T) {
	if !percpu.Status().Mode.Rseq() {
		t.Skipf("mode %v: no rseq to unregister", percpu.Status().Mode)
	}
	workers := counterWorkers()
	reg := newRseqToggler(t, workers)
	var wantRseq, wantFallback atomic.Int64
	res := runCounterSum(t, counterSum{
		workers: workers,
		adds:    counterAdds,
		minTime: time.Second,
		signals: true,
		locked:  reg.locked,
		addFloat: func(c *percpu.FloatCounter, w, i int) int64 {
			reg.maybeToggle(w, i)
			var k int64
			if i%100 == 99 {
				// The slow path itself: the fallback word, whatever
				// the thread's state.
				k = int64(w%3 + 1)
				percpu.FloatCounterAddSlow(c, float64(k)*floatUnit)
				wantFallback.Add(k)
				return k
			}
			k = floatAddMixed(c, w, i)
			if reg.registered[w] {
				wantRseq.Add(k)
			} else {
				wantFallback.Add(k)
			}
			return k
		},
	})
	t.Logf("%d registration switches; rseq words %d, fallback words %d (units of %v)", reg.toggles.Load(), res.rseqWords, res.fallbackWords, floatUnit)
	if res.rseqWords != wantRseq.Load() || res.fallbackWords != wantFallback.Load() {
		t.Errorf("rseq words %d, fallback words %d; want %d and %d", res.rseqWords, res.fallbackWords, wantRseq.Load(), wantFallback.Load())
	}
	if res.rseqWords == 0 || res.fallbackWords == 0 {
		t.Errorf("both paths must be used: rseq words %d, fallback words %d", res.rseqWords, res.fallbackWords)
	}
	checkCounterAborts(t, res)
}
