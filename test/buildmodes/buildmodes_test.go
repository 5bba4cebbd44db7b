// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && amd64

package buildmodes

import (
	"slices"
	"strconv"
	"testing"
)

// percpu's modes, as Mode.String prints them.
const (
	own      = "rseq (own)"
	glibc    = "rseq (glibc)"
	fallback = "fallback"
)

// Environments of the runs.
const (
	tunableOff = "GLIBC_TUNABLES=glibc.pthread.rseq=0"
	godebugOff = "GODEBUG=rseq=0"
)

// Parts of percpu's reasons for the fallback.
const (
	reasonNoCgo    = "cgo is not linked"
	reasonSizeZero = "__rseq_size is 0"
	reasonGodebug  = "GODEBUG=rseq=0"
	reasonStatic   = "no dynamic loader"
	reasonMusl     = "no __rseq_offset"
)

// The executables, by name: every row that runs the same program shares
// its build.
var exes = map[string]goBuild{
	// Stock go. withc: the probe has C code of its own (linked
	// externally); runtimecgo: it links runtime/cgo and nothing else
	// (linked internally).
	"stock":            {tc: stock, pkg: probePkg},
	"stock-c":          {tc: stock, pkg: probePkg, flags: []string{"-tags=withc"}, cgo: true},
	"stock-runtimecgo": {tc: stock, pkg: probePkg, flags: []string{"-tags=runtimecgo"}, cgo: true},
	// Patched go, and stock go with -overlay.
	"patched":            {tc: patched, pkg: probePkg},
	"patched-c":          {tc: patched, pkg: probePkg, flags: []string{"-tags=withc"}, cgo: true},
	"patched-runtimecgo": {tc: patched, pkg: probePkg, flags: []string{"-tags=runtimecgo"}, cgo: true},
	"overlay":            {tc: overlay, pkg: probePkg},
	"overlay-c":          {tc: overlay, pkg: probePkg, flags: []string{"-tags=withc"}, cgo: true},
	// cgo linked statically against glibc: glibc registers rseq, but
	// there is no dynamic loader to read __rseq_offset from.
	"stock-c-static":   {tc: stock, pkg: probePkg, flags: []string{"-tags=withc", linkStatic}, cgo: true},
	"patched-c-static": {tc: patched, pkg: probePkg, flags: []string{"-tags=withc", linkStatic}, cgo: true},
	// musl: static (no dynamic loader at all) and dynamic (musl's
	// loader, which has no __rseq_offset).
	"stock-musl-static":    {tc: stock, pkg: probePkg, flags: []string{"-tags=withc", linkStatic}, cgo: true, env: musl},
	"stock-musl-dynamic":   {tc: stock, pkg: probePkg, flags: []string{"-tags=withc"}, cgo: true, env: musl},
	"patched-musl-static":  {tc: patched, pkg: probePkg, flags: []string{"-tags=withc", linkStatic}, cgo: true, env: musl},
	"patched-musl-dynamic": {tc: patched, pkg: probePkg, flags: []string{"-tags=withc"}, cgo: true, env: musl},
	// PIE, without cgo (internally linked, glibc's loader as the
	// interpreter) and with.
	"stock-pie":     {tc: stock, pkg: probePkg, flags: []string{"-buildmode=pie"}},
	"stock-pie-c":   {tc: stock, pkg: probePkg, flags: []string{"-buildmode=pie", "-tags=withc"}, cgo: true},
	"patched-pie":   {tc: patched, pkg: probePkg, flags: []string{"-buildmode=pie"}},
	"patched-pie-c": {tc: patched, pkg: probePkg, flags: []string{"-buildmode=pie", "-tags=withc"}, cgo: true},
	// The race detector (its runtime links runtime/cgo).
	"stock-race":   {tc: stock, pkg: probePkg, flags: []string{"-race"}, cgo: true},
	"patched-race": {tc: patched, pkg: probePkg, flags: []string{"-race"}, cgo: true},
}

const (
	probePkg   = testdata + "probe"
	libPkg     = testdata + "lib"
	linkStatic = "-ldflags=-linkmode=external -extldflags=-static"
)

