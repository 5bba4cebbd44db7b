// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package bench

import (
	"math"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/gorseq/gorseq/percpu"
)

// FloatCounterBaseline names the case that the float counters' ratios
// are taken against: a compare-and-swap loop on the bits of one shared
// float64, as client_golang's Counter.Add and expvar.Float.Add do.
const FloatCounterBaseline = "CAS loop, one word"

// FloatCounterCases are the float64 counters compared: percpu.FloatCounter,
// the shared compare-and-swap loop, and the same loop on per-P shards.
func FloatCounterCases() []Case {
	return []Case{
		{"percpu.FloatCounter", floatPercpuSerial, floatPercpuParallel},
		{FloatCounterBaseline, floatCASSerial, floatCASParallel},
		{"CAS loop, per-P (procPin)", floatPerPSerial, floatPerPParallel},
	}
}

var floatSink float64

// floatAdd adds v to the float64 whose bits are *p, as one shared word
// is updated today.
func floatAdd(p *atomic.Uint64, v float64) {
	for {
		old := p.Load()
		if p.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func floatPercpuSerial(b *testing.B) {
	var c percpu.FloatCounter
	for i := 0; i < b.N; i++ {
		c.Add(0.5)
	}
	floatSink = c.Load()
}

func floatPercpuParallel(b *testing.B) {
	var c percpu.FloatCounter
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Add(0.5)
		}
	})
	floatSink = c.Load()
}

func floatCASSerial(b *testing.B) {
	var w atomic.Uint64
	for i := 0; i < b.N; i++ {
		floatAdd(&w, 0.5)
	}
	floatSink = math.Float64frombits(w.Load())
}

func floatCASParallel(b *testing.B) {
	var w atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			floatAdd(&w, 0.5)
		}
	})
	floatSink = math.Float64frombits(w.Load())
}

// floatPerP is floatAdd on cache-line-padded per-P shards.
type floatPerP struct {
	shards []struct {
		w atomic.Uint64
		_ [56]byte
	}
}

func newFloatPerP() *floatPerP {
	p := &floatPerP{}
	p.shards = make([]struct {
		w atomic.Uint64
		_ [56]byte
	}, runtime.GOMAXPROCS(0))
	return p
}

func (p *floatPerP) add(v float64) {
	i := procPin()
	floatAdd(&p.shards[i%len(p.shards)].w, v)
	procUnpin()
}

func (p *floatPerP) load() float64 {
	var s float64
	for i := range p.shards {
		s += math.Float64frombits(p.shards[i].w.Load())
	}
	return s
}

func floatPerPSerial(b *testing.B) {
	p := newFloatPerP()
	for i := 0; i < b.N; i++ {
		p.add(0.5)
	}
	floatSink = p.load()
}

func floatPerPParallel(b *testing.B) {
	p := newFloatPerP()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.add(0.5)
		}
	})
	floatSink = p.load()
}
