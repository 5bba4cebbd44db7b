// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && (amd64 || arm64)

package registration

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/internal/childtest"
)

const (
	lockedThreads  = 64   // threads locked at once
	exitingThreads = 1000 // threads that exit one after the other
)

// wantThreadsMode checks the output of "probe threads": the main thread,
// lockedThreads threads at once, exitingThreads threads that exit (most of
// them new), and lockedThreads threads again afterwards, all with the
// given probe and area results.
func (r *run) wantThreadsMode(exits int, probe, area string) {
	r.t.Helper()
	r.wantThreads("main", threads{n: 1, probe: probe, area: area})
	r.wantThreads("locked", threads{n: lockedThreads, probe: probe, area: area})
	r.wantThreads("exit", threads{n: exits, probe: probe, area: area})
	r.wantThreads("after", threads{n: lockedThreads, probe: probe, area: area})
	// Each exiting goroutine ends its thread, so the threads that
	// existed before can serve at most that many of them; the rest run
	// on threads made during the loop.
	if fresh, before := r.num("exit_fresh"), r.num("exit_before"); fresh < exits-before {
		r.errorf("exit_fresh=%d: only that many of %d exiting threads were new, want at least %d (%d threads before)",
			fresh, exits, exits-before, before)
	}
	r.wantNum("final_threads_failed", 0)
}

// Scenario 1: without cgo, the runtime registers its own area on every
// thread: m0, threads made for locked goroutines, and the new threads made
// while others exit; percpu.CPU agrees with getcpu on all of them.
func TestNoCgoEveryThreadRegistered(t *testing.T) {
	t.Parallel()
	r := runChild(t, nil, childtest.Binary(t, "probe"), "threads", "-n", itoa(lockedThreads), "-exits", itoa(exitingThreads))
	r.wantStatus("own")
	r.wantThreadsMode(exitingThreads, "registered", "same")
}

// Scenario 2: a locked thread pinned to each allowed CPU in turn sees
// that CPU in percpu.CPU and getcpu, getcpu's node in percpu.Node, and a
// CID in [0, NumCPU).
func TestAffinity(t *testing.T) {
	t.Parallel()
	r := runChild(t, nil, childtest.Binary(t, "probe"), "affinity", "-g", "4", "-rounds", "3")
	r.wantStatus("own")
	r.wantThreads("main", threads{n: 1, probe: "registered", area: "same"})
	wantPins(t, r, 4, 3)
}

// wantPins checks the output of "probe affinity -g g -rounds rounds".
func wantPins(t *testing.T, r *run, g, rounds int) {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	r.wantNum("pins", g*rounds*set.Count())
	r.wantNum("pin_bad", 0)
	r.wantNum("pin_cpus_seen", set.Count())
}

