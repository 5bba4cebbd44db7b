// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpuprom_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/sys/unix"
)

// formats are the exposition formats the scrape test asks for.
var formats = []struct {
	name   string
	accept expfmt.Format
}{
	{"text", expfmt.FmtText},
	{"protobuf", expfmt.FmtProtoDelim},
	{"openmetrics", expfmt.FmtOpenMetrics_1_0_0},
}

// series is one scraped sample.
type series struct {
	value    float64
	created  *time.Time    // nil where the format has none (text)
	exemplar *dto.Exemplar // nil where the format has none (text)
}

// scrape GETs url with the given Accept header and parses the response
// with expfmt: family name + labels ({a="b",c="d"}) -> sample.
func scrape(url string, accept expfmt.Format) (map[string]series, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", string(accept))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("status %s: %s", resp.Status, b)
	}
	format := expfmt.ResponseFormat(resp.Header)
	if format.FormatType() != accept.FormatType() {
		return nil, fmt.Errorf("asked for %s, got %s", accept, format)
	}
	dec := expfmt.NewDecoder(resp.Body, format)
	out := map[string]series{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", format, err)
		}
		if mf.GetType() != dto.MetricType_COUNTER {
			return nil, fmt.Errorf("%s: family %s has type %v", format, mf.GetName(), mf.GetType())
		}
		// OpenMetrics names the family without _total.
		name := strings.TrimSuffix(mf.GetName(), "_total") + "_total"
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			sort.Strings(ls)
			s := series{value: m.GetCounter().GetValue(), exemplar: m.GetCounter().GetExemplar()}
			if ct := m.GetCounter().GetCreatedTimestamp(); ct != nil {
				t := ct.AsTime()
				s.created = &t
			}
			out[name+"{"+strings.Join(ls, ",")+"}"] = s
		}
	}
	return out, nil
}

// TestScrapeStress adds to counters and a CounterVec from many
// goroutines (a third locked to their threads) while GOMAXPROCS changes,
// the collector runs, SIGURG hits the adders' threads and the registry is
// scraped over HTTP, then scrapes it in the text, protobuf and
// OpenMetrics formats and compares every series exactly with what was
// added. The amounts are integers and multiples of 0.25, so every sum is
// exact in float64 whatever the order and grouping. The same test runs
// on client_golang's own counters, as a check of the test.
func TestScrapeStress(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) { scrapeStress(t, im) })
	}
}

