// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorseq/gorseq/percpu"
)

// typTally is the T of the Values tests: every Update adds 1 to a, does
// some work (or blocks), then adds 1 to b and v to sum, so that a == b
// whenever nobody is inside the shard: Do, which holds each shard
// exclusively, must never see them differ.
type typTally struct {
	a, b int64
	sum  int64
	init int64 // set by NewValues's init
}

// TestValuesInit: NewValues's init runs once per shard, on the shard's
// first Update, on a zero T; Do visits only the shards that exist; a nil
// init leaves the zero T.
func TestValuesInit(t *testing.T) {
	var inits atomic.Int64
	v := percpu.NewValues(func(x *typTally) {
		if *x != (typTally{}) {
			t.Errorf("init got %+v, want a zero T", *x)
		}
		x.init = 100
		inits.Add(1)
	})
	n := 0
	v.Do(func(*typTally) { n++ })
	if n != 0 {
		t.Errorf("Do visited %d shards before any Update", n)
	}
	var wg sync.WaitGroup
	for range 4 * runtime.NumCPU() {
		wg.Go(func() {
			for range 1000 {
				v.Update(func(x *typTally) {
					if x.init != 100 {
						t.Errorf("Update got a T without init: %+v", *x)
					}
					x.sum++
				})
			}
		})
	}
	wg.Wait()
	var shards, sum int64
	v.Do(func(x *typTally) {
		shards++
		sum += x.sum
		if x.init != 100 {
			t.Errorf("Do got a T without init: %+v", *x)
		}
	})
	if sum != int64(4*runtime.NumCPU()*1000) {
		t.Errorf("sum %d, want %d", sum, 4*runtime.NumCPU()*1000)
	}
	if shards != inits.Load() || shards == 0 {
		t.Errorf("Do visited %d shards, init ran %d times", shards, inits.Load())
	}
	if !strings.HasPrefix(v.String(), "percpu.Values[") {
		t.Errorf("String() = %q", v.String())
	}
	t.Logf("%v: %d shards in use", v, shards)

	w := percpu.NewValues[[2]int](nil)
	w.Update(func(x *[2]int) {
		if *x != [2]int{} {
			t.Errorf("nil init: got %v, want zero", *x)
		}
		x[0] = 7
	})
	got := 0
	w.Do(func(x *[2]int) { got += x[0] })
	if got != 7 {
		t.Errorf("Do after one Update: %d, want 7", got)
	}
}

// typValuesRun runs 6 x NCPU workers, half of them on locked threads that
// exit every segment, each making Updates for d (at most maxPer), with a
// reader that calls Do in a loop, checking a == b in every shard and that
// the sum never goes back. update is the Update callback's middle part
// (between a++ and b++). It checks the exact sum at the end.
func typValuesRun(t *testing.T, cfg typStress, d time.Duration, maxPer int, middle func(w, i int)) (v *percpu.Values[typTally]) {
	workers := 6 * runtime.NumCPU()
	v = percpu.NewValues[typTally](nil)
	aborts0 := percpu.AbortCount()
	st := typStartStress(t, cfg)
	var errs typFirstError
	var want atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		st.GoWorker(&wg, w%2 == 0, 3, d, func(seg int, until time.Time) {
			var mine int64
			for i := 0; i < maxPer/3; i++ {
				if i%32 == 0 && time.Now().After(until) {
					break
				}
				add := int64(w + 1)
				v.Update(func(x *typTally) {
					x.a++
					middle(w, i)
					x.b++
					x.sum += add
				})
				mine += add
			}
			want.Add(mine)
		})
	}
	stop := make(chan struct{})
	var dos, last int64
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			var sum int64
			v.Do(func(x *typTally) {
				if x.a != x.b {
					errs.Set("Do saw a shard with a=%d b=%d: an Update was inside", x.a, x.b)
				}
				sum += x.sum
			})
			if sum < last {
				errs.Set("the Do-sum went back from %d to %d", last, sum)
			}
			last = sum
			dos++
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	t.Log(st.Stop())
	var sum, updates, shards int64
	v.Do(func(x *typTally) {
		sum += x.sum
		updates += x.a
		shards++
		if x.a != x.b {
			t.Errorf("at the end a shard has a=%d b=%d", x.a, x.b)
		}
	})
	errs.Check(t)
	t.Logf("%v: %d workers, %d updates over %d shards, %d concurrent Dos", v, workers, updates, shards, dos)
	if sum != want.Load() {
		t.Errorf("Do-sum %d, want %d (%d lost)", sum, want.Load(), want.Load()-sum)
	}
	if last > sum {
		t.Errorf("a concurrent Do saw %d, more than the final %d", last, sum)
	}
	words, second := percpu.ValuesLockWords(v)
	aborts := percpu.AbortCount() - aborts0
	t.Logf("lock words: %v; %d shards used their second T; %d critical sections aborted", words, second, aborts)
	_ = words // the inject build's TestValuesInjectedDelay asserts aborts
	return v
}