// Scenario 3: cgo. With glibc's registration (the default), every M adopts
// glibc's area; with GLIBC_TUNABLES=glibc.pthread.rseq=0 every M registers
// its own, including the extra Ms that C threads borrow to call into Go,
// and drops it when the C thread gives the M back. Each link mode the
// go command offers for a cgo program is checked.
func TestCgo(t *testing.T) {
	t.Parallel()
	const (
		nthreads = 16 // C threads per wave
		calls    = 50 // calls into Go per C thread
		waves    = 3
		signals  = 16
		exits    = 200
	)
	for _, link := range []string{"", "external", "internal"} {
		for _, glibc := range []bool{true, false} {
			name := "link=" + link
			if link == "" {
				name = "link=default"
			}
			var env []string
			if glibc {
				name += "/glibc-rseq"
			} else {
				name += "/glibc.pthread.rseq=0"
				env = []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0"}
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				r := runChild(t, env, cgoProbe(t, link),
					"-n", itoa(lockedThreads), "-exits", itoa(exits),
					"-threads", itoa(nthreads), "-calls", itoa(calls), "-waves", itoa(waves),
					"-signals", itoa(signals))
				mode := "own"
				if glibc {
					mode = "glibc"
				}
				r.wantStatus(mode)
				r.wantThreads("main", threads{n: 1, probe: "registered", area: "same"})
				r.wantThreads("locked", threads{n: lockedThreads, probe: "registered", area: "same"})
				r.wantThreads("exit", threads{n: exits, probe: "registered", area: "same"})
				r.wantThreads("after", threads{n: lockedThreads, probe: "registered", area: "same"})
				// Inside every callback from a C thread, the M's
				// area is the thread's registered one.
				r.wantThreads("cb", threads{n: waves * nthreads * calls, distinct: waves * nthreads, probe: "registered", area: "same"})
				r.wantNum("signals_received", signals)

				c := func(phase string, want string, n int) {
					t.Helper()
					r.wantNum("c_"+phase+"_"+want, n)
				}
				nC := waves * nthreads
				// Between callbacks the C thread keeps its M (Go
				// binds an extra M to a C thread until it exits),
				// and so the registration.
				c("between", "registered", nC*calls)
				if glibc {
					// glibc's registration is there before Go,
					// and the runtime must leave it in place when
					// it lets go of the thread.
					c("start", "registered", nC)
					c("exit", "registered", nC)
					c("sig_before", "registered", signals)
					c("sig_after", "registered", signals)
				} else {
					// No registration before Go. After Go's key
					// destructor dropped the M at thread exit,
					// and after Go's signal handler borrowed and
					// returned an M, the runtime must have
					// unregistered its area: the thread has none.
					c("start", "unregistered", nC)
					c("exit", "unregistered", nC)
					c("sig_before", "unregistered", signals)
					c("sig_after", "unregistered", signals)
				}
			})
		}
	}
	// C threads that registered an rseq area of their own (a C library
	// other than glibc, librseq) before calling into Go: the runtime
	// cannot register there, must count the thread as failed, leave the
	// thread's registration alone (the thread can unregister it) and let
	// percpu fall back on it; the extra Ms are fine again for the
	// ordinary C threads that get them next. Under glibc's registration
	// the thread's own attempt fails and nothing changes for Go.
	for _, glibc := range []bool{true, false} {
		const foreign, fcalls = 8, 20
		name, env := "foreign-rseq/glibc-rseq", []string(nil)
		if !glibc {
			name, env = "foreign-rseq/glibc.pthread.rseq=0", []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0"}
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := runChild(t, env, cgoProbe(t, ""), "-foreign", itoa(foreign), "-calls", itoa(fcalls))
			r.wantThreads("cb", threads{n: foreign * fcalls, distinct: foreign, probe: "registered", area: "same"})
			if glibc {
				r.wantStatus("glibc")
				r.wantNum("c_foreign_reg_other", foreign)
				r.wantThreads("fcb", threads{n: foreign * fcalls, distinct: foreign, probe: "registered", area: "same"})
				r.wantNum("final_threads_failed", 0)
				return
			}
			r.wantStatus("own")
			r.wantNum("c_foreign_reg_registered", foreign)
			r.wantThreads("fcb", threads{n: foreign * fcalls, distinct: foreign, probe: "registered", area: "different"})
			r.wantNum("c_foreign_unreg_unregistered", foreign)
			r.wantNum("final_threads_failed", foreign)
			r.wantNum("c_exit_unregistered", foreign)
		})
	}
	// A program that links runtime/cgo with no C code of its own (as
	// with the cgo DNS resolver) is linked internally by default.
	for _, glibc := range []bool{true, false} {
		name, mode, env := "runtime-cgo-only/glibc-rseq", "glibc", []string(nil)
		if !glibc {
			name, mode, env = "runtime-cgo-only/glibc.pthread.rseq=0", "own", []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0"}
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := runChild(t, env, childtest.Binary(t, "probe-runtime-cgo"), "threads", "-n", itoa(lockedThreads), "-exits", itoa(exits))
			r.wantStatus(mode)
			r.wantThreadsMode(exits, "registered", "same")
		})
	}
}

