// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
)

// The RWMutex tests check the one property that matters, that no reader
// is ever inside with a writer, on a shared plain struct: writers (under
// Lock) add 1 to a and then to b, with a little work between, and readers
// (under RLock) must always see a == b. The fields are ordinary memory, so
// under -race the race detector proves the exclusion too: every reader's
// loads and every writer's stores must be ordered by the lock alone (the
// tests then leave out their own atomics, which would order them). The
// final count of writes is exact, and a last Lock must return at once:
// an RLock or RUnlock lost in the per-CPU counters would leave it waiting
// for a reader that is not there.

// typShared is what the lock protects.
type typShared struct {
	a, b int64 // writers: a++, some work, b++; readers: a == b
}

// typWriterMark is a writer's weight in typRWCheck.inside (readers count 1).
const typWriterMark = 1 << 32

// typRWCheck is one RWMutex under test with its protected data.
type typRWCheck struct {
	rw     percpu.RWMutex
	s      typShared
	inside atomic.Int64 // readers + typWriterMark*writers inside (not with -race)
	errs   typFirstError
}

// write takes the write lock once and does one write.
func (c *typRWCheck) write(l sync.Locker, spin int) {
	l.Lock()
	if !typRace {
		if v := c.inside.Add(typWriterMark); v != typWriterMark {
			c.errs.Set("a writer got the lock with %d readers and %d other writers inside", v%typWriterMark, v/typWriterMark-1)
		}
	}
	c.s.a++
	typSpin(spin)
	c.s.b++
	if !typRace {
		c.inside.Add(-typWriterMark)
	}
	l.Unlock()
}

// read takes the read lock once and checks a == b.
func (c *typRWCheck) read(l sync.Locker, spin int, yield bool) {
	l.Lock()
	if !typRace {
		if v := c.inside.Add(1); v >= typWriterMark {
			c.errs.Set("a reader got the read lock while a writer was inside")
		}
	}
	a := c.s.a
	typSpin(spin)
	if yield {
		runtime.Gosched() // may resume on another thread and CPU
	}
	b := c.s.b
	if a != b {
		c.errs.Set("a reader saw a=%d b=%d: a writer was inside", a, b)
	}
	if !typRace {
		c.inside.Add(-1)
	}
	l.Unlock()
}

// finish checks the final count and that the lock is free.
func (c *typRWCheck) finish(t *testing.T, writes int64) {
	t.Helper()
	c.errs.Check(t)
	typWithin(t, 5*time.Second, "a final Lock", func() {
		c.rw.Lock()
		if c.s.a != writes || c.s.b != writes {
			t.Errorf("after %d writes: a=%d b=%d", writes, c.s.a, c.s.b)
		}
		c.rw.Unlock()
	})
	typWithin(t, 5*time.Second, "a final RLock", func() {
		c.rw.RLock()
		c.rw.RUnlock()
	})
}

// typRWStress runs 6 x NCPU workers, half of them on locked threads that
// exit every segment, for d: each makes reads and, every writeEvery-th
// operation, a write. It returns the number of writes and reads.
func typRWStress(t *testing.T, c *typRWCheck, cfg typStress, d time.Duration, writeEvery int, useRLocker bool) (writes, reads int64) {
	workers := 6 * runtime.NumCPU()
	st := typStartStress(t, cfg)
	var wg sync.WaitGroup
	var nw, nr atomic.Int64
	rl := sync.Locker(&c.rw)
	rd := sync.Locker(&typRLock{&c.rw})
	if useRLocker {
		rd = c.rw.RLocker()
	}
	for w := range workers {
		st.GoWorker(&wg, w%2 == 0, 4, d, func(seg int, until time.Time) {
			var mw, mr int64
			for i := 0; ; i++ {
				if i%64 == 0 && time.Now().After(until) {
					break
				}
				if (i+w*7)%writeEvery == 0 {
					c.write(rl, 100)
					mw++
				} else {
					c.read(rd, 20, i%97 == 0)
					mr++
				}
			}
			nw.Add(mw)
			nr.Add(mr)
		})
	}
	wg.Wait()
	t.Log(st.Stop())
	writes, reads = nw.Load(), nr.Load()
	t.Logf("%d workers on %d CPUs (%v): %d writes, %d reads in %v", workers, runtime.NumCPU(), percpu.Status().Mode, writes, reads, d)
	if writes == 0 || reads == 0 {
		t.Errorf("no writes or no reads")
	}
	return writes, reads
}

