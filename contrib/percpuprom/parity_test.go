// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpuprom_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorseq/gorseq/contrib/percpuprom"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// recovered runs f and returns what it panicked with, or nil.
func recovered(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// panicString formats a panic value for comparison: its type and text.
func panicString(r any) string {
	if r == nil {
		return "<no panic>"
	}
	if err, ok := r.(error); ok {
		return fmt.Sprintf("%T: %s", r, err.Error())
	}
	return fmt.Sprintf("%T: %v", r, r)
}

func write(t *testing.T, m prometheus.Metric) *dto.Metric {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	return write(t, m).GetCounter().GetValue()
}

func TestNegativeAddPanics(t *testing.T) {
	opts := prometheus.CounterOpts{Name: "neg_total", Help: "h"}
	for _, v := range []float64{-1, -0.5, math.Inf(-1), -math.SmallestNonzeroFloat64} {
		want := panicString(recovered(func() { client.newCounter(opts).Add(v) }))
		got := panicString(recovered(func() { ours.newCounter(opts).Add(v) }))
		if got != want || !strings.Contains(got, "counter cannot decrease in value") {
			t.Errorf("Add(%v) panicked with %s, client_golang with %s", v, got, want)
		}
		want = panicString(recovered(func() {
			client.newCounter(opts).(prometheus.ExemplarAdder).AddWithExemplar(v, prometheus.Labels{"a": "b"})
		}))
		got = panicString(recovered(func() {
			ours.newCounter(opts).(prometheus.ExemplarAdder).AddWithExemplar(v, prometheus.Labels{"a": "b"})
		}))
		if got != want {
			t.Errorf("AddWithExemplar(%v) panicked with %s, client_golang with %s", v, got, want)
		}
		wantV := panicString(recovered(func() { client.newVec(opts, []string{"l"}).WithLabelValues("x").Add(v) }))
		gotV := panicString(recovered(func() { ours.newVec(opts, []string{"l"}).WithLabelValues("x").Add(v) }))
		if gotV != wantV {
			t.Errorf("vec Add(%v) panicked with %s, client_golang with %s", v, gotV, wantV)
		}
	}
}

// TestAddSplit adds sequences of amounts, whole and not, large, NaN and
// infinite, to both implementations and compares the values written:
// the whole-number test and the sum in Write are client_golang's.
func TestAddSplit(t *testing.T) {
	seqs := [][]float64{
		{1, 2, 3},
		{0.5, 1, 0.25},
		{-0.0, 0, 1e-300},
		{1 << 53, 1, 1, 0.5},   // whole, above 2^53 in float64 terms
		{1e19, 1e19},           // fits a uint64 each; the uint64 sum wraps
		{1 << 63, 1 << 63, 3},  // wraps to 3
		{math.Ldexp(1, 64), 1}, // 2^64 is not a uint64: float part
		{1e300, 1},             // float part
		{math.Inf(1), 1},       // +Inf
		{math.NaN(), 2},        // NaN
		{math.MaxUint32, math.MaxUint32 + 0.5, 0.75}, // mixed
		{math.Nextafter(1<<64, 0), 1},                // largest float64 below 2^64: whole
	}
	for _, seq := range seqs {
		a, b := client.newCounter(prometheus.CounterOpts{Name: "x"}), ours.newCounter(prometheus.CounterOpts{Name: "x"})
		for _, v := range seq {
			a.Add(v)
			b.Add(v)
		}
		a.Inc()
		b.Inc()
		want, got := value(t, a), value(t, b)
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("adds %v then Inc: got %v, client_golang %v", seq, got, want)
		}
	}
}

