// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && (amd64 || arm64)

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

// Tests that need the injectable critical sections and the test-only
// API: go test -tags gorseq_inject (inject.go, export_inject_test.go).

// injectDelays sets the delays at the injection points (point -> loops)
// for the rest of the test, and removes every delay when it ends.
func injectDelays(t testing.TB, delays map[int]int) {
	t.Helper()
	for n := 1; n <= percpu.InjectPoints(); n++ {
		percpu.SetInjectDelay(n, delays[n])
	}
	t.Cleanup(func() {
		for n := 1; n <= percpu.InjectPoints(); n++ {
			percpu.SetInjectDelay(n, 0)
		}
	})
}

// injectCase is one set of delays for a stress run: loops at one point
// (point 1 to 4), or at every point (point 0).
type injectCase struct {
	point, loops int
	signals      bool // a SIGURG storm as well
}

func (c injectCase) String() string {
	name := fmt.Sprintf("point=%d,loops=%d", c.point, c.loops)
	if c.point == 0 {
		name = fmt.Sprintf("points=all,loops=%d", c.loops)
	}
	if c.signals {
		name += ",signals"
	}
	return name
}

func (c injectCase) delays() map[int]int {
	d := map[int]int{}
	for n := 1; n <= percpu.InjectPoints(); n++ {
		if c.point == 0 || c.point == n {
			d[n] = c.loops
		}
	}
	return d
}

// inside reports whether a delay of c is inside the critical section,
// where preemptions abort it: points 2 to 4. Point 1 is before the
// section is armed, and its runs need not abort anything.
func (c injectCase) inside() bool { return c.point != 1 }

// counterInjectCases: point 3 (after the load) with the delays and the
// signal storm the tests always had, every other point, and all at once.
var counterInjectCases = []injectCase{
	{point: 3, loops: 200},
	{point: 3, loops: 2000},
	{point: 3, loops: 500, signals: true},
	{point: 1, loops: 500},
	{point: 2, loops: 500},
	{point: 4, loops: 500},
	{point: 0, loops: 200},
}

// TestCounterInjectedDelay widens the critical section of Counter.Add's
// slow path, csAdd (the section of Add), with delay loops at each
// injection point in turn (the kernel selftests' loop injection), so that
// most preemptions of the 6 x NCPU threads land inside it: every one of
// them must abort, and the sum must stay exact.
func TestCounterInjectedDelay(t *testing.T) {
	for _, tc := range counterInjectCases {
		t.Run(tc.String(), func(t *testing.T) {
			injectDelays(t, tc.delays())
			res := runCounterSum(t, counterSum{
				workers: counterWorkers(),
				adds:    counterAdds,
				add: func(c *percpu.Counter, w, i int) int64 {
					v := int64(w%7 + 1)
					percpu.CounterAddSlow(c, v)
					return v
				},
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

// TestCounterAddInjectedDelay does the same to Counter.Add's own fast path,
// the critical section counterAdd (TestCounterInjectedDelay widens csAdd,
// the section of its slow path), called directly: where the compiler
// inlines Add's section, which has no injection points, the assembly is
// what Add falls back to. 6 x NCPU locked threads x 100k adds on a
// real Counter, with a concurrent reader: the sum is exact, Load never
// goes back, sections were aborted, and under rseq every add but the
// first ones (before the Counter's Block exists) took counterAdd.
func TestCounterAddInjectedDelay(t *testing.T) {
	for _, tc := range counterInjectCases {
		t.Run(tc.String(), func(t *testing.T) {
			injectDelays(t, tc.delays())
			workers := counterWorkers()
			slows0 := percpu.CounterAddSlows()
			res := runCounterSum(t, counterSum{
				workers: workers,
				adds:    counterAdds,
				add: func(c *percpu.Counter, w, i int) int64 {
					v := int64(w%7 + 1)
					percpu.CounterAddSection(c, v)
					return v
				},
				signals:   tc.signals,
				monotonic: true,
			})
			slows := percpu.CounterAddSlows() - slows0
			total := uint64(workers * counterAdds)
			t.Logf("%d of %d adds through counterAdd's section, %d through the slow path; %.1f aborts per 10k adds",
				total-slows, total, slows, float64(res.aborts)*1e4/float64(total))
			checkCounterPaths(t, res)
			if tc.inside() {
				checkCounterAborts(t, res)
			}
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
	injectDelays(t, map[int]int{1: 10, 2: 10, 3: 10, 4: 10})
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
		percpu.CounterAddSlow(&c, 100)
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

// rseqToggler switches the rseq registration of half of a run's workers
// (the odd ones) off and on every rseqToggleEvery adds, for the tests
// that mix threads with and without rseq on one counter.
type rseqToggler struct {
	t          *testing.T
	registered []bool // each worker's own entry: its thread's state
	toggles    atomic.Int64
}

const rseqToggleEvery = 10_000

func newRseqToggler(t *testing.T, workers int) *rseqToggler {
	return &rseqToggler{t: t, registered: make([]bool, workers)}
}

// locked is counterSum.locked: the worker's thread starts registered, and
// is registered again before it exits.
func (r *rseqToggler) locked(w int) func() bool {
	r.registered[w] = true
	return func() bool {
		if r.registered[w] {
			return true
		}
		// The runtime unregisters the area when the thread exits and
		// throws if that fails: register it again.
		if err := percpu.ThreadRseq(false); err != nil {
			r.t.Errorf("worker %d: registering again before exit: %v; parking its thread", w, err)
			return false
		}
		r.registered[w] = true
		return true
	}
}

// maybeToggle switches worker w's registration before its i-th add, if
// it is one of the toggling workers and i is due, and checks that the
// kernel's cpu_id agrees.
func (r *rseqToggler) maybeToggle(w, i int) {
	if w%2 == 0 || i%rseqToggleEvery != 0 {
		return
	}
	if err := percpu.ThreadRseq(r.registered[w]); err != nil {
		r.t.Errorf("worker %d: rseq unregister=%v: %v", w, r.registered[w], err)
	} else {
		r.registered[w] = !r.registered[w]
		r.toggles.Add(1)
	}
	if cpu := percpu.ThreadCPUID(); r.registered[w] != (cpu >= 0) {
		r.t.Errorf("worker %d: registered %v, but cpu_id %d", w, r.registered[w], cpu)
	}
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
	workers := counterWorkers()
	reg := newRseqToggler(t, workers)
	var wantRseq, wantFallback atomic.Int64
	res := runCounterSum(t, counterSum{
		workers: workers,
		adds:    counterAdds,
		minTime: time.Second,
		signals: true,
		locked:  reg.locked,
		add: func(c *percpu.Counter, w, i int) int64 {
			reg.maybeToggle(w, i)
			v := counterAddMixed(c, w, i)
			if reg.registered[w] {
				wantRseq.Add(v)
			} else {
				wantFallback.Add(v)
			}
			return v
		},
	})
	t.Logf("%d registration switches; rseq words %d, fallback words %d", reg.toggles.Load(), res.rseqWords, res.fallbackWords)
	if res.rseqWords != wantRseq.Load() || res.fallbackWords != wantFallback.Load() {
		t.Errorf("rseq words %d, fallback words %d; want %d and %d", res.rseqWords, res.fallbackWords, wantRseq.Load(), wantFallback.Load())
	}
	if res.rseqWords == 0 || res.fallbackWords == 0 {
		t.Errorf("both paths must be used: rseq words %d, fallback words %d", res.rseqWords, res.fallbackWords)
	}
	checkCounterAborts(t, res)
}