func scrapeStress(t *testing.T, im impl) {
	// Each worker adds at least iters times, and on until every stressor
	// has run its minimum number of rounds (or limit has passed).
	workers, iters, rounds, limit := 12, 30000, int64(20), 20*time.Second
	if testing.Short() {
		workers, iters, rounds, limit = 6, 3000, 8, 5*time.Second
	}
	start := time.Now()
	var nprocs, ngc, nsig, nscrape atomic.Int64
	enough := func() bool {
		return nprocs.Load() >= rounds && ngc.Load() >= rounds && nscrape.Load() >= rounds ||
			time.Since(start) > limit
	}
	reg := prometheus.NewPedanticRegistry()
	inc := im.newCounter(prometheus.CounterOpts{Name: "stress_inc_total", Help: "Inc."})
	whole := im.newCounter(prometheus.CounterOpts{Name: "stress_whole_total", Help: "Whole Adds."})
	frac := im.newCounter(prometheus.CounterOpts{Name: "stress_frac_total", Help: "Fractional Adds.", ConstLabels: prometheus.Labels{"k": "v"}})
	mixed := im.newCounter(prometheus.CounterOpts{Namespace: "stress", Name: "mixed_total", Help: "Inc, whole and fractional Adds."})
	reqs := im.newVec(prometheus.CounterOpts{Name: "stress_requests_total", Help: "By method and code."}, []string{"method", "code"})
	reg.MustRegister(inc, whole, frac, mixed, reqs)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		EnableOpenMetrics:                   true,
		EnableOpenMetricsTextCreatedSamples: true,
	}))
	defer srv.Close()

	methods := []string{"GET", "POST", "PUT"}
	codes := []string{"200", "404", "500"}
	type label struct{ method, code string }
	key := func(l label) string { return fmt.Sprintf("stress_requests_total{code=%q,method=%q}", l.code, l.method) }

	// Each worker sums what it adds; the sums are exact.
	type sums struct {
		inc, whole, frac, mixed float64
		reqs                    map[label]float64
	}
	results := make([]sums, workers)
	tids := make(chan int, workers)
	var wg sync.WaitGroup
	release := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w%3 == 0 {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				tids <- unix.Gettid()
			}
			<-release
			s := sums{reqs: map[label]float64{}}
			// Half the workers keep their vec Counters, half look them
			// up on every add.
			cached := map[label]prometheus.Counter{}
			for i := 0; i < iters || i%256 != 0 || !enough(); i++ {
				if i%128 == 0 {
					// Let the stressors and the scrapes' goroutines in
					// (and move between Ps and threads).
					runtime.Gosched()
				}
				inc.Inc()
				s.inc++
				d := float64(1 + (i+w)%5)
				whole.Add(d)
				s.whole += d
				f := 0.25 * float64(1+(i*7+w)%6) // 0.25 .. 1.5, 1 is whole
				frac.Add(f)
				s.frac += f
				switch i % 3 {
				case 0:
					mixed.Inc()
					s.mixed++
				case 1:
					mixed.Add(3)
					s.mixed += 3
				case 2:
					mixed.Add(0.5)
					s.mixed += 0.5
				}
				l := label{methods[(i+w)%len(methods)], codes[(i/3)%len(codes)]}
				var c prometheus.Counter
				switch {
				case w%2 == 0:
					if c = cached[l]; c == nil {
						c = reqs.WithLabelValues(l.method, l.code)
						cached[l] = c
					}
				case i%2 == 0:
					c = reqs.WithLabelValues(l.method, l.code)
				default:
					c = reqs.With(prometheus.Labels{"method": l.method, "code": l.code})
				}
				if i%4 == 0 {
					c.Add(0.75)
					s.reqs[l] += 0.75
				} else {
					c.Inc()
					s.reqs[l]++
				}
			}
			results[w] = s
		}()
	}
	var locked []int
	for range (workers + 2) / 3 {
		locked = append(locked, <-tids)
	}

	stop := make(chan struct{})
	var stressors sync.WaitGroup
	stressor := func(f func()) {
		stressors.Add(1)
		go func() {
			defer stressors.Done()
			for {
				select {
				case <-stop:
					return
				default:
					f()
				}
			}
		}()
	}
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	stressor(func() {
		runtime.GOMAXPROCS(1 + int(nprocs.Add(1))%4)
		time.Sleep(200 * time.Microsecond)
	})
	stressor(func() {
		runtime.GC()
		ngc.Add(1)
		time.Sleep(time.Millisecond)
	})
	pid := os.Getpid()
	stressor(func() {
		// The locked adders' threads, and every thread of the process.
		all := append([]int(nil), locked...)
		if ents, err := os.ReadDir("/proc/self/task"); err == nil {
			for _, e := range ents {
				if tid, err := strconv.Atoi(e.Name()); err == nil {
					all = append(all, tid)
				}
			}
		}
		for range 4 {
			for _, tid := range all {
				if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
					nsig.Add(1)
				}
			}
			for _, tid := range locked {
				if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
					nsig.Add(1)
				}
			}
		}
		time.Sleep(50 * time.Microsecond)
	})
	// Scrapes while adding: every series only grows.
	var scrapeErr atomic.Pointer[error]
	last := map[string]float64{}
	stressor(func() {
		got, err := scrape(srv.URL, formats[int(nscrape.Add(1))%len(formats)].accept)
		if err == nil {
			for k, s := range got {
				if s.value < last[k] {
					err = fmt.Errorf("%s went down from %v to %v", k, last[k], s.value)
				}
				last[k] = s.value
			}
		}
		if err != nil {
			scrapeErr.CompareAndSwap(nil, &err)
		}
		time.Sleep(2 * time.Millisecond)
	})

	close(release)
	wg.Wait()
	close(stop)
	stressors.Wait()
	runtime.GOMAXPROCS(procs)
	if p := scrapeErr.Load(); p != nil {
		t.Errorf("scrape while adding: %v", *p)
	}
	t.Logf("%d workers x at least %d iterations in %v: %d GOMAXPROCS changes, %d GCs, %d SIGURGs, %d scrapes",
		workers, iters, time.Since(start).Round(time.Millisecond), nprocs.Load(), ngc.Load(), nsig.Load(), nscrape.Load())
	if nprocs.Load() == 0 || ngc.Load() == 0 || nsig.Load() == 0 || nscrape.Load() == 0 {
		t.Errorf("a stressor did not run")
	}
	var total float64
	for _, s := range results {
		total += s.inc
	}
	t.Logf("%v iterations", total)

	want := map[string]float64{}
	for _, s := range results {
		want["stress_inc_total{}"] += s.inc
		want["stress_whole_total{}"] += s.whole
		want[`stress_frac_total{k="v"}`] += s.frac
		want["stress_mixed_total{}"] += s.mixed
		for l, v := range s.reqs {
			want[key(l)] += v
		}
	}
	if len(want) != 4+len(methods)*len(codes) {
		t.Fatalf("the workload covers %d series", len(want))
	}
	end := time.Now()
	for _, f := range formats {
		got, err := scrape(srv.URL, f.accept)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for k, v := range want {
			s, ok := got[k]
			switch {
			case !ok:
				t.Errorf("%s: %s missing", f.name, k)
			case s.value != v:
				t.Errorf("%s: %s = %v, added %v", f.name, k, s.value, v)
			}
			if f.name == "text" {
				continue
			}
			// The created timestamp: from the counter's construction (or
			// the vec's first lookup), within the test. OpenMetrics has
			// it in milliseconds.
			if s.created == nil {
				t.Errorf("%s: %s has no created timestamp", f.name, k)
			} else if ct := *s.created; ct.Before(start.Truncate(time.Millisecond)) || ct.After(end) {
				t.Errorf("%s: %s created %v, not within the test [%v, %v]", f.name, k, ct, start, end)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: unexpected series %s", f.name, k)
			}
		}
	}
}

