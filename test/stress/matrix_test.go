// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && (amd64 || arm64)

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorseq/gorseq/internal/childtest"
)

// The matrix runner: the command, built with -tags gorseq_inject by the
// patched toolchain (with and without cgo), run as child processes over
// every scenario x every injection point x every injection kind.
//
// Settings (environment):
//
//	GORSEQ_GO                 the patched go (default <module>/_toolchain/goroot/bin/go)
//	GORSEQ_STRESS_LONG=1      the soak matrix: more kinds, longer runs (see doc.go)
//	GORSEQ_STRESS_DURATION    the -d of every run (default 1s; 20s long)
//	GORSEQ_STRESS_PARALLEL    children at a time (default 2)
//	GORSEQ_STRESS_ROUNDS      times to walk the matrix (default 1)
//	GORSEQ_STRESS_RUN         a regexp: only the combinations whose name matches
//	GORSEQ_STRESS_SUMMARY     also write the summary to this file
//
// -short walks a small slice of the matrix: one kind per scenario and
// point, in turn among the kinds GORSEQ_STRESS_RUN lets through.
//
// The command is built here, or prebuilt for a guest without a Go
// toolchain (GORSEQ_PREBUILD_OUT, GORSEQ_CHILD_GOARCH, GORSEQ_CHILDREN: see
// internal/childtest).

// A kind is a way to inject trouble, applied at every injection point.
type kind struct {
	name  string
	args  []string
	cgo   bool     // run the cgo build
	env   []string // extra environment
	check func(r *childRun)
	long  bool // only in the soak matrix
}

// delayLoops is the delay at the injection point under test: long
// enough that the kernel's preemptions and the signals land inside the
// section often.
const delayLoops = 2000

// companionLoops is the delay added at point 3 when point 1 is under
// test: point 1 is outside the section (right before it is armed, on
// every try), so a delay there causes no aborts by itself; a short delay
// inside makes aborts happen, and every retry then goes through point 1.
const companionLoops = 300

