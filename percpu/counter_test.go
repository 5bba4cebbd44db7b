// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
)

// Counter implements expvar.Var. The check spells out expvar.Var's method
// set instead of importing expvar: expvar links net/http and with it cgo,
// which would switch this whole test binary from the runtime's own rseq
// areas to glibc's (ModeRseqGlibc), leaving the default mode of a Go
// program untested here.
var _ interface{ String() string } = &percpu.Counter{}

// The exact-sum tests follow the kernel's rseq selftests (param_test's
// increment test): 6 x NCPU threads, more than there are CPUs, so that the
// kernel preempts them inside critical sections, each adding to one
// Counter; the sum must be exact.
const counterAdds = 100_000

func counterWorkers() int { return 6 * runtime.NumCPU() }

// counterSum describes one exact-sum run.
type counterSum struct {
	workers int // worker goroutines, each locked to its own thread
	adds    int // adds per worker and round
	// minTime: workers repeat rounds of adds until it has passed since
	// the start, so that the stressors have time to act. 0: one round.
	minTime time.Duration
	// add makes worker w's i-th add to c and returns the value added.
	add func(c *percpu.Counter, w, i int) int64
	// addFloat, if set instead of add, makes worker w's i-th add to a
	// FloatCounter and returns the amount added in units of floatUnit;
	// the run then checks the FloatCounter, whose every partial sum must
	// be exact.
	addFloat func(c *percpu.FloatCounter, w, i int) int64
	// locked, if set, runs on each worker's locked thread before its adds;
	// the function it returns runs after them, before the thread exits.
	// If that reports false, the worker never exits (its thread is in a
	// state the runtime must not see at exit).
	locked func(w int) (after func() bool)

	signals    bool // a goroutine sends SIGURG to the workers' threads in a tight loop
	gomaxprocs bool // GOMAXPROCS changes in a loop during the run
	gc         bool // runtime.GC in a loop during the run, with SetGCPercent(1)
	// yieldEvery: workers call runtime.Gosched every so many adds, so that
	// the stressors' goroutines get a P between the locked workers.
	yieldEvery int
	// monotonic: every add is positive, so a concurrent reader must never
	// see Load decrease (each word only grows) nor pass the final total.
	monotonic bool
}

// counterSumResult is what a run measured.
type counterSumResult struct {
	want, got                int64
	rseqWords, fallbackWords int64 // the sums of the Counter's two kinds of word
	aborts                   uint64
	signals                  int64 // SIGURGs delivered to workers' threads
	loads                    int64 // concurrent Loads by the monotonic reader
	procChanges              int   // GOMAXPROCS changes
	gcs                      uint32
	elapsed                  time.Duration
}

// floatUnit is the unit of the FloatCounter runs' amounts: a power of
// two, so that every partial sum of whole units below 2^53 units is exact
// in float64, in any grouping.
const floatUnit = 0.25

