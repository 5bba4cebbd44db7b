// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Command stress is gorseq's reliability suite: per-CPU data structures
// built from percpu's restartable operations (on Block memory, with
// indices, not Go pointers), hammered by many threads while trouble is
// injected, with an exact invariant checked for each. It follows the
// scenarios and options of the kernel's rseq selftest param_test, plus
// Go-specific stressors.
//
// Scenarios (-T):
//
//	spinlock    per-CPU lock words taken with CompareAndStore(0 -> 1) and
//	            released with an atomic store; each CPU's lock protects
//	            that CPU's plain counter: the total is exact.
//	list        per-CPU linked lists (Pop, Push, shared links); items
//	            popped on one CPU are pushed on whatever CPU the thread is
//	            on then: every item is found exactly once at the end.
//	buffer      per-CPU bounded stacks of items: push with StoreCommit,
//	            pop with a read and CompareAndStore on a tagged count word
//	            (see buffer.go for why the tag and sequence make this
//	            correct): items conserved.
//	memcpy      per-CPU FIFO rings of 32-byte checksummed records, pushed
//	            with CopyCommit: records conserved and never torn (the
//	            checksum of every popped record is checked).
//	increment   Add on a ByCPU and a ByCID Block, and a percpu.Counter:
//	            every sum is exact.
//	counter     bursts of percpu.Counter.Add alone, the sequence gorseq's
//	            compiler emits inline (no injection points: preemption and
//	            signals abort it, counted as inline_aborts): the sum is
//	            exact.
//	membarrier  workers AddIndirect through a base word; a manager swaps
//	            the active Block and fences with
//	            membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ), on all
//	            CPUs or one: after each fence the retired Block never
//	            changes. Exit code 3 if the kernel lacks the command.
//
// Every scenario has a fallback for threads without rseq (ErrNoRseq: -M,
// C threads without a registration), designed so that the invariant
// still holds: a mutex-protected global counter or pool, or an atomic
// word that no critical section writes.
//
// Options, in the spirit of param_test: -T scenario, -t threads (default
// 6 x NCPU; each a goroutine locked to its OS thread), -r repetitions per
// thread or -d duration, -1 .. -4 loops (a delay at injection point n of
// every critical section; needs a binary built with -tags gorseq_inject,
// else exit 2), -m N with -y (yield), -k (a signal to the thread itself:
// SIGUSR1 with a handler, or -sig urg) and -s ms (sleep) every N-th time
// at points outside the critical sections, -M N (rseq unregistered with
// percpu.ThreadRseq on every N-th thread, which then takes the
// fallbacks; needs gorseq_inject), -v (per-thread counts). -min-aborts N
// keeps a -d run going until percpu.AbortCount grew by N and every
// Go stressor asked for has acted at least once (at most -max-time; exit 4
// if the aborts fall short).
//
// Go stressors: -preempt (goroutines in loops without calls, which the
// runtime can stop only with SIGURG), -profile (CPU profiling at 10 kHz:
// SIGPROF), -gc (runtime.GC in a loop with SetGCPercent(1)), -procs
// (GOMAXPROCS changed every few milliseconds), -thread-exit (worker
// goroutines return while locked, so their threads exit, and new ones
// take over), -affinity (worker threads pinned and re-pinned to random
// CPUs with sched_setaffinity), -go-stressors (all of these), and -cgo N
// (N C pthreads calling an exported Go function, a cgo callback each
// time, that runs scenario steps; run it with and without
// GLIBC_TUNABLES=glibc.pthread.rseq=0).
//
// The output is key=value lines (steps, fallback_steps, aborts, the
// scenario's counts, invariant=ok or FAIL, error=... lines), ending with
// done=1. Exit codes: 0 ok, 1 an invariant failed, 2 usage, 3 unsupported
// (no rseq without -allow-fallback, or no membarrier RSEQ command), 4 too
// few aborts, 5 watchdog (the run hung).
//
// Build it with the patched toolchain, with the injection hooks:
//
//	_toolchain/goroot/bin/go build -tags gorseq_inject -o /tmp/stress ./test/stress
//	/tmp/stress -T list -3 2000 -m 10 -k -v
//
// # The matrix
//
// go test ./test/stress (with the patched toolchain) builds the command
// that way, with and without cgo, and TestMatrix runs it as child
// processes over every scenario x every injection point (1..4) x every
// injection kind: delay only, yield, signal, sleep, mixed mode (-M 3), the
// Go stressors together, and cgo callbacks with glibc's registration and
// without it. Each run has a delay of 2000 loops at its point (point 1 is
// outside the section, right before it is armed, so a run there also
// has a short delay at point 3: the aborts it causes make every retry go
// through point 1). Every run must keep its invariant, exit 0, print
// nothing unexpected on stderr and report aborts (-min-aborts 20
// stretches a run that has too few). The summary table gives the aborts
// of every combination. -short runs one kind per scenario and point (in
// turn, among the kinds GORSEQ_STRESS_RUN lets through).
//
// The long (soak) mode, GORSEQ_STRESS_LONG=1, adds each Go stressor on
// its own, SIGURG self-signals, shorter and longer delays, fewer and more
// threads, and mixed mode with the stressors and cgo, and runs each
// combination 20s:
//
//	GORSEQ_STRESS_LONG=1 _toolchain/goroot/bin/go test -count=1 -timeout 0 -v -run TestMatrix ./test/stress
//
// GORSEQ_STRESS_DURATION (per run), GORSEQ_STRESS_ROUNDS (walks of the
// matrix), GORSEQ_STRESS_PARALLEL (children at a time, default 2),
// GORSEQ_STRESS_RUN (a regexp on names like list/p3/mixed) and
// GORSEQ_STRESS_SUMMARY (a file for the summary) adjust either mode.
//
// For a machine without a Go toolchain (test/vm's guests), the host
// prebuilds the two commands and the guest runs the test binary on them
// (see internal/childtest):
//
//	GORSEQ_PREBUILD_OUT=/tmp/ch GORSEQ_CHILD_GOARCH=arm64 _toolchain/goroot/bin/go test ./test/stress
//	GOARCH=arm64 _toolchain/goroot/bin/go test -c -o stress.test ./test/stress
//	GORSEQ_CHILDREN=/tmp/ch GORSEQ_STRESS_RUN='^[a-z]+/p2/(delay|signal)$' ./stress.test -test.short -test.v
package main
