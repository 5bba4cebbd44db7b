// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Stressors and small helpers shared by the tests of RWMutex, Values, Pool
// and Fence. Their names start with typ, to stay out of the way of the
// package's other tests.

// typStress says which stressors run next to a concurrency test.
type typStress struct {
	// Spinners: goroutines spinning in tight loops without calls, which
	// only asynchronous preemption (SIGURG from the runtime) can stop,
	// and which take CPU time from the workers (kernel preemption).
	Spinners int
	// Signals: SIGURG to the threads of the locked workers, in a loop.
	Signals bool
	// Migrate: re-pin the threads of the locked workers to random allowed
	// CPUs, in a loop, so that they migrate in the middle of anything.
	Migrate bool
	// GC: runtime.GC in a loop, with debug.SetGCPercent(1).
	GC bool
	// Procs: GOMAXPROCS during the run; 0 leaves it.
	Procs int
}

// typAll is every stressor at once, with Ps for the given number of
// workers and the stressors' own goroutines.
func typAll(workers int) typStress {
	n := runtime.NumCPU()
	return typStress{Spinners: n, Signals: true, Migrate: true, GC: true, Procs: workers + n + 3}
}

// typStressRun is a running set of stressors.
type typStressRun struct {
	t    testing.TB
	cfg  typStress
	cpus []int
	halt chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	mu   sync.Mutex       // guards tids; held while a stressor acts on one
	tids map[int]struct{} // the threads of running locked workers

	signals, migrations, gcs, threads atomic.Int64
	restore                           []func()
}

