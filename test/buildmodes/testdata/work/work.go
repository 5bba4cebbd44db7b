// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package work is the percpu work that every child of test/buildmodes does,
// whatever way it is built (an executable, or a library that a C program
// loads): the status, a Counter and Adds on a Block from many goroutines,
// and a phase that provokes aborts. Each part writes key=value lines.
package work

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
)

// Status writes the process's percpu status.
func Status(w io.Writer) {
	st := percpu.Status()
	fmt.Fprintf(w, "mode=%s\n", st.Mode)
	fmt.Fprintf(w, "abi=%d\n", st.ABIVersion)
	fmt.Fprintf(w, "reason=%s\n", st.Reason)
	fmt.Fprintf(w, "threads_failed=%d\n", st.ThreadsFailed)
	fmt.Fprintf(w, "length=%d\n", st.Length)
	fmt.Fprintf(w, "fallback=%s\n", st.Fallback)
	fmt.Fprintf(w, "shards=%d\n", percpu.Shards())
}

// ErrString is how the children print an error: "nil", "ErrNoRseq", or
// the text of any other error.
func ErrString(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, percpu.ErrNoRseq):
		return "ErrNoRseq"
	}
	return err.Error()
}

// Adds counts the results of percpu.Add calls on one Block.
type Adds struct {
	b                   percpu.Block
	ok, noRseq, other   atomic.Int64
	firstOther          atomic.Pointer[string]
	shardLow, shardHigh atomic.Int64 // a shard out of range of percpu.Shards
}

// NewAdds allocates the Block.
func NewAdds() *Adds {
	b, err := percpu.Alloc(8, percpu.ByCPU)
	if err != nil {
		panic(err)
	}
	return &Adds{b: b}
}

// Add adds 1 to the word of the current shard and counts the result.
func (a *Adds) Add() {
	shard, err := percpu.Add(a.b, 0, 1)
	a.Count(shard, err)
}

// Block returns the Block the Adds go to.
func (a *Adds) Block() percpu.Block { return a.b }

// Count counts the result of an Add on the Block.
func (a *Adds) Count(shard int, err error) {
	switch {
	case err == nil:
		a.ok.Add(1)
		if shard < 0 {
			a.shardLow.Add(1)
		} else if shard >= percpu.Shards() {
			a.shardHigh.Add(1)
		}
	case errors.Is(err, percpu.ErrNoRseq):
		a.noRseq.Add(1)
	default:
		a.other.Add(1)
		s := err.Error()
		a.firstOther.CompareAndSwap(nil, &s)
	}
}

// Total returns the sum of the word over every shard.
func (a *Adds) Total() int64 {
	var sum int64
	for i := 0; i < percpu.Shards(); i++ {
		sum += atomic.LoadInt64((*int64)(a.b.Shard(i)))
	}
	return sum
}

// Report writes the tallies with prefix: prefix_ok, _norseq, _other, the
// first other error, the shards out of range, and prefix_total, the sum
// over the shards (which must equal prefix_ok).
func (a *Adds) Report(w io.Writer, prefix string) {
	fmt.Fprintf(w, "%s_ok=%d\n", prefix, a.ok.Load())
	fmt.Fprintf(w, "%s_norseq=%d\n", prefix, a.noRseq.Load())
	fmt.Fprintf(w, "%s_other=%d\n", prefix, a.other.Load())
	if p := a.firstOther.Load(); p != nil {
		fmt.Fprintf(w, "%s_first_other=%s\n", prefix, *p)
	}
	fmt.Fprintf(w, "%s_bad_shard=%d\n", prefix, a.shardLow.Load()+a.shardHigh.Load())
	fmt.Fprintf(w, "%s_total=%d\n", prefix, a.Total())
}

// OneAdd does one Add on a fresh Block on the calling thread and writes
// prefix_shard and prefix_err.
func OneAdd(w io.Writer, prefix string) {
	a := NewAdds()
	defer a.b.Free()
	shard, err := percpu.Add(a.b, 0, 1)
	fmt.Fprintf(w, "%sshard=%d\n", prefix, shard)
	fmt.Fprintf(w, "%sadd_err=%s\n", prefix, ErrString(err))
	if err == nil {
		fmt.Fprintf(w, "%sadd_total=%d\n", prefix, a.Total())
	}
}

// Goroutines runs g goroutines, the even ones locked to their threads,
// each doing n Counter Incs and n/10 Adds on one Block, and writes
// counter (the Counter's total), counter_want, and the Adds' tallies
// (adds_*) with adds_want.
func Goroutines(w io.Writer, g, n int) {
	var c percpu.Counter
	a := NewAdds()
	defer a.b.Free()
	var wg sync.WaitGroup
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			for k := 0; k < n; k++ {
				c.Inc()
				if k%10 == 0 {
					a.Add()
				}
				if k%1000 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(w, "counter=%d\n", c.Load())
	fmt.Fprintf(w, "counter_want=%d\n", g*n)
	a.Report(w, "adds")
	fmt.Fprintf(w, "adds_want=%d\n", g*((n+9)/10))
}

// Aborts provokes aborts: workers goroutines locked to their threads run
// Adds on one Block in a loop while a signaller sends SIGURG (the
// runtime's preemption signal, which it ignores when no preemption was
// asked for) to their threads, until AbortCount has grown by want or max
// has passed (at least min in any case). It writes aborts (the growth of
// AbortCount), abort_signals, and the tallies of the Adds (abort_adds_*).
func Aborts(w io.Writer, workers int, want uint64, min, max time.Duration) {
	a := NewAdds()
	defer a.b.Free()
	before := percpu.AbortCount()
	var stop atomic.Bool
	tids := make(chan int, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tids <- unix.Gettid()
			for !stop.Load() {
				for k := 0; k < 100; k++ {
					a.Add()
				}
			}
		}()
	}
	threads := make([]int, workers)
	for i := range threads {
		threads[i] = <-tids
	}
	pid := unix.Getpid()
	signals := 0
	start := time.Now()
	for {
		el := time.Since(start)
		if el >= max || el >= min && percpu.AbortCount()-before >= want {
			break
		}
		for _, tid := range threads {
			if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
				signals++
			}
		}
		time.Sleep(50 * time.Microsecond)
	}
	stop.Store(true)
	wg.Wait()
	fmt.Fprintf(w, "aborts=%d\n", percpu.AbortCount()-before)
	fmt.Fprintf(w, "abort_signals=%d\n", signals)
	fmt.Fprintf(w, "abort_ms=%d\n", time.Since(start).Milliseconds())
	a.Report(w, "abort_adds")
}

// AbortPhase is Aborts with the children's settings: 4 workers, until 10
// aborts (at most 5s) with rseq, 100ms in the fallback.
func AbortPhase(w io.Writer) {
	if percpu.Status().Mode.Rseq() {
		Aborts(w, 4, 10, 50*time.Millisecond, 5*time.Second)
	} else {
		Aborts(w, 4, 1, 100*time.Millisecond, 100*time.Millisecond)
	}
}