// runCounterSum runs cfg on a fresh Counter (a FloatCounter with
// cfg.addFloat) and checks that the sum is exact.
func runCounterSum(t *testing.T, cfg counterSum) counterSumResult {
	t.Helper()
	if cfg.gc {
		defer debug.SetGCPercent(debug.SetGCPercent(1))
	}
	// As many Ps as workers: all the workers' threads are runnable at
	// once, more than there are CPUs, and the kernel (not only the Go
	// scheduler) time-slices them.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(cfg.workers, runtime.GOMAXPROCS(0))))
	var (
		c           percpu.Counter
		fc          percpu.FloatCounter
		ready, done sync.WaitGroup
		start       = make(chan struct{})
		want        atomic.Int64
		rounds      atomic.Int64
		tidMu       sync.Mutex
		tids        []int
	)
	aborts0 := percpu.AbortCount()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcs0 := ms.NumGC
	t0 := time.Now()
	ready.Add(cfg.workers)
	for w := range cfg.workers {
		done.Add(1)
		go func() {
			// Never unlocked: the thread exits with the goroutine, and
			// each run gets fresh threads.
			runtime.LockOSThread()
			var after func() bool
			if cfg.locked != nil {
				after = cfg.locked(w)
			}
			tid := unix.Gettid()
			tidMu.Lock()
			tids = append(tids, tid)
			tidMu.Unlock()
			ready.Done()
			<-start
			var sum int64
			for round := 0; round == 0 || time.Since(t0) < cfg.minTime; round++ {
				for i := range cfg.adds {
					if cfg.addFloat != nil {
						sum += cfg.addFloat(&fc, w, i)
					} else {
						sum += cfg.add(&c, w, i)
					}
					if cfg.yieldEvery > 0 && i%cfg.yieldEvery == 0 {
						runtime.Gosched()
					}
				}
				rounds.Add(1)
			}
			want.Add(sum)
			exit := after == nil || after()
			done.Done()
			if !exit {
				select {}
			}
		}()
	}
	ready.Wait() // tids is complete, and read-only from here

	var (
		stop      = make(chan struct{})
		stressors sync.WaitGroup
		res       counterSumResult
		maxSeen   int64
	)
	// load is the counter's value, in units of floatUnit for a
	// FloatCounter (which must be a whole number of them).
	load := func() int64 {
		if cfg.addFloat == nil {
			return c.Load()
		}
		v := fc.Load() / floatUnit
		if v != math.Trunc(v) {
			t.Errorf("FloatCounter.Load() = %v, not a multiple of %v: a partial sum was rounded", fc.Load(), floatUnit)
		}
		return int64(v)
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	if cfg.signals {
		stressors.Go(func() {
			pid := unix.Getpid()
			for !stopped() {
				for _, tid := range tids {
					// ESRCH once a worker's thread has exited.
					if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
						res.signals++
					}
				}
			}
		})
	}
	if cfg.gomaxprocs {
		stressors.Go(func() {
			n := runtime.NumCPU()
			procs := []int{1, n, 2, 2 * n, 3, 1, 4 * n}
			for i := 0; !stopped(); i++ {
				runtime.GOMAXPROCS(procs[i%len(procs)])
				res.procChanges++
				runtime.Gosched()
			}
		})
	}
	if cfg.gc {
		stressors.Go(func() {
			var keep [][]byte
			for i := 0; !stopped(); i++ {
				keep = append(keep, make([]byte, 1<<(10+i%8)))
				if len(keep) > 64 {
					keep = keep[:0]
				}
				runtime.GC()
			}
		})
	}
	if cfg.monotonic {
		stressors.Go(func() {
			var last int64
			for !stopped() {
				v := load()
				if v < last {
					t.Errorf("Load went back from %d to %d while every add was positive", last, v)
					return
				}
				last = v
				res.loads++
				runtime.Gosched()
			}
			maxSeen = last
		})
	}

	close(start)
	done.Wait()
	close(stop)
	stressors.Wait()
	res.elapsed = time.Since(t0)
	res.aborts = percpu.AbortCount() - aborts0
	runtime.ReadMemStats(&ms)
	res.gcs = ms.NumGC - gcs0
	res.want, res.got = want.Load(), load()
	res.rseqWords, res.fallbackWords = percpu.CounterWords(&c)
	wantString := strconv.FormatInt(res.want, 10)
	if cfg.addFloat != nil {
		r, f := percpu.FloatCounterWords(&fc)
		res.rseqWords, res.fallbackWords = int64(r/floatUnit), int64(f/floatUnit)
		wantString = strconv.FormatFloat(float64(res.want)*floatUnit, 'g', -1, 64)
	}
	if res.got != res.want {
		t.Errorf("sum %d, want %d (lost %d)", res.got, res.want, res.want-res.got)
	}
	if res.rseqWords+res.fallbackWords != res.got {
		t.Errorf("rseq words %d + fallback words %d != Load %d", res.rseqWords, res.fallbackWords, res.got)
	}
	str := c.String
	if cfg.addFloat != nil {
		str = fc.String
	}
	if got := str(); got != wantString {
		t.Errorf("String() = %q, want %s", got, wantString)
	}
	if maxSeen > res.want {
		t.Errorf("a concurrent Load saw %d, more than the final %d", maxSeen, res.want)
	}
	t.Logf("%v: %d workers, %d rounds of %d adds: sum %d in %v; aborts %d; SIGURGs %d, GOMAXPROCS changes %d, GCs %d, concurrent loads %d; rseq words %d, fallback words %d",
		percpu.Status().Mode, cfg.workers, rounds.Load(), cfg.adds, res.got, res.elapsed.Round(time.Millisecond), res.aborts,
		res.signals, res.procChanges, res.gcs, res.loads, res.rseqWords, res.fallbackWords)
	runtime.KeepAlive(&c)
	runtime.KeepAlive(&fc)
	return res
}

