// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"math"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorseq/gorseq/percpu"
)

// FloatCounter implements expvar.Var (see Counter's check for why expvar
// itself is not imported).
var _ interface{ String() string } = &percpu.FloatCounter{}

// floatAddPositive adds (w%7+1) units.
func floatAddPositive(c *percpu.FloatCounter, w, i int) int64 {
	k := int64(w%7 + 1)
	c.Add(float64(k) * floatUnit)
	return k
}

// floatAddMixed adds whole and fractional amounts of both signs.
func floatAddMixed(c *percpu.FloatCounter, w, i int) int64 {
	var k int64
	switch i % 4 {
	case 0:
		k = 1 // 0.25
	case 1:
		k = -2 // -0.5
	case 2:
		k = int64(4*(w+3) + 3) // w + 3.75
	default:
		k = -int64(w%5 + 1)
	}
	c.Add(float64(k) * floatUnit)
	return k
}

func TestFloatCounterZeroValue(t *testing.T) {
	before := percpu.BlocksInUse()
	var c percpu.FloatCounter
	if got := c.Load(); got != 0 || math.Signbit(got) {
		t.Errorf("zero FloatCounter: Load() = %v", got)
	}
	if got := c.String(); got != "0" {
		t.Errorf("zero FloatCounter: String() = %q", got)
	}
	if got := percpu.BlocksInUse(); got != before {
		t.Errorf("Load and String on a zero FloatCounter allocated: %d blocks in use, %d before", got, before)
	}
	c.Add(0)
	if got := c.Load(); got != 0 {
		t.Errorf("after Add(0): Load() = %v", got)
	}
	if percpu.FloatCounterBlock(&c) == 0 {
		t.Errorf("Add did not allocate the FloatCounter's Block")
	}
	runtime.KeepAlive(&c)
}

// TestFloatCounterValues: the float64 arithmetic of one shard is Go's +,
// String formats as expvar.Float does, and NaN and infinities stay.
func TestFloatCounterValues(t *testing.T) {
	var c percpu.FloatCounter
	runtime.LockOSThread() // one thread, one CPU most of the time: one running sum
	c.Add(0.1)
	c.Add(0.2)
	c.Add(-0.05)
	runtime.UnlockOSThread()
	// Whatever shards the adds landed in, the total is within a few ulps
	// of the running sum (exactly it, if all three committed on one CPU).
	want := 0.1 + 0.2 - 0.05
	if got := c.Load(); math.Abs(got-want) > 4*ulp(want) {
		t.Errorf("0.1 + 0.2 - 0.05 = %v, want %v within 4 ulps", got, want)
	}
	if got, want := c.String(), strconv.FormatFloat(c.Load(), 'g', -1, 64); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	c.Add(1e300)
	c.Add(1e300)
	if got := c.Load(); got < 2e300 || math.IsInf(got, 0) {
		t.Errorf("after two adds of 1e300: %v", got)
	}
	c.Add(math.Inf(1))
	if got := c.Load(); !math.IsInf(got, 1) {
		t.Errorf("after Add(+Inf): %v, want +Inf", got)
	}
	if got := c.String(); got != "+Inf" {
		t.Errorf("String() = %q, want +Inf", got)
	}
	c.Add(math.Inf(-1))
	if got := c.Load(); !math.IsNaN(got) {
		t.Errorf("after Add(+Inf), Add(-Inf): %v, want NaN", got)
	}
	c.Add(1)
	if got := c.Load(); !math.IsNaN(got) {
		t.Errorf("NaN + 1 = %v, want NaN", got)
	}
}

func ulp(x float64) float64 { return math.Nextafter(x, math.Inf(1)) - x }

// TestFloatCounterExactSum: as TestCounterExactSum, in quarter units, with
// a concurrent reader: exact, and Load never goes back.
func TestFloatCounterExactSum(t *testing.T) {
	res := runCounterSum(t, counterSum{workers: counterWorkers(), adds: counterAdds, addFloat: floatAddPositive, monotonic: true})
	checkCounterPaths(t, res)
}

