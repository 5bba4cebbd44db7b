// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package cpuindex is testdata for percpuindex.
package cpuindex

import (
	"runtime"

	"github.com/gorseq/gorseq/percpu"
)

func local() {
	s := make([]int64, runtime.NumCPU())
	s[percpu.CPU()]++ // want `s is sized with runtime.NumCPU\(\) but indexed by percpu.CPU\(\): CPU numbers can exceed NumCPU and GOMAXPROCS \(cpusets, offline CPUs, containers\); size per-CPU slices with percpu.Shards\(\)`
	cpu := percpu.CPU()
	s[cpu]++     // want `s is sized with runtime.NumCPU\(\) but indexed by percpu.CPU\(\)`
	p := &s[cpu] // want `indexed by percpu.CPU`
	*p = 0
	s[(percpu.CID())] = 1 // want `s is sized with runtime.NumCPU\(\) but indexed by percpu.CID\(\): CIDs can exceed`
	node := percpu.Node()
	s[node] = 2 // want `but indexed by percpu.Node\(\): node numbers can exceed`

	g := make([]int64, runtime.GOMAXPROCS(0))
	g[cpu]++ // want `g is sized with runtime.GOMAXPROCS\(\) but indexed by percpu.CPU\(\)`
	var d = make([]int64, 2*runtime.NumCPU()+1)
	d[cpu]++ // want `d is sized with runtime.NumCPU`
	c := make([]int64, int(uint(runtime.NumCPU())), 64)
	c[cpu]++ // want `c is sized with runtime.NumCPU`
	n := runtime.NumCPU()
	e := make([]int64, n)
	e[cpu]++ // want `e is sized with runtime.NumCPU`
	alias := s
	alias[cpu]++ // want `alias is sized with runtime.NumCPU`
}

type shard struct{ n int64 }

var perCPU = make([]shard, runtime.NumCPU())

func pkgVar() {
	perCPU[percpu.CPU()].n++ // want `perCPU is sized with runtime.NumCPU`
}

type stats struct {
	hits   []int64
	misses []int64
	byNode []int64
}

func newStats() *stats {
	s := &stats{hits: make([]int64, runtime.NumCPU())}
	s.misses = make([]int64, runtime.GOMAXPROCS(0))
	return s
}

func (s *stats) hit() {
	s.hits[percpu.CPU()]++ // want `hits is sized with runtime.NumCPU`
	cpu := percpu.CPU()
	s.misses[cpu]++ // want `misses is sized with runtime.GOMAXPROCS`
}

func (s *stats) reset() {
	s.misses = nil // nil does not make it safe or unsafe
}

type generic[T any] struct{ vals []T }

func newGeneric[T any]() *generic[T] {
	return &generic[T]{vals: make([]T, runtime.NumCPU())}
}

func (g *generic[T]) at() *T {
	return &g.vals[percpu.CPU()] // want `vals is sized with runtime.NumCPU`
}

// Not reported below.

func shards() {
	s := make([]int64, percpu.Shards())
	s[percpu.CPU()]++
	m := make([]int64, max(runtime.NumCPU(), percpu.Shards()))
	m[percpu.CPU()]++
	n := make([]int64, runtime.NumCPU()+percpu.Shards())
	n[percpu.CPU()]++
}

func otherUses() {
	s := make([]int64, runtime.NumCPU())
	cpu := percpu.CPU()
	s[cpu%len(s)]++ // not indexed by the CPU number itself
	for i := range s {
		s[i] = int64(percpu.CPU()) // CPU used as a value
	}
	if cpu < len(s) {
		println(cpu)
	}
	m := map[int]int{}
	m[cpu]++ // a map, not a slice
	var arr [4]int
	_ = arr[percpu.CPU()&3]
}

func changedIndex() {
	s := make([]int64, runtime.NumCPU())
	cpu := percpu.CPU()
	if cpu >= len(s) {
		cpu = 0
	}
	s[cpu]++ // cpu is not only a CPU number
}

func resized() {
	s := make([]int64, runtime.NumCPU())
	if len(s) < percpu.Shards() {
		s = make([]int64, percpu.Shards())
	}
	s[percpu.CPU()]++
}

func grownN() {
	n := runtime.NumCPU()
	n = max(n, percpu.Shards())
	s := make([]int64, n)
	s[percpu.CPU()]++
}

func lengthFromCapOnly() {
	s := make([]int64, 0, runtime.NumCPU())
	for range percpu.Shards() {
		s = append(s, 0)
	}
	s[percpu.CPU()]++
}

type fixed struct{ counts []int64 }

func (f *fixed) init() {
	f.counts = make([]int64, runtime.NumCPU())
}

func (f *fixed) grow() {
	f.counts = append(f.counts, make([]int64, percpu.Shards())...)
}

func (f *fixed) inc() {
	f.counts[percpu.CPU()]++ // counts is also assigned otherwise
}

func param(s []int64) {
	s[percpu.CPU()]++ // nothing known about s
}
