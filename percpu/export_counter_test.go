// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// Hooks for the Counter tests (counter_test.go, package percpu_test).

// CounterWords returns the sums of c's rseq words and of its fallback
// words over all shards: which path the adds took.
func CounterWords(c *Counter) (rseq, fallback int64) {
	s0 := c.shard0.Load()
	if s0 == nil {
		return 0, 0
	}
	for i := 0; i < shardCount; i++ {
		s := s0.in(i)
		rseq += atomic.LoadInt64(&s.rseq)
		fallback += atomic.LoadInt64(&s.fallback)
	}
	return rseq, fallback
}

// FloatCounterWords returns the sums of c's rseq words and of its
// fallback words over all shards, each in shard order as Load adds them.
func FloatCounterWords(c *FloatCounter) (rseq, fallback float64) {
	s0 := c.shard0.Load()
	if s0 == nil {
		return 0, 0
	}
	for i := 0; i < shardCount; i++ {
		s := s0.in(i)
		rseq += math.Float64frombits(uint64(atomic.LoadInt64(&s.rseq)))
		fallback += math.Float64frombits(uint64(atomic.LoadInt64(&s.fallback)))
	}
	return rseq, fallback
}

// FloatCounterBlock returns the address of c's Block in shard 0, 0 before
// c is first used.
func FloatCounterBlock(c *FloatCounter) uintptr {
	return uintptr(unsafe.Pointer(c.shard0.Load()))
}

// FloatCounterAddSlow is FloatCounter.Add's slow path: on a thread with
// rseq, once c is in use, it is the fallback's compare-and-swap loop.
func FloatCounterAddSlow(c *FloatCounter, v float64) { floatCounterAddSlow(c, v) }

// CounterBlock returns the address of c's Block in shard 0, 0 before c is
// first used.
func CounterBlock(c *Counter) uintptr {
	return uintptr(unsafe.Pointer(c.shard0.Load()))
}

// BlocksInUse returns how many Blocks are allocated and not freed.
func BlocksInUse() int {
	regions.mu.Lock()
	defer regions.mu.Unlock()
	return regions.inUse
}

// FreedBlocks returns how many freed Blocks of a Counter's size class wait
// for reuse, and whether addr is one of them.
func FreedBlocks(addr uintptr) (n int, found bool) {
	regions.mu.Lock()
	defer regions.mu.Unlock()
	l := regions.freed[counterClass()]
	for _, a := range l {
		if uintptr(a) == addr {
			found = true
		}
	}
	return len(l), found
}

// counterClass is the size class of a Counter's Block.
func counterClass() int {
	class := minBlockShift
	for 1<<class < int(unsafe.Sizeof(counterShard{})) {
		class++
	}
	return class
}