func kinds() []kind {
	wantKV := func(k string) func(r *childRun) {
		return func(r *childRun) {
			if r.num(k) <= 0 {
				r.errorf("%s=%d, want > 0", k, r.num(k))
			}
		}
	}
	all := func(fs ...func(r *childRun)) func(r *childRun) {
		return func(r *childRun) {
			for _, f := range fs {
				f(r)
			}
		}
	}
	mixed := all(wantKV("rseq_disabled_threads"), wantKV("fallback_steps"))
	goStressors := all(wantKV("preempt_spin_rounds"), wantKV("gcs"), wantKV("gomaxprocs_changes"), wantKV("affinity_pins"),
		func(r *childRun) {
			if r.num("thread_incarnations") <= r.num("threads") {
				r.errorf("thread_incarnations=%d: no thread exited and was replaced", r.num("thread_incarnations"))
			}
			if r.num("affinity_errors") != 0 {
				r.errorf("affinity_errors=%d", r.num("affinity_errors"))
			}
		})
	cgo := func(mode string) func(r *childRun) {
		return all(wantKV("cgo_steps"), func(r *childRun) {
			if r.kv["mode"] != mode {
				r.errorf("mode=%q, want %q", r.kv["mode"], mode)
			}
		})
	}
	return []kind{
		{name: "delay"},
		{name: "yield", args: []string{"-m", "50", "-y"}},
		{name: "signal", args: []string{"-m", "20", "-k"}, check: wantKV("signals_received")},
		{name: "sleep", args: []string{"-m", "2000", "-s", "1"}},
		{name: "mixed", args: []string{"-M", "3"}, check: mixed},
		{name: "go", args: []string{"-go-stressors"}, check: goStressors},
		{name: "cgo-glibc", args: []string{"-cgo", "4"}, cgo: true, check: cgo("rseq (glibc)")},
		{name: "cgo-noglibc", args: []string{"-cgo", "4"}, cgo: true, env: []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0"}, check: cgo("rseq (own)")},

		// The soak matrix adds each Go stressor alone, other signals,
		// other delays and thread counts, and combinations.
		{name: "preempt", args: []string{"-preempt"}, check: wantKV("preempt_spin_rounds"), long: true},
		{name: "profile", args: []string{"-profile"}, long: true},
		{name: "gc", args: []string{"-gc"}, check: wantKV("gcs"), long: true},
		{name: "procs", args: []string{"-procs"}, check: wantKV("gomaxprocs_changes"), long: true},
		{name: "thread-exit", args: []string{"-thread-exit"}, long: true},
		{name: "affinity", args: []string{"-affinity"}, check: wantKV("affinity_pins"), long: true},
		{name: "signal-urg", args: []string{"-m", "20", "-k", "-sig", "urg"}, long: true},
		{name: "mixed-go", args: []string{"-M", "2", "-go-stressors"}, check: mixed, long: true},
		{name: "mixed-cgo", args: []string{"-M", "3", "-cgo", "4", "-thread-exit"}, cgo: true, check: mixed, long: true},
		{name: "cgo-go-noglibc", args: []string{"-cgo", "4", "-go-stressors"}, cgo: true, env: []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0"}, check: goStressors, long: true},
		{name: "short-delay", args: []string{"-loops", "100"}, long: true},
		{name: "long-delay", args: []string{"-loops", "30000"}, long: true},
		{name: "few-threads", args: []string{"-t", "2", "-P", "0"}, long: true},
		{name: "many-threads", args: []string{"-t", fmt.Sprint(24 * runtime.NumCPU())}, long: true},
		{name: "gomaxprocs-default", args: []string{"-P", "0", "-m", "50", "-k", "-sig", "urg"}, long: true},
	}
}

// A combination is one child run.
type combination struct {
	scenario string
	point    int
	kind     kind
}

func (c combination) name() string { return fmt.Sprintf("%s/p%d/%s", c.scenario, c.point, c.kind.name) }

// args returns the command line of c, with the delay at its point.
func (c combination) args(d time.Duration, seed int) []string {
	loops := delayLoops
	var rest []string
	for i := 0; i < len(c.kind.args); i++ {
		if c.kind.args[i] == "-loops" { // the kind's own delay
			loops, _ = strconv.Atoi(c.kind.args[i+1])
			i++
			continue
		}
		rest = append(rest, c.kind.args[i])
	}
	args := []string{"-T", c.scenario, "-d", d.String(), "-min-aborts", "20", "-max-time", "30s",
		"-seed", fmt.Sprint(seed), fmt.Sprintf("-%d", c.point), fmt.Sprint(loops)}
	if c.point == 1 {
		args = append(args, "-3", fmt.Sprint(companionLoops))
	}
	return append(args, rest...)
}

type settings struct {
	long     bool
	duration time.Duration
	parallel int
	rounds   int
	filter   *regexp.Regexp
	summary  string
}

func matrixSettings(t *testing.T) settings {
	s := settings{long: os.Getenv("GORSEQ_STRESS_LONG") == "1", duration: time.Second, parallel: 2, rounds: 1}
	if s.long {
		s.duration = 20 * time.Second
	}
	if v := os.Getenv("GORSEQ_STRESS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("GORSEQ_STRESS_DURATION=%q: want a positive duration", v)
		}
		s.duration = d
	}
	atoi := func(k string, p *int) {
		if v := os.Getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want a positive number", k, v)
			}
			*p = n
		}
	}
	atoi("GORSEQ_STRESS_PARALLEL", &s.parallel)
	atoi("GORSEQ_STRESS_ROUNDS", &s.rounds)
	if v := os.Getenv("GORSEQ_STRESS_RUN"); v != "" {
		re, err := regexp.Compile(v)
		if err != nil {
			t.Fatalf("GORSEQ_STRESS_RUN: %v", err)
		}
		s.filter = re
	}
	s.summary = os.Getenv("GORSEQ_STRESS_SUMMARY")
	return s
}

