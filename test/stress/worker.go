// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A worker is one of the -t threads: a goroutine locked to its OS thread
// that runs the scenario's step in a loop. With -thread-exit its goroutine
// returns while still locked now and then, which makes the runtime end the
// thread, and a new goroutine (a new thread) carries on with the same
// worker. Only that worker's goroutine touches its fields while it runs.
type worker struct {
	e        *env
	id       int
	rng      *rand.Rand
	disabled bool // rseq unregistered on purpose (-M): the fallbacks only

	steps     int64 // scenario steps done
	fallbacks int64 // steps (or parts) that took a fallback path: ErrNoRseq
	retries   int64 // compare failures retried (ErrMismatch, a lock held)

	incarnations int
	modCount     int
	tid          int

	// Scenario scratch space.
	buf  [32]byte // a memcpy record (recordSize)
	held []int    // items in hand (list, buffer, memcpy)
}

func newWorker(e *env, id int) *worker {
	return &worker{e: e, id: id, rng: rand.New(rand.NewPCG(e.cfg.seed, uint64(id)+1))}
}

// thread runs the worker on a new locked thread until the run stops, or
// (with -thread-exit) until it hands over to a new thread.
func (w *worker) thread(wg *sync.WaitGroup) {
	cfg := w.e.cfg
	runtime.LockOSThread()
	w.incarnations++
	w.e.incarnate.Add(1)
	w.tid = unix.Gettid()
	w.e.threads.add(w.tid)
	unregistered := false
	if cfg.disableMod > 0 && w.id%cfg.disableMod == 0 {
		if err := threadRseq(true); err != nil {
			w.e.fail("worker %d: unregistering rseq: %v", w.id, err)
		} else {
			unregistered = true
			w.disabled = true
		}
	}
	// leave ends this incarnation: the area registered again (the
	// runtime unregisters it itself at thread exit and throws if that
	// fails), the thread out of the affinity stressor's set.
	leave := func() bool {
		w.e.threads.remove(w.tid)
		if unregistered {
			if err := threadRseq(false); err != nil {
				w.e.fail("worker %d: registering rseq again: %v; parking the thread", w.id, err)
				wg.Done()
				select {}
			}
		}
		return true
	}

	exitEvery := int64(0)
	if cfg.threadExit {
		exitEvery = 200 + w.rng.Int64N(2000)
	}
	var n int64
	for !w.done() {
		w.e.sc.step(w)
		w.steps++
		n++
		if exitEvery > 0 && n >= exitEvery {
			leave()
			// Hand over to a new thread; returning while locked
			// ends this one.
			go w.thread(wg)
			return
		}
	}
	leave()
	if cfg.affinity {
		// The thread may be pinned to one CPU: let it die rather
		// than go back to the runtime's pool.
		wg.Done()
		return
	}
	runtime.UnlockOSThread()
	wg.Done()
}

func (w *worker) done() bool {
	if w.e.stop.Load() {
		return true
	}
	return w.e.cfg.duration <= 0 && w.steps >= w.e.cfg.reps
}

// outside is an injection point outside the critical sections (-m with
// -y, -k, -s): every modulo-th call yields, signals the thread or sleeps.
func (w *worker) outside() {
	cfg := w.e.cfg
	if cfg.modulo == 0 {
		return
	}
	w.modCount++
	if w.modCount < cfg.modulo {
		return
	}
	w.modCount = 0
	if cfg.sleep > 0 {
		time.Sleep(time.Duration(cfg.sleep) * time.Millisecond)
	}
	if cfg.yield {
		unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		runtime.Gosched()
	}
	if cfg.signal {
		sig := unix.SIGUSR1
		if cfg.sigName == "urg" {
			sig = unix.SIGURG
		}
		unix.Tgkill(os.Getpid(), unix.Gettid(), sig)
	}
}

// spin is a pause in a retry loop: now and then it lets other threads
// run, so that a lock holder the Go scheduler or the kernel descheduled
// gets the CPU back.
func (w *worker) spin(n int) {
	w.retries++
	switch {
	case n%256 == 255:
		runtime.Gosched()
	case n%32 == 31:
		unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
}

// startSignalHandler installs the SIGUSR1 handler for -k (signal.Notify;
// the channel is drained and counted) and returns its undo.
func (e *env) startSignalHandler() func() {
	if !e.cfg.signal || e.cfg.sigName != "usr1" {
		return func() {}
	}
	ch := make(chan os.Signal, 1024)
	signal.Notify(ch, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				e.sigRecv.Add(1)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// threadSet is the set of live worker thread ids.
type threadSet struct {
	mu   sync.Mutex
	tids map[int]bool
}

func (s *threadSet) add(tid int) {
	s.mu.Lock()
	if s.tids == nil {
		s.tids = map[int]bool{}
	}
	s.tids[tid] = true
	s.mu.Unlock()
}

func (s *threadSet) remove(tid int) {
	s.mu.Lock()
	delete(s.tids, tid)
	s.mu.Unlock()
}

// each calls f for each live thread, with the set locked: a thread
// cannot leave (and its id cannot be reused) while f runs.
func (s *threadSet) each(f func(tid int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tid := range s.tids {
		f(tid)
	}
}
