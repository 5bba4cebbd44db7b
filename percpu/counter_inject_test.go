// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && amd64

package percpu_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
)

// Tests that need the test-only critical sections: go test -tags
// gorseq_inject (cs_inject_amd64.s, export_inject_test.go).

// TestCounterInjectedDelay widens the add's critical section with a delay
// loop between the load and the commit (the kernel selftests' loop
// injection), so that most preemptions of the 6 x NCPU threads land inside
// it: every one of them must abort, and the sum must stay exact.
func TestCounterInjectedDelay(t *testing.T) {
	for _, tc := range []struct {
		loops   uintptr
		signals bool
	}{
		{loops: 200},
		{loops: 2000},
		{loops: 500, signals: true},
	} {
		name := fmt.Sprintf("loops=%d", tc.loops)
		if tc.signals {
			name += ",signals"
		}
		t.Run(name, func(t *testing.T) {
			res := runCounterSum(t, counterSum{
				workers: counterWorkers(),
				adds:    counterAdds,
				add: func(c *percpu.Counter, w, i int) int64 {
					v := int64(w%7 + 1)
					percpu.AddInject(c, v, tc.loops)
					return v
				},
				signals:   tc.signals,
				monotonic: true,
			})
			checkCounterPaths(t, res)
			checkCounterAborts(t, res)
		})
	}
}

// TestCounterAddInjectedDelay does the same to Counter.Add's own fast path,
// the critical section counterAdd (TestCounterInjectedDelay widens csAdd,
// the section of its slow path): counterAddInject is counterAdd with the
// delay loop between the load of the shard's rseq word and the commit, and
// a descriptor of its own. 6 x NCPU locked threads x 100k adds on a real
// Counter, with a concurrent reader: the sum is exact, Load never goes
// back, sections were aborted, and under rseq every add but the first
// ones (before the Counter's Block exists) took the injected section.
func TestCounterAddInjectedDelay(t *testing.T) {
	for _, loops := range []uintptr{200, 2000} {
		t.Run(fmt.Sprintf("loops=%d", loops), func(t *testing.T) {
			workers := counterWorkers()
			slows0 := percpu.CounterAddInjectSlows()
			res := runCounterSum(t, counterSum{
				workers: workers,
				adds:    counterAdds,
				add: func(c *percpu.Counter, w, i int) int64 {
					v := int64(w%7 + 1)
					percpu.CounterAddInject(c, v, loops)
					return v
				},
				monotonic: true,
			})
			slows := percpu.CounterAddInjectSlows() - slows0
			total := uint64(workers * counterAdds)
			t.Logf("%d of %d adds through the injected section, %d through the slow path; %.1f aborts per 10k adds",
				total-slows, total, slows, float64(res.aborts)*1e4/float64(total))
			checkCounterPaths(t, res)
			checkCounterAborts(t, res)
			if st := percpu.Status(); st.Mode.Rseq() && st.ThreadsFailed == 0 && slows > uint64(workers) {
				t.Errorf("%d adds took the slow path, want at most one per worker (%d)", slows, workers)
			}
		})
	}
}

