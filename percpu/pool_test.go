// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
)

// typItem is a pooled object. owner is 1 while a goroutine holds it: Get
// must return an item nobody holds (the holder's CAS 0 -> 1 succeeds), and
// the holder releases it (1 -> 0) before Put. magic and id never change
// after New: an item freed by the collector while the pool still held it,
// and its memory reused, would show there. data is written by each holder
// with plain stores, which the race detector checks against the next
// holder's.
type typItem struct {
	owner atomic.Int32
	magic uint64
	id    int64
	data  [4]int64
}

const typMagic = 0x9e3779b97f4a7c15

// typItems makes the items of one pool and counts them: how many New made
// and how many the collector has collected (a cleanup on each).
type typItems struct {
	created, collected atomic.Int64
}

func (c *typItems) New() *typItem {
	it := &typItem{magic: typMagic, id: c.created.Add(1)}
	runtime.AddCleanup(it, func(*typItems) { c.collected.Add(1) }, c)
	return it
}

// take checks and claims an item that Get returned.
func (it *typItem) take(errs *typFirstError, holder int64) {
	if it == nil {
		errs.Set("Get returned nil from a Pool with New")
		return
	}
	if it.magic != typMagic {
		errs.Set("Get returned item %d with magic %#x: freed and reused while pooled?", it.id, it.magic)
	}
	if !it.owner.CompareAndSwap(0, 1) {
		errs.Set("Get returned item %d, which another goroutine holds", it.id)
		return
	}
	if it.data[0] != it.data[3] {
		errs.Set("item %d: data %v from its last holder is torn", it.id, it.data)
	}
	it.data = [4]int64{holder, holder, holder, holder}
}

// give releases an item before Put.
func (it *typItem) give(errs *typFirstError) {
	if !it.owner.CompareAndSwap(1, 0) {
		errs.Set("item %d was released twice", it.id)
	}
}

// typQuiesce lets the collector run (twice, so that cleanups of anything
// unreachable are queued) and gives the cleanups a moment to run.
func typQuiesce() {
	runtime.GC()
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
}

// TestPoolOwnership: 6 x NCPU goroutines (half on locked threads that exit
// every segment) Get and Put items under every stressor, each holding at
// most 3 at a time. No item is ever handed to two holders; at the end
// every item New made is accounted for exactly once: removed by a Drain,
// or dropped by a Put that found the caches and the overflow full (the
// pool counts those for the test); and none was collected while the pool
// held it. The stressors raise GOMAXPROCS after the first Drain has sized
// the per-P caches, so the caches also grow while in use.
func TestPoolOwnership(t *testing.T) {
	workers := 6 * runtime.NumCPU()
	noGC := typAll(workers)
	noGC.GC = false
	// With collections back to back, the collector marks most of the
	// time and Puts take the per-P caches; without, the per-CPU slabs.
	t.Run("stressors", func(t *testing.T) { typPoolOwnership(t, noGC, false) })
	t.Run("stressors+GC", func(t *testing.T) { typPoolOwnership(t, typAll(workers), false) })
	// Drains every few milliseconds race the Gets and Puts: the objects
	// they remove are dropped, and must add up with the final Drain to
	// what New made.
	t.Run("stressors+Drain", func(t *testing.T) { typPoolOwnership(t, noGC, true) })
}

