// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package bench

import (
	"strings"
	"testing"
)

// BenchmarkCounter runs every counter candidate, serial and parallel (use
// -cpu 1,2 for GOMAXPROCS 1 and 2; GODEBUG=rseq=0 for percpu's fallback).
func BenchmarkCounter(b *testing.B) {
	for _, c := range CounterCases() {
		name := strings.NewReplacer(" ", "_", "(", "", ")", "").Replace(c.Name)
		b.Run("serial/"+name, c.Serial)
		b.Run("parallel/"+name, c.Parallel)
	}
}

// TestCountersCount checks that each candidate counts: a benchmark of a
// counter that does not count would compare nothing.
func TestCountersCount(t *testing.T) {
	for _, c := range CounterCases() {
		for _, f := range []func(*testing.B){c.Serial, c.Parallel} {
			sink = 0
			r := testing.Benchmark(f)
			if r.N == 0 || sink < int64(r.N) {
				t.Errorf("%s: counted %d after %d operations", c.Name, sink, r.N)
			}
		}
	}
}
