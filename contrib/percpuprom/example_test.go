// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpuprom_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/gorseq/gorseq/contrib/percpuprom"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// statusRecorder remembers the status code a handler writes.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// countRequests counts every request by method and status code in
// requests (what promhttp.InstrumentHandlerCounter does for a
// *prometheus.CounterVec).
func countRequests(requests *percpuprom.CounterVec, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		requests.WithLabelValues(r.Method, strconv.Itoa(rec.code)).Inc()
	})
}

// An HTTP server whose request counter is a percpuprom.CounterVec where it
// was a prometheus.CounterVec: only the constructor changes. The requests
// are made through httptest, then /metrics is scraped and the counter's
// lines printed.
func Example() {
	reg := prometheus.NewRegistry()
	requests := percpuprom.NewCounterVec(prometheus.CounterOpts{ // was prometheus.NewCounterVec
		Name: "http_requests_total",
		Help: "HTTP requests by method and status code.",
	}, []string{"method", "code"})
	reg.MustRegister(requests)

	app := http.NewServeMux()
	app.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		fmt.Fprintln(w, "hello")
	})
	mux := http.NewServeMux()
	mux.Handle("/", countRequests(requests, app))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for range 3 {
		resp, err := http.Get(srv.URL + "/hello")
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}
	for _, path := range []string{"/hello", "/missing"} {
		resp, err := http.Post(srv.URL+path, "text/plain", strings.NewReader("x"))
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "http_requests_total") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// # HELP http_requests_total HTTP requests by method and status code.
	// # TYPE http_requests_total counter
	// http_requests_total{code="200",method="GET"} 3
	// http_requests_total{code="404",method="POST"} 1
	// http_requests_total{code="405",method="POST"} 1
}

// Switching a counter: percpuprom.NewCounter takes the same options as
// prometheus.NewCounter and returns a prometheus.Counter.
func ExampleNewCounter() {
	reg := prometheus.NewRegistry()
	jobs := percpuprom.NewCounter(prometheus.CounterOpts{ // was prometheus.NewCounter
		Namespace: "worker",
		Name:      "jobs_total",
		Help:      "Jobs done.",
	})
	reg.MustRegister(jobs)
	jobs.Inc()
	jobs.Add(2)
	jobs.Add(0.5)

	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		fmt.Println(mf.GetName(), mf.GetType(), mf.GetMetric()[0].GetCounter().GetValue())
	}
	// Output:
	// worker_jobs_total COUNTER 3.5
}
