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
	register("buffer", "per-CPU bounded arrays of items: push with StoreCommit, pop with a read and CompareAndStore on a tagged count; items conserved", func() scenario { return &buffer{} })
}

// Layout of a buffer shard: the tagged count word, then the slots.
const (
	bufferBlock = 4096
	bufferCap   = bufferBlock/8 - 1
)

// buffer: per-CPU bounded arrays of item indices, a stack per shard. The
// shard's first word is a tagged word (see twNext) whose count is the
// number of items, the slots follow.
//
// Push: read the count word w of the shard of the CPU the thread seems to
// run on (percpu.CPU), then StoreCommit(w -> w with count+1, storing the
// item at slot count). The compare runs in the critical section on the
// shard of the CPU the thread really runs on: it succeeds only if that is
// the shard w came from (tag) and nothing committed there since
// (sequence), and then the item lands above the top, where no reader
// looks until the commit publishes it. An abort between the two stores
// leaves a stray value above the top, which the next push overwrites.
//
// Pop: read w, then the item at slot count-1 with an atomic load outside
// any critical section, then CompareAndStore(w -> w with count-1). Slots
// below the count are written only by pushes that committed a new
// sequence number, so if the compare succeeds (same shard, no commit in
// between) the item read is the one removed. With a plain count instead
// of the tagged word this pop would be wrong twice over: the compare could
// succeed on another CPU's shard with the same count (removing an item
// the thread never read) or after a pop and a push put the count back
// with another item in the slot (ABA). The kernel's param_test does the
// load inside its critical section (cmpnev_storeoffp_load); percpu has no
// such operation, and the tag and sequence make the read-then-compare
// equivalent.
//
// Steps pop and push an item, occasionally through the global pool; a
// thread without rseq works on the pool only. Invariant: the shards'
// stacks and the pool hold every item exactly once; every shard's word
// keeps its own tag; slots never show an item out of range.
type buffer struct {
	noBackground
	buf   perCPU
	n     int
	own   *ownership
	pool  pool[int]
	moves atomic.Int64
	empty atomic.Int64
	found struct{ stacks, pool int }
}

func (s *buffer) setup(e *env) (err error) {
	if err := checkShardLimit(); err != nil {
		return err
	}
	if s.buf, err = allocPerCPU(bufferBlock, percpu.ByCPU); err != nil {
		return err
	}
	// A shard holds at most bufferCap items: with no more items than
	// that, a push never finds its stack full.
	s.n = itemsFor(e, 100, bufferCap)
	s.own = newOwnership(s.n)
	for sh := range s.buf.shards {
		*s.buf.word(sh, 0) = twInit(sh)
	}
	for it := 0; it < s.n; it++ {
		sh := e.cpus[it%len(e.cpus)]
		w := *s.buf.word(sh, 0)
		c := twCount(w)
		*s.buf.word(sh, 8*(1+c)) = uint64(it)
		*s.buf.word(sh, 0) = twNext(w, 0, c+1)
	}
	return nil
}

func (s *buffer) close() { s.buf.free() }

// push pushes item it, which the worker holds, on the current CPU's
// stack; false if the thread has no rseq.
func (s *buffer) push(w *worker, it int) bool {
	s.own.give(w.e, w, it, "push")
	for n := 0; ; n++ {
		sh := percpu.CPU()
		old := s.buf.load(sh, 0)
		if twTag(old) != sh {
			w.e.fail("worker %d: shard %d has the tag of shard %d (word %#x)", w.id, sh, twTag(old), old)
			return true
		}
		c := twCount(old)
		if c >= bufferCap {
			w.e.fail("worker %d: shard %d is full with %d items of %d", w.id, sh, c, s.n)
			return true
		}
		got, err := percpu.StoreCommit(s.buf.b, 0, old, twNext(old, 0, c+1), s.buf.b, 8*(1+c), uint64(it))
		switch err {
		case nil:
			if got != sh {
				w.e.fail("worker %d: StoreCommit of a word read from shard %d committed to shard %d", w.id, sh, got)
			}
			return true
		case percpu.ErrMismatch:
			w.spin(n)
		case percpu.ErrNoRseq:
			s.own.take(w.e, w, it, "push (no rseq)")
			return false
		default:
			w.e.fail("worker %d: StoreCommit: %v", w.id, err)
			return true
		}
	}
}