// TestScrapeExemplarCreated scrapes a counter with an exemplar in the
// protobuf and OpenMetrics formats and checks the exemplar and the
// created timestamp against what the counter wrote.
func TestScrapeExemplarCreated(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			c := im.newCounter(prometheus.CounterOpts{Name: "ex_total", Help: "h"})
			reg.MustRegister(c)
			c.Inc()
			c.(prometheus.ExemplarAdder).AddWithExemplar(2.5, prometheus.Labels{"trace_id": "t1"})
			written := write(t, c).GetCounter()
			srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{
				EnableOpenMetrics:                   true,
				EnableOpenMetricsTextCreatedSamples: true,
			}))
			defer srv.Close()
			for _, f := range formats[1:] {
				got, err := scrape(srv.URL, f.accept)
				if err != nil {
					t.Fatalf("%s: %v", f.name, err)
				}
				s := got["ex_total{}"]
				if s.value != 3.5 {
					t.Errorf("%s: value %v, want 3.5", f.name, s.value)
				}
				e := s.exemplar
				if e.GetValue() != 2.5 || len(e.GetLabel()) != 1 || e.GetLabel()[0].GetName() != "trace_id" || e.GetLabel()[0].GetValue() != "t1" {
					t.Errorf("%s: exemplar %v", f.name, e)
				}
				// OpenMetrics has timestamps in milliseconds.
				prec := time.Nanosecond
				if f.name == "openmetrics" {
					prec = time.Millisecond
				}
				if want := written.GetExemplar().GetTimestamp().AsTime(); e.GetTimestamp().AsTime().Sub(want).Abs() >= prec {
					t.Errorf("%s: exemplar timestamp %v, written %v", f.name, e.GetTimestamp().AsTime(), want)
				}
				if want := written.GetCreatedTimestamp().AsTime(); s.created == nil || s.created.Sub(want).Abs() >= prec {
					t.Errorf("%s: created %v, written %v", f.name, s.created, want)
				}
			}
		})
	}
}