func TestDescEqual(t *testing.T) {
	optss := []prometheus.CounterOpts{
		{Name: "plain_total"},
		{Namespace: "ns", Subsystem: "sub", Name: "requests_total", Help: "Requests served."},
		{Namespace: "ns", Name: "bytes_total", Help: "Bytes.", Unit: "bytes", ConstLabels: prometheus.Labels{"zone": "a", "app": "b"}},
		{Name: "utf8.name_total", Help: "UTF-8 name."},
		{Name: ""}, // invalid: empty name
		{Name: "x", ConstLabels: prometheus.Labels{"__reserved": "v"}},     // invalid label name
		{Name: "x", ConstLabels: prometheus.Labels{"l": "\xff"}},           // invalid label value
		{Name: "x", ConstLabels: prometheus.Labels{"method": "v"}},         // duplicate with the vec's label
		{Name: "x", ConstLabels: prometheus.Labels{"a": "1", "b": "\xfe"}}, // invalid second value
	}
	for _, opts := range optss {
		want, got := client.newCounter(opts).Desc(), ours.newCounter(opts).Desc()
		if !reflect.DeepEqual(got, want) || got.String() != want.String() || fmt.Sprint(got.Err()) != fmt.Sprint(want.Err()) {
			t.Errorf("%+v: Desc %v (err %v), client_golang %v (err %v)", opts, got, got.Err(), want, want.Err())
		}
		labels := []string{"method", "code"}
		wantV, gotV := describe(client.newVec(opts, labels)), describe(ours.newVec(opts, labels))
		if !reflect.DeepEqual(gotV, wantV) || gotV.String() != wantV.String() || fmt.Sprint(gotV.Err()) != fmt.Sprint(wantV.Err()) {
			t.Errorf("%+v: CounterVec Desc %v (err %v), client_golang %v (err %v)", opts, gotV, gotV.Err(), wantV, wantV.Err())
		}
		// Registration errors are the same.
		errA := prometheus.NewRegistry().Register(client.newCounter(opts))
		errB := prometheus.NewRegistry().Register(ours.newCounter(opts))
		if fmt.Sprint(errA) != fmt.Sprint(errB) {
			t.Errorf("%+v: Register: %v, client_golang %v", opts, errB, errA)
		}
	}
	// An invalid variable label name.
	wantV := describe(client.newVec(prometheus.CounterOpts{Name: "x"}, []string{"__bad"}))
	gotV := describe(ours.newVec(prometheus.CounterOpts{Name: "x"}, []string{"__bad"}))
	if !reflect.DeepEqual(gotV, wantV) || fmt.Sprint(gotV.Err()) != fmt.Sprint(wantV.Err()) {
		t.Errorf("invalid variable label: Desc err %v, client_golang %v", gotV.Err(), wantV.Err())
	}
}

func describe(c prometheus.Collector) *prometheus.Desc {
	ch := make(chan *prometheus.Desc, 2)
	c.Describe(ch)
	close(ch)
	return <-ch
}