var musl = []string{"CC=musl-gcc"}

// exe returns the executable name of the exes table, built on first use.
func exe(t *testing.T, name string) string {
	t.Helper()
	b, ok := exes[name]
	if !ok {
		t.Fatalf("no executable %q in the table", name)
	}
	if slices.Equal(b.env, musl) {
		needMusl(t)
	}
	return goBinary(t, name, b)
}

// An expect is what a child must show.
type expect struct {
	mode   string // percpu.Status().Mode
	abi    int64  // Status().ABIVersion: 1 patched, 0 stock
	reason string // in the fallback, a part of Status().Reason
	// mainFailed: glibc's dynamic loader registered the main thread
	// before the runtime started (a PIE without cgo): the patched
	// runtime counts that thread as failed (ThreadsFailed 1), and the
	// main thread's operations return ErrNoRseq while every other
	// thread has rseq.
	mainFailed bool
}

func (e expect) rseq() bool { return e.mode != fallback }

// The probe's and the library's work (see testdata/work).
const (
	goroutines  = 8      // goroutines of work.Goroutines, half of them locked
	incs        = 100000 // Counter.Inc per goroutine
	hostWaves   = 2      // waves of the host's pthreads
	hostThreads = 8      // the host's pthreads per wave
	hostCalls   = 500    // calls into Go per pthread
	hostN       = 100    // Counter.Inc and Add per call
)

// wantStatus checks the status lines of percpu (keys with prefix).
func (r *run) wantStatus(prefix string, e expect) {
	r.t.Helper()
	r.want(prefix+"mode", e.mode)
	r.wantNum(prefix+"abi", e.abi)
	failed := int64(0)
	if e.mainFailed {
		failed = 1
	}
	r.wantNum(prefix+"threads_failed", failed)
	if e.rseq() {
		r.want(prefix+"reason", "")
		if r.num(prefix+"length") < 32 {
			r.errorf("%slength=%s: want a registration of at least 32 bytes", prefix, r.str(prefix+"length"))
		}
	} else {
		r.wantContains(prefix+"reason", e.reason)
	}
	if r.num(prefix+"shards") < 1 {
		r.errorf("%sshards=%s", prefix, r.str(prefix+"shards"))
	}
}

// wantOneAdd checks one Add on a thread (work.OneAdd, keys with prefix):
// committed on a shard when ok, else ErrNoRseq.
func (r *run) wantOneAdd(prefix string, ok bool) {
	r.t.Helper()
	if !ok {
		r.want(prefix+"add_err", "ErrNoRseq")
		r.wantNum(prefix+"shard", -1)
		return
	}
	r.want(prefix+"add_err", "nil")
	if s := r.num(prefix + "shard"); s < 0 || s >= r.num("shards") {
		r.errorf("%sshard=%d, want 0 to shards-1 (%d)", prefix, s, r.num("shards")-1)
	}
	r.wantNum(prefix+"add_total", 1)
}

// wantAdds checks the tallies of n Adds (work.Adds.Report, keys with
// prefix): all committed, and the shards sum to n, with rseq; all
// ErrNoRseq and nothing stored without.
func (r *run) wantAdds(prefix string, n int64, rseq bool) {
	r.t.Helper()
	r.wantNum(prefix+"_other", 0)
	r.wantNum(prefix+"_bad_shard", 0)
	if rseq {
		r.wantNum(prefix+"_ok", n)
		r.wantNum(prefix+"_norseq", 0)
		r.wantNum(prefix+"_total", n)
	} else {
		r.wantNum(prefix+"_ok", 0)
		r.wantNum(prefix+"_norseq", n)
		r.wantNum(prefix+"_total", 0)
	}
}

