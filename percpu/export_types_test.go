// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

// Hooks for the tests of RWMutex and Pool (rwmutex_test.go, pool_test.go,
// package percpu_test).

// RWMutexWriterWaiting reports whether a writer has announced itself on
// rw: from the moment it starts waiting for readers until it unlocks. New
// readers wait from then on.
func RWMutexWriterWaiting(rw *RWMutex) bool { return rw.writer.Load() != 0 }

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
