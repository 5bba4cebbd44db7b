// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package percpuprom is a drop-in for the counters of the Prometheus Go
// client (github.com/prometheus/client_golang/prometheus) that count on
// gorseq's per-CPU counters ([percpu.Counter], [percpu.FloatCounter])
// instead of one shared word.
//
// client_golang's Counter.Inc is an atomic add on one word, and its
// Add(float64) a compare-and-swap loop on another: every CPU that counts
// takes that word's cache line from the others, and a hot request
// counter in a busy server becomes a point of contention. The counters
// here keep the same two parts per CPU: Inc and whole-number Adds go to a
// [percpu.Counter], other Adds to a [percpu.FloatCounter], and Write (a
// scrape) sums them as client_golang does. With rseq (a toolchain with
// gorseq's patch, or cgo and glibc's registration) an add is a few plain
// instructions on the current CPU's word; without it percpu falls back to
// per-P atomic adds, still uncontended between running goroutines (see
// [percpu.Status]).
//
// # Switching
//
// Replace the constructors; everything else stays:
//
//	prometheus.NewCounter(opts)                 -> percpuprom.NewCounter(opts)
//	prometheus.NewCounterVec(opts, labelNames)  -> percpuprom.NewCounterVec(opts, labelNames)
//	prometheus.V2.NewCounterVec(vecOpts)        -> percpuprom.V2.NewCounterVec(vecOpts)
//
// NewCounter returns a [prometheus.Counter] (which also implements
// [prometheus.ExemplarAdder]), and [CounterVec] has the methods of
// [prometheus.CounterVec] that return Counters. Names, help, unit,
// constant labels, label checks and their errors, the exposition
// (including the created timestamp and exemplars) and registration are
// client_golang's own: the Desc is built with [prometheus.V2.NewDesc] from
// the same options, and CounterVec is a [prometheus.MetricVec]. The one
// place where the switch does not carry over is an API that takes the
// concrete *prometheus.CounterVec, such as promhttp.InstrumentHandlerCounter
// and InstrumentRoundTripperCounter: count in your own middleware instead
// (see the example).
//
// # Cost
//
// Each counter holds a percpu.Counter and a percpu.FloatCounter, 16 bytes
// of per-CPU memory per possible CPU each, allocated on the first add of
// its kind: a counter that only ever sees Inc and whole Adds never
// allocates the float part. The per-CPU memory is returned when the
// counter is garbage collected (after a CounterVec's Delete or Reset, for
// example). A scrape reads every possible CPU's words of every counter,
// which is more than client_golang's two loads: per-CPU counters suit
// metrics that are added to far more often than scraped, which is what
// counters are.
//
// # Rounding
//
// A fractional Add goes to the current CPU's running float64 sum, and a
// scrape adds the CPUs' sums: the total may differ in its last bits from
// client_golang's one running sum of the same adds, by an error of the
// same order (see [percpu.FloatCounter]). Amounts whose partial sums are
// all exact in float64, integers and multiples of a power of two such as
// 0.25, give exactly the same total. Whole-number Adds are exact integer
// arithmetic in both (a uint64 that wraps past 2^64, as client_golang's
// does).
//
// # Module
//
// percpuprom is its own module, github.com/gorseq/gorseq/contrib/percpuprom,
// so that gorseq itself does not depend on the Prometheus client. Until
// gorseq publishes a version, a program that requires percpuprom adds the
// same replace directive as this module's go.mod, pointing at a checkout
// of gorseq:
//
//	replace github.com/gorseq/gorseq => ../path/to/gorseq
package percpuprom