// matrix returns the combinations to run.
func matrix(s settings, short bool) []combination {
	var cs []combination
	var ks []kind
	for _, k := range kinds() {
		if !k.long || s.long {
			ks = append(ks, k)
		}
	}
	rows := 0 // (scenario, point) rows with a combination so far
	for _, sc := range scenarioNames() {
		for p := 1; p <= 4; p++ {
			var row []combination
			for _, k := range ks {
				c := combination{sc, p, k}
				if s.filter != nil && !s.filter.MatchString(c.name()) {
					continue
				}
				row = append(row, c)
			}
			if len(row) == 0 {
				continue
			}
			// -short: one kind per scenario and point, in turn, among
			// the kinds the filter let through (so that a filter on
			// kinds still selects runs, and each of its kinds).
			if short {
				row = row[rows%len(row):][:1]
			}
			rows++
			cs = append(cs, row...)
		}
	}
	return cs
}

// TestMatrix runs the matrix: every combination must keep its
// scenario's invariant, exit 0, and report aborts.
func TestMatrix(t *testing.T) {
	s := matrixSettings(t)
	cs := matrix(s, testing.Short())
	if len(cs) == 0 {
		t.Fatalf("no combination matches GORSEQ_STRESS_RUN")
	}
	perRun := s.duration + 2*time.Second
	est := time.Duration(len(cs)*s.rounds) * perRun / time.Duration(s.parallel)
	if dl, ok := t.Deadline(); ok && time.Until(dl) < est+time.Minute {
		t.Fatalf("%d runs of about %v, %d at a time, need about %v; the test deadline is in %v: run with -timeout 0 (or a larger -timeout)",
			len(cs)*s.rounds, perRun, s.parallel, est, time.Until(dl).Round(time.Second))
	}
	bins := map[bool]string{false: stressBinary(t, false), true: stressBinary(t, true)}

	start := time.Now()
	results := make([]*childRun, len(cs)*s.rounds)
	sem := make(chan struct{}, s.parallel)
	var wg sync.WaitGroup
	for round := 0; round < s.rounds; round++ {
		for i, c := range cs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				seed := 1 + round*len(cs) + i
				results[round*len(cs)+i] = runCombination(t, bins[c.kind.cgo], c, s.duration, seed)
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	summary := summarize(cs, s, results, elapsed)
	t.Log("\n" + summary)
	checkInlineAborts(t, results)
	if s.summary != "" {
		if err := os.WriteFile(s.summary, []byte(summary), 0o644); err != nil {
			t.Errorf("writing the summary: %v", err)
		}
	}
}

// checkInlineAborts: where the compiler inlined Counter.Add's sequences
// (gorseq's toolchain), the counter scenario's runs, which spend their
// steps in them, must have aborted some: the stressors reach the inline
// code, not only the assembly sections that the injected delays widen.
func checkInlineAborts(t *testing.T, results []*childRun) {
	t.Helper()
	runs, aborts := 0, 0
	for _, r := range results {
		if r == nil || r.failed || r.unsupported || !strings.HasPrefix(r.name, "counter/") || r.num("inline_sequences") == 0 {
			continue
		}
		runs++
		aborts += r.num("inline_aborts")
	}
	if runs == 0 {
		t.Logf("no counter run with inline Counter.Add sequences (a build where Add calls its assembly, or a filter without the scenario)")
		return
	}
	t.Logf("inline Counter.Add sequences: %d aborts over %d counter runs", aborts, runs)
	if aborts == 0 {
		t.Errorf("no inline Counter.Add sequence was aborted in %d counter runs", runs)
	}
}

// summarize formats the aborts of every combination as a table: a row per
// scenario and point, a column per kind.
func summarize(cs []combination, s settings, results []*childRun, elapsed time.Duration) string {
	var b strings.Builder
	var kindNames []string
	seenKind := map[string]bool{}
	for _, c := range cs {
		if !seenKind[c.kind.name] {
			seenKind[c.kind.name] = true
			kindNames = append(kindNames, c.kind.name)
		}
	}
	mode := "bounded"
	if s.long {
		mode = "long"
	}
	failed, unsupported := 0, 0
	var minAborts, totalAborts int
	minAborts = -1
	var steps int64
	var longest *childRun
	extended := 0
	for _, r := range results {
		if longest == nil || r.num("elapsed_ms") > longest.num("elapsed_ms") {
			longest = r
		}
		if time.Duration(r.num("elapsed_ms"))*time.Millisecond > s.duration+100*time.Millisecond {
			extended++
		}
		switch {
		case r.unsupported:
			unsupported++
		case r.failed:
			failed++
		}
		a := r.num("aborts")
		totalAborts += a
		if !r.unsupported && (minAborts < 0 || a < minAborts) {
			minAborts = a
		}
		steps += int64(r.num("steps") + r.num("cgo_steps"))
	}
	scens, points := map[string]bool{}, map[int]bool{}
	for _, c := range cs {
		scens[c.scenario], points[c.point] = true, true
	}
	size := fmt.Sprintf("%d scenarios x %d injection points x %d kinds = %d combinations", len(scens), len(points), len(kindNames), len(cs))
	if len(cs) != len(scens)*len(points)*len(kindNames) {
		size = fmt.Sprintf("%d combinations of %d scenarios, %d injection points and %d kinds", len(cs), len(scens), len(points), len(kindNames))
	}
	fmt.Fprintf(&b, "stress matrix (%s): %s, %d round(s), -d %v, %d at a time\n",
		mode, size, s.rounds, s.duration, s.parallel)
	fmt.Fprintf(&b, "runs: %d, failed %d, unsupported %d; aborts: total %d, smallest %d; steps %d; time %v\n",
		len(results), failed, unsupported, totalAborts, minAborts, steps, elapsed.Round(time.Second))
	fmt.Fprintf(&b, "runs kept going past -d for -min-aborts: %d; longest %v (%s)\n", extended,
		time.Duration(longest.num("elapsed_ms"))*time.Millisecond, longest.name)
	fmt.Fprintf(&b, "delay: %d loops at the point unless the kind says otherwise (point 1 also %d at point 3); cells: aborts per run (one per round), F failed, U unsupported\n\n", delayLoops, companionLoops)
	fmt.Fprintf(&b, "%-14s", "scenario/point")
	for _, k := range kindNames {
		fmt.Fprintf(&b, " %12s", k)
	}
	b.WriteString("\n")
	type key struct {
		row, kind string
	}
	cells := map[key]string{}
	var rows []string
	seenRow := map[string]bool{}
	for i, r := range results {
		c := cs[i%len(cs)]
		row := fmt.Sprintf("%s/p%d", c.scenario, c.point)
		if !seenRow[row] {
			seenRow[row] = true
			rows = append(rows, row)
		}
		k := key{row, c.kind.name}
		cell := fmt.Sprint(r.num("aborts"))
		switch {
		case r.unsupported:
			cell = "U"
		case r.failed:
			cell = "F" + cell
		}
		if prev, ok := cells[k]; ok {
			cell = prev + "," + cell
		}
		cells[k] = cell
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i] < rows[j] })
	for _, row := range rows {
		fmt.Fprintf(&b, "%-14s", row)
		for _, k := range kindNames {
			cell, ok := cells[key{row, k}]
			if !ok {
				cell = "-"
			}
			fmt.Fprintf(&b, " %12s", cell)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// runCombination runs one child and checks it.
func runCombination(t *testing.T, bin string, c combination, d time.Duration, seed int) *childRun {
	args := c.args(d, seed)
	r := runChild(t, c.name(), c.kind.env, bin, args...)
	if r.unsupported {
		t.Logf("%s: unsupported here: %s", r.desc, r.kv["error"])
		return r
	}
	r.wantOK()
	if r.num("aborts") == 0 {
		r.errorf("aborts=0: the run with injection never had a critical section aborted, so it proves nothing")
	}
	if c.kind.check != nil {
		c.kind.check(r)
	}
	return r
}

// --- building and running the command ---------------------------------

// The children of the suite (see internal/childtest for the modes: built
// here, or prebuilt for a guest): the command with the injection hooks,
// by the patched toolchain, without and with cgo.
var children = childtest.Children{
	"stress-nocgo": {Toolchain: childtest.Patched, Pkg: "./test/stress", Flags: []string{"-tags", "gorseq_inject"}},
	"stress-cgo":   {Toolchain: childtest.Patched, Pkg: "./test/stress", Flags: []string{"-tags", "gorseq_inject"}, Cgo: true},
}

func TestMain(m *testing.M) { childtest.Main(m, "stress", children) }

// stressBinary returns the command built by the patched toolchain with
// -tags gorseq_inject, with or without cgo.
func stressBinary(t *testing.T, cgo bool) string {
	t.Helper()
	if cgo {
		return childtest.Binary(t, "stress-cgo")
	}
	return childtest.Binary(t, "stress-nocgo")
}

// childRun is the outcome of one child run.
type childRun struct {
	t           *testing.T
	name        string
	desc        string
	code        int
	stdout      string
	stderr      string
	kv          map[string]string
	errs        []string
	failed      bool
	unsupported bool
	mu          sync.Mutex
}

// profileWarning is what pprof.StartCPUProfile prints after
// runtime.SetCPUProfileRate set a higher rate (the -profile stressor).
const profileWarning = "runtime: cannot set cpu profile rate until previous profile has finished."

// runChild runs bin; exit code 3 (unsupported) is noted, not failed.
func runChild(t *testing.T, name string, env []string, bin string, args ...string) *childRun {
	ctx, cancel := context.WithTimeout(context.Background(), childtest.Timeout(t, 5*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childtest.CleanEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &childRun{
		t:      t,
		name:   name,
		desc:   fmt.Sprintf("%s: %s %s %s", name, strings.Join(env, " "), filepath.Base(bin), strings.Join(args, " ")),
		stdout: stdout.String(),
		stderr: stderr.String(),
		kv:     map[string]string{},
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if k == "error" {
			r.errs = append(r.errs, v)
		}
		r.kv[k] = v
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.code = -1
		r.errorf("running: %v", err)
	}
	if r.code == exitUnsupported {
		r.unsupported = true
	}
	return r
}

// wantOK checks that the run passed: exit 0, invariant=ok, done=1, no
// error lines, nothing on stderr but the profiler's warning.
func (r *childRun) wantOK() {
	if r.code != 0 {
		r.errorf("exit code %d", r.code)
	}
	if r.kv["invariant"] != "ok" {
		r.errorf("invariant=%q", r.kv["invariant"])
	}
	if r.kv["done"] != "1" {
		r.errorf("no done=1 line")
	}
	if len(r.errs) > 0 {
		r.errorf("errors: %q", r.errs)
	}
	if rest := strings.TrimSpace(strings.ReplaceAll(r.stderr, profileWarning, "")); rest != "" {
		r.errorf("unexpected output on stderr")
	}
}

// errorf fails the test with the child's output, the first time in full.
func (r *childRun) errorf(format string, args ...any) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if !r.failed {
		msg += fmt.Sprintf("\n--- stdout:\n%s--- stderr:\n%s---", r.stdout, tail(r.stderr, 8000))
	}
	r.failed = true
	r.t.Errorf("%s: %s", r.desc, msg)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// num returns the integer value of key, 0 if missing.
func (r *childRun) num(key string) int {
	n, _ := strconv.Atoi(r.kv[key])
	return n
}