// Scenario 4: GODEBUG=rseq=0 turns the runtime's rseq off: percpu falls
// back and says why, no thread is registered by the runtime, and
// percpu.CPU stays right.
func TestGodebugOff(t *testing.T) {
	t.Parallel()
	t.Run("threads", func(t *testing.T) {
		t.Parallel()
		r := runChild(t, []string{"GODEBUG=rseq=0"}, childtest.Binary(t, "probe"), "threads", "-n", itoa(lockedThreads), "-exits", "200")
		r.wantStatus("fallback")
		r.wantContains("reason", "GODEBUG")
		r.want("rt_reason", "1")
		r.wantThreadsMode(200, "unregistered", "unchecked")
	})
	t.Run("affinity", func(t *testing.T) {
		t.Parallel()
		r := runChild(t, []string{"GODEBUG=rseq=0"}, childtest.Binary(t, "probe"), "affinity", "-g", "2", "-rounds", "2")
		r.wantStatus("fallback")
		wantPins(t, r, 2, 2)
	})
	// The setting is found among others, and the last one wins. Its value
	// is an integer, as the runtime's other GODEBUG settings (debug.rseq,
	// parsed with them): 00 is 0.
	for _, c := range []struct{ godebug, mode string }{
		{"gctrace=0,rseq=0,madvdontneed=1", "fallback"},
		{"rseq=0,rseq=1", "own"},
		{"rseq=1", "own"},
		{"rseq=00", "fallback"},
	} {
		t.Run("GODEBUG="+c.godebug, func(t *testing.T) {
			t.Parallel()
			r := runChild(t, []string{"GODEBUG=" + c.godebug}, childtest.Binary(t, "probe"), "status")
			r.wantStatus(c.mode)
			if c.mode == "fallback" {
				r.wantThreads("main", threads{n: 1, probe: "unregistered", area: "unchecked"})
			} else {
				r.wantThreads("main", threads{n: 1, probe: "registered", area: "same"})
			}
		})
	}
	// With cgo, glibc still registers every thread; the runtime does
	// not use the registration, and says so.
	t.Run("cgo", func(t *testing.T) {
		t.Parallel()
		r := runChild(t, []string{"GODEBUG=rseq=0"}, cgoProbe(t, ""), "-exits", "50", "-waves", "1", "-calls", "10")
		r.wantStatus("fallback")
		r.wantContains("reason", "GODEBUG")
		r.wantThreads("locked", threads{n: lockedThreads, probe: "registered", area: "different"})
		r.wantThreads("cb", threads{n: 16 * 10, distinct: 16, probe: "registered", area: "different"})
	})
}

// Scenario 5: a seccomp filter makes rseq fail. The patched program must
// start silently, fall back with the reason, and keep percpu.CPU right;
// with cgo, glibc's registration fails too and the result is the same.
func TestSeccomp(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		errno, reason, rtReason string
	}{
		{"ENOSYS", "ENOSYS", "2"},
		{"EPERM", "EPERM", "3"},
		{"EACCES", "errno 13", "4"},
	} {
		t.Run(c.errno, func(t *testing.T) {
			t.Parallel()
			r := runChild(t, nil, childtest.Binary(t, "seccomp"), c.errno, childtest.Binary(t, "probe"), "threads", "-n", itoa(lockedThreads), "-exits", "200")
			r.wantStatus("fallback")
			r.wantContains("reason", c.reason)
			r.want("rt_reason", c.rtReason)
			// Every thread of the child is under the filter.
			r.wantThreadsMode(200, c.errno, "unchecked")
		})
		t.Run(c.errno+"/cgo", func(t *testing.T) {
			t.Parallel()
			r := runChild(t, nil, childtest.Binary(t, "seccomp"), c.errno, cgoProbe(t, ""), "-exits", "50", "-waves", "1", "-calls", "10")
			r.wantStatus("fallback")
			r.wantContains("reason", c.reason)
			r.wantThreads("locked", threads{n: lockedThreads, probe: c.errno, area: "unchecked"})
			r.wantThreads("cb", threads{n: 16 * 10, distinct: 16, probe: c.errno, area: "unchecked"})
		})
	}
}