func typPoolOwnership(t *testing.T, cfg typStress, drains bool) {
	workers := 6 * runtime.NumCPU()
	var items typItems
	p := &percpu.Pool[*typItem]{New: items.New}
	if n := p.Drain(); n != 0 { // sizes the per-P caches now
		t.Fatalf("a new Pool drained %d objects", n)
	}
	st := typStartStress(t, cfg)
	var errs typFirstError
	var gets atomic.Int64
	var wg sync.WaitGroup
	var drained, drainCalls atomic.Int64
	stopDrains := make(chan struct{})
	drainsDone := make(chan struct{})
	go func() {
		defer close(drainsDone)
		for drains {
			select {
			case <-stopDrains:
				return
			case <-time.After(3 * time.Millisecond):
			}
			drained.Add(int64(p.Drain()))
			drainCalls.Add(1)
		}
	}()
	for w := range workers {
		st.GoWorker(&wg, w%2 == 0, 3, 800*time.Millisecond, func(seg int, until time.Time) {
			var held []*typItem
			var n int64
			for i := 0; ; i++ {
				if i%32 == 0 && time.Now().After(until) {
					break
				}
				if len(held) < 3 && (len(held) == 0 || (i*7+w)%5 < 3) {
					it := p.Get()
					it.take(&errs, int64(w))
					held = append(held, it)
					n++
				} else {
					j := (i + w) % len(held)
					it := held[j]
					held = slices.Delete(held, j, j+1)
					it.give(&errs)
					p.Put(it)
				}
				if i%61 == 0 {
					runtime.Gosched()
				}
			}
			for _, it := range held {
				it.give(&errs)
				p.Put(it)
			}
			gets.Add(n)
		})
	}
	wg.Wait()
	close(stopDrains)
	<-drainsDone
	t.Log(st.Stop())
	errs.Check(t)
	typQuiesce()
	created, collected := items.created.Load(), items.collected.Load()
	t.Logf("%v: %d Gets, %d items made by New, %d removed by %d concurrent Drains, %d dropped", percpu.Status().Mode, gets.Load(), created, drained.Load(), drainCalls.Load(), percpu.PoolDropped(p))
	if drains && (drainCalls.Load() == 0 || drained.Load() == 0) {
		t.Errorf("%d concurrent Drains removed %d items: the test did not race Drain with Gets and Puts", drainCalls.Load(), drained.Load())
	}
	dropped := percpu.PoolDropped(p)
	if collected > drained.Load()+dropped {
		t.Errorf("%d of %d items were collected, but Drain removed only %d and the pool dropped %d: the pool lost some it held", collected, created, drained.Load(), dropped)
	}
	if _, full := percpu.PoolSlots(p); full != nil {
		cached := 0
		for cpu, n := range full {
			if n < 0 || n > percpu.PoolCacheSize {
				t.Errorf("CPU %d's cache holds %d objects, outside [0, %d]", cpu, n, percpu.PoolCacheSize)
			}
			cached += n
		}
		t.Logf("per-CPU caches hold %v (%d of the %d items)", full, cached, created)
	}
	if n := int64(p.Drain()); n+drained.Load()+dropped != created {
		t.Errorf("Drain removed %d items, the concurrent Drains %d, and the pool dropped %d; New made %d, and all were put back (want created == drained + dropped)", n, drained.Load(), dropped, created)
	}
	if n := p.Drain(); n != 0 {
		t.Errorf("a second Drain removed %d items", n)
	}
	runtime.KeepAlive(p)
}

// TestPoolNilNew: without New, Get on an empty Pool returns the zero T,
// for pointers and for values; a nil pointer is not kept.
func TestPoolNilNew(t *testing.T) {
	var p percpu.Pool[*typItem]
	if it := p.Get(); it != nil {
		t.Errorf("Get from an empty Pool without New: %p, want nil", it)
	}
	var q percpu.Pool[int]
	if v := q.Get(); v != 0 {
		t.Errorf("Get from an empty Pool[int] without New: %d, want 0", v)
	}
	typPinned(t, typAllowedCPUs(t)[0], func() {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // one P: one per-P cache
		p.Put(nil)
		if it := p.Get(); it != nil {
			t.Errorf("Get after Put(nil): %p, want nil", it)
		}
		x := &typItem{id: 42}
		p.Put(x)
		if it := p.Get(); it != x {
			t.Errorf("Get after Put(x) on the same CPU and P: %p, want %p", it, x)
		}
		q.Put(7)
		if v := q.Get(); v != 7 {
			t.Errorf("Pool[int]: Get after Put(7): %d", v)
		}
	})
}

// typOnOneCPU runs f on a thread pinned to one CPU, with GOMAXPROCS 1, so
// that every Get and Put meets the same per-CPU cache and the same per-P
// cache, whichever the pool uses.
func typOnOneCPU(t *testing.T, f func()) {
	typPinned(t, typAllowedCPUs(t)[0], func() {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		f()
	})
}

// TestPoolSurvivesGC: objects put in a Pool are still there after two
// collections (sync.Pool would have dropped them): Gets return the very
// objects put in, in any order, and New is not called. With the rseq
// caches and in the fallback's per-P caches alike, and beyond a CPU's
// cache (the overflow survives too).
func TestPoolSurvivesGC(t *testing.T) {
	for _, n := range []int{3, percpu.PoolCacheSize, 2*percpu.PoolCacheSize + 10} {
		var items typItems
		p := &percpu.Pool[*typItem]{New: items.New}
		typOnOneCPU(t, func() {
			put := map[*typItem]bool{}
			for range n {
				it := items.New()
				put[it] = true
				p.Put(it)
			}
			made := items.created.Load()
			runtime.GC()
			runtime.GC()
			for i := range n {
				it := p.Get()
				if !put[it] {
					t.Errorf("%d objects: Get %d after two GCs returned %p (id %d), not one put in", n, i, it, it.id)
					break
				}
				delete(put, it)
			}
			if items.created.Load() != made {
				t.Errorf("%d objects: New was called %d times after the GCs", n, items.created.Load()-made)
			}
			if it := p.Get(); it == nil || it.id != made+1 {
				t.Errorf("%d objects: the Get after them should call New", n)
			}
		})
		runtime.KeepAlive(p)
	}
}

