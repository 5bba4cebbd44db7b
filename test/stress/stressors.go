// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// stressors are the Go-specific sources of trouble that run next to the
// workers (the -preempt, -profile, -gc, -procs and -affinity flags;
// -thread-exit is in the workers, -cgo in cgo.go).
type stressors struct {
	stopCh chan struct{}
	wg     sync.WaitGroup
	undo   []func()

	spins    atomic.Int64 // preemption storm: loop rounds
	gcs      atomic.Int64
	procSets atomic.Int64
	pins     atomic.Int64
	pinErrs  atomic.Int64

	// enabled holds the counters of the stressors that run: the run
	// lasts until each has acted (see acted).
	enabled []*atomic.Int64
}

// acted reports whether every stressor that runs has acted at least once.
// A run on a busy machine can spend its whole duration before, say, the
// first affinity change gets a turn.
func (s *stressors) acted() bool {
	for _, c := range s.enabled {
		if c.Load() == 0 {
			return false
		}
	}
	return true
}

func (e *env) startStressors() *stressors {
	cfg := e.cfg
	s := &stressors{stopCh: make(chan struct{})}
	rng := rand.New(rand.NewPCG(cfg.seed, 0x5eed))
	if cfg.preempt {
		s.enabled = append(s.enabled, &s.spins)
		// Goroutines in loops without calls: the runtime can stop them
		// only with an asynchronous preemption (SIGURG), which it sends
		// every 10ms and for every GC and GOMAXPROCS change; the workers
		// share the Ps with them and get the same signals.
		for i := 0; i < len(e.cpus); i++ {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				var stop atomic.Bool
				go func() { <-s.stopCh; stop.Store(true) }()
				x := uint64(i)
				for rounds := int64(0); !stop.Load(); rounds++ {
					for j := 0; j < 1<<20; j++ {
						x = x*6364136223846793005 + 1442695040888963407
					}
					s.spins.Add(1)
				}
				sink.Store(x)
			}()
		}
	}
	if cfg.profile {
		// The documented way to a higher rate: set it before
		// StartCPUProfile, which then cannot lower it (and says so on
		// stderr: "cannot set cpu profile rate until previous profile
		// has finished").
		runtime.SetCPUProfileRate(10000)
		if err := pprof.StartCPUProfile(io.Discard); err != nil {
			e.fail("profiling: %v", err)
			runtime.SetCPUProfileRate(0)
		} else {
			s.undo = append(s.undo, pprof.StopCPUProfile)
		}
	}
	if cfg.gc {
		s.enabled = append(s.enabled, &s.gcs)
		old := setGCPercent(1)
		s.undo = append(s.undo, func() { setGCPercent(old) })
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			var keep [][]byte
			for !s.stopped() {
				for i := 0; i < 64; i++ {
					keep = append(keep, make([]byte, 1024+i*64))
				}
				if len(keep) > 4096 {
					keep = keep[:0]
				}
				runtime.GC()
				s.gcs.Add(1)
				time.Sleep(time.Millisecond)
			}
		}()
	}
	if cfg.procs {
		s.enabled = append(s.enabled, &s.procSets)
		old := runtime.GOMAXPROCS(0)
		s.undo = append(s.undo, func() { runtime.GOMAXPROCS(old) })
		hi := max(2*len(e.cpus), cfg.threads+1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			r := rand.New(rand.NewPCG(cfg.seed, 0x9209))
			for !s.stopped() {
				runtime.GOMAXPROCS(1 + r.IntN(hi))
				s.procSets.Add(1)
				time.Sleep(time.Duration(1+r.IntN(5)) * time.Millisecond)
			}
		}()
	}
	if cfg.affinity {
		s.enabled = append(s.enabled, &s.pins)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			var all unix.CPUSet
			for _, c := range e.cpus {
				all.Set(c)
			}
			for round := 0; !s.stopped(); round++ {
				e.threads.each(func(tid int) {
					var set unix.CPUSet
					if round%8 == 7 {
						set = all
					} else {
						set.Set(e.cpus[rng.IntN(len(e.cpus))])
					}
					if err := unix.SchedSetaffinity(tid, &set); err != nil {
						s.pinErrs.Add(1)
					} else {
						s.pins.Add(1)
					}
				})
				time.Sleep(500 * time.Microsecond)
			}
			// Free the threads that are still there.
			e.threads.each(func(tid int) { unix.SchedSetaffinity(tid, &all) })
		}()
	}
	return s
}

var sink atomic.Uint64

func (s *stressors) stopped() bool {
	select {
	case <-s.stopCh:
		return true
	default:
		return false
	}
}

func (s *stressors) stop() {
	close(s.stopCh)
	s.wg.Wait()
	for i := len(s.undo) - 1; i >= 0; i-- {
		s.undo[i]()
	}
}

func (s *stressors) report() [][2]string {
	var r [][2]string
	add := func(k string, v any) { r = append(r, [2]string{k, fmt.Sprint(v)}) }
	if n := s.spins.Load(); n > 0 {
		add("preempt_spin_rounds", n)
	}
	if n := s.gcs.Load(); n > 0 {
		add("gcs", n)
	}
	if n := s.procSets.Load(); n > 0 {
		add("gomaxprocs_changes", n)
	}
	if n := s.pins.Load(); n > 0 {
		add("affinity_pins", n)
		add("affinity_errors", s.pinErrs.Load())
	}
	return r
}
