// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestStopTheWorldWaitsForPinned checks the runtime property that
// waitPinned (and so Pool.Drain's grace period) rests on: a stop-the-world
// started while a goroutine runs pinned completes only after it unpins,
// (its stores are then visible: ended is an atomic so that race builds,
// whose detector does not know about the stop, run the test too). The pinned goroutine spins for 30 ms after telling
// the test it is pinned; a stop that did not wait would return with the
// goroutine still spinning.
func TestStopTheWorldWaitsForPinned(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for round := range 5 {
		var pinned, ended atomic.Bool
		go func() {
			procPin()
			pinned.Store(true)
			for t0 := time.Now(); time.Since(t0) < 30*time.Millisecond; {
			}
			ended.Store(true)
			procUnpin()
		}()
		for !pinned.Load() {
			runtime.Gosched()
		}
		waitPinned()
		if !ended.Load() {
			t.Fatalf("round %d: the stop-the-world returned while a goroutine was still pinned: Pool.Drain's grace period does not hold on %s", round, runtime.Version())
		}
	}
}
