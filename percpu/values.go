// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"fmt"
	"runtime"
	"sync"
)

// Values holds one T per shard: per CPU with rseq (per mm_cid where the
// kernel has it, which keeps the shards dense), per P without. Update
// gives the caller exclusive access to the current shard's T; Do visits
// every T, each exclusively, to merge or drain them. This is the sharded
// value of golang/go#18802: per-CPU accumulators, histograms, free lists
// of Go objects, anything a single mutex-protected value would make every
// CPU fight over.
//
// T may hold Go pointers: the values live in ordinary Go memory. Each
// shard has its own mutex on its own cache line, which is what makes a
// blocking or long callback correct: a goroutine preempted or blocked in
// Update keeps its shard locked, and others on that CPU wait for it (or,
// on a CPU where many goroutines are runnable, contend as on any mutex).
// In the common case an Update costs reading the CPU (a few nanoseconds)
// and an uncontended lock and unlock of a mutex that only this CPU uses.
// Prefer [Counter] for plain counts: it takes no lock.
//
// Memory ordering: every access to a shard's T happens under the shard's
// sync.Mutex (acquire on Lock, release on Unlock, on amd64 and arm64), so
// Values needs no barrier of its own; CID only picks which mutex to take,
// and a stale CID costs contention, never correctness.
//
// A Values must be made with [NewValues] and must not be copied.
type Values[T any] struct {
	_      noCopy
	init   func(*T)
	shards []valuesShard[T]
	byP    bool // shards are per P (no rseq in the process)
}

type valuesShard[T any] struct {
	mu sync.Mutex
	v  *T
	_  [64 - 16]byte // one shard per cache line (sync.Mutex is 8 bytes)
}

// NewValues returns a Values whose shards' Ts are created on first use:
// zero, then passed to init (which may be nil).
func NewValues[T any](init func(*T)) *Values[T] {
	v := &Values[T]{init: init}
	if mode == ModeFallback {
		v.byP = true
		v.shards = make([]valuesShard[T], max(runtime.GOMAXPROCS(0), runtime.NumCPU()))
	} else {
		v.shards = make([]valuesShard[T], shardCount)
	}
	return v
}

// shard returns the current shard.
func (v *Values[T]) shard() *valuesShard[T] {
	if v == nil || v.shards == nil {
		panic("percpu: Values used without NewValues")
	}
	var i int
	if v.byP {
		i = procPin()
		procUnpin()
	} else {
		i = CID()
	}
	if i >= len(v.shards) {
		i %= len(v.shards)
	}
	return &v.shards[i]
}

// Update calls f with the current shard's T, holding that shard's lock.
// f may block; see the type's documentation for what that costs.
func (v *Values[T]) Update(f func(*T)) {
	if f == nil {
		panic("percpu: Values.Update(nil)")
	}
	s := v.shard()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v == nil {
		s.v = v.newT()
	}
	f(s.v)
}

func (v *Values[T]) newT() *T {
	t := new(T)
	if v.init != nil {
		v.init(t)
	}
	return t
}

// Do calls f with each shard's T that has been created, one at a time,
// holding that shard's lock, so that f may read and reset it. Updates of
// other shards run meanwhile.
func (v *Values[T]) Do(f func(*T)) {
	if f == nil {
		panic("percpu: Values.Do(nil)")
	}
	if v == nil || v.shards == nil {
		panic("percpu: Values used without NewValues")
	}
	for i := range v.shards {
		s := &v.shards[i]
		s.mu.Lock()
		if s.v != nil {
			f(s.v)
		}
		s.mu.Unlock()
	}
}

// String describes v for debugging.
func (v *Values[T]) String() string {
	if v == nil {
		return "percpu.Values(nil)"
	}
	kind := "cpu"
	if v.byP {
		kind = "P"
	}
	return fmt.Sprintf("percpu.Values[%d shards by %s]", len(v.shards), kind)
}