// TestVecErrors compares the errors and panics of both CounterVecs for
// bad label values and names.
func TestVecErrors(t *testing.T) {
	opts := prometheus.CounterOpts{Name: "http_requests_total", Help: "h", ConstLabels: prometheus.Labels{"app": "x"}}
	labels := []string{"method", "code"}
	type call struct {
		name string
		f    func(im impl, v vec) (any, error)
	}
	calls := []call{
		{"too few values", func(_ impl, v vec) (any, error) { return v.GetMetricWithLabelValues("GET") }},
		{"too many values", func(_ impl, v vec) (any, error) { return v.GetMetricWithLabelValues("GET", "200", "x") }},
		{"no values", func(_ impl, v vec) (any, error) { return v.GetMetricWithLabelValues() }},
		{"invalid UTF-8 value", func(_ impl, v vec) (any, error) { return v.GetMetricWithLabelValues("GET", "\xff") }},
		{"With unknown name", func(_ impl, v vec) (any, error) {
			return v.GetMetricWith(prometheus.Labels{"method": "GET", "status": "200"})
		}},
		{"With missing name", func(_ impl, v vec) (any, error) { return v.GetMetricWith(prometheus.Labels{"method": "GET"}) }},
		{"With extra name", func(_ impl, v vec) (any, error) {
			return v.GetMetricWith(prometheus.Labels{"method": "GET", "code": "200", "x": "y"})
		}},
		{"With invalid UTF-8", func(_ impl, v vec) (any, error) {
			return v.GetMetricWith(prometheus.Labels{"method": "GET", "code": "\xfe"})
		}},
		{"With const label", func(_ impl, v vec) (any, error) {
			return v.GetMetricWith(prometheus.Labels{"method": "GET", "app": "x"})
		}},
		{"curry unknown", func(im impl, v vec) (any, error) { return im.curry(v, prometheus.Labels{"nope": "1"}) }},
		{"curried, then too few values", func(im impl, v vec) (any, error) {
			cv, err := im.curry(v, prometheus.Labels{"code": "200"})
			if err != nil {
				return nil, err
			}
			return cv.GetMetricWithLabelValues()
		}},
		{"curried, then the curried label in With", func(im impl, v vec) (any, error) {
			cv, err := im.curry(v, prometheus.Labels{"code": "200"})
			if err != nil {
				return nil, err
			}
			return cv.GetMetricWith(prometheus.Labels{"method": "GET", "code": "200"})
		}},
	}
	for _, c := range calls {
		var results [2]string
		for i, im := range impls {
			_, err := c.f(im, im.newVec(opts, labels))
			results[i] = fmt.Sprint(err)
			if err == nil {
				t.Errorf("%s: %s: no error", c.name, im.name)
			}
		}
		if results[0] != results[1] {
			t.Errorf("%s: error %q, client_golang %q", c.name, results[1], results[0])
		}
		t.Logf("%s: %s", c.name, results[1])
	}

	// The panicking forms panic with the same errors.
	panics := []struct {
		name string
		f    func(v vec)
	}{
		{"WithLabelValues count", func(v vec) { v.WithLabelValues("GET") }},
		{"WithLabelValues UTF-8", func(v vec) { v.WithLabelValues("\xff", "200") }},
		{"With unknown", func(v vec) { v.With(prometheus.Labels{"method": "GET", "status": "200"}) }},
		{"With count", func(v vec) { v.With(prometheus.Labels{"method": "GET"}) }},
		{"With UTF-8", func(v vec) { v.With(prometheus.Labels{"method": "GET", "code": "\xff"}) }},
	}
	for _, p := range panics {
		want := panicString(recovered(func() { p.f(client.newVec(opts, labels)) }))
		got := panicString(recovered(func() { p.f(ours.newVec(opts, labels)) }))
		if got != want || got == "<no panic>" {
			t.Errorf("%s: panicked with %s, client_golang with %s", p.name, got, want)
		}
	}

	// MustCurryWith panics as client_golang's does.
	want := panicString(recovered(func() { prometheus.NewCounterVec(opts, labels).MustCurryWith(prometheus.Labels{"x": "1"}) }))
	got := panicString(recovered(func() { percpuprom.NewCounterVec(opts, labels).MustCurryWith(prometheus.Labels{"x": "1"}) }))
	if got != want || got == "<no panic>" {
		t.Errorf("MustCurryWith: panicked with %s, client_golang with %s", got, want)
	}
	// Currying twice with the same label.
	want = fmt.Sprint(second(prometheus.NewCounterVec(opts, labels).MustCurryWith(prometheus.Labels{"code": "1"}).CurryWith(prometheus.Labels{"code": "2"})))
	got = fmt.Sprint(second(percpuprom.NewCounterVec(opts, labels).MustCurryWith(prometheus.Labels{"code": "1"}).CurryWith(prometheus.Labels{"code": "2"})))
	if got != want || got == "<nil>" {
		t.Errorf("curry twice: %s, client_golang %s", got, want)
	}
}

func second[T any](_ T, err error) error { return err }