// checkCounterPaths checks which words a run wrote: only the rseq words when
// every thread has rseq, only the fallback words without rseq.
func checkCounterPaths(t *testing.T, res counterSumResult) {
	t.Helper()
	st := percpu.Status()
	switch {
	case !st.Mode.Rseq():
		if res.rseqWords != 0 {
			t.Errorf("mode %v, but the rseq words hold %d", st.Mode, res.rseqWords)
		}
	case st.ThreadsFailed == 0:
		if res.fallbackWords != 0 {
			t.Errorf("every thread has rseq, but the fallback words hold %d", res.fallbackWords)
		}
	}
}

// checkCounterAborts requires aborts under rseq: for runs where the design
// guarantees them statistically (signals, injected delays).
func checkCounterAborts(t *testing.T, res counterSumResult) {
	t.Helper()
	if percpu.Status().Mode.Rseq() && res.aborts == 0 {
		t.Errorf("no critical section was aborted (want > 0)")
	}
}

// counterAddPositive adds w%7+1.
func counterAddPositive(c *percpu.Counter, w, i int) int64 {
	v := int64(w%7 + 1)
	c.Add(v)
	return v
}

// counterAddMixed uses every method, with both signs.
func counterAddMixed(c *percpu.Counter, w, i int) int64 {
	switch i % 4 {
	case 0:
		c.Inc()
		return 1
	case 1:
		c.Dec()
		return -1
	case 2:
		v := int64(w + 3)
		c.Add(v)
		return v
	default:
		v := -int64(w%5 + 1)
		c.Add(v)
		return v
	}
}

func TestCounterZeroValue(t *testing.T) {
	before := percpu.BlocksInUse()
	var c percpu.Counter
	if got := c.Load(); got != 0 {
		t.Errorf("zero Counter: Load() = %d", got)
	}
	if got := c.String(); got != "0" {
		t.Errorf("zero Counter: String() = %q", got)
	}
	if got := percpu.BlocksInUse(); got != before {
		t.Errorf("Load and String on a zero Counter allocated: %d blocks in use, %d before", got, before)
	}
	c.Add(0)
	if got := c.Load(); got != 0 {
		t.Errorf("after Add(0): Load() = %d", got)
	}
	if percpu.CounterBlock(&c) == 0 {
		t.Errorf("Add did not allocate the Counter's Block")
	}
	runtime.KeepAlive(&c)
}

func TestCounterIncDecString(t *testing.T) {
	var c percpu.Counter
	c.Inc()
	c.Inc()
	c.Dec()
	if got := c.Load(); got != 1 {
		t.Fatalf("Inc, Inc, Dec: Load() = %d, want 1", got)
	}
	c.Add(-4)
	if got, want := c.String(), "-3"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	c.Add(3)
	// Adds wrap around as int64 arithmetic does, whichever shards they
	// land in: the sum of the shards wraps the same way.
	c.Add(math.MaxInt64)
	c.Inc()
	if got := c.Load(); got != math.MinInt64 {
		t.Errorf("MaxInt64 + 1 = %d, want %d", got, int64(math.MinInt64))
	}
	c.Dec()
	if got := c.Load(); got != math.MaxInt64 {
		t.Errorf("MinInt64 - 1 = %d, want %d", got, int64(math.MaxInt64))
	}
}

// TestCounterExactSum: 6 x NCPU locked threads x 100k positive adds, with
// a concurrent reader; the sum is exact and Load never goes back. The run
// lasts a few milliseconds, a few scheduler ticks, so aborts are logged but
// not required here (0 to a few dozen on a 2-CPU machine); the signal
// storm and the injected delay (counter_inject_test.go) make them certain.
func TestCounterExactSum(t *testing.T) {
	res := runCounterSum(t, counterSum{workers: counterWorkers(), adds: counterAdds, add: counterAddPositive, monotonic: true})
	checkCounterPaths(t, res)
}

// TestCounterExactSumSignals adds a SIGURG storm at the workers' threads:
// every signal that lands inside a critical section aborts it, so aborts
// are certain in practice.
func TestCounterExactSumSignals(t *testing.T) {
	res := runCounterSum(t, counterSum{workers: counterWorkers(), adds: counterAdds, minTime: time.Second, add: counterAddMixed, signals: true})
	checkCounterPaths(t, res)
	checkCounterAborts(t, res)
	if res.signals == 0 {
		t.Errorf("no signal was delivered")
	}
}

