// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gorseq/gorseq/percpu"
)

// Per-CPU histograms of request sizes: each Update touches only the
// current CPU's histogram, and Do merges them.
func ExampleValues() {
	type histogram struct {
		buckets map[int]int // size class -> count
	}
	sizes := percpu.NewValues(func(h *histogram) { h.buckets = map[int]int{} })

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				size := (g*1000 + i) % 3 * 100
				sizes.Update(func(h *histogram) { h.buckets[size]++ })
			}
		})
	}
	wg.Wait()

	total := map[int]int{}
	sizes.Do(func(h *histogram) {
		for k, n := range h.buckets {
			total[k] += n
		}
	})
	fmt.Println(total[0], total[100], total[200])
	// Output: 2667 2667 2666
}

// A Pool of buffers: Get returns a cached buffer if the current CPU has
// one, else a new one. Unlike sync.Pool's, the cached buffers survive
// garbage collections.
func ExamplePool() {
	var made atomic.Int64
	buffers := &percpu.Pool[*bytes.Buffer]{
		New: func() *bytes.Buffer {
			made.Add(1)
			return new(bytes.Buffer)
		},
	}
	greet := func(name string) string {
		b := buffers.Get()
		defer buffers.Put(b)
		b.Reset()
		fmt.Fprintf(b, "hello, %s", name)
		return b.String()
	}

	var wg sync.WaitGroup
	out := make([]string, 4)
	for i := range out {
		wg.Go(func() { out[i] = greet(fmt.Sprint("gopher ", i)) })
	}
	wg.Wait()
	fmt.Println(slices.Sorted(slices.Values(out)))
	// Each of the 4 goroutines held at most one buffer at a time.
	fmt.Println(made.Load() >= 1 && made.Load() <= 4)
	// Output:
	// [hello, gopher 0 hello, gopher 1 hello, gopher 2 hello, gopher 3]
	// true
}

// A routing table read on every request and changed rarely: readers take
// the read lock on their own CPU's counters only.
func ExampleRWMutex() {
	var (
		mu     percpu.RWMutex
		routes = map[string]string{"/": "home"}
	)
	lookup := func(path string) string {
		mu.RLock()
		defer mu.RUnlock()
		return routes[path]
	}

	var wg sync.WaitGroup
	var found atomic.Int64
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if lookup("/") == "home" {
					found.Add(1)
				}
			}
		})
	}
	mu.Lock() // waits for the readers inside; new readers wait for Unlock
	routes["/about"] = "about"
	mu.Unlock()
	wg.Wait()

	fmt.Println(found.Load(), lookup("/about"))
	// Output: 8000 about
}

// Retiring per-CPU memory that restartable operations may be writing:
// AddIndirect counts into whichever Block the base word names; the
// manager publishes a new Block, and after Fence no AddIndirect will
// touch the old one again: its count is final, and it could be freed.
// Without rseq, AddIndirect returns ErrNoRseq and the counts go to an
// atomic instead.
func ExampleFence() {
	var base uint64 // the published Block's Addr, written atomically
	var fallback atomic.Int64
	count := func() {
		if _, err := percpu.AddIndirect(&base, 0, 1, percpu.ByCPU); err != nil {
			fallback.Add(1) // percpu.ErrNoRseq
		}
	}
	sum := func(b percpu.Block) (n int64) {
		for s := range percpu.Shards() {
			n += atomic.LoadInt64((*int64)(b.Shard(s)))
		}
		return n
	}

	first, _ := percpu.Alloc(8, percpu.ByCPU)
	second, _ := percpu.Alloc(8, percpu.ByCPU)
	atomic.StoreUint64(&base, first.Addr())

	var wg sync.WaitGroup
	started := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := range 10000 {
				if g == 0 && i == 5000 {
					close(started)
				}
				count()
			}
		})
	}
	<-started
	atomic.StoreUint64(&base, second.Addr()) // unpublish first
	if err := percpu.Fence(); err != nil {
		fmt.Println("no fence:", err)
		return
	}
	final := sum(first) // no AddIndirect writes to first any more
	wg.Wait()

	fmt.Println(sum(first) == final, final+sum(second)+fallback.Load())
	first.Free()
	second.Free()
	// Output: true 40000
}
