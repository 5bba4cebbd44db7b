// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpuprom

import (
	"github.com/prometheus/client_golang/prometheus"
)

// CounterVec is a drop-in for [prometheus.CounterVec]: a Collector of
// Counters that share a Desc and differ in the values of their variable
// labels (requests by method and code, say), each Counter counting on
// per-CPU counters as NewCounter's do. Create one with NewCounterVec or
// V2.NewCounterVec.
//
// It is a [prometheus.MetricVec], client_golang's own building block of
// its vectors, with the Counters of this package as its metrics: label
// checks, their errors, the lookup of label values, Delete,
// DeleteLabelValues, DeletePartialMatch, Reset, Describe and Collect are
// client_golang's. The lookup of WithLabelValues and With (a hash of the
// label values and a map read under a read lock) costs what it costs with
// client_golang, and it is shared by every goroutine: on a hot path, look
// the Counter up once and keep it.
type CounterVec struct {
	*prometheus.MetricVec
}

// NewCounterVec creates a CounterVec from opts, partitioned by the given
// label names, as [prometheus.NewCounterVec] does. Each Counter's created
// timestamp is the time it is first looked up.
func NewCounterVec(opts prometheus.CounterOpts, labelNames []string) *CounterVec {
	return V2.NewCounterVec(prometheus.CounterVecOpts{
		CounterOpts:    opts,
		VariableLabels: prometheus.UnconstrainedLabels(labelNames),
	})
}

// V2 mirrors [prometheus.V2]: it holds the constructors that take
// client_golang's V2 options.
var V2 v2

type v2 struct{}

// NewCounterVec creates a CounterVec from opts, as
// prometheus.V2.NewCounterVec does: the variable labels may be
// [prometheus.ConstrainedLabels], whose constraints normalise label values
// before lookup.
func (v2) NewCounterVec(opts prometheus.CounterVecOpts) *CounterVec {
	desc := prometheus.V2.NewDesc(
		prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name),
		opts.Help,
		opts.VariableLabels,
		opts.ConstLabels,
		prometheus.WithUnit(opts.Unit),
	)
	return &CounterVec{prometheus.NewMetricVec(desc, func(lvs ...string) prometheus.Metric {
		// MetricVec has checked the number of values.
		return newCounter(desc, prometheus.MakeLabelPairs(desc, lvs))
	})}
}

// GetMetricWithLabelValues returns the Counter for the given label values
// (in the order of the variable labels), creating it at 0 if it does not
// exist, or an error if the number of values is not the number of
// variable labels (less the curried ones) or a value is not valid UTF-8.
// See [prometheus.CounterVec.GetMetricWithLabelValues].
func (v *CounterVec) GetMetricWithLabelValues(lvs ...string) (prometheus.Counter, error) {
	m, err := v.MetricVec.GetMetricWithLabelValues(lvs...)
	if m != nil {
		return m.(*counter), err
	}
	return nil, err
}

// GetMetricWith returns the Counter for the given labels, creating it at 0
// if it does not exist, or an error if the label names are not those of
// the variable labels (less the curried ones) or a value is not valid
// UTF-8. See [prometheus.CounterVec.GetMetricWith].
func (v *CounterVec) GetMetricWith(labels prometheus.Labels) (prometheus.Counter, error) {
	m, err := v.MetricVec.GetMetricWith(labels)
	if m != nil {
		return m.(*counter), err
	}
	return nil, err
}

// WithLabelValues is GetMetricWithLabelValues that panics where
// GetMetricWithLabelValues returns an error:
//
//	vec.WithLabelValues("GET", "200").Inc()
func (v *CounterVec) WithLabelValues(lvs ...string) prometheus.Counter {
	c, err := v.GetMetricWithLabelValues(lvs...)
	if err != nil {
		panic(err)
	}
	return c
}

// With is GetMetricWith that panics where GetMetricWith returns an error:
//
//	vec.With(prometheus.Labels{"method": "GET", "code": "200"}).Inc()
func (v *CounterVec) With(labels prometheus.Labels) prometheus.Counter {
	c, err := v.GetMetricWith(labels)
	if err != nil {
		panic(err)
	}
	return c
}

// CurryWith returns a CounterVec with the given labels preset, sharing
// its Counters with v, as [prometheus.CounterVec.CurryWith] does; it
// returns an error if a label is not a variable label of v, or is curried
// already.
func (v *CounterVec) CurryWith(labels prometheus.Labels) (*CounterVec, error) {
	vec, err := v.MetricVec.CurryWith(labels)
	if vec != nil {
		return &CounterVec{vec}, err
	}
	return nil, err
}

// MustCurryWith is CurryWith that panics where CurryWith returns an error.
func (v *CounterVec) MustCurryWith(labels prometheus.Labels) *CounterVec {
	vec, err := v.CurryWith(labels)
	if err != nil {
		panic(err)
	}
	return vec
}