// TestCounterExactSumGOMAXPROCSAndGC changes GOMAXPROCS and collects
// garbage (GOGC=1) all through the run.
func TestCounterExactSumGOMAXPROCSAndGC(t *testing.T) {
	res := runCounterSum(t, counterSum{workers: counterWorkers(), adds: counterAdds, minTime: time.Second, add: counterAddMixed, gomaxprocs: true, gc: true, yieldEvery: 1000})
	checkCounterPaths(t, res)
	if res.procChanges == 0 || res.gcs == 0 {
		t.Errorf("the stressors did not run: %d GOMAXPROCS changes, %d GCs", res.procChanges, res.gcs)
	}
}

// TestCounterExactSumUnlocked adds from many goroutines that are not locked
// to threads, so the scheduler moves them between threads and CPUs.
func TestCounterExactSumUnlocked(t *testing.T) {
	var (
		c  percpu.Counter
		wg sync.WaitGroup
	)
	const goroutines, adds = 64, 20_000
	for g := range goroutines {
		wg.Go(func() {
			for i := range adds {
				c.Add(int64(g + 1))
				if i%1000 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	want := int64(adds * goroutines * (goroutines + 1) / 2)
	if got := c.Load(); got != want {
		t.Errorf("sum %d, want %d", got, want)
	}
}

// TestCounterMany: 10k Counters, each added to from several goroutines,
// each with its own exact value: Counters share regions but not words.
func TestCounterMany(t *testing.T) {
	const n, rounds = 10_000, 5
	cs := make([]percpu.Counter, n)
	var wg sync.WaitGroup
	workers := 2 * runtime.NumCPU()
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				for i := range cs {
					// Different orders, so that the first use of a
					// Counter races between goroutines.
					j := i
					if (w+r)%2 == 1 {
						j = n - 1 - i
					}
					cs[j].Add(int64(j%1000) - 100)
				}
			}
		})
	}
	wg.Wait()
	blocks := map[uintptr]bool{}
	for i := range cs {
		want := int64(workers*rounds) * (int64(i%1000) - 100)
		if got := cs[i].Load(); got != want {
			t.Fatalf("Counter %d: %d, want %d", i, got, want)
		}
		b := percpu.CounterBlock(&cs[i])
		if blocks[b] {
			t.Fatalf("Counter %d shares its Block %#x with another Counter", i, b)
		}
		blocks[b] = true
	}
	runtime.KeepAlive(cs)
}

// droppedCounter makes a Counter, adds v and drops it; it returns the
// address of its Block.
//
//go:noinline
func droppedCounter(v int64) uintptr {
	c := new(percpu.Counter)
	c.Add(v)
	return percpu.CounterBlock(c)
}

// TestCounterCollected: a Counter that becomes garbage has its Block
// freed, zeroed and reused by a later Counter.
func TestCounterCollected(t *testing.T) {
	// Let the Counters of earlier tests be freed first.
	inUse := percpu.BlocksInUse()
	for stable, deadline := 0, time.Now().Add(2*time.Second); stable < 3 && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		if n := percpu.BlocksInUse(); n == inUse {
			stable++
		} else {
			inUse, stable = n, 0
		}
	}
	addr := droppedCounter(12345)
	if got := percpu.BlocksInUse(); got < inUse+1 {
		t.Errorf("a used Counter holds no Block: %d blocks in use, %d before", got, inUse)
	}
	if _, freed := percpu.FreedBlocks(addr); freed {
		t.Fatalf("the Block of a live Counter is on the free list")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if _, freed := percpu.FreedBlocks(addr); freed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Block of an unreachable Counter was not freed after 5s of GCs")
		}
		time.Sleep(time.Millisecond)
	}
	// New Counters take freed Blocks before fresh memory: within as many
	// Counters as there are freed Blocks, one gets addr back, zeroed.
	n, _ := percpu.FreedBlocks(addr)
	var keep []*percpu.Counter
	reused := false
	for range n + 1 {
		c := new(percpu.Counter)
		keep = append(keep, c)
		c.Inc()
		if percpu.CounterBlock(c) == addr {
			reused = true
			if got := c.Load(); got != 1 {
				t.Errorf("a reused Block was not zeroed: the new Counter holds %d after Inc", got)
			}
			break
		}
	}
	if !reused {
		t.Errorf("the freed Block %#x was not reused by %d new Counters", addr, n+1)
	}
	runtime.KeepAlive(keep)
}
