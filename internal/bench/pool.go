// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package bench

import (
	"sync"
	"testing"

	"github.com/gorseq/gorseq/percpu"
)

// PoolBaseline names the case that pool ratios are taken against.
const PoolBaseline = "sync.Pool"

// buf is the pooled object: a small buffer, as pools usually hold.
type buf struct{ b [256]byte }

var bufSink *buf

// PoolCases compare a Get followed by a Put of the same object.
func PoolCases() []Case {
	return []Case{
		{"percpu.Pool", percpuPoolSerial, percpuPoolParallel},
		{PoolBaseline, syncPoolSerial, syncPoolParallel},
	}
}

func percpuPoolSerial(b *testing.B) {
	p := &percpu.Pool[*buf]{New: func() *buf { return new(buf) }}
	for i := 0; i < b.N; i++ {
		x := p.Get()
		bufSink = x
		p.Put(x)
	}
}

func percpuPoolParallel(b *testing.B) {
	p := &percpu.Pool[*buf]{New: func() *buf { return new(buf) }}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			x := p.Get()
			x.b[0]++
			p.Put(x)
		}
	})
}

func syncPoolSerial(b *testing.B) {
	p := &sync.Pool{New: func() any { return new(buf) }}
	for i := 0; i < b.N; i++ {
		x := p.Get().(*buf)
		bufSink = x
		p.Put(x)
	}
}

func syncPoolParallel(b *testing.B) {
	p := &sync.Pool{New: func() any { return new(buf) }}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			x := p.Get().(*buf)
			x.b[0]++
			p.Put(x)
		}
	})
}

// PoolSliceCases compare the same for a Pool of a non-pointer type, a
// []byte, against sync.Pool holding *[]byte (the usual way to keep a
// slice in a sync.Pool without an allocation per Put).
func PoolSliceCases() []Case {
	return []Case{
		{"percpu.Pool[[]byte]", percpuSliceSerial, percpuSliceParallel},
		{PoolBaseline, syncSliceSerial, syncSliceParallel},
	}
}

var sliceSink []byte

func percpuSliceSerial(b *testing.B) {
	p := &percpu.Pool[[]byte]{New: func() []byte { return make([]byte, 256) }}
	for i := 0; i < b.N; i++ {
		x := p.Get()
		sliceSink = x
		p.Put(x)
	}
}

func percpuSliceParallel(b *testing.B) {
	p := &percpu.Pool[[]byte]{New: func() []byte { return make([]byte, 256) }}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			x := p.Get()
			x[0]++
			p.Put(x)
		}
	})
}

func syncSliceSerial(b *testing.B) {
	p := &sync.Pool{New: func() any { s := make([]byte, 256); return &s }}
	for i := 0; i < b.N; i++ {
		x := p.Get().(*[]byte)
		sliceSink = *x
		p.Put(x)
	}
}

func syncSliceParallel(b *testing.B) {
	p := &sync.Pool{New: func() any { s := make([]byte, 256); return &s }}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			x := p.Get().(*[]byte)
			(*x)[0]++
			p.Put(x)
		}
	})
}