// vecState is what a vec exposes: its series and their values.
func vecState(t *testing.T, v vec) string {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	v.Collect(ch)
	close(ch)
	var lines []string
	for m := range ch {
		out := write(t, m)
		var ls []string
		for _, l := range out.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		lines = append(lines, fmt.Sprintf("{%s} %v", strings.Join(ls, ","), out.GetCounter().GetValue()))
	}
	// Collect's order is the map's: sort.
	sortStrings(lines)
	return strings.Join(lines, "\n")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestDeleteReset runs the same Delete, DeleteLabelValues,
// DeletePartialMatch, Reset and currying script on both CounterVecs and
// compares results and exposed state at every step.
func TestDeleteReset(t *testing.T) {
	opts := prometheus.CounterOpts{Name: "ops_total", Help: "h"}
	labels := []string{"method", "code"}
	var logs [2][]string
	for i, im := range impls {
		v := im.newVec(opts, labels)
		log := func(format string, args ...any) {
			logs[i] = append(logs[i], fmt.Sprintf(format, args...)+"\n"+vecState(t, v))
		}
		v.WithLabelValues("GET", "200").Add(3)
		v.WithLabelValues("GET", "500").Inc()
		v.With(prometheus.Labels{"method": "POST", "code": "200"}).Add(0.5)
		kept := v.WithLabelValues("PUT", "201")
		kept.Add(2)
		log("start")
		log("DeleteLabelValues GET 500: %v", v.DeleteLabelValues("GET", "500"))
		log("DeleteLabelValues GET 500 again: %v", v.DeleteLabelValues("GET", "500"))
		log("DeleteLabelValues wrong count: %v", v.DeleteLabelValues("GET"))
		log("Delete POST 200: %v", v.Delete(prometheus.Labels{"method": "POST", "code": "200"}))
		log("Delete unknown name: %v", v.Delete(prometheus.Labels{"method": "POST", "status": "200"}))
		log("Delete PUT 201: %v", v.Delete(prometheus.Labels{"method": "PUT", "code": "201"}))
		// A kept Counter of a deleted series counts on, unexposed; the
		// series looked up again starts at 0.
		kept.Inc()
		v.WithLabelValues("PUT", "201").Inc()
		log("after re-create PUT 201 (kept: %v)", value(t, kept))
		v.WithLabelValues("GET", "404").Add(7)
		v.WithLabelValues("HEAD", "404").Add(1)
		log("DeletePartialMatch code=404: %v", v.DeletePartialMatch(prometheus.Labels{"code": "404"}))
		cv, err := im.curry(v, prometheus.Labels{"method": "DELETE"})
		if err != nil {
			t.Fatal(err)
		}
		cv.WithLabelValues("204").Add(4)
		cv.With(prometheus.Labels{"code": "410"}).Inc()
		log("curried adds")
		log("curried DeleteLabelValues 410: %v", cv.DeleteLabelValues("410"))
		cv.Reset() // Reset of a curried vec resets all
		log("curried Reset")
		v.WithLabelValues("GET", "200").Inc()
		v.Reset()
		log("Reset")
		v.WithLabelValues("GET", "200").Inc()
		log("after Reset")
	}
	if a, b := strings.Join(logs[0], "\n--\n"), strings.Join(logs[1], "\n--\n"); a != b {
		t.Errorf("percpuprom:\n%s\n\nclient_golang:\n%s", b, a)
	}
}

// TestCreatedTimestamp checks that the created timestamp is set at
// construction (at first lookup for a CounterVec's Counters), and stays.
func TestCreatedTimestamp(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			before := time.Now()
			c := im.newCounter(prometheus.CounterOpts{Name: "c_total"})
			after := time.Now()
			v := im.newVec(prometheus.CounterOpts{Name: "v_total"}, []string{"l"})
			time.Sleep(2 * time.Millisecond)
			beforeVec := time.Now()
			vc := v.WithLabelValues("a")
			afterVec := time.Now()
			check := func(what string, m prometheus.Metric, lo, hi time.Time) {
				t.Helper()
				ct := write(t, m).GetCounter().GetCreatedTimestamp()
				if ct == nil {
					t.Fatalf("%s: no created timestamp", what)
				}
				if got := ct.AsTime(); got.Before(lo.Truncate(time.Nanosecond)) || got.After(hi) {
					t.Errorf("%s: created %v, not within [%v, %v]", what, got, lo, hi)
				}
			}
			check("counter", c, before, after)
			check("vec counter", vc, beforeVec, afterVec)
			c.Add(1)
			time.Sleep(time.Millisecond)
			check("counter after Add", c, before, after)
			if a, b := write(t, c).GetCounter().GetCreatedTimestamp(), write(t, c).GetCounter().GetCreatedTimestamp(); a.AsTime() != b.AsTime() {
				t.Errorf("created timestamp changed: %v, %v", a.AsTime(), b.AsTime())
			}
		})
	}
}

