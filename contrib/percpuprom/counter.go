// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpuprom

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorseq/gorseq/percpu"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// NewCounter creates a Counter from opts, as [prometheus.NewCounter] does,
// that counts on per-CPU counters. The Desc is client_golang's for the
// same opts (fully-qualified name from Namespace, Subsystem and Name;
// Help, Unit and ConstLabels), so that an invalid name or label is
// reported at registration, as with prometheus.NewCounter. The created
// timestamp is the time of the call.
//
// The returned Counter also implements [prometheus.ExemplarAdder]: the
// type assertion is safe, as it is for prometheus.NewCounter.
//
// Inc, and Add with a value that is a whole number representable as a
// uint64 (the test client_golang makes), add to a [percpu.Counter]; other
// values to a [percpu.FloatCounter]. Write adds the two, the float part
// first, as client_golang does. Add panics, with client_golang's error,
// if the value is negative.
func NewCounter(opts prometheus.CounterOpts) prometheus.Counter {
	desc := prometheus.V2.NewDesc(
		prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name),
		opts.Help,
		prometheus.UnconstrainedLabels(nil),
		opts.ConstLabels,
		prometheus.WithUnit(opts.Unit),
	)
	return newCounter(desc, prometheus.MakeLabelPairs(desc, nil))
}

// counter is the Counter of NewCounter and of CounterVec.
type counter struct {
	// whole counts Inc and the Adds of whole numbers, as the bits of a
	// uint64: int64 addition wraps exactly as client_golang's uint64
	// does, and Write reads the sum back as a uint64.
	whole percpu.Counter
	// frac counts the other Adds.
	frac percpu.FloatCounter

	desc       *prometheus.Desc
	labelPairs []*dto.LabelPair
	created    *timestamppb.Timestamp
	exemplar   atomic.Pointer[dto.Exemplar] // the latest, or nil
}

var (
	_ prometheus.Counter       = (*counter)(nil)
	_ prometheus.ExemplarAdder = (*counter)(nil)
)

func newCounter(desc *prometheus.Desc, labelPairs []*dto.LabelPair) *counter {
	return &counter{desc: desc, labelPairs: labelPairs, created: timestamppb.New(time.Now())}
}

// errNegative is client_golang's panic for a negative Add.
var errNegative = errors.New("counter cannot decrease in value")

// Inc adds 1.
func (c *counter) Inc() { c.whole.Add(1) }

// Add adds v. It panics if v < 0.
func (c *counter) Add(v float64) {
	if v < 0 {
		panic(errNegative)
	}
	// client_golang's test: the value converts to a uint64 and back.
	// NaN, infinities, fractions and whole numbers of 2^64 or more fail
	// it (a conversion out of range gives a value that does not convert
	// back).
	if u := uint64(v); float64(u) == v {
		c.whole.Add(int64(u))
		return
	}
	c.frac.Add(v)
}

// AddWithExemplar adds v as Add does, then, unless labels is nil,
// replaces the counter's exemplar with one of value v, the current time
// and labels (empty labels make an exemplar without labels). Like
// client_golang's, it panics if v < 0 (before adding), and after adding
// if a label name is invalid, a label value is not valid UTF-8, or the
// names and values have more than [prometheus.ExemplarMaxRunes] runes in
// total, with client_golang's errors.
func (c *counter) AddWithExemplar(v float64, labels prometheus.Labels) {
	c.Add(v)
	if labels == nil {
		return
	}
	e, err := newExemplar(v, time.Now(), labels)
	if err != nil {
		panic(err)
	}
	c.exemplar.Store(e)
}

// newExemplar makes an exemplar, with client_golang's checks and errors.
func newExemplar(v float64, t time.Time, labels prometheus.Labels) (*dto.Exemplar, error) {
	ts := timestamppb.New(t)
	if err := ts.CheckValid(); err != nil {
		return nil, err
	}
	pairs := make([]*dto.LabelPair, 0, len(labels))
	runes := 0
	for name, value := range labels {
		if !model.UTF8Validation.IsValidLabelName(name) || strings.HasPrefix(name, "__") {
			return nil, fmt.Errorf("exemplar label name %q is invalid", name)
		}
		if !utf8.ValidString(value) {
			return nil, fmt.Errorf("exemplar label value %q is not valid UTF-8", value)
		}
		runes += utf8.RuneCountInString(name) + utf8.RuneCountInString(value)
		pairs = append(pairs, &dto.LabelPair{Name: new(name), Value: new(value)})
	}
	if runes > prometheus.ExemplarMaxRunes {
		return nil, fmt.Errorf("exemplar labels have %d runes, exceeding the limit of %d", runes, prometheus.ExemplarMaxRunes)
	}
	return &dto.Exemplar{Label: pairs, Value: new(v), Timestamp: ts}, nil
}

// Desc returns the counter's descriptor.
func (c *counter) Desc() *prometheus.Desc { return c.desc }

// Write writes the counter's value, labels, exemplar and created
// timestamp to m. Like client_golang's, it reads the exemplar before the
// value, so that an exemplar is never exposed before its add.
func (c *counter) Write(m *dto.Metric) error {
	e := c.exemplar.Load()
	v := c.frac.Load() + float64(uint64(c.whole.Load()))
	m.Label = c.labelPairs
	m.Counter = &dto.Counter{Value: &v, Exemplar: e, CreatedTimestamp: c.created}
	return nil
}

// Describe sends the counter's descriptor: a counter is its own
// Collector, to register on its own.
func (c *counter) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends the counter itself.
func (c *counter) Collect(ch chan<- prometheus.Metric) { ch <- c }