// TestValuesExactSum: many goroutines (some on locked threads) Update
// under every stressor; a concurrent Do sees each shard exclusively and
// a sum that only grows; the final sum is exact.
func TestValuesExactSum(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  typStress
	}{
		{"plain", typStress{Procs: 6*runtime.NumCPU() + 2}},
		{"stressed", typAll(6 * runtime.NumCPU())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typValuesRun(t, tc.cfg, 600*time.Millisecond, 200_000, func(w, i int) {
				typSpin(20)
				if i%101 == 0 {
					runtime.Gosched() // may resume on another CPU, holding the shard
				}
			})
		})
	}
}

// TestValuesBlockingUpdate: Update callbacks that sleep hold their shard
// across the sleep (and a migration); the others on that shard use its
// second T (with lock words) or wait for its mutex, Do still sees every T
// exclusively, and the sum is exact.
func TestValuesBlockingUpdate(t *testing.T) {
	v := typValuesRun(t, typStress{Signals: true, Migrate: true, Procs: 6*runtime.NumCPU() + 2}, 500*time.Millisecond, 30_000, func(w, i int) {
		if (w+i)%16 == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	})
	if words, second := percpu.ValuesLockWords(v); words && second == 0 {
		t.Errorf("with lock words, no Update found a word taken by a sleeping holder: the second Ts were not exercised")
	}
}

// typGraph is a T with Go pointers: a map and a slice of pointers to
// nodes that only it references.
type typGraph struct {
	byKey map[int]*typNode
	list  []*typNode
}

type typNode struct {
	key  int
	next *typNode // the previous node of the same worker, or nil
	pad  [48]byte // enough to make the collector's work real
}