// wantAborts checks the abort phase (work.AbortPhase): with rseq the
// signals aborted critical sections, AbortCount grew, and the committed
// Adds sum exactly; without, AbortCount stayed and every Add was refused.
func (r *run) wantAborts(rseq bool) {
	r.t.Helper()
	r.wantNum("abort_adds_other", 0)
	r.wantNum("abort_adds_bad_shard", 0)
	ok := r.num("abort_adds_ok")
	if rseq {
		if r.num("aborts") < 1 {
			r.errorf("aborts=%d in %sms with %s signals: AbortCount did not grow", r.num("aborts"), r.str("abort_ms"), r.str("abort_signals"))
		}
		if ok < 1 {
			r.errorf("abort_adds_ok=%d: no Add committed", ok)
		}
		r.wantNum("abort_adds_norseq", 0)
		r.wantNum("abort_adds_total", ok)
	} else {
		r.wantNum("aborts", 0)
		r.wantNum("abort_adds_ok", 0)
		if r.num("abort_adds_norseq") < 1 {
			r.errorf("abort_adds_norseq=%d: no Add ran", r.num("abort_adds_norseq"))
		}
		r.wantNum("abort_adds_total", 0)
	}
}

// runExe runs the executable name of the table in env and checks it
// against e: the status, an Add on the main thread and on another one,
// the exact Counter total and Adds of work.Goroutines, and the abort
// phase.
func runExe(t *testing.T, name string, env []string, e expect) {
	t.Helper()
	r := runChild(t, env, exe(t, name))
	r.wantStatus("", e)
	r.want("main_is_pid", "true")
	r.want("thread_is_pid", "false")
	r.wantOneAdd("main_", e.rseq() && !e.mainFailed)
	r.wantOneAdd("", e.rseq())
	r.wantNum("counter_want", goroutines*incs)
	r.wantNum("counter", goroutines*incs)
	r.wantNum("adds_want", goroutines*incs/10)
	r.wantAdds("adds", goroutines*incs/10, e.rseq())
	r.wantAborts(e.rseq())
}

// A exeCase is one run of an executable.
type exeCase struct {
	name string // the executable, in exes
	env  []string
	want expect
}

// runExes runs the cases as parallel subtests named after the executable
// and the environment.
func runExes(t *testing.T, cases []exeCase) {
	for _, c := range cases {
		name := c.name
		for _, kv := range c.env {
			name += "/" + kv
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runExe(t, c.name, c.env, c.want)
		})
	}
}

// Rows 1 and 2: the stock go with cgo (C code of the program's own, or
// runtime/cgo alone): percpu finds glibc's registration itself (rseq
// (glibc), ABI 0), and falls back when glibc did not register or with
// GODEBUG=rseq=0.
func TestStockCgo(t *testing.T) {
	t.Parallel()
	var cases []exeCase
	for _, name := range []string{"stock-c", "stock-runtimecgo"} {
		cases = append(cases,
			exeCase{name, nil, expect{mode: glibc, abi: 0}},
			exeCase{name, []string{tunableOff}, expect{mode: fallback, abi: 0, reason: reasonSizeZero}},
			exeCase{name, []string{godebugOff}, expect{mode: fallback, abi: 0, reason: reasonGodebug}},
		)
	}
	runExes(t, cases)
}

// Row 3: the stock go, static (CGO_ENABLED=0): no patch and no glibc
// threads, fallback.
func TestStockStatic(t *testing.T) {
	t.Parallel()
	runExes(t, []exeCase{
		{"stock", nil, expect{mode: fallback, abi: 0, reason: reasonNoCgo}},
		{"stock", []string{tunableOff}, expect{mode: fallback, abi: 0, reason: reasonNoCgo}},
	})
}

// Row 3b: cgo linked statically against glibc
// (-ldflags='-linkmode=external -extldflags=-static'). glibc registers
// every thread; the patched runtime adopts its areas (cgo links
// __rseq_offset in), but percpu with the stock runtime finds no dynamic
// loader to read __rseq_offset from, and falls back.
func TestCgoStaticGlibc(t *testing.T) {
	t.Parallel()
	runExes(t, []exeCase{
		{"stock-c-static", nil, expect{mode: fallback, abi: 0, reason: reasonStatic}},
		{"patched-c-static", nil, expect{mode: glibc, abi: 1}},
		{"patched-c-static", []string{tunableOff}, expect{mode: own, abi: 1}},
		{"patched-c-static", []string{godebugOff}, expect{mode: fallback, abi: 1, reason: reasonGodebug}},
	})
}

