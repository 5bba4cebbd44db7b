// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package bench

import (
	"strings"
	"testing"
)

// Benchmark runs every group's candidates, serial and parallel (use -cpu
// 1,2 for GOMAXPROCS 1 and 2; GODEBUG=rseq=0 for percpu's fallback).
func Benchmark(b *testing.B) {
	clean := strings.NewReplacer(" ", "_", "(", "", ")", "", "%", "pct", ",", "", "+", "")
	for _, g := range Groups() {
		b.Run(clean.Replace(g.Name), func(b *testing.B) {
			for _, c := range g.Cases {
				b.Run("serial/"+clean.Replace(c.Name), c.Serial)
				b.Run("parallel/"+clean.Replace(c.Name), c.Parallel)
			}
		})
	}
}

// TestCountersCount checks that each counter candidate counts: a
// benchmark of a counter that does not count would compare nothing.
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

// TestFloatCountersCount does the same for the float counters, which add
// 0.5 per operation.
func TestFloatCountersCount(t *testing.T) {
	for _, c := range FloatCounterCases() {
		for _, f := range []func(*testing.B){c.Serial, c.Parallel} {
			floatSink = 0
			r := testing.Benchmark(f)
			if r.N == 0 || floatSink < 0.5*float64(r.N) {
				t.Errorf("%s: counted %v after %d operations of 0.5", c.Name, floatSink, r.N)
			}
		}
	}
}

// TestGroups checks that every group names its baseline among its cases.
func TestGroups(t *testing.T) {
	for _, g := range Groups() {
		found := false
		for _, c := range g.Cases {
			found = found || c.Name == g.Baseline
			if c.Serial == nil || c.Parallel == nil {
				t.Errorf("%s/%s: missing a function", g.Name, c.Name)
			}
		}
		if !found {
			t.Errorf("group %s: baseline %q is not one of its cases", g.Name, g.Baseline)
		}
	}
}