// typRLock is a sync.Locker of RLock/RUnlock written out (the RLocker test
// checks rw.RLocker() on its own).
type typRLock struct{ rw *percpu.RWMutex }

func (l *typRLock) Lock()   { l.rw.RLock() }
func (l *typRLock) Unlock() { l.rw.RUnlock() }

// TestRWMutexWriterExclusion: many readers and 1% writers, under every
// stressor (preemption storms, SIGURGs to the workers' threads,
// migrations, thread exits, GC): readers never see a writer's half-done
// update, the count of writes is exact, the lock ends free.
func TestRWMutexWriterExclusion(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  typStress
	}{
		{"plain", typStress{}},
		{"stressed", typAll(6 * runtime.NumCPU())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c typRWCheck
			writes, _ := typRWStress(t, &c, tc.cfg, 700*time.Millisecond, 100, false)
			c.finish(t, writes)
		})
	}
}

// TestRWMutexBiasTransitions: the exclusion test at write rates from one
// operation in 10 to one in 10000, under every stressor, so that writers
// revoke the readers' bias and readers turn it back on all the time, with
// readers and writers arriving during every transition. With rseq and
// membarrier both must have happened (the test reports how often); without,
// there is no bias and no writer may fence.
func TestRWMutexBiasTransitions(t *testing.T) {
	rev0, reb0 := percpu.RWMutexBiasEvents()
	for _, every := range []int{10, 100, 1000, 10000} {
		t.Run(fmt.Sprintf("1in%d", every), func(t *testing.T) {
			r0, b0 := percpu.RWMutexBiasEvents()
			var c typRWCheck
			writes, _ := typRWStress(t, &c, typAll(6*runtime.NumCPU()), 400*time.Millisecond, every, every == 100)
			c.finish(t, writes)
			r1, b1 := percpu.RWMutexBiasEvents()
			t.Logf("%d revocations of the bias, %d re-biases", r1-r0, b1-b0)
		})
	}
	rev1, reb1 := percpu.RWMutexBiasEvents()
	if !percpu.RWMutexFenced() {
		if rev1 != rev0 || reb1 != reb0 {
			t.Errorf("without plain readers (%v): %d revocations and %d re-biases, want none", percpu.Status().Mode, rev1-rev0, reb1-reb0)
		}
		return
	}
	if rev1 == rev0 || reb1 == reb0 {
		t.Errorf("%d revocations and %d re-biases: the test did not take the bias both ways", rev1-rev0, reb1-reb0)
	}
}

// TestRWMutexBiasSwitchWhileHeld: a reader that RLocked under one bias
// RUnlocks under the other, with and without a writer waiting for it; the
// writer gets the lock only after that RUnlock, and the lock ends free.
func TestRWMutexBiasSwitchWhileHeld(t *testing.T) {
	for _, tc := range []struct {
		name       string
		lockBiased bool // the bias when the reader RLocks
		writer     bool // a writer waits while the bias changes
	}{
		{"biased-to-unbiased", true, false},
		{"unbiased-to-biased", false, false},
		{"biased-writer-revokes", true, true},
		{"unbiased-writer", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rw percpu.RWMutex
			percpu.RWMutexSetBias(&rw, tc.lockBiased)
			rw.RLock()
			var got atomic.Bool
			done := make(chan struct{})
			if tc.writer {
				go func() {
					rw.Lock()
					got.Store(true)
					rw.Unlock()
					close(done)
				}()
				typWithin(t, 5*time.Second, "the writer announcing itself", func() {
					for !percpu.RWMutexWriterWaiting(&rw) {
						runtime.Gosched()
					}
				})
				time.Sleep(5 * time.Millisecond)
				if got.Load() {
					t.Fatal("the writer got the lock while a reader held it")
				}
			} else {
				// The bias changes as a revocation (which would wait
				// for this reader) or a slow reader would change it.
				percpu.RWMutexSetBias(&rw, !tc.lockBiased)
			}
			rw.RUnlock()
			if tc.writer {
				typWithin(t, 5*time.Second, "the writer's Lock after the last RUnlock", func() { <-done })
				if percpu.RWMutexFenced() && tc.lockBiased && percpu.RWMutexBiased(&rw) {
					t.Error("a writer that found the bias on left it on")
				}
			}
			typWithin(t, 5*time.Second, "a final Lock", func() {
				rw.Lock()
				rw.Unlock()
			})
			typWithin(t, 5*time.Second, "a final RLock", func() {
				rw.RLock()
				rw.RUnlock()
			})
		})
	}
}

