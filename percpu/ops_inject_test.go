// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && (amd64 || arm64)

package percpu_test

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorseq/gorseq/percpu"
)

// The restartable operations with delays at the injection points
// (inject.go): every section's injectable variant computes what its
// production twin computes, and the delays make preemptions land inside
// the sections.

func TestInjectAPI(t *testing.T) {
	if n := percpu.InjectPoints(); n != 4 {
		t.Errorf("InjectPoints() = %d, want 4", n)
	}
	for _, c := range []struct{ point, loops int }{{0, 1}, {5, 1}, {-1, 0}, {1, -1}, {4, -100}} {
		opsMustPanic(t, fmt.Sprintf("SetInjectDelay(%d, %d)", c.point, c.loops), "SetInjectDelay", func() error {
			percpu.SetInjectDelay(c.point, c.loops)
			return nil
		})
	}
	for n := 1; n <= percpu.InjectPoints(); n++ {
		percpu.SetInjectDelay(n, 0)
	}
	if !percpu.Status().Mode.Rseq() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for _, unregister := range []bool{true, false} {
			if err := percpu.ThreadRseq(unregister); err != percpu.ErrNoRseq {
				t.Errorf("ThreadRseq(%v) without rseq: %v, want ErrNoRseq", unregister, err)
			}
		}
	}
}

// TestOpsInjectedModel runs the pinned model tests of every operation with
// a delay at every injection point: the results (shards, errors, every
// byte of every shard) must be the same as without, on every path of
// every section (commit, mismatch, empty list, corrupt list, base 0).
func TestOpsInjectedModel(t *testing.T) {
	injectDelays(t, map[int]int{1: 3, 2: 5, 3: 7, 4: 11})
	for _, test := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"Add", TestOpsAdd},
		{"CompareAndStore", TestOpsCompareAndStore},
		{"PushPop", TestOpsPushPop},
		{"StoreCommit", TestOpsStoreCommit},
		{"CopyCommit", TestOpsCopyCommit},
		{"AddIndirect", TestAddIndirect},
		{"CounterExactSum", TestCounterExactSum},
	} {
		t.Run(test.name, test.f)
	}
}

// TestOpsInjectedConcurrent runs the concurrent tests of the operations
// (list, spinlock, copy ring, under preemption and then signals) with a
// delay at every injection point.
func TestOpsInjectedConcurrent(t *testing.T) {
	injectDelays(t, map[int]int{1: 100, 2: 100, 3: 100, 4: 100})
	t.Run("List", TestOpsConcurrentList)
	t.Run("Spinlock", TestOpsConcurrentSpinlock)
	t.Run("CopyCommit", TestOpsConcurrentCopyCommit)
}

// injectWorkload is a stress workload on one critical section: setup
// makes its memory and returns the operation that worker w runs (it
// reports whether the operation committed) and the check of the exact
// invariant, given the number of commits.
type injectWorkload struct {
	section string
	setup   func(t *testing.T, workers int) (op func(w int) bool, check func(t *testing.T, commits int64))
}

// sumWords sums the word at off of every shard of b.
func sumWords(b percpu.Block, off int) int64 {
	var s int64
	for i := 0; i < percpu.Shards(); i++ {
		s += int64(atomic.LoadUint64(opsWordAddr(b, i, off)))
	}
	return s
}

// checkSum fails unless b's words at 0 add up to commits.
func checkSum(t *testing.T, b percpu.Block, commits int64) {
	t.Helper()
	if s := sumWords(b, 0); s != commits {
		t.Errorf("the shards add up to %d, want %d: %d lost", s, commits, commits-s)
	}
}

// injectFail records the first failure of any worker.
var injectFail opsFirstError

