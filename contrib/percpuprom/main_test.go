// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpuprom_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/gorseq/gorseq/contrib/percpuprom"
	"github.com/gorseq/gorseq/percpu"
	"github.com/prometheus/client_golang/prometheus"
)

// TestMain prints percpu's mode when benchmarks run, as a benchstat
// configuration line ("percpu-mode: rseq (glibc)").
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		fmt.Printf("percpu-mode: %v\n", percpu.Status().Mode)
	}
	os.Exit(m.Run())
}

// TestExpectedMode checks percpu's mode against GORSEQ_EXPECT, as
// percpu's own tests do: "rseq" (either rseq mode), "own", "glibc" or
// "fallback". Without it, the mode is only logged.
func TestExpectedMode(t *testing.T) {
	st := percpu.Status()
	t.Logf("percpu mode: %v %s", st.Mode, st.Reason)
	ok := true
	switch want := os.Getenv("GORSEQ_EXPECT"); want {
	case "":
	case "rseq":
		ok = st.Mode.Rseq()
	case "own":
		ok = st.Mode == percpu.ModeRseqOwn
	case "glibc":
		ok = st.Mode == percpu.ModeRseqGlibc
	case "fallback":
		ok = st.Mode == percpu.ModeFallback
	default:
		t.Fatalf("GORSEQ_EXPECT=%q: want rseq, own, glibc or fallback", want)
	}
	if !ok {
		t.Fatalf("GORSEQ_EXPECT=%s, but the mode is %v (%s)", os.Getenv("GORSEQ_EXPECT"), st.Mode, st.Reason)
	}
}

// vec is what the tests use of a CounterVec, client_golang's or ours.
type vec interface {
	prometheus.Collector
	GetMetricWithLabelValues(lvs ...string) (prometheus.Counter, error)
	GetMetricWith(labels prometheus.Labels) (prometheus.Counter, error)
	WithLabelValues(lvs ...string) prometheus.Counter
	With(labels prometheus.Labels) prometheus.Counter
	DeleteLabelValues(lvs ...string) bool
	Delete(labels prometheus.Labels) bool
	DeletePartialMatch(labels prometheus.Labels) int
	Reset()
}

// impl is a pair of constructors: client_golang's or percpuprom's.
type impl struct {
	name       string
	newCounter func(prometheus.CounterOpts) prometheus.Counter
	newVec     func(prometheus.CounterOpts, []string) vec
	curry      func(v vec, l prometheus.Labels) (vec, error)
}

var (
	client = impl{
		name:       "client_golang",
		newCounter: prometheus.NewCounter,
		newVec: func(o prometheus.CounterOpts, l []string) vec {
			return prometheus.NewCounterVec(o, l)
		},
		curry: func(v vec, l prometheus.Labels) (vec, error) {
			c, err := v.(*prometheus.CounterVec).CurryWith(l)
			if c == nil {
				return nil, err
			}
			return c, err
		},
	}
	ours = impl{
		name:       "percpuprom",
		newCounter: percpuprom.NewCounter,
		newVec: func(o prometheus.CounterOpts, l []string) vec {
			return percpuprom.NewCounterVec(o, l)
		},
		curry: func(v vec, l prometheus.Labels) (vec, error) {
			c, err := v.(*percpuprom.CounterVec).CurryWith(l)
			if c == nil {
				return nil, err
			}
			return c, err
		},
	}
	impls = []impl{client, ours}
)