// TestRWMutexManyReaders: readers far outnumber the CPUs (64 per CPU,
// none locked) and writers are 1% of the operations.
func TestRWMutexManyReaders(t *testing.T) {
	var c typRWCheck
	var wg sync.WaitGroup
	var writes atomic.Int64
	n := 64 * runtime.NumCPU()
	deadline := time.Now().Add(500 * time.Millisecond)
	for g := range n {
		wg.Go(func() {
			var mine int64
			for i := 0; ; i++ {
				if i%16 == 0 && time.Now().After(deadline) {
					break
				}
				if (g+i)%100 == 0 {
					c.write(&c.rw, 50)
					mine++
				} else {
					c.read(c.rw.RLocker(), 10, i%13 == 0)
				}
			}
			writes.Add(mine)
		})
	}
	wg.Wait()
	t.Logf("%d goroutines: %d writes", n, writes.Load())
	c.finish(t, writes.Load())
}

// TestRWMutexRLocker: RLocker's Lock and Unlock are RLock and RUnlock of
// the same RWMutex (a writer waits for an RLocker holder; lockers from
// separate calls share the lock), and readers that lock only through
// RLockers, under stress, are excluded from writers.
func TestRWMutexRLocker(t *testing.T) {
	var rw percpu.RWMutex
	var _ sync.Locker = rw.RLocker()
	l1, l2 := rw.RLocker(), rw.RLocker()
	l1.Lock()
	l2.Lock() // two readers at once
	locked := make(chan struct{})
	go func() {
		rw.Lock()
		close(locked)
	}()
	select {
	case <-locked:
		t.Fatal("Lock returned while two RLocker holders were inside")
	case <-time.After(20 * time.Millisecond):
	}
	l1.Unlock()
	select {
	case <-locked:
		t.Fatal("Lock returned while an RLocker holder was inside")
	case <-time.After(20 * time.Millisecond):
	}
	l2.Unlock()
	typWithin(t, 5*time.Second, "Lock after the RLocker holders left", func() { <-locked })
	rw.Unlock()

	var c typRWCheck
	writes, _ := typRWStress(t, &c, typAll(6*runtime.NumCPU()), 400*time.Millisecond, 50, true)
	c.finish(t, writes)
}

// typEvents is an ordered log of lock events (a mutex orders it).
type typEvents struct {
	mu  sync.Mutex
	log []string
}

func (e *typEvents) add(format string, args ...any) {
	e.mu.Lock()
	e.log = append(e.log, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

func (e *typEvents) index(ev string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, s := range e.log {
		if s == ev {
			return i
		}
	}
	return -1
}

// TestRWMutexSleepingReaders: readers that sleep while holding the read
// lock keep a writer out until the last of them leaves; readers that come
// while the writer waits wait for it (writer preference, as in
// sync.RWMutex); a stream of overlapping readers does not starve a
// writer.
func TestRWMutexSleepingReaders(t *testing.T) {
	t.Run("writer waits", func(t *testing.T) {
		var rw percpu.RWMutex
		var ev typEvents
		const sleepers, late = 4, 4
		var entered, wg sync.WaitGroup
		entered.Add(sleepers)
		for r := range sleepers {
			wg.Go(func() {
				rw.RLock()
				ev.add("reader %d in", r)
				entered.Done()
				time.Sleep(time.Duration(50+20*r) * time.Millisecond)
				ev.add("reader %d out", r)
				rw.RUnlock()
			})
		}
		entered.Wait()
		wg.Go(func() {
			rw.Lock()
			ev.add("writer in")
			time.Sleep(20 * time.Millisecond)
			ev.add("writer out")
			rw.Unlock()
		})
		typWithin(t, 5*time.Second, "waiting for the writer to announce itself", func() {
			for !percpu.RWMutexWriterWaiting(&rw) {
				time.Sleep(100 * time.Microsecond)
			}
		})
		for r := range late {
			wg.Go(func() {
				rw.RLock()
				ev.add("late reader %d in", r)
				rw.RUnlock()
			})
		}
		typWithin(t, 5*time.Second, "the readers and the writer", wg.Wait)
		win, wout := ev.index("writer in"), ev.index("writer out")
		for r := range sleepers {
			if out := ev.index(fmt.Sprintf("reader %d out", r)); out > win {
				t.Errorf("the writer got in (event %d) before sleeping reader %d left (event %d)", win, r, out)
			}
		}
		for r := range late {
			if in := ev.index(fmt.Sprintf("late reader %d in", r)); in < wout {
				t.Errorf("late reader %d got in (event %d) while the writer waited or held the lock (out at %d)", r, in, wout)
			}
		}
		if t.Failed() {
			t.Logf("events: %q", ev.log)
		}
	})
	t.Run("no writer starvation", func(t *testing.T) {
		var c typRWCheck
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 * runtime.NumCPU() {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					c.rw.RLock()
					time.Sleep(time.Millisecond) // readers always overlap
					c.rw.RUnlock()
				}
			})
		}
		time.Sleep(10 * time.Millisecond)
		for i := range 20 {
			typWithin(t, 5*time.Second, fmt.Sprintf("write %d among sleeping readers", i), func() { c.write(&c.rw, 0) })
		}
		close(stop)
		wg.Wait()
		c.finish(t, 20)
	})
}