// pop pops an item from the current CPU's stack: the item and nil,
// percpu.ErrEmpty, or percpu.ErrNoRseq.
func (s *buffer) pop(w *worker) (int, error) {
	for n := 0; ; n++ {
		sh := percpu.CPU()
		old := s.buf.load(sh, 0)
		c := twCount(old)
		if c == 0 {
			return 0, percpu.ErrEmpty
		}
		it := s.buf.load(sh, 8*c)
		got, err := percpu.CompareAndStore(s.buf.b, 0, old, twNext(old, 0, c-1))
		switch err {
		case nil:
			if got != sh {
				w.e.fail("worker %d: CompareAndStore of a word read from shard %d committed to shard %d", w.id, sh, got)
			}
			if it >= uint64(s.n) {
				w.e.fail("worker %d: popped %d from slot %d of shard %d: not an item", w.id, it, c-1, sh)
				return 0, percpu.ErrEmpty
			}
			s.own.take(w.e, w, int(it), "pop")
			return int(it), nil
		case percpu.ErrMismatch:
			w.spin(n)
		case percpu.ErrNoRseq:
			return 0, err
		default:
			w.e.fail("worker %d: CompareAndStore: %v", w.id, err)
			return 0, percpu.ErrEmpty
		}
	}
}

func (s *buffer) step(w *worker) {
	e := w.e
	if w.steps%64 == 17 {
		if it, ok := s.pool.get(); ok {
			s.own.take(e, w, it, "the pool")
			if !s.push(w, it) {
				s.toPool(w, it)
			}
			return
		}
	}
	it, err := s.pop(w)
	switch err {
	case nil:
	case percpu.ErrEmpty:
		s.empty.Add(1)
		w.outside()
		return
	case percpu.ErrNoRseq:
		w.fallbacks++
		if it, ok := s.pool.get(); ok {
			s.own.take(e, w, it, "the pool")
			w.outside()
			s.toPool(w, it)
		}
		return
	}
	w.outside()
	if w.steps%64 == 49 || !s.push(w, it) {
		s.toPool(w, it)
		return
	}
	s.moves.Add(1)
}

func (s *buffer) toPool(w *worker, it int) {
	s.own.give(w.e, w, it, "a return to the pool")
	s.pool.put(it)
}

func (s *buffer) check(e *env) error {
	var found []int
	for sh := range s.buf.shards {
		word := s.buf.load(sh, 0)
		if twTag(word) != sh {
			return fmt.Errorf("shard %d: word %#x has the tag of shard %d", sh, word, twTag(word))
		}
		c := twCount(word)
		if c > bufferCap {
			return fmt.Errorf("shard %d: count %d above the capacity %d", sh, c, bufferCap)
		}
		for i := 0; i < c; i++ {
			found = append(found, int(s.buf.load(sh, 8*(1+i))))
		}
	}
	s.found.stacks = len(found)
	s.found.pool = len(s.pool.items)
	found = append(found, s.pool.items...)
	if err := census(found, s.n, "the stacks and the pool"); err != nil {
		return err
	}
	return s.own.released("item")
}

func (s *buffer) report() [][2]string {
	return [][2]string{
		{"items", fmt.Sprint(s.n)},
		{"moves", fmt.Sprint(s.moves.Load())},
		{"empty", fmt.Sprint(s.empty.Load())},
		{"in_stacks_end", fmt.Sprint(s.found.stacks)},
		{"pool_end", fmt.Sprint(s.found.pool)},
	}
}
