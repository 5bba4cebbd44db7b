// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package bench holds the side-by-side benchmarks of percpu's structures
// and what Go programs use today, shared by `go test -bench` (bench_test.go)
// and `percpu bench`.
package bench

import (
	"runtime"
	"sync/atomic"
	"testing"
	_ "unsafe" // for go:linkname

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/gorseq/gorseq/percpu"
)

// Case is one benchmark candidate.
type Case struct {
	Name string
	// Serial runs b.N operations on one goroutine; Parallel runs them
	// with b.RunParallel on GOMAXPROCS goroutines.
	Serial, Parallel func(b *testing.B)
}

// CounterBaseline names the case that ratios are taken against.
const CounterBaseline = "atomic.AddInt64"

// CounterCases are the counters compared: percpu.Counter (rseq or its
// fallback, per the process), one shared atomic word, a per-P counter
// (procPin), xsync's Counter, and a plain increment (the floor: no
// sharing, no atomics).
func CounterCases() []Case {
	return []Case{
		{"percpu.Counter", percpuSerial, percpuParallel},
		{CounterBaseline, atomicSerial, atomicParallel},
		{"per-P (procPin)", perPSerial, perPParallel},
		{"xsync.Counter", xsyncSerial, xsyncParallel},
		{"plain increment", plainSerial, plainParallel},
	}
}

var sink int64

func percpuSerial(b *testing.B) {
	var c percpu.Counter
	for i := 0; i < b.N; i++ {
		c.Add(1)
	}
	sink = c.Load()
}

func percpuParallel(b *testing.B) {
	var c percpu.Counter
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Add(1)
		}
	})
	sink = c.Load()
}

func atomicSerial(b *testing.B) {
	var n int64
	for i := 0; i < b.N; i++ {
		atomic.AddInt64(&n, 1)
	}
	sink = n
}

func atomicParallel(b *testing.B) {
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Add(1)
		}
	})
	sink = n.Load()
}

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// perP is a per-P counter as Go code writes one today: procPin for the P
// id, an atomic add on that P's cache-line-padded shard.
type perP struct {
	shards []struct {
		n atomic.Int64
		_ [56]byte
	}
}

func newPerP() *perP {
	p := &perP{}
	p.shards = make([]struct {
		n atomic.Int64
		_ [56]byte
	}, runtime.GOMAXPROCS(0))
	return p
}

func (p *perP) add(v int64) {
	i := procPin()
	p.shards[i%len(p.shards)].n.Add(v)
	procUnpin()
}

func (p *perP) load() int64 {
	var s int64
	for i := range p.shards {
		s += p.shards[i].n.Load()
	}
	return s
}

func perPSerial(b *testing.B) {
	p := newPerP()
	for i := 0; i < b.N; i++ {
		p.add(1)
	}
	sink = p.load()
}

func perPParallel(b *testing.B) {
	p := newPerP()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.add(1)
		}
	})
	sink = p.load()
}

func xsyncSerial(b *testing.B) {
	c := xsync.NewCounter()
	for i := 0; i < b.N; i++ {
		c.Add(1)
	}
	sink = c.Value()
}

func xsyncParallel(b *testing.B) {
	c := xsync.NewCounter()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Add(1)
		}
	})
	sink = c.Value()
}

var plain int64

func plainSerial(b *testing.B) {
	for i := 0; i < b.N; i++ {
		plain++
	}
	sink = plain
}

func plainParallel(b *testing.B) {
	var total atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		var n int64 // each goroutine's own: the floor, nothing shared
		for pb.Next() {
			n++
		}
		total.Add(n)
	})
	sink = total.Load()
}