// Scenario 6: 32 locked threads each fork+exec the probe 20 times, all at
// once. Every child starts registered, and the parent's threads are still
// registered with their own areas afterwards.
func TestForkExec(t *testing.T) {
	t.Parallel()
	const g, n = 32, 20
	r := runChild(t, nil, childtest.Binary(t, "probe"), "fork", "-g", itoa(g), "-n", itoa(n))
	r.wantStatus("own")
	r.wantNum("fork_runs", g*n)
	r.wantNum("fork_ok", g*n)
	r.wantNum("fork_child_mode_own", g*n)
	r.wantThreads("main", threads{n: 1, probe: "registered", area: "same"})
	r.wantThreads("parent_before", threads{n: g, probe: "registered", area: "same"})
	r.wantThreads("parent_after", threads{n: g, probe: "registered", area: "same"})
	r.wantThreads("parent_final", threads{n: g, probe: "registered", area: "same"})
}

// Scenario 7: the stock go with -overlay builds the same runtime as the
// patched toolchain.
func TestOverlay(t *testing.T) {
	t.Parallel()
	r := runChild(t, nil, childtest.Binary(t, "probe-overlay"), "threads", "-n", itoa(lockedThreads), "-exits", itoa(exitingThreads))
	r.wantStatus("own")
	r.wantThreadsMode(exitingThreads, "registered", "same")
}

// Scenario 8: the stock toolchain has no gorseq runtime: percpu falls back,
// says the patch is missing, reports ABI version 0, registers nothing, and
// percpu.CPU is still right when pinned.
func TestStockToolchain(t *testing.T) {
	t.Parallel()
	r := runChild(t, nil, childtest.Binary(t, "probe-stock"), "threads", "-n", itoa(lockedThreads), "-exits", "200")
	r.wantStatus("fallback")
	if got := r.str("reason"); !strings.Contains(got, "patch") {
		r.errorf("reason=%q does not mention the missing patch", got)
	}
	r.want("abi_version", "0")
	r.want("rt_version", "0")
	r.wantThreadsMode(200, "unregistered", "unchecked")

	a := runChild(t, nil, childtest.Binary(t, "probe-stock"), "affinity", "-g", "2", "-rounds", "2")
	a.want("mode", "fallback")
	wantPins(t, a, 2, 2)
}

// A PIE binary without cgo has glibc's dynamic loader as its interpreter,
// which (glibc 2.35+) registers rseq for the main thread before the
// runtime starts, at an address the runtime cannot learn. The runtime
// keeps rseq on for every thread it makes, and counts the main thread as
// failed: its area says cpu_id < 0 and percpu takes the fallback there.
func TestPIE(t *testing.T) {
	t.Parallel()
	bin := childtest.Binary(t, "probe-pie")
	r := runChild(t, nil, bin, "threads", "-n", itoa(lockedThreads), "-exits", itoa(exitingThreads))
	r.want("mode", "own")
	r.want("rt_mode", "1")
	r.wantNum("threads_failed", 1)
	r.wantThreads("main", threads{n: 1, probe: "registered", area: "different"})
	r.wantThreads("locked", threads{n: lockedThreads, probe: "registered", area: "same"})
	r.wantThreads("exit", threads{n: exitingThreads, probe: "registered", area: "same"})
	r.wantThreads("after", threads{n: lockedThreads, probe: "registered", area: "same"})
	r.wantNum("final_threads_failed", 1)
}