var injectWorkloads = []injectWorkload{
	{"csAdd", func(t *testing.T, workers int) (func(int) bool, func(*testing.T, int64)) {
		b := opsAlloc(t, 8, percpu.ByCPU)
		t.Cleanup(b.Free)
		return func(w int) bool {
				_, err := percpu.Add(b, 0, 1)
				if err != nil {
					injectFail.set("Add: %v", err)
				}
				return err == nil
			}, func(t *testing.T, commits int64) {
				checkSum(t, b, commits)
			}
	}},
	{"csCmpStore", func(t *testing.T, workers int) (func(int) bool, func(*testing.T, int64)) {
		// An increment as a compare-and-store of the value read (from the
		// shard of the CPU the thread was on a moment ago).
		b := opsAlloc(t, 8, percpu.ByCPU)
		t.Cleanup(b.Free)
		return func(w int) bool {
				old := atomic.LoadUint64(opsWordAddr(b, max(percpu.CPU(), 0), 0))
				_, err := percpu.CompareAndStore(b, 0, old, old+1)
				if err != nil && err != percpu.ErrMismatch {
					injectFail.set("CompareAndStore: %v", err)
				}
				return err == nil
			}, func(t *testing.T, commits int64) {
				checkSum(t, b, commits)
			}
	}},
	{"csPop+csPush", func(t *testing.T, workers int) (func(int) bool, func(*testing.T, int64)) {
		// Items go round: pop one (owned by the popper alone until pushed
		// back), push it back. Every item ends up in exactly one list.
		b := opsAlloc(t, 8, percpu.ByCPU)
		t.Cleanup(b.Free)
		n := 4 * workers
		links := make([]uint64, n)
		owner := make([]atomic.Int32, n)
		for item := range n {
			if _, err := percpu.Push(b, 0, links, item); err != nil {
				t.Fatalf("Push(%d): %v", item, err)
			}
		}
		return func(w int) bool {
				item, _, err := percpu.Pop(b, 0, links)
				switch {
				case err == percpu.ErrEmpty:
					return false
				case err != nil || item < 0 || item >= n:
					injectFail.set("Pop: item %d, %v", item, err)
					return false
				case !owner[item].CompareAndSwap(0, int32(w+1)):
					injectFail.set("worker %d popped item %d, which worker %d holds", w, item, owner[item].Load()-1)
					return false
				}
				owner[item].Store(0)
				if _, err := percpu.Push(b, 0, links, item); err != nil {
					injectFail.set("Push(%d): %v", item, err)
					return false
				}
				return true
			}, func(t *testing.T, commits int64) {
				seen := make([]int, n)
				for s := 0; s < percpu.Shards(); s++ {
					h := atomic.LoadUint64(opsWordAddr(b, s, 0))
					for steps := 0; h != 0; steps++ {
						if h > uint64(n) || steps > n {
							t.Fatalf("shard %d: list head or link %d out of range after %d items", s, h, steps)
						}
						seen[h-1]++
						h = atomic.LoadUint64(&links[h-1])
					}
				}
				for item, c := range seen {
					if c != 1 {
						t.Errorf("item %d is %d times in the lists", item, c)
					}
				}
			}
	}},
	{"csStoreCommit", func(t *testing.T, workers int) (func(int) bool, func(*testing.T, int64)) {
		// A count c -> c+1 committed after storing c+1 in slot (c+1)%2 of
		// dst: at the end the slot of the final count holds it in every
		// shard. (The other slot may hold count+1: a try-store whose
		// section was aborted, and retried on another CPU.)
		count := opsAlloc(t, 8, percpu.ByCPU)
		t.Cleanup(count.Free)
		dst := opsAlloc(t, 16, percpu.ByCPU)
		t.Cleanup(dst.Free)
		return func(w int) bool {
				c := atomic.LoadUint64(opsWordAddr(count, max(percpu.CPU(), 0), 0))
				_, err := percpu.StoreCommit(count, 0, c, c+1, dst, int((c+1)%2)*8, c+1)
				if err != nil && err != percpu.ErrMismatch {
					injectFail.set("StoreCommit: %v", err)
				}
				return err == nil
			}, func(t *testing.T, commits int64) {
				checkSum(t, count, commits)
				for s := 0; s < percpu.Shards(); s++ {
					c := atomic.LoadUint64(opsWordAddr(count, s, 0))
					if d := atomic.LoadUint64(opsWordAddr(dst, s, int(c%2)*8)); c != 0 && d != c {
						t.Errorf("shard %d: count %d, but its slot of dst holds %d", s, c, d)
					}
				}
			}
	}},
	{"csCopyCommit", func(t *testing.T, workers int) (func(int) bool, func(*testing.T, int64)) {
		// A count c -> c+1 committed after copying a 32-byte record of
		// c+1 into slot (c+1)%2: the slot of the final count holds it
		// whole in every shard (a copy aborted half way, and retried on
		// another CPU, only ever touches the other slot).
		count := opsAlloc(t, 8, percpu.ByCPU)
		t.Cleanup(count.Free)
		ring := opsAlloc(t, 64, percpu.ByCPU)
		t.Cleanup(ring.Free)
		recs := make([][32]byte, workers)
		return func(w int) bool {
				c := atomic.LoadUint64(opsWordAddr(count, max(percpu.CPU(), 0), 0))
				r := &recs[w]
				for i := 0; i < 32; i += 8 {
					binary.LittleEndian.PutUint64(r[i:], c+1)
				}
				_, err := percpu.CopyCommit(count, 0, c, c+1, ring, int((c+1)%2)*32, r[:])
				if err != nil && err != percpu.ErrMismatch {
					injectFail.set("CopyCommit: %v", err)
				}
				return err == nil
			}, func(t *testing.T, commits int64) {
				checkSum(t, count, commits)
				for s := 0; s < percpu.Shards(); s++ {
					c := atomic.LoadUint64(opsWordAddr(count, s, 0))
					if c == 0 {
						continue
					}
					for off := int(c%2) * 32; off < int(c%2)*32+32; off += 8 {
						if v := atomic.LoadUint64(opsWordAddr(ring, s, off)); v != c {
							t.Errorf("shard %d: count %d, but its record's word at %d holds %d: torn", s, c, off, v)
						}
					}
				}
			}
	}},
	{"counterAdd", func(t *testing.T, workers int) (func(int) bool, func(*testing.T, int64)) {
		c := new(percpu.Counter)
		return func(w int) bool {
				c.Add(1)
				return true
			}, func(t *testing.T, commits int64) {
				if got := c.Load(); got != commits {
					t.Errorf("Counter holds %d, want %d", got, commits)
				}
				if _, fb := percpu.CounterWords(c); fb != 0 && percpu.Status().ThreadsFailed == 0 {
					t.Errorf("fallback words hold %d with rseq on every thread", fb)
				}
			}
	}},
	{"csAddIndirect", func(t *testing.T, workers int) (func(int) bool, func(*testing.T, int64)) {
		b := opsAlloc(t, 64, percpu.ByCPU)
		t.Cleanup(b.Free)
		base := new(uint64)
		atomic.StoreUint64(base, b.Addr())
		return func(w int) bool {
				_, err := percpu.AddIndirect(base, 56, 1, percpu.ByCPU)
				if err != nil {
					injectFail.set("AddIndirect: %v", err)
				}
				return err == nil
			}, func(t *testing.T, commits int64) {
				if s := sumWords(b, 56); s != commits {
					t.Errorf("the shards add up to %d, want %d", s, commits)
				}
			}
	}},
}

