// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpuprom_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestTestutil checks both implementations with client_golang's testutil:
// CollectAndCompare against the expected exposition, CollectAndLint, and
// ToFloat64.
func TestTestutil(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			c := im.newCounter(prometheus.CounterOpts{
				Namespace:   "app",
				Subsystem:   "jobs",
				Name:        "processed_total",
				Help:        "Jobs processed.",
				ConstLabels: prometheus.Labels{"queue": "default"},
			})
			c.Inc()
			c.Add(2)
			c.Add(0.25)
			const wantCounter = `
# HELP app_jobs_processed_total Jobs processed.
# TYPE app_jobs_processed_total counter
app_jobs_processed_total{queue="default"} 3.25
`
			if err := testutil.CollectAndCompare(c, strings.NewReader(wantCounter)); err != nil {
				t.Error(err)
			}
			if err := testutil.CollectAndCompare(c, strings.NewReader(wantCounter), "app_jobs_processed_total"); err != nil {
				t.Error(err)
			}
			if got := testutil.ToFloat64(c); got != 3.25 {
				t.Errorf("ToFloat64 = %v, want 3.25", got)
			}
			if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) != 0 {
				t.Errorf("CollectAndLint: %v, %v", problems, err)
			}

			v := im.newVec(prometheus.CounterOpts{
				Name: "http_requests_total",
				Help: "HTTP requests by method and code.",
			}, []string{"method", "code"})
			v.WithLabelValues("GET", "200").Add(41)
			v.WithLabelValues("GET", "200").Inc()
			v.With(prometheus.Labels{"method": "POST", "code": "500"}).Add(0.5)
			v.WithLabelValues("GET", "404") // created, left at 0
			const wantVec = `
# HELP http_requests_total HTTP requests by method and code.
# TYPE http_requests_total counter
http_requests_total{code="200",method="GET"} 42
http_requests_total{code="404",method="GET"} 0
http_requests_total{code="500",method="POST"} 0.5
`
			if err := testutil.CollectAndCompare(v, strings.NewReader(wantVec)); err != nil {
				t.Error(err)
			}
			if n := testutil.CollectAndCount(v); n != 3 {
				t.Errorf("CollectAndCount = %d, want 3", n)
			}
			if got := testutil.ToFloat64(v.WithLabelValues("GET", "200")); got != 42 {
				t.Errorf("ToFloat64 = %v, want 42", got)
			}
			if problems, err := testutil.CollectAndLint(v); err != nil || len(problems) != 0 {
				t.Errorf("CollectAndLint: %v, %v", problems, err)
			}

			// A wrong expectation is reported.
			if err := testutil.CollectAndCompare(c, strings.NewReader(strings.Replace(wantCounter, "3.25", "3.5", 1))); err == nil {
				t.Error("CollectAndCompare accepted a wrong value")
			}
		})
	}
}