// TestRWMutexReadersMigrate: readers on locked threads, pinned to one CPU
// for RLock and re-pinned to another before RUnlock, so that the two
// halves of every read land on different CPUs' counters, next to writers
// and the stressors' own migrations. Nothing may be lost between the
// CPUs: a == b for every reader, the exact count of writes, a free lock
// at the end.
func TestRWMutexReadersMigrate(t *testing.T) {
	cpus := typAllowedCPUs(t)
	if len(cpus) < 2 {
		t.Log("one allowed CPU: readers cannot migrate, the test runs without")
	}
	readers := max(4, 3*len(cpus))
	st := typStartStress(t, typStress{Signals: true, Procs: readers + 4})
	var c typRWCheck
	var wg sync.WaitGroup
	var migrated, writes atomic.Int64
	d := 600 * time.Millisecond
	for r := range readers {
		st.GoWorker(&wg, true, 3, d, func(seg int, until time.Time) {
			var moved int64
			for i := 0; time.Now().Before(until); i++ {
				from := cpus[(r+i)%len(cpus)]
				to := cpus[(r+i+1)%len(cpus)]
				typPin(t, from)
				c.rw.RLock()
				if !typRace {
					if c.inside.Add(1) >= typWriterMark {
						c.errs.Set("a reader got the read lock while a writer was inside")
					}
				}
				cpuIn := percpu.CPU()
				a := c.s.a
				typPin(t, to) // migrates now, with the read lock held
				cpuOut := percpu.CPU()
				b := c.s.b
				if a != b {
					c.errs.Set("a reader saw a=%d b=%d: a writer was inside", a, b)
				}
				if !typRace {
					c.inside.Add(-1)
				}
				c.rw.RUnlock()
				if cpuIn != from || cpuOut != to {
					c.errs.Set("pinned to CPU %d then %d, the reader ran on %d then %d", from, to, cpuIn, cpuOut)
				}
				if cpuIn != cpuOut {
					moved++
				}
			}
			migrated.Add(moved)
		})
	}
	for w := range 2 {
		st.GoWorker(&wg, w == 0, 3, d, func(seg int, until time.Time) {
			var mine int64
			for time.Now().Before(until) {
				c.write(&c.rw, 100)
				mine++
				time.Sleep(50 * time.Microsecond)
			}
			writes.Add(mine)
		})
	}
	wg.Wait()
	t.Log(st.Stop())
	t.Logf("%d readers, %d reads that unlocked on another CPU than they locked on, %d writes", readers, migrated.Load(), writes.Load())
	if len(cpus) > 1 && migrated.Load() == 0 {
		t.Error("no reader migrated between RLock and RUnlock")
	}
	c.finish(t, writes.Load())
}