// typStartStress starts the stressors of cfg; they run until Stop (or the
// end of the test).
func typStartStress(t testing.TB, cfg typStress) *typStressRun {
	s := &typStressRun{t: t, cfg: cfg, cpus: typAllowedCPUs(t), halt: make(chan struct{}), tids: map[int]struct{}{}}
	t.Cleanup(func() { s.Stop() })
	if cfg.Procs > 0 {
		old := runtime.GOMAXPROCS(cfg.Procs)
		s.restore = append(s.restore, func() { runtime.GOMAXPROCS(old) })
	}
	if cfg.GC {
		old := debug.SetGCPercent(1)
		s.restore = append(s.restore, func() { debug.SetGCPercent(old) })
	}
	for range cfg.Spinners {
		s.wg.Go(func() {
			x := uint64(1)
			for !s.stopped() {
				for i := 0; i < 1<<16; i++ { // no calls: only async preemption stops this
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			typSinkU.Add(x & 1)
		})
	}
	if cfg.Signals {
		s.wg.Go(func() {
			pid := unix.Getpid()
			var tids []int
			for !s.stopped() {
				tids = s.snapshot(tids[:0])
				for _, tid := range tids {
					// ESRCH if the worker's thread has just exited.
					if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
						s.signals.Add(1)
					}
				}
				time.Sleep(20 * time.Microsecond)
			}
		})
	}
	if cfg.Migrate && len(s.cpus) > 1 {
		s.wg.Go(func() {
			r := rand.New(rand.NewPCG(1, 2))
			for !s.stopped() {
				s.mu.Lock()
				for tid := range s.tids {
					var one unix.CPUSet
					one.Set(s.cpus[r.IntN(len(s.cpus))])
					if unix.SchedSetaffinity(tid, &one) == nil {
						s.migrations.Add(1)
					}
				}
				s.mu.Unlock()
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
	if cfg.GC {
		s.wg.Go(func() {
			var keep [][]byte
			for i := 0; !s.stopped(); i++ {
				keep = append(keep, make([]byte, 1<<(8+i%10)))
				if len(keep) > 32 {
					keep = keep[:0]
				}
				runtime.GC()
				s.gcs.Add(1)
			}
		})
	}
	return s
}

var typSinkU atomic.Uint64

func (s *typStressRun) stopped() bool {
	select {
	case <-s.halt:
		return true
	default:
		return false
	}
}

func (s *typStressRun) snapshot(tids []int) []int {
	s.mu.Lock()
	for tid := range s.tids {
		tids = append(tids, tid)
	}
	s.mu.Unlock()
	return tids
}

// Stop stops the stressors, restores GOMAXPROCS and the GC percentage,
// and returns what they did.
func (s *typStressRun) Stop() string {
	s.once.Do(func() {
		close(s.halt)
		s.wg.Wait()
		for _, f := range s.restore {
			f()
		}
	})
	return fmt.Sprintf("stressors %+v: %d SIGURGs, %d migrations, %d GCs, %d worker threads exited",
		s.cfg, s.signals.Load(), s.migrations.Load(), s.gcs.Load(), s.threads.Load())
}

// GoWorker runs work on a new goroutine, in segs segments, and calls
// wg.Done when all have run. work(seg, until) runs until the time until
// (or earlier, if it has done its share). If locked, each segment runs on
// a goroutine of its own locked to its own thread, which the stressors
// signal and migrate, and which returns without UnlockOSThread: its thread
// exits then, in the middle of the run (the runtime makes a new one for
// the next segment). The stressors and work may pin it anywhere: work
// must not unlock it (the thread would go back to the runtime's pool
// pinned).
func (s *typStressRun) GoWorker(wg *sync.WaitGroup, locked bool, segs int, d time.Duration, work func(seg int, until time.Time)) {
	start := time.Now()
	until := func(seg int) time.Time { return start.Add(d * time.Duration(seg+1) / time.Duration(segs)) }
	wg.Go(func() {
		for seg := range segs {
			if !locked {
				work(seg, until(seg))
				continue
			}
			done := make(chan struct{})
			go func() {
				runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
				tid := unix.Gettid()
				s.mu.Lock()
				s.tids[tid] = struct{}{}
				s.mu.Unlock()
				work(seg, until(seg))
				s.mu.Lock()
				delete(s.tids, tid)
				s.mu.Unlock()
				// The thread exits now, unless it is the main
				// thread, which the runtime parks for good instead:
				// leave it with the process's affinity, which other
				// tests may read.
				unix.SchedSetaffinity(0, &typProcessCPUs)
				s.threads.Add(1)
				close(done)
			}()
			<-done
		}
	})
}

// typProcessCPUs is the affinity of the process when the tests start,
// read on the main thread before any test could pin a thread.
var typProcessCPUs = func() (set unix.CPUSet) {
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		panic("sched_getaffinity: " + err.Error())
	}
	return set
}()

// typAllowedCPUs returns the CPUs the process may run on.
func typAllowedCPUs(t testing.TB) []int {
	t.Helper()
	var cpus []int
	for cpu := 0; len(cpus) < typProcessCPUs.Count(); cpu++ {
		if typProcessCPUs.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	if len(cpus) == 0 {
		t.Fatal("no allowed CPU")
	}
	return cpus
}

// typPin pins the calling thread, which must be locked, to cpu.
func typPin(t testing.TB, cpu int) {
	var one unix.CPUSet
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Errorf("pinning to CPU %d: %v", cpu, err)
	}
}

// typPinned runs f on the calling goroutine, locked to its thread and
// pinned to cpu, and puts the thread back as it was (all allowed CPUs,
// unlocked) afterwards.
func typPinned(t testing.TB, cpu int, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Fatalf("sched_getaffinity: %v", err)
	}
	defer unix.SchedSetaffinity(0, &orig)
	typPin(t, cpu)
	f()
}

// typFirstError keeps the first of the errors that many goroutines
// report.
type typFirstError struct {
	mu  sync.Mutex
	err error
	n   int
}

func (e *typFirstError) Set(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = fmt.Errorf(format, args...)
	}
	e.n++
}

func (e *typFirstError) Check(t testing.TB) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		t.Errorf("%v (%d errors in all)", e.err, e.n)
	}
}

// typMustPanic calls f and checks that it panics with a message that
// starts with prefix.
func typMustPanic(t *testing.T, what, prefix string, f func()) {
	t.Helper()
	msg, ok := func() (msg string, panicked bool) {
		defer func() {
			if r := recover(); r != nil {
				msg, panicked = fmt.Sprint(r), true
			}
		}()
		f()
		return "", false
	}()
	switch {
	case !ok:
		t.Errorf("%s did not panic", what)
	case !strings.HasPrefix(msg, prefix):
		t.Errorf("%s panicked with %q, want a message starting with %q", what, msg, prefix)
	}
}

// typWithin runs f on a new goroutine and fails the test if it has not
// returned after d (a deadlock: a lost RUnlock, a lost wake-up).
func typWithin(t testing.TB, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// typSpin burns a little CPU time (widening the windows in which a broken
// lock would let two sides meet).
//
//go:noinline
func typSpin(n int) int {
	x := 0
	for i := range n {
		x += i * i
	}
	return x
}