// Row 4: the patched go, and the stock go with -overlay: the runtime
// registers its own areas without cgo, adopts glibc's with cgo (its own
// again when glibc did not register), and GODEBUG=rseq=0 turns it off.
func TestPatched(t *testing.T) {
	t.Parallel()
	var cases []exeCase
	for _, tc := range []string{"patched", "overlay"} {
		cases = append(cases,
			exeCase{tc, nil, expect{mode: own, abi: 1}},
			exeCase{tc + "-c", nil, expect{mode: glibc, abi: 1}},
			exeCase{tc + "-c", []string{tunableOff}, expect{mode: own, abi: 1}},
		)
	}
	cases = append(cases,
		exeCase{"patched", []string{godebugOff}, expect{mode: fallback, abi: 1, reason: reasonGodebug}},
		exeCase{"patched-c", []string{godebugOff}, expect{mode: fallback, abi: 1, reason: reasonGodebug}},
		exeCase{"patched-runtimecgo", nil, expect{mode: glibc, abi: 1}},
		exeCase{"patched-runtimecgo", []string{tunableOff}, expect{mode: own, abi: 1}},
	)
	runExes(t, cases)
}

// Row 6: musl, static and dynamic. musl registers no rseq: the patched
// runtime registers its own areas; the stock one falls back (no dynamic
// loader to ask, or musl's, which has no __rseq_offset).
func TestMusl(t *testing.T) {
	t.Parallel()
	runExes(t, []exeCase{
		{"stock-musl-static", nil, expect{mode: fallback, abi: 0, reason: reasonStatic}},
		{"stock-musl-dynamic", nil, expect{mode: fallback, abi: 0, reason: reasonMusl}},
		{"patched-musl-static", nil, expect{mode: own, abi: 1}},
		{"patched-musl-dynamic", nil, expect{mode: own, abi: 1}},
		{"patched-musl-static", []string{godebugOff}, expect{mode: fallback, abi: 1, reason: reasonGodebug}},
	})
}

// Row 7: -buildmode=pie. Without cgo glibc's dynamic loader is the
// interpreter and registers the main thread before the runtime starts:
// the patched runtime registers every other thread and counts the main
// one as failed (its Adds return ErrNoRseq, the Counter still counts
// exactly); with the tunable off the loader does not register, and the
// main thread is the runtime's too. The stock runtime without cgo falls
// back. With cgo both are on glibc's registration.
func TestPIE(t *testing.T) {
	t.Parallel()
	runExes(t, []exeCase{
		{"stock-pie", nil, expect{mode: fallback, abi: 0, reason: reasonNoCgo}},
		{"stock-pie-c", nil, expect{mode: glibc, abi: 0}},
		{"stock-pie-c", []string{tunableOff}, expect{mode: fallback, abi: 0, reason: reasonSizeZero}},
		{"patched-pie", nil, expect{mode: own, abi: 1, mainFailed: true}},
		{"patched-pie", []string{tunableOff}, expect{mode: own, abi: 1}},
		{"patched-pie-c", nil, expect{mode: glibc, abi: 1}},
		{"patched-pie-c", []string{tunableOff}, expect{mode: own, abi: 1}},
	})
}

// Row 8: the race detector links runtime/cgo: glibc's registration with
// either toolchain; GODEBUG=rseq=0 sends percpu through its Go fallback
// paths, which the race detector sees.
func TestRace(t *testing.T) {
	t.Parallel()
	runExes(t, []exeCase{
		{"stock-race", nil, expect{mode: glibc, abi: 0}},
		{"stock-race", []string{godebugOff}, expect{mode: fallback, abi: 0, reason: reasonGodebug}},
		{"patched-race", nil, expect{mode: glibc, abi: 1}},
		{"patched-race", []string{godebugOff}, expect{mode: fallback, abi: 1, reason: reasonGodebug}},
	})
}

