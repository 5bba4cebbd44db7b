// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"fmt"
	"sync/atomic"

	"github.com/gorseq/gorseq/percpu"
)

func init() {
	register("increment", "per-CPU counters: Add on a ByCPU and a ByCID Block, and a percpu.Counter; every sum is exact", func() scenario { return &increment{} })
}

// increment: every step adds the worker's own amount (1 + id) to a word
// of a ByCPU Block and of a ByCID Block with percpu.Add, and to a
// percpu.Counter. A thread without rseq adds to an atomic fallback word
// instead (an atomic add to a per-CPU word could be overwritten by a
// commit on its CPU). Invariant: each Block's shards plus its fallback
// word, and the Counter, sum to what the workers added.
type increment struct {
	noBackground
	byCPU, byCID perCPU
	counter      percpu.Counter
	fbCPU, fbCID atomic.Int64
	added        atomic.Int64 // what the workers added, each Block
	counterAdded atomic.Int64
}

func (s *increment) setup(e *env) (err error) {
	if s.byCPU, err = allocPerCPU(8, percpu.ByCPU); err != nil {
		return err
	}
	s.byCID, err = allocPerCPU(8, percpu.ByCID)
	return err
}

func (s *increment) close() {
	s.byCPU.free()
	s.byCID.free()
}

func (s *increment) step(w *worker) {
	v := int64(w.id + 1)
	if _, err := percpu.Add(s.byCPU.b, 0, v); err != nil {
		if err != percpu.ErrNoRseq {
			w.e.fail("worker %d: Add: %v", w.id, err)
			return
		}
		s.fbCPU.Add(v)
		w.fallbacks++
	}
	w.outside()
	if _, err := percpu.Add(s.byCID.b, 0, v); err != nil {
		if err != percpu.ErrNoRseq {
			w.e.fail("worker %d: Add (ByCID): %v", w.id, err)
			return
		}
		s.fbCID.Add(v)
	}
	s.added.Add(v)
	w.outside()
	s.counter.Add(-v)
	s.counterAdded.Add(-v)
}

func (s *increment) check(e *env) error {
	want := s.added.Load()
	cpu := s.byCPU.sumShards(0) + s.fbCPU.Load()
	cid := s.byCID.sumShards(0) + s.fbCID.Load()
	c := s.counter.Load()
	if cpu != want || cid != want || c != s.counterAdded.Load() {
		return fmt.Errorf("sums: ByCPU %d (fallback %d), ByCID %d (fallback %d), Counter %d; want %d, %d and %d",
			cpu, s.fbCPU.Load(), cid, s.fbCID.Load(), c, want, want, s.counterAdded.Load())
	}
	return nil
}

func (s *increment) report() [][2]string {
	return [][2]string{
		{"sum", fmt.Sprint(s.added.Load())},
		{"sum_fallback", fmt.Sprint(s.fbCPU.Load())},
		{"counter", fmt.Sprint(s.counter.Load())},
	}
}