// TestInjectAborts runs each section's workload on 6 x NCPU locked
// threads with a delay at each injection point in turn, and at all four:
// the workload's invariant holds exactly, and with a delay inside the
// section (points 2 to 4) the kernel aborted sections. Rounds of
// opsPerRound operations per thread repeat until it did (up to 20s). The
// abort counts are logged as a table.
func TestInjectAborts(t *testing.T) {
	if !opsRseq {
		t.Skipf("no rseq (%s)", percpu.Status().Reason)
	}
	const (
		loops       = 500
		opsPerRound = 50_000
	)
	cases := []injectCase{{point: 1, loops: loops}, {point: 2, loops: loops}, {point: 3, loops: loops}, {point: 4, loops: loops}, {point: 0, loops: loops / 4}}
	workers := 6 * runtime.NumCPU()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(workers, runtime.GOMAXPROCS(0))))
	var table strings.Builder
	fmt.Fprintf(&table, "aborts (and operations) with %d loops at one point, %d at all; %d threads on %d CPUs:\n%-14s", loops, loops/4, workers, runtime.NumCPU(), "section")
	for _, c := range cases {
		name := fmt.Sprintf("point %d", c.point)
		if c.point == 0 {
			name = "all points"
		}
		fmt.Fprintf(&table, " %18s", name)
	}
	table.WriteString("\n")
	for _, wl := range injectWorkloads {
		fmt.Fprintf(&table, "%-14s", wl.section)
		for _, c := range cases {
			var aborts uint64
			var ops int64
			t.Run(wl.section+"/"+c.String(), func(t *testing.T) {
				injectFail = opsFirstError{}
				op, check := wl.setup(t, workers)
				injectDelays(t, c.delays())
				aborts0 := percpu.AbortCount()
				var commits atomic.Int64
				t0 := time.Now()
				rounds := 0
				for rounds == 0 || c.inside() && percpu.AbortCount() == aborts0 && time.Since(t0) < 20*time.Second {
					var wg sync.WaitGroup
					for w := 0; w < workers; w++ {
						wg.Go(func() {
							runtime.LockOSThread()
							defer runtime.UnlockOSThread()
							var n int64
							for range opsPerRound {
								if op(w) {
									n++
								}
							}
							commits.Add(n)
						})
					}
					wg.Wait()
					rounds++
					if injectFail.err != nil {
						t.Fatal(injectFail.err)
					}
				}
				aborts = percpu.AbortCount() - aborts0
				ops = int64(rounds * workers * opsPerRound)
				check(t, commits.Load())
				t.Logf("%d rounds, %d operations (%d committed) in %v: %d aborts", rounds, ops, commits.Load(), time.Since(t0).Round(time.Millisecond), aborts)
				if c.inside() && aborts == 0 {
					t.Errorf("no section was aborted with a delay inside it")
				}
			})
			fmt.Fprintf(&table, " %18s", fmt.Sprintf("%d (%dk)", aborts, ops/1000))
		}
		table.WriteString("\n")
	}
	t.Log(table.String())
}