// library builds the library child for tc with buildmode (c-shared or
// c-archive) and returns its path.
func library(t *testing.T, tc toolchain, buildmode string) string {
	t.Helper()
	ext := map[string]string{"c-shared": ".so", "c-archive": ".a"}[buildmode]
	return goBinary(t, "lib-"+tc.String()+ext, goBuild{tc: tc, pkg: libPkg, flags: []string{"-buildmode=" + buildmode}, cgo: true})
}

// runHost runs a host program (with args after the work's) in env and
// checks it against e: the status and an Add on the host's main thread
// and on one of its pthreads, the exact totals of the pthreads' calls
// into Go, and the abort phase.
func runHost(t *testing.T, host string, env []string, e expect, args ...string) {
	t.Helper()
	args = append([]string{strconv.Itoa(hostWaves), strconv.Itoa(hostThreads), strconv.Itoa(hostCalls), strconv.Itoa(hostN)}, args...)
	r := runChild(t, env, host, args...)
	r.wantStatus("", e)
	r.wantStatus("thread_", e)
	r.want("caller_is_pid", "true")
	r.want("thread_caller_is_pid", "false")
	r.wantOneAdd("", e.rseq())
	r.wantOneAdd("thread_", e.rseq())
	const total = hostWaves * hostThreads * hostCalls * hostN
	r.wantNum("host_want", total)
	if e.rseq() {
		r.wantNum("host_ok", total)
	} else {
		r.wantNum("host_ok", 0)
		r.wantNum("host_aborts", 0)
	}
	r.wantNum("host_threads", hostWaves*hostThreads)
	r.wantNum("calls", hostWaves*hostThreads*hostCalls)
	r.wantNum("counter", total)
	r.wantAdds("adds", total, e.rseq())
	r.wantAborts(e.rseq())
	t.Logf("aborts in the pthreads' calls: %s, with %s signals", r.str("host_aborts"), r.str("host_signals"))
}

// libCases are the environments of each library row: glibc's
// registration, the tunable off (the patched runtime's own areas, the
// stock one's fallback) and GODEBUG=rseq=0.
func libCases(tc toolchain) []struct {
	env  []string
	want expect
} {
	abi := int64(0)
	tunable := expect{mode: fallback, reason: reasonSizeZero}
	if tc == patched {
		abi, tunable = 1, expect{mode: own, abi: 1}
	}
	return []struct {
		env  []string
		want expect
	}{
		{nil, expect{mode: glibc, abi: abi}},
		{[]string{tunableOff}, tunable},
		{[]string{godebugOff}, expect{mode: fallback, abi: abi, reason: reasonGodebug}},
	}
}

// envName names a subtest after its environment.
func envName(env []string) string {
	if len(env) == 0 {
		return "default"
	}
	return env[0]
}

// Row 5, c-shared: a C program whose pthreads call into the Go library,
// loaded with dlopen and linked against it, built by each toolchain.
func TestCShared(t *testing.T) {
	t.Parallel()
	for _, tc := range []toolchain{stock, patched} {
		for _, c := range libCases(tc) {
			t.Run(tc.String()+"/dlopen/"+envName(c.env), func(t *testing.T) {
				t.Parallel()
				lib := library(t, tc, "c-shared")
				runHost(t, hostBinary(t, "host-dlopen", "-DUSE_DLOPEN"), c.env, c.want, lib)
			})
			t.Run(tc.String()+"/linked/"+envName(c.env), func(t *testing.T) {
				t.Parallel()
				lib := library(t, tc, "c-shared")
				runHost(t, hostBinary(t, "host-so-"+tc.String(), lib), c.env, c.want)
			})
		}
	}
}

// Row 5, c-archive: the same C program linked with the Go archive.
func TestCArchive(t *testing.T) {
	t.Parallel()
	for _, tc := range []toolchain{stock, patched} {
		for _, c := range libCases(tc) {
			t.Run(tc.String()+"/"+envName(c.env), func(t *testing.T) {
				t.Parallel()
				lib := library(t, tc, "c-archive")
				runHost(t, hostBinary(t, "host-ar-"+tc.String(), lib), c.env, c.want)
			})
		}
	}
}
