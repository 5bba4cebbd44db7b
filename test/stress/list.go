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
	register("list", "per-CPU linked lists (Pop, Push with shared links): items move between CPUs and are conserved", func() scenario { return &list{} })
}

// list: per-CPU singly linked lists of item indices (percpu.Pop and Push;
// the head word in each shard, the links shared). A step pops an item from
// the list of the CPU it runs on and pushes it on the list of whatever
// CPU it runs on then. Now and then a step moves an item to or from a
// mutex-protected global pool instead: threads without rseq (-M, cgo
// threads without a registration) work on that pool only, so items flow
// between the two paths. An ownership table catches an item popped twice
// or pushed while not held. Invariant: after the run the lists (walked
// shard by shard) and the pool hold every item exactly once (the multiset
// of items is conserved), and no worker holds one.
type list struct {
	noBackground
	head  perCPU
	links []uint64
	own   *ownership
	n     int
	mu    sync.Mutex
	pool  []int
	moves atomic.Int64
	empty atomic.Int64
	pooled,
	unpooled atomic.Int64
	inLists int
}

func (s *list) setup(e *env) (err error) {
	if s.head, err = allocPerCPU(8, percpu.ByCPU); err != nil {
		return err
	}
	s.n = itemsFor(e, 100, 1<<20)
	s.links = make([]uint64, s.n)
	s.own = newOwnership(s.n)
	// Deal the items to the allowed CPUs' lists before any worker runs:
	// the lists are plain memory here.
	for it := 0; it < s.n; it++ {
		cpu := e.cpus[it%len(e.cpus)]
		h := s.head.word(cpu, 0)
		s.links[it] = *h
		*h = uint64(it + 1)
	}
	return nil
}

func (s *list) close() { s.head.free() }

func (s *list) step(w *worker) {
	e := w.e
	switch w.steps % 64 {
	case 17: // from the pool to this CPU's list
		if it, ok := s.fromPool(w); ok {
			s.push(w, it)
			s.unpooled.Add(1)
			return
		}
	case 49: // from this CPU's list to the pool
		it, _, err := percpu.Pop(s.head.b, 0, s.links)
		if err == nil {
			s.own.take(e, w, it, "Pop")
			w.outside()
			s.toPool(w, it)
			s.pooled.Add(1)
			return
		}
		if err != percpu.ErrEmpty && err != percpu.ErrNoRseq {
			e.fail("worker %d: Pop: %v", w.id, err)
			return
		}
	}
	it, _, err := percpu.Pop(s.head.b, 0, s.links)
	switch err {
	case nil:
	case percpu.ErrEmpty:
		s.empty.Add(1)
		w.outside()
		return
	case percpu.ErrNoRseq:
		// The fallback: the pool, under its mutex.
		w.fallbacks++
		if it, ok := s.fromPool(w); ok {
			w.outside()
			s.toPool(w, it)
		}
		return
	default:
		e.fail("worker %d: Pop: %v", w.id, err)
		return
	}
	s.own.take(e, w, it, "Pop")
	w.outside()
	s.push(w, it)
	s.moves.Add(1)
}

// push pushes an item the worker holds on the current CPU's list, or (no
// rseq) on the pool.
func (s *list) push(w *worker, it int) {
	s.own.give(w.e, w, it, "Push")
	if _, err := percpu.Push(s.head.b, 0, s.links, it); err != nil {
		if err != percpu.ErrNoRseq {
			w.e.fail("worker %d: Push: %v", w.id, err)
			return
		}
		s.own.take(w.e, w, it, "Push (no rseq)")
		s.toPool(w, it)
	}
}

func (s *list) fromPool(w *worker) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pool) == 0 {
		return 0, false
	}
	it := s.pool[len(s.pool)-1]
	s.pool = s.pool[:len(s.pool)-1]
	s.own.take(w.e, w, it, "the pool")
	return it, true
}

func (s *list) toPool(w *worker, it int) {
	s.own.give(w.e, w, it, "a return to the pool")
	s.mu.Lock()
	s.pool = append(s.pool, it)
	s.mu.Unlock()
}

func (s *list) check(e *env) error {
	var found []int
	for sh := range s.head.shards {
		h := s.head.load(sh, 0)
		for steps := 0; h != 0; steps++ {
			if h > uint64(s.n) || steps > s.n {
				return fmt.Errorf("shard %d: list broken (head value %d after %d items)", sh, h, steps)
			}
			found = append(found, int(h-1))
			h = s.links[h-1]
		}
	}
	s.inLists = len(found)
	found = append(found, s.pool...)
	if err := census(found, s.n, "the lists and the pool"); err != nil {
		return err
	}
	return s.own.released("item")
}

func (s *list) report() [][2]string {
	return [][2]string{
		{"items", fmt.Sprint(s.n)},
		{"moves", fmt.Sprint(s.moves.Load())},
		{"empty", fmt.Sprint(s.empty.Load())},
		{"pool_in", fmt.Sprint(s.pooled.Load())},
		{"pool_out", fmt.Sprint(s.unpooled.Load())},
		{"in_lists_end", fmt.Sprint(s.inLists)},
		{"pool_end", fmt.Sprint(len(s.pool))},
	}
}
