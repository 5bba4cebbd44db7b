// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package bench

import (
	"runtime"
	"sync"
	"testing"

	"github.com/gorseq/gorseq/percpu"
)

// ValuesBaseline names the case that sharded-value ratios are taken
// against.
const ValuesBaseline = "mutex struct"

// stats is the small struct every candidate updates.
type stats struct {
	n, sum, max int64
}

func (s *stats) observe(v int64) {
	s.n++
	s.sum += v
	if v > s.max {
		s.max = v
	}
}

// ValuesCases compare updating a small struct: percpu.Values, one struct
// under a sync.Mutex, and a per-P copy updated with preemption off
// (procPin: the callback must not block there).
func ValuesCases() []Case {
	return []Case{
		{"percpu.Values", valuesSerial, valuesParallel},
		{ValuesBaseline, mutexStructSerial, mutexStructParallel},
		{"per-P (procPin)", perPStructSerial, perPStructParallel},
	}
}

func valuesSerial(b *testing.B) {
	v := percpu.NewValues[stats](nil)
	for i := 0; i < b.N; i++ {
		v.Update(func(s *stats) { s.observe(int64(i)) })
	}
}

func valuesParallel(b *testing.B) {
	v := percpu.NewValues[stats](nil)
	b.RunParallel(func(pb *testing.PB) {
		for i := int64(0); pb.Next(); i++ {
			v.Update(func(s *stats) { s.observe(i) })
		}
	})
}

type mutexStruct struct {
	mu sync.Mutex
	s  stats
}

func mutexStructSerial(b *testing.B) {
	m := &mutexStruct{}
	for i := 0; i < b.N; i++ {
		m.mu.Lock()
		m.s.observe(int64(i))
		m.mu.Unlock()
	}
}

func mutexStructParallel(b *testing.B) {
	m := &mutexStruct{}
	b.RunParallel(func(pb *testing.PB) {
		for i := int64(0); pb.Next(); i++ {
			m.mu.Lock()
			m.s.observe(i)
			m.mu.Unlock()
		}
	})
}

type perPStruct struct {
	shards []struct {
		s stats
		_ [64 - 24]byte
	}
}

func newPerPStruct() *perPStruct {
	p := &perPStruct{}
	p.shards = make([]struct {
		s stats
		_ [64 - 24]byte
	}, runtime.GOMAXPROCS(0))
	return p
}

func (p *perPStruct) observe(v int64) {
	i := procPin()
	p.shards[i%len(p.shards)].s.observe(v)
	procUnpin()
}

func perPStructSerial(b *testing.B) {
	p := newPerPStruct()
	for i := 0; i < b.N; i++ {
		p.observe(int64(i))
	}
}

func perPStructParallel(b *testing.B) {
	p := newPerPStruct()
	b.RunParallel(func(pb *testing.PB) {
		for i := int64(0); pb.Next(); i++ {
			p.observe(i)
		}
	})
}
