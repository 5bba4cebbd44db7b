// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Command cgoprobe is the cgo child of the registration tests. It checks
// the rseq registration of its Go threads (as the probe child does), of C
// threads while they call into Go (from the Go callback) and from C
// before, between and after those calls, and of C threads that take a
// signal Go handles. With -foreign F it checks instead F C threads that
// register an rseq area of their own before calling into Go, then F
// ordinary ones. It prints key=value lines.
//
// Usage:
//
//	cgoprobe [-n N] [-exits E] [-threads T] [-calls C] [-waves W] [-signals S]
//	cgoprobe -foreign F [-calls C]
package main

/*
#include "cthreads.h"
*/
import "C"

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/gorseq/gorseq/percpu"
	"github.com/gorseq/gorseq/test/registration/internal/rseqcheck"
)

func init() {
	runtime.LockOSThread()
}

var callbacks = rseqcheck.NewTally()

//export goCallback
func goCallback(id, call C.int) {
	// A cgo callback runs locked to the calling C thread.
	callbacks.Add(rseqcheck.CheckThread())
}

var foreignCallbacks = rseqcheck.NewTally()

//export goForeignCallback
func goForeignCallback(id, call C.int) {
	foreignCallbacks.Add(rseqcheck.CheckThread())
}

var phases = []string{
	C.PH_START: "start", C.PH_BETWEEN: "between", C.PH_EXIT: "exit",
	C.PH_SIG_BEFORE: "sig_before", C.PH_SIG_AFTER: "sig_after",
	C.PH_FOREIGN_REG: "foreign_reg", C.PH_FOREIGN_UNREG: "foreign_unreg",
}
var kinds = []string{C.KIND_REGISTERED: rseqcheck.Registered, C.KIND_UNREGISTERED: rseqcheck.Unregistered, C.KIND_OTHER: "other"}

func main() {
	n := flag.Int("n", 64, "Go threads locked at once")
	exits := flag.Int("exits", 200, "Go threads that exit one after the other")
	threads := flag.Int("threads", 16, "C threads per wave")
	calls := flag.Int("calls", 50, "calls into Go per C thread")
	waves := flag.Int("waves", 3, "waves of C threads")
	signals := flag.Int("signals", 16, "C threads that take a signal, one after the other")
	foreign := flag.Int("foreign", 0, "only run this many C threads with their own rseq area")
	flag.Parse()

	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	rseqcheck.PrintStatus(w)
	m0 := rseqcheck.NewTally()
	m0.Add(rseqcheck.CheckThread())
	m0.Print(w, "main")

	if *foreign > 0 {
		if err := C.run_foreign_threads(0, C.int(*foreign), C.int(*calls)); err != 0 {
			fmt.Fprintf(w, "error=pthread_create: %v\n", syscall.Errno(err))
		}
		foreignCallbacks.Print(w, "fcb")
		// Then as many ordinary C threads, which get the extra Ms
		// the foreign ones had.
		if err := C.run_callback_threads(C.int(*foreign), C.int(*foreign), C.int(*calls)); err != 0 {
			fmt.Fprintf(w, "error=pthread_create: %v\n", syscall.Errno(err))
		}
		callbacks.Print(w, "cb")
		printCounts(w)
		fmt.Fprintf(w, "final_threads_failed=%d\n", percpu.Status().ThreadsFailed)
		fmt.Fprintln(w, "done=1")
		return
	}

	rseqcheck.LockedThreads(*n).Print(w, "locked")
	tally, fresh, before := rseqcheck.ExitingThreads(*exits)
	tally.Print(w, "exit")
	fmt.Fprintf(w, "exit_fresh=%d\nexit_before=%d\n", fresh, before)

	for i := 0; i < *waves; i++ {
		if err := C.run_callback_threads(C.int(i**threads), C.int(*threads), C.int(*calls)); err != 0 {
			fmt.Fprintf(w, "error=pthread_create: %v\n", syscall.Errno(err))
		}
	}
	callbacks.Print(w, "cb")

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	received := 0
	for i := 0; i < *signals; i++ {
		if err := C.run_signal_thread(C.int(syscall.SIGUSR1)); err != 0 {
			fmt.Fprintf(w, "error=pthread_create: %v\n", syscall.Errno(err))
			continue
		}
		// One signal at a time: signals of one kind coalesce.
		select {
		case <-sigs:
			received++
		case <-time.After(10 * time.Second):
		}
	}
	fmt.Fprintf(w, "signals_sent=%d\nsignals_received=%d\n", *signals, received)

	printCounts(w)
	rseqcheck.LockedThreads(*n).Print(w, "after")
	fmt.Fprintf(w, "final_threads_failed=%d\n", percpu.Status().ThreadsFailed)
	fmt.Fprintln(w, "done=1")
}

// printCounts writes what the C threads found, as c_<phase>_<kind>=count.
func printCounts(w *bufio.Writer) {
	for p, pn := range phases {
		for k, kn := range kinds {
			fmt.Fprintf(w, "c_%s_%s=%d\n", pn, kn, C.get_count(C.int(p), C.int(k)))
		}
	}
}