// TestFloatCounterExactSumSignals: under a SIGURG storm, aborts are
// certain and the sum stays exact.
func TestFloatCounterExactSumSignals(t *testing.T) {
	res := runCounterSum(t, counterSum{workers: counterWorkers(), adds: counterAdds, minTime: time.Second, addFloat: floatAddMixed, signals: true})
	checkCounterPaths(t, res)
	checkCounterAborts(t, res)
	if res.signals == 0 {
		t.Errorf("no signal was delivered")
	}
}

// TestFloatCounterExactSumGOMAXPROCSAndGC changes GOMAXPROCS and collects
// garbage (GOGC=1) all through the run.
func TestFloatCounterExactSumGOMAXPROCSAndGC(t *testing.T) {
	res := runCounterSum(t, counterSum{workers: counterWorkers(), adds: counterAdds, minTime: time.Second, addFloat: floatAddMixed, gomaxprocs: true, gc: true, yieldEvery: 1000})
	checkCounterPaths(t, res)
	if res.procChanges == 0 || res.gcs == 0 {
		t.Errorf("the stressors did not run: %d GOMAXPROCS changes, %d GCs", res.procChanges, res.gcs)
	}
}

// TestFloatCounterExactSumUnlocked adds from goroutines that the
// scheduler moves between threads and CPUs.
func TestFloatCounterExactSumUnlocked(t *testing.T) {
	var (
		c  percpu.FloatCounter
		wg sync.WaitGroup
	)
	const goroutines, adds = 64, 20_000
	for g := range goroutines {
		wg.Go(func() {
			for i := range adds {
				c.Add(float64(g+1) * 0.5)
				if i%1000 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	want := 0.5 * float64(adds*goroutines*(goroutines+1)/2)
	if got := c.Load(); got != want {
		t.Errorf("sum %v, want %v", got, want)
	}
}

// TestFloatCounterMany: 10k FloatCounters from several goroutines, the
// first use of each racing: FloatCounters share regions, not words, and
// a FloatCounter and a Counter never share a Block.
func TestFloatCounterMany(t *testing.T) {
	const n, rounds = 10_000, 5
	fs := make([]percpu.FloatCounter, n)
	cs := make([]percpu.Counter, n)
	var wg sync.WaitGroup
	workers := 2 * runtime.NumCPU()
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				for i := range fs {
					j := i
					if (w+r)%2 == 1 {
						j = n - 1 - i
					}
					fs[j].Add(float64(j%1000)*0.125 - 10)
					cs[j].Add(1)
				}
			}
		})
	}
	wg.Wait()
	blocks := map[uintptr]bool{}
	for i := range fs {
		want := float64(workers*rounds) * (float64(i%1000)*0.125 - 10)
		if got := fs[i].Load(); got != want {
			t.Fatalf("FloatCounter %d: %v, want %v", i, got, want)
		}
		if got := cs[i].Load(); got != int64(workers*rounds) {
			t.Fatalf("Counter %d: %d, want %d", i, got, workers*rounds)
		}
		for _, b := range []uintptr{percpu.FloatCounterBlock(&fs[i]), percpu.CounterBlock(&cs[i])} {
			if blocks[b] {
				t.Fatalf("two counters share the Block %#x", b)
			}
			blocks[b] = true
		}
	}
}

func droppedFloatCounter(v float64) uintptr {
	c := new(percpu.FloatCounter)
	c.Add(v)
	return percpu.FloatCounterBlock(c)
}

// TestFloatCounterCollected: a FloatCounter that becomes garbage has its
// Block freed.
func TestFloatCounterCollected(t *testing.T) {
	addr := droppedFloatCounter(1.5)
	if _, freed := percpu.FreedBlocks(addr); freed {
		t.Fatalf("the Block of a live FloatCounter is on the free list")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if _, freed := percpu.FreedBlocks(addr); freed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Block of an unreachable FloatCounter was not freed after 5s of GCs")
		}
		time.Sleep(time.Millisecond)
	}
}
