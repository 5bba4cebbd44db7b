// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gorseq/gorseq/percpu"
)

func init() {
	register("spinlock", "per-CPU spinlocks (CompareAndStore 0->1, atomic store 0) protecting per-CPU plain counters; the total is exact", func() scenario { return &spinlock{} })
}

// spinlock: each CPU's shard has a lock word and a counter. A worker
// takes the lock of the CPU it runs on with CompareAndStore(0 -> 1) (it
// learns which from the shard returned), increments that shard's counter
// with a plain, non-atomic load and store, and releases the lock with an
// atomic store of 0 (only the holder writes the word while it is held, so
// the release needs no critical section, and the worker may have moved to
// another CPU by then). If the lock did not exclude, increments would be
// lost. A thread without rseq cannot take a per-CPU lock (an atomic
// compare-and-swap from another CPU could interleave with a commit), so it
// increments a mutex-protected global counter instead. Invariant: the
// shards' counters plus the global one equal the number of increments.
type spinlock struct {
	noBackground
	lock, data perCPU
	mu         sync.Mutex
	global     int64
	incs       atomic.Int64
	maxHeld    atomic.Int64 // longest spin for a lock
}

func (s *spinlock) setup(e *env) (err error) {
	if s.lock, err = allocPerCPU(8, percpu.ByCPU); err != nil {
		return err
	}
	s.data, err = allocPerCPU(8, percpu.ByCPU)
	return err
}

func (s *spinlock) close() {
	s.lock.free()
	s.data.free()
}

func (s *spinlock) step(w *worker) {
	var shard int
	for n := 0; ; n++ {
		sh, err := percpu.CompareAndStore(s.lock.b, 0, 0, 1)
		if err == nil {
			shard = sh
			if int64(n) > s.maxHeld.Load() {
				s.maxHeld.Store(int64(n))
			}
			break
		}
		switch err {
		case percpu.ErrMismatch:
			if w.e.stop.Load() && w.e.failed.Load() {
				return
			}
			w.spin(n)
			continue
		case percpu.ErrNoRseq:
			s.mu.Lock()
			s.global++
			s.mu.Unlock()
			s.incs.Add(1)
			w.fallbacks++
			w.outside()
			return
		}
		w.e.fail("worker %d: CompareAndStore: %v", w.id, err)
		return
	}
	// Holding shard's lock. The counter is plain memory: a load, a pause
	// that other holders would need to lose an update, a store.
	p := s.data.word(shard, 0)
	v := *p
	w.outside()
	*p = v + 1
	s.incs.Add(1)
	if old := atomic.SwapUint64(s.lock.word(shard, 0), 0); old != 1 {
		w.e.fail("worker %d: released the lock of shard %d, which held %d", w.id, shard, old)
	}
}

func (s *spinlock) check(e *env) error {
	var sum int64
	for sh := range s.lock.shards {
		if l := s.lock.load(sh, 0); l != 0 {
			return fmt.Errorf("the lock of shard %d is %d after the run", sh, l)
		}
		sum += int64(s.data.load(sh, 0))
	}
	if want := s.incs.Load(); sum+s.global != want {
		return fmt.Errorf("counters sum to %d (shards) + %d (global) = %d, want %d: %d increments lost", sum, s.global, sum+s.global, want, want-sum-s.global)
	}
	return nil
}

func (s *spinlock) report() [][2]string {
	return [][2]string{
		{"sum", fmt.Sprint(s.incs.Load())},
		{"sum_fallback", fmt.Sprint(s.global)},
		{"max_spins", fmt.Sprint(s.maxHeld.Load())},
	}
}
