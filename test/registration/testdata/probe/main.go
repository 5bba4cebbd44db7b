// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Command probe is the pure-Go child of the registration tests. It prints
// key=value lines about the rseq registration of its threads.
//
// Usage:
//
//	probe status                  percpu.Status and the main thread
//	probe threads -n N -exits E   N threads locked at once, then E threads
//	                              that exit one after the other
//	probe affinity -g G -rounds R G threads pin themselves to each allowed
//	                              CPU in turn, R times
//	probe fork -g G -n N          G threads each run "probe status" N times
//	                              (fork+exec) and check their own thread
//	                              before and after
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	"github.com/gorseq/gorseq/internal/getcpu"
	"github.com/gorseq/gorseq/percpu"
	"github.com/gorseq/gorseq/test/registration/internal/rseqcheck"
	"golang.org/x/sys/unix"
)

func init() {
	// Keep main on the main thread, so "main_" results are about m0.
	runtime.LockOSThread()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe status|threads|affinity|fork [flags]")
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	n := fs.Int("n", 64, "threads (threads) or runs per thread (fork)")
	exits := fs.Int("exits", 1000, "exiting threads (threads)")
	g := fs.Int("g", 4, "goroutines (affinity, fork)")
	rounds := fs.Int("rounds", 3, "rounds over the CPUs (affinity)")
	fs.Parse(os.Args[2:])

	rseqcheck.PrintStatus(w)
	m0 := rseqcheck.NewTally()
	m0.Add(rseqcheck.CheckThread())
	m0.Print(w, "main")

	switch os.Args[1] {
	case "status":
	case "threads":
		rseqcheck.LockedThreads(*n).Print(w, "locked")
		tally, fresh, before := rseqcheck.ExitingThreads(*exits)
		tally.Print(w, "exit")
		fmt.Fprintf(w, "exit_fresh=%d\nexit_before=%d\n", fresh, before)
		// The threads that are left must still be fine.
		rseqcheck.LockedThreads(*n).Print(w, "after")
		fmt.Fprintf(w, "final_threads_failed=%d\n", percpu.Status().ThreadsFailed)
	case "affinity":
		affinity(w, *g, *rounds)
	case "fork":
		fork(w, *g, *n)
	default:
		fmt.Fprintf(os.Stderr, "probe: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
	fmt.Fprintln(w, "done=1")
}

// affinity pins g locked threads to each allowed CPU in turn and checks
// that percpu.CPU, getcpu and the pinned CPU agree, that Node agrees with
// getcpu and that CID is in [0, NumCPU).
func affinity(w *bufio.Writer, g, rounds int) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		fmt.Fprintf(w, "error=sched_getaffinity: %v\n", err)
		return
	}
	var cpus []int
	for c := 0; c < 1024; c++ {
		if allowed.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	fmt.Fprintf(w, "allowed=%v\nnumcpu=%d\n", strings.Trim(fmt.Sprint(cpus), "[]"), runtime.NumCPU())
	var mu sync.Mutex
	pins, bad := 0, 0
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			// Return locked: the thread, with its changed
			// affinity, exits with the goroutine.
			for r := 0; r < rounds; r++ {
				for _, c := range cpus {
					var set unix.CPUSet
					set.Set(c)
					if err := unix.SchedSetaffinity(0, &set); err != nil {
						mu.Lock()
						bad++
						fmt.Fprintf(w, "pin_fail=cpu %d: sched_setaffinity: %v\n", c, err)
						mu.Unlock()
						continue
					}
					// sched_setaffinity returns on an allowed CPU.
					cpu := percpu.CPU()
					node := percpu.Node()
					cid := percpu.CID()
					gc, gn := getcpu.Get()
					mu.Lock()
					pins++
					seen[cpu] = true
					if cpu != c || gc != c || node != gn || cid < 0 || cid >= runtime.NumCPU() {
						bad++
						fmt.Fprintf(w, "pin_fail=pinned %d: percpu.CPU %d, getcpu %d, percpu.Node %d, getcpu node %d, percpu.CID %d (NumCPU %d)\n",
							c, cpu, gc, node, gn, cid, runtime.NumCPU())
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(w, "pins=%d\npin_bad=%d\npin_cpus_seen=%d\n", pins, bad, len(seen))
}

// fork has g locked goroutines run this program's "status" mode n times
// each, all at once, and checks that every run exits 0 and reports its
// main thread registered, and that each goroutine's own thread is still
// registered afterwards.
func fork(w *bufio.Writer, g, n int) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(w, "error=%v\n", err)
		return
	}
	before, after := rseqcheck.NewTally(), rseqcheck.NewTally()
	var mu sync.Mutex
	runs, ok := 0, 0
	children := map[string]int{}
	var fails []string
	var wg sync.WaitGroup
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			before.Add(rseqcheck.CheckThread())
			for j := 0; j < n; j++ {
				var stderr bytes.Buffer
				cmd := exec.Command(self, "status")
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				probe := field(out, "main_probe_registered")
				mu.Lock()
				runs++
				if err == nil && stderr.Len() == 0 && probe == "1" {
					ok++
				} else if len(fails) < 10 {
					fails = append(fails, fmt.Sprintf("err=%v stderr=%q stdout=%q", err, stderr.String(), out))
				}
				children["mode_"+field(out, "mode")]++
				mu.Unlock()
			}
			after.Add(rseqcheck.CheckThread())
		}()
	}
	wg.Wait()
	before.Print(w, "parent_before")
	after.Print(w, "parent_after")
	rseqcheck.LockedThreads(g).Print(w, "parent_final")
	fmt.Fprintf(w, "fork_runs=%d\nfork_ok=%d\n", runs, ok)
	for k, v := range children {
		fmt.Fprintf(w, "fork_child_%s=%d\n", k, v)
	}
	for _, f := range fails {
		fmt.Fprintf(w, "fork_fail=%s\n", f)
	}
}

// field returns the value of key in key=value output, or "".
func field(out []byte, key string) string {
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	return ""
}