// TestAddIndirectMembarrierInjected: with delays between AddIndirect's
// load of the base and its commit (points 3 and 4), most sections are
// in flight when the manager swaps the base. Without membarrier, the
// retired Block goes on changing after swaps (the test can see a late
// commit); with it, never, and the delayed sections are aborted instead.
func TestAddIndirectMembarrierInjected(t *testing.T) {
	if !opsRseq {
		t.Skipf("no rseq (%s)", percpu.Status().Reason)
	}
	injectDelays(t, map[int]int{3: 2000, 4: 2000})
	t.Run("without", func(t *testing.T) {
		res := runMembarrierSwap(t, membarrierSwap{membarrier: false, min: 300 * time.Millisecond, minSwaps: 30, untilLate: true})
		if res.late == 0 {
			t.Errorf("without membarrier the retired Block never changed after a swap (%d swaps): the test cannot see late commits", res.swaps)
		}
	})
	t.Run("with", func(t *testing.T) {
		res := runMembarrierSwap(t, membarrierSwap{membarrier: true, min: time.Second, minSwaps: 50})
		if res.late != 0 {
			t.Errorf("the retired Block changed after membarrier returned, after %d of %d swaps", res.late, res.swaps)
		}
		if res.aborts == 0 {
			t.Errorf("no aborts")
		}
	})
}
