// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpuprom_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The benchmarks compare percpuprom's counters with client_golang's, in
// one run, as sub-benchmarks named impl=percpuprom and
// impl=client_golang, so that benchstat can put them side by side:
//
//	go test -run '^$' -bench . -count 6 -cpu 1,2 -benchtime 200ms > bench.txt
//	benchstat -col /impl bench.txt
//
// TestMain prints percpu's mode as a configuration line (percpu-mode).
// The counters are used through the prometheus.Counter interface, as
// users hold them.

func benchImpls(b *testing.B, f func(b *testing.B, im impl)) {
	for _, im := range impls {
		b.Run("impl="+im.name, func(b *testing.B) { f(b, im) })
	}
}

func BenchmarkInc(b *testing.B) {
	benchImpls(b, func(b *testing.B, im impl) {
		c := im.newCounter(prometheus.CounterOpts{Name: "bench_total"})
		for b.Loop() {
			c.Inc()
		}
	})
}

func BenchmarkIncParallel(b *testing.B) {
	benchImpls(b, func(b *testing.B, im impl) {
		c := im.newCounter(prometheus.CounterOpts{Name: "bench_total"})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
}

func BenchmarkAddWhole(b *testing.B) {
	benchImpls(b, func(b *testing.B, im impl) {
		c := im.newCounter(prometheus.CounterOpts{Name: "bench_total"})
		for b.Loop() {
			c.Add(3)
		}
	})
}

func BenchmarkAddWholeParallel(b *testing.B) {
	benchImpls(b, func(b *testing.B, im impl) {
		c := im.newCounter(prometheus.CounterOpts{Name: "bench_total"})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Add(3)
			}
		})
	})
}

func BenchmarkAddFloat(b *testing.B) {
	benchImpls(b, func(b *testing.B, im impl) {
		c := im.newCounter(prometheus.CounterOpts{Name: "bench_total"})
		for b.Loop() {
			c.Add(0.5)
		}
	})
}

func BenchmarkAddFloatParallel(b *testing.B) {
	benchImpls(b, func(b *testing.B, im impl) {
		c := im.newCounter(prometheus.CounterOpts{Name: "bench_total"})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Add(0.5)
			}
		})
	})
}

// The CounterVec lookup and an Inc, as in
// vec.WithLabelValues("GET", "200").Inc().
func BenchmarkVecInc(b *testing.B) {
	benchImpls(b, func(b *testing.B, im impl) {
		v := im.newVec(prometheus.CounterOpts{Name: "bench_total"}, []string{"method", "code"})
		for b.Loop() {
			v.WithLabelValues("GET", "200").Inc()
		}
	})
}

func BenchmarkVecIncParallel(b *testing.B) {
	benchImpls(b, func(b *testing.B, im impl) {
		v := im.newVec(prometheus.CounterOpts{Name: "bench_total"}, []string{"method", "code"})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				v.WithLabelValues("GET", "200").Inc()
			}
		})
	})
}

// A scrape's cost: Write of one counter (percpuprom reads every possible
// CPU's words).
func BenchmarkWrite(b *testing.B) {
	benchImpls(b, func(b *testing.B, im impl) {
		c := im.newCounter(prometheus.CounterOpts{Name: "bench_total"})
		c.Inc()
		c.Add(0.5)
		for b.Loop() {
			var m dto.Metric
			if err := c.Write(&m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