// TestExemplar checks AddWithExemplar against client_golang's: the value,
// the exemplar written, nil and empty labels, and the errors of bad
// labels.
func TestExemplar(t *testing.T) {
	opts := prometheus.CounterOpts{Name: "ex_total"}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			c := im.newCounter(opts)
			ea := c.(prometheus.ExemplarAdder)
			if e := write(t, c).GetCounter().GetExemplar(); e != nil {
				t.Fatalf("exemplar before any: %v", e)
			}
			before := time.Now()
			ea.AddWithExemplar(1.5, prometheus.Labels{"trace_id": "abc", "span": "1"})
			after := time.Now()
			m := write(t, c)
			e := m.GetCounter().GetExemplar()
			if m.GetCounter().GetValue() != 1.5 || e.GetValue() != 1.5 {
				t.Fatalf("value %v, exemplar %v", m.GetCounter().GetValue(), e)
			}
			got := map[string]string{}
			for _, l := range e.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if !reflect.DeepEqual(got, map[string]string{"trace_id": "abc", "span": "1"}) {
				t.Errorf("exemplar labels %v", got)
			}
			if ts := e.GetTimestamp().AsTime(); ts.Before(before) || ts.After(after) {
				t.Errorf("exemplar timestamp %v not within [%v, %v]", ts, before, after)
			}
			// nil labels: the value is added, the exemplar stays.
			ea.AddWithExemplar(2, nil)
			if m := write(t, c); m.GetCounter().GetValue() != 3.5 || m.GetCounter().GetExemplar().GetValue() != 1.5 {
				t.Errorf("after nil labels: %v", m)
			}
			// Empty labels: an exemplar without labels.
			ea.AddWithExemplar(3, prometheus.Labels{})
			if m := write(t, c); m.GetCounter().GetValue() != 6.5 || m.GetCounter().GetExemplar().GetValue() != 3 || len(m.GetCounter().GetExemplar().GetLabel()) != 0 {
				t.Errorf("after empty labels: %v", m)
			}
		})
	}
	bad := []prometheus.Labels{
		{"__reserved": "x"},
		{"": "x"},
		{"in\xffvalid": "x"},
		{"ok": "\xff"},
		{"utf8.name": "ünïcödé"}, // valid
		{"long": strings.Repeat("x", 124)},
		{"long": strings.Repeat("x", 125)},
		{"long": strings.Repeat("é", 125)},
	}
	for _, l := range bad {
		var results [2]string
		var values [2]float64
		for i, im := range impls {
			c := im.newCounter(opts)
			results[i] = panicString(recovered(func() { c.(prometheus.ExemplarAdder).AddWithExemplar(1, l) }))
			values[i] = value(t, c)
		}
		if results[0] != results[1] || values[0] != values[1] {
			t.Errorf("labels %q: panicked with %s (value %v), client_golang with %s (value %v)", l, results[1], values[1], results[0], values[0])
		}
	}
}

// TestV2ConstrainedLabels checks V2.NewCounterVec against
// prometheus.V2.NewCounterVec with a label constraint.
func TestV2ConstrainedLabels(t *testing.T) {
	opts := prometheus.CounterVecOpts{
		CounterOpts: prometheus.CounterOpts{Name: "constrained_total", Help: "h"},
		VariableLabels: prometheus.ConstrainedLabels{
			{Name: "method", Constraint: strings.ToUpper},
			{Name: "code"},
		},
	}
	var states [2]string
	for i, v := range []vec{prometheus.V2.NewCounterVec(opts), percpuprom.V2.NewCounterVec(opts)} {
		v.WithLabelValues("get", "200").Inc()
		v.WithLabelValues("GET", "200").Add(2)
		v.With(prometheus.Labels{"method": "Post", "code": "500"}).Add(0.5)
		deleted := v.DeleteLabelValues("post", "500")
		states[i] = fmt.Sprintf("%s\ndeleted %v\n%s", vecState(t, v), deleted, describe(v))
	}
	if states[0] != states[1] {
		t.Errorf("percpuprom:\n%s\nclient_golang:\n%s", states[1], states[0])
	}
	if !strings.Contains(states[1], `{code=200,method=GET} 3`) {
		t.Errorf("constraint not applied:\n%s", states[1])
	}
}