// TestRWMutexZeroValue: the zero RWMutex, alone or inside a struct, is an
// unlocked lock: Lock, RLock (twice, from one goroutine, with no writer
// waiting), a writer kept out by a reader, readers kept out by a writer.
func TestRWMutexZeroValue(t *testing.T) {
	var rw percpu.RWMutex
	rw.Lock()
	rw.Unlock()
	rw.RLock()
	rw.RLock()
	rw.RUnlock()
	rw.RUnlock()
	rw.Lock()
	rw.Unlock()

	type guarded struct {
		mu percpu.RWMutex
		m  map[string]int
	}
	g := &guarded{m: map[string]int{}}
	g.mu.RLock()
	got := make(chan struct{})
	go func() {
		g.mu.Lock()
		g.m["x"]++
		g.mu.Unlock()
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("Lock returned while a reader was inside")
	case <-time.After(20 * time.Millisecond):
	}
	if g.m["x"] != 0 {
		t.Fatal("the writer wrote while a reader was inside")
	}
	g.mu.RUnlock()
	typWithin(t, 5*time.Second, "Lock after the reader left", func() { <-got })

	g.mu.Lock()
	rgot := make(chan int)
	go func() {
		g.mu.RLock()
		rgot <- g.m["x"]
		g.mu.RUnlock()
	}()
	select {
	case <-rgot:
		t.Fatal("RLock returned while a writer was inside")
	case <-time.After(20 * time.Millisecond):
	}
	g.m["x"]++
	g.mu.Unlock()
	select {
	case v := <-rgot:
		if v != 2 {
			t.Errorf("the reader saw %d, want 2", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RLock did not return after Unlock")
	}
}

// TestRWMutexSimultaneous: a reader and a writer, pinned to two CPUs,
// start RLock and Lock at the same instant, round after round (a spinning
// barrier releases both). This is the store-buffering litmus test: a
// reader's add to its CPU's counter is a plain store followed by a load of
// the writer flag, and without the writer's membarrier (or, in the
// fallback, the readers' atomic adds) an x86 CPU may let the load pass the
// store, and both would get in. At most one of the two may be inside.
func TestRWMutexSimultaneous(t *testing.T) {
	cpus := typAllowedCPUs(t)
	if len(cpus) < 2 {
		t.Skip("needs two allowed CPUs")
	}
	var (
		rw       percpu.RWMutex
		arrived  atomic.Int64 // the barriers: each side adds 1 at each
		stop     atomic.Bool  // set by the reader before it arrives
		inside   [2]atomic.Int32
		together atomic.Int64
		winner   atomic.Int32    // who got in first this round: 1 reader, 2 writer
		first    [3]atomic.Int64 // rounds that each got in first
		rounds   atomic.Int64
	)
	deadline := time.Now().Add(time.Second)
	side := func(me, cpu int, lock, unlock func()) {
		runtime.LockOSThread() // never unlocked: the pinned thread exits
		defer unix.SchedSetaffinity(0, &typProcessCPUs)
		typPin(t, cpu)
		for r := int64(0); ; r++ {
			if me == 0 && (r == 100000 || r%64 == 0 && time.Now().After(deadline)) {
				stop.Store(true)
			}
			arrived.Add(1)
			typAwait(&arrived, 4*r+2)
			if stop.Load() {
				rounds.Store(r)
				return
			}
			lock()
			inside[me].Store(1)
			if inside[1-me].Load() != 0 {
				together.Add(1)
			}
			if winner.CompareAndSwap(0, int32(me+1)) {
				first[me+1].Add(1)
			}
			typSpin(30)
			inside[me].Store(0)
			unlock()
			arrived.Add(1)
			typAwait(&arrived, 4*r+4)
			if me == 0 {
				winner.Store(0) // before the reader arrives for the next round
			}
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { side(0, cpus[0], rw.RLock, rw.RUnlock) })
	wg.Go(func() { side(1, cpus[1], rw.Lock, rw.Unlock) })
	wg.Wait()
	t.Logf("%d rounds (%v): the reader got in first %d times, the writer %d; both inside %d times",
		rounds.Load(), percpu.Status().Mode, first[1].Load(), first[2].Load(), together.Load())
	if n := together.Load(); n != 0 {
		t.Errorf("the reader and the writer were inside together in %d of %d rounds", n, rounds.Load())
	}
}

// typAwait spins until v reaches n: tightly at first, so that two threads
// leave a barrier within a few cache-line transfers of each other, then
// yielding (a goroutine that the other side's unlock made ready may be
// queued on this P).
func typAwait(v *atomic.Int64, n int64) {
	for i := 0; v.Load() < n; i++ {
		if i > 2000 {
			runtime.Gosched()
		}
	}
}