// TestValuesGoPointers: a T that holds the only references to Go objects
// (a map and a slice of pointers) keeps them alive and intact through
// garbage collections every few allocations (SetGCPercent(1) and a GC
// loop), with Updates from many goroutines and concurrent Dos.
func TestValuesGoPointers(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	v := percpu.NewValues(func(g *typGraph) { g.byKey = map[int]*typNode{} })
	st := typStartStress(t, typStress{GC: true, Signals: true, Procs: 6*runtime.NumCPU() + 2})
	workers := 6 * runtime.NumCPU()
	const per = 20_000
	var wg sync.WaitGroup
	var total atomic.Int64
	for w := range workers {
		st.GoWorker(&wg, w%2 == 1, 2, 700*time.Millisecond, func(seg int, until time.Time) {
			n := int64(0)
			for i := seg * per / 2; i < (seg+1)*per/2; i++ {
				if i%64 == 0 && time.Now().After(until) {
					break
				}
				key := w*per + i
				v.Update(func(g *typGraph) {
					var prev *typNode
					if len(g.list) > 0 {
						prev = g.list[len(g.list)-1]
					}
					nd := &typNode{key: key, next: prev}
					nd.pad[0], nd.pad[47] = byte(key), byte(key>>8)
					g.byKey[key] = nd
					g.list = append(g.list, nd)
				})
				n++
			}
			total.Add(n)
		})
	}
	stop := make(chan struct{})
	var dos sync.WaitGroup
	var errs typFirstError
	dos.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			v.Do(func(g *typGraph) {
				if len(g.byKey) != len(g.list) {
					errs.Set("Do saw %d map entries and %d list entries: an Update was inside", len(g.byKey), len(g.list))
				}
			})
			runtime.Gosched()
		}
	})
	wg.Wait()
	close(stop)
	dos.Wait()
	t.Log(st.Stop())
	runtime.GC()
	runtime.GC()
	errs.Check(t)
	seen := 0
	v.Do(func(g *typGraph) {
		for i, nd := range g.list {
			if g.byKey[nd.key] != nd {
				t.Fatalf("list entry %d (key %d) is not the map's", i, nd.key)
			}
			if nd.pad[0] != byte(nd.key) || nd.pad[47] != byte(nd.key>>8) {
				t.Fatalf("node %d was overwritten: %v", nd.key, nd.pad)
			}
			if i > 0 && nd.next != g.list[i-1] || i == 0 && nd.next != nil {
				t.Fatalf("node %d links to the wrong node", nd.key)
			}
		}
		seen += len(g.list)
	})
	if int64(seen) != total.Load() {
		t.Errorf("the shards hold %d nodes, want %d", seen, total.Load())
	}
	t.Logf("%d nodes across the shards", seen)
}

// TestValuesMisuse: a nil callback and a Values not made by NewValues
// (zero or nil) panic with a message that starts with "percpu: ".
func TestValuesMisuse(t *testing.T) {
	v := percpu.NewValues[int](nil)
	typMustPanic(t, "Update(nil)", "percpu: ", func() { v.Update(nil) })
	typMustPanic(t, "Do(nil)", "percpu: ", func() { v.Do(nil) })
	var zero percpu.Values[int]
	typMustPanic(t, "Update on a zero Values", "percpu: ", func() { zero.Update(func(*int) {}) })
	typMustPanic(t, "Do on a zero Values", "percpu: ", func() { zero.Do(func(*int) {}) })
	var nilv *percpu.Values[int]
	typMustPanic(t, "Update on a nil *Values", "percpu: ", func() { nilv.Update(func(*int) {}) })
	typMustPanic(t, "Do on a nil *Values", "percpu: ", func() { nilv.Do(func(*int) {}) })
	// The Values still works after the panics.
	v.Update(func(x *int) { *x++ })
	n := 0
	v.Do(func(x *int) { n += *x })
	if n != 1 {
		t.Errorf("after the misuse: %d, want 1", n)
	}
}

// TestValuesDoPanics: a Do whose callback panics (and is recovered) leaves
// every shard usable: the next Do visits every T again, and Updates on
// every CPU still reach their shard, with lock words or mutexes.
func TestValuesDoPanics(t *testing.T) {
	v := percpu.NewValues[typTally](nil)
	for _, cpu := range typAllowedCPUs(t) {
		typPinned(t, cpu, func() {
			v.Update(func(x *typTally) { x.sum++ })
		})
	}
	for range 3 {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("Do's callback panicked, but Do did not")
				}
			}()
			v.Do(func(*typTally) { panic("callback") })
		}()
	}
	typWithin(t, 5*time.Second, "a Do after Dos that panicked", func() {
		var sum int64
		v.Do(func(x *typTally) { sum += x.sum })
		if want := int64(len(typAllowedCPUs(t))); sum != want {
			t.Errorf("Do after panics: sum %d, want %d", sum, want)
		}
	})
	typWithin(t, 5*time.Second, "Updates after Dos that panicked", func() {
		for _, cpu := range typAllowedCPUs(t) {
			typPinned(t, cpu, func() {
				v.Update(func(x *typTally) { x.sum++ })
			})
		}
	})
	if words, second := percpu.ValuesLockWords(v); words && second != 0 {
		t.Errorf("after the panics %d shards' Updates found their word taken: Do left words closed", second)
	}
}