// TestPoolValues: a Pool of a non-pointer type keeps and returns values.
func TestPoolValues(t *testing.T) {
	p := &percpu.Pool[int]{New: func() int { return -1 }}
	typOnOneCPU(t, func() {
		for v := 1; v <= 10; v++ {
			p.Put(v)
		}
		runtime.GC()
		var got []int
		for range 10 {
			got = append(got, p.Get())
		}
		slices.Sort(got)
		if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(got, want) {
			t.Errorf("Gets returned %v, want %v in any order", got, want)
		}
		if v := p.Get(); v != -1 {
			t.Errorf("Get from the emptied pool: %d, want New's -1", v)
		}
		p.Put(5)
		p.Put(6)
	})
	if n := p.Drain(); n != 2 {
		t.Errorf("Drain: %d, want 2", n)
	}
	typOnOneCPU(t, func() {
		if v := p.Get(); v != -1 {
			t.Errorf("Get after Drain: %d, want New's -1", v)
		}
	})
}

// TestPoolDrain: Drain reaches the caches of every CPU (objects put on
// threads pinned to each allowed CPU in turn) from an unpinned goroutine,
// counts each object once, and leaves the pool empty.
func TestPoolDrain(t *testing.T) {
	var items typItems
	p := &percpu.Pool[*typItem]{New: items.New}
	want := 0
	for i, cpu := range typAllowedCPUs(t) {
		typPinned(t, cpu, func() {
			for range 5 + i {
				p.Put(items.New())
				want++
			}
		})
	}
	if n := p.Drain(); n != want {
		t.Errorf("Drain removed %d objects, want %d", n, want)
	}
	made := items.created.Load()
	for _, cpu := range typAllowedCPUs(t) {
		typPinned(t, cpu, func() {
			if it := p.Get(); it.id <= made {
				t.Errorf("on CPU %d, Get after Drain returned pooled object %d", cpu, it.id)
			}
		})
	}
	if n := p.Drain(); n != 0 {
		t.Errorf("Drain of an empty pool: %d", n)
	}
}

// TestPoolDrainMainThreadPinned: Drain reaches every CPU's cache even when
// the main thread (tid == pid) is pinned to one CPU, as a locked worker
// that ran on it, or the program, may leave it (found in a VM, where a
// stress test's migrations had pinned the main thread).
func TestPoolDrainMainThreadPinned(t *testing.T) {
	cpus := typAllowedCPUs(t)
	if len(cpus) < 2 {
		t.Fatalf("needs 2 allowed CPUs, have %v", cpus)
	}
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(os.Getpid(), &orig); err != nil {
		t.Fatal(err)
	}
	var first unix.CPUSet
	first.Set(cpus[0])
	if err := unix.SchedSetaffinity(os.Getpid(), &first); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(os.Getpid(), &orig)
	var items typItems
	p := &percpu.Pool[*typItem]{New: items.New}
	want := 0
	for _, cpu := range cpus {
		typPinned(t, cpu, func() {
			for range 3 {
				p.Put(items.New())
				want++
			}
		})
	}
	if n := p.Drain(); n != want {
		t.Errorf("with the main thread pinned to CPU %d: Drain removed %d objects, want %d", cpus[0], n, want)
	}
}

// TestPoolDrainReleases checks that Drain lets the garbage collector have
// the objects it removed: the slab slots are cleared, not only counted
// down.
func TestPoolDrainReleases(t *testing.T) {
	var p percpu.Pool[*[64]byte]
	var collected atomic.Int64
	const n = 10
	for i := 0; i < n; i++ {
		x := new([64]byte)
		runtime.AddCleanup(x, func(*atomic.Int64) { collected.Add(1) }, &collected)
		p.Put(x)
	}
	if got := p.Drain(); got != n {
		t.Fatalf("Drain removed %d objects, want %d", got, n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for collected.Load() < n && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if got := collected.Load(); got != n {
		t.Errorf("%d of %d drained objects collected; the pool still references the rest", got, n)
	}
	runtime.KeepAlive(&p)
}