// TestCounterRseqUnregistered checks the thread-level switch the mixed-mode
// test relies on: after the thread unregisters its area the kernel marks it
// cpu_id -1 and adds take the fallback word; after it registers the same
// area again they take the rseq word.
func TestCounterRseqUnregistered(t *testing.T) {
	if !percpu.Status().Mode.Rseq() {
		t.Skipf("mode %v: no rseq to unregister", percpu.Status().Mode)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked, so the thread exits with us
		var c percpu.Counter
		c.Add(1)
		if cpu := percpu.ThreadCPUID(); cpu < 0 {
			t.Errorf("registered thread: cpu_id %d", cpu)
		}
		if err := percpu.ThreadRseq(true); err != nil {
			t.Errorf("unregistering: %v (area %#x, length %d)", err, percpu.ThreadRseqArea(), percpu.Status().Length)
			return
		}
		if cpu := percpu.ThreadCPUID(); cpu != -1 {
			t.Errorf("unregistered thread: cpu_id %d, want -1", cpu)
		}
		if cpu := percpu.CPU(); cpu < 0 || cpu >= percpu.Shards() {
			t.Errorf("unregistered thread: CPU() = %d", cpu)
		}
		c.Add(10)
		percpu.AddInject(&c, 100, 10)
		if err := percpu.ThreadRseq(true); !errors.Is(err, unix.EINVAL) {
			t.Errorf("unregistering twice: %v, want EINVAL", err)
		}
		if err := percpu.ThreadRseq(false); err != nil {
			t.Errorf("registering again: %v; parking the thread so that the runtime does not see it exit", err)
			close(done)
			select {}
		}
		if cpu := percpu.ThreadCPUID(); cpu < 0 {
			t.Errorf("registered again: cpu_id %d", cpu)
		}
		c.Add(1000)
		if rs, fb := percpu.CounterWords(&c); rs != 1001 || fb != 110 || c.Load() != 1111 {
			t.Errorf("rseq words %d (want 1001), fallback words %d (want 110), Load %d (want 1111)", rs, fb, c.Load())
		}
	}()
	<-done
}

// TestCounterMixedRseqAndFallback: half of the 6 x NCPU locked threads
// switch their rseq registration off and on (every 10k adds) while all add
// to one Counter under a SIGURG storm. The sum is exact, and since a
// thread's state decides the path, so is the split between the rseq words
// and the fallback words: both paths were taken, concurrently.
func TestCounterMixedRseqAndFallback(t *testing.T) {
	if !percpu.Status().Mode.Rseq() {
		t.Skipf("mode %v: no rseq to unregister", percpu.Status().Mode)
	}
	const toggleEvery = 10_000
	workers := counterWorkers()
	registered := make([]bool, workers) // each worker's own entry
	var wantRseq, wantFallback, toggles atomic.Int64
	res := runCounterSum(t, counterSum{
		workers: workers,
		adds:    counterAdds,
		minTime: time.Second,
		signals: true,
		locked: func(w int) func() bool {
			registered[w] = true
			return func() bool {
				if registered[w] {
					return true
				}
				// The runtime unregisters the area when the thread
				// exits and throws if that fails: register it again.
				if err := percpu.ThreadRseq(false); err != nil {
					t.Errorf("worker %d: registering again before exit: %v; parking its thread", w, err)
					return false
				}
				registered[w] = true
				return true
			}
		},
		add: func(c *percpu.Counter, w, i int) int64 {
			if w%2 == 1 && i%toggleEvery == 0 {
				if err := percpu.ThreadRseq(registered[w]); err != nil {
					t.Errorf("worker %d: rseq unregister=%v: %v", w, registered[w], err)
				} else {
					registered[w] = !registered[w]
					toggles.Add(1)
				}
				cpu := percpu.ThreadCPUID()
				if registered[w] != (cpu >= 0) {
					t.Errorf("worker %d: registered %v, but cpu_id %d", w, registered[w], cpu)
				}
			}
			v := counterAddMixed(c, w, i)
			if registered[w] {
				wantRseq.Add(v)
			} else {
				wantFallback.Add(v)
			}
			return v
		},
	})
	t.Logf("%d registration switches; rseq words %d, fallback words %d", toggles.Load(), res.rseqWords, res.fallbackWords)
	if res.rseqWords != wantRseq.Load() || res.fallbackWords != wantFallback.Load() {
		t.Errorf("rseq words %d, fallback words %d; want %d and %d", res.rseqWords, res.fallbackWords, wantRseq.Load(), wantFallback.Load())
	}
	if res.rseqWords == 0 || res.fallbackWords == 0 {
		t.Errorf("both paths must be used: rseq words %d, fallback words %d", res.rseqWords, res.fallbackWords)
	}
	checkCounterAborts(t, res)
}
