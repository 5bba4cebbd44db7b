// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gorseq/gorseq/percpu"
)

// A scenario is one per-CPU structure under test, with its invariant.
type scenario interface {
	// setup allocates and fills the structure before any worker runs.
	setup(e *env) error
	// step is one repetition of a worker: it must leave the structure
	// consistent (no item in hand, no lock held) when it returns, since
	// the worker may stop or its thread exit after it. It calls
	// w.outside() at its points outside the critical sections, and
	// e.fail when an operation misbehaves.
	step(w *worker)
	// background starts the scenario's own goroutines (nil if none) and
	// returns the function that stops them once the workers are done.
	background(e *env) func() error
	// check verifies the invariant after the run.
	check(e *env) error
	// report returns extra result lines.
	report() [][2]string
	// close frees the per-CPU memory.
	close()
}

type scenarioInfo struct {
	name string
	doc  string
	make func() scenario
}

var scenarios []scenarioInfo

func register(name, doc string, mk func() scenario) {
	scenarios = append(scenarios, scenarioInfo{name, doc, mk})
	sort.Slice(scenarios, func(i, j int) bool { return scenarios[i].name < scenarios[j].name })
}

func findScenario(name string) *scenarioInfo {
	for i := range scenarios {
		if scenarios[i].name == name {
			return &scenarios[i]
		}
	}
	return nil
}

func scenarioNames() []string {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
	}
	return names
}

// noBackground is the background of scenarios without one.
type noBackground struct{}

func (noBackground) background(*env) func() error { return nil }

// perCPU is a Block with the addresses of its shards, for the reads and
// set-up writes that happen outside the restartable operations.
type perCPU struct {
	b      percpu.Block
	shards []unsafe.Pointer
}

func allocPerCPU(size int, idx percpu.Index) (perCPU, error) {
	b, err := percpu.Alloc(size, idx)
	if err != nil {
		return perCPU{}, err
	}
	p := perCPU{b: b, shards: make([]unsafe.Pointer, percpu.Shards())}
	for i := range p.shards {
		p.shards[i] = b.Shard(i)
	}
	return p, nil
}

// word returns the word at byte offset off of shard s.
func (p perCPU) word(s, off int) *uint64 {
	return (*uint64)(unsafe.Add(p.shards[s], off))
}

func (p perCPU) load(s, off int) uint64 { return atomic.LoadUint64(p.word(s, off)) }

func (p perCPU) free() {
	if p.shards != nil {
		p.b.Free()
	}
}

// sumShards returns the sum of the int64 at off over every shard.
func (p perCPU) sumShards(off int) int64 {
	var sum int64
	for s := range p.shards {
		sum += int64(p.load(s, off))
	}
	return sum
}

// A tagged word is the commit word of the buffer and memcpy scenarios: a
// count, a head (ring position), a sequence number that every commit
// advances, and the number of the shard it belongs to. The operations
// compare the whole word, so a compare succeeds only on the shard the
// caller read it from (the tag) and only if no commit happened there
// since (the sequence): what the caller read under that word is still
// what the shard holds. Without the tag a pop could compare equal on
// another CPU's shard and return the item it read from the first; without
// the sequence, a pop and a push between the read and the compare could
// put the count back with another item under it (ABA).
//
//	bits  0-9   count (0..1023)
//	bits 10-19  head
//	bits 20-50  sequence (31 bits; wraps harmlessly)
//	bits 51-63  shard (percpu.Shards() <= 8192)
const (
	twCountBits = 10
	twHeadShift = 10
	twSeqShift  = 20
	twSeqBits   = 31
	twTagShift  = twSeqShift + twSeqBits
	twFieldMask = 1<<twCountBits - 1
	twSeqMask   = (1<<twSeqBits - 1) << twSeqShift
)

func twInit(shard int) uint64 { return uint64(shard) << twTagShift }
func twCount(w uint64) int    { return int(w & twFieldMask) }
func twHead(w uint64) int     { return int(w >> twHeadShift & twFieldMask) }
func twTag(w uint64) int      { return int(w >> twTagShift) }

// twNext returns w with a new head and count and the next sequence
// number, same tag.
func twNext(w uint64, head, count int) uint64 {
	seq := (w&twSeqMask + 1<<twSeqShift) & twSeqMask
	return w&^(1<<twTagShift-1) | seq | uint64(head)<<twHeadShift | uint64(count)
}

func checkShardLimit() error {
	if percpu.Shards() > 1<<(64-twTagShift) {
		return fmt.Errorf("%d shards: the tagged word has room for %d", percpu.Shards(), 1<<(64-twTagShift))
	}
	return nil
}

// ownership catches an item that two threads hold at once (popped twice)
// or that is pushed while not held.
type ownership struct {
	owner []atomic.Int32 // 0: in a structure; else 1 + the worker holding it
}

func newOwnership(n int) *ownership { return &ownership{owner: make([]atomic.Int32, n)} }

func (o *ownership) take(e *env, w *worker, item int, where string) {
	if item < 0 || item >= len(o.owner) {
		e.fail("worker %d: %s returned item %d, out of range [0, %d)", w.id, where, item, len(o.owner))
		return
	}
	if !o.owner[item].CompareAndSwap(0, int32(w.id+1)) {
		e.fail("worker %d: %s returned item %d, which worker %d holds", w.id, where, item, o.owner[item].Load()-1)
	}
}

func (o *ownership) give(e *env, w *worker, item int, where string) {
	if !o.owner[item].CompareAndSwap(int32(w.id+1), 0) {
		e.fail("worker %d: %s of item %d, which it does not hold (holder %d)", w.id, where, item, o.owner[item].Load()-1)
	}
}

// released checks, at the end of a run, that no worker still holds an
// item (what names the items in the error).
func (o *ownership) released(what string) error {
	for it := range o.owner {
		if h := o.owner[it].Load(); h != 0 {
			return fmt.Errorf("%s %d still held by worker %d", what, it, h-1)
		}
	}
	return nil
}

// census checks that the items found (each once) are exactly 0..n-1.
func census(found []int, n int, where string) error {
	seen := make([]int, n)
	for _, it := range found {
		if it < 0 || it >= n {
			return fmt.Errorf("item %d out of range [0, %d) in %s", it, n, where)
		}
		seen[it]++
	}
	var lost, dup []int
	for it, c := range seen {
		switch {
		case c == 0:
			lost = append(lost, it)
		case c > 1:
			dup = append(dup, it)
		}
	}
	if len(lost) > 0 || len(dup) > 0 {
		return fmt.Errorf("%d items found, want %d: lost %s, duplicated %s", len(found), n, short(lost), short(dup))
	}
	return nil
}

func short(s []int) string {
	if len(s) > 10 {
		return fmt.Sprintf("%v... (%d)", s[:10], len(s))
	}
	return fmt.Sprint(s)
}

// itemsFor returns the -items setting or the scenario's default,
// bounded by capacity.
func itemsFor(e *env, perCPU, capacity int) int {
	n := e.cfg.items
	if n == 0 {
		n = perCPU*len(e.cpus) + e.cfg.threads
	}
	return min(n, capacity)
}

// pool is a mutex-protected stack: the fallback of the item scenarios for
// threads without rseq.
type pool[T any] struct {
	mu    sync.Mutex
	items []T
}

func (p *pool[T]) put(x T) {
	p.mu.Lock()
	p.items = append(p.items, x)
	p.mu.Unlock()
}

func (p *pool[T]) get() (T, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var x T
	if len(p.items) == 0 {
		return x, false
	}
	x = p.items[len(p.items)-1]
	p.items = p.items[:len(p.items)-1]
	return x, true
}
