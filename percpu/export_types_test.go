// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import "time"

// Hooks for the tests of RWMutex and Pool (rwmutex_test.go, pool_test.go,
// package percpu_test).

// RWMutexWriterWaiting reports whether a writer has announced itself on
// rw: from the moment it starts waiting for readers until it unlocks. New
// readers wait from then on.
func RWMutexWriterWaiting(rw *RWMutex) bool { return rw.state.Load()&rwWriter != 0 }

// RWMutexBiased reports whether rw's readers take the fast path (the
// bias is on, no writer).
func RWMutexBiased(rw *RWMutex) bool { return rw.state.Load() == 0 }

// RWMutexSetBias turns rw's reader bias on or off, as a revocation or a
// slow reader would. No writer may hold or wait for rw. Turning it off
// here skips the revocation's membarrier, so readers that are inside must
// have entered on the slow path, or the caller must have synchronised
// with them (as the tests' goroutines do, through channels).
func RWMutexSetBias(rw *RWMutex, on bool) {
	if on {
		rw.state.Store(0)
	} else {
		rw.biasAt.Store(nanotime() + int64(time.Hour))
		rw.state.Store(rwUnbiased)
	}
}

// RWMutexFenced reports whether RWMutex readers may use plain adds (rseq
// and membarrier): the bias exists only then.
func RWMutexFenced() bool { return readersFenced() }

// RWMutexBiasEvents returns how many revocations and re-biases every
// RWMutex of the process has gone through.
func RWMutexBiasEvents() (revocations, rebiases int64) {
	return rwRevocations.Load(), rwRebiases.Load()
}

// PoolSlots returns, for each shard of p's per-CPU slabs, how many slots
// are free and how many hold objects (nil without the rseq slabs). The
// pool must be quiescent: the counts are read with plain loads.
func PoolSlots[T any](p *Pool[T]) (free, full []int) {
	p.lazyInit()
	if !p.fast {
		return nil, nil
	}
	free = make([]int, shardCount)
	full = make([]int, shardCount)
	for s := 0; s < shardCount; s++ {
		full[s] = int(*(*uint64)(p.tops.shard(s)))
		free[s] = PoolCacheSize - full[s]
	}
	return free, full
}

// PoolDropped returns how many objects p has dropped because its caches
// and overflow were full.
func PoolDropped[T any](p *Pool[T]) int64 {
	p.overflow.Lock()
	defer p.overflow.Unlock()
	return p.overflow.dropped
}

// ValuesLockWords reports whether v's Updates take per-CPU lock words
// (rseq, the rseq fence, no race detector), and how many shards have
// created their second T (Updates that found the word taken).
func ValuesLockWords[T any](v *Values[T]) (words bool, secondTs int) {
	for i := range v.shards {
		s := &v.shards[i]
		s.mu.Lock()
		if v.fast && s.slow != nil {
			secondTs++
		}
		s.mu.Unlock()
	}
	return v.fast, secondTs
}
