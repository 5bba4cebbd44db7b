// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && (amd64 || arm64)

package rseqcheck

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gorseq/gorseq/internal/getcpu"
	"github.com/gorseq/gorseq/percpu"
	"golang.org/x/sys/unix"
)

// ModeName returns the name the tests use for a percpu mode: "own",
// "glibc" or "fallback".
func ModeName(m percpu.Mode) string {
	switch m {
	case percpu.ModeRseqOwn:
		return "own"
	case percpu.ModeRseqGlibc:
		return "glibc"
	case percpu.ModeFallback:
		return "fallback"
	}
	return fmt.Sprintf("mode%d", int(m))
}

// PrintStatus writes percpu.Status and the runtime's gorseqABI as
// key=value lines.
func PrintStatus(w io.Writer) {
	st := percpu.Status()
	abi := ABI()
	fmt.Fprintf(w, "mode=%s\n", ModeName(st.Mode))
	fmt.Fprintf(w, "reason=%s\n", st.Reason)
	fmt.Fprintf(w, "abi_version=%d\n", st.ABIVersion)
	fmt.Fprintf(w, "feature_size=%d\n", st.FeatureSize)
	fmt.Fprintf(w, "length=%d\n", st.Length)
	fmt.Fprintf(w, "node_available=%t\n", st.NodeAvailable)
	fmt.Fprintf(w, "cid_available=%t\n", st.CIDAvailable)
	fmt.Fprintf(w, "threads_failed=%d\n", st.ThreadsFailed)
	fmt.Fprintf(w, "fallback=%s\n", st.Fallback)
	fmt.Fprintf(w, "rt_version=%d\n", abi.Version)
	fmt.Fprintf(w, "rt_mode=%d\n", abi.Mode)
	fmt.Fprintf(w, "rt_reason=%d\n", abi.Reason)
	fmt.Fprintf(w, "rt_errno=%d\n", abi.Errno)
	fmt.Fprintf(w, "rt_threads_failed=%d\n", abi.ThreadsFailed)
	fmt.Fprintf(w, "rt_tp_area=%d\n", abi.TPArea)
	fmt.Fprintf(w, "rt_tp_offset=%d\n", int(abi.TPOffset)) // negative on arm64 (TLS variant I)
}

// Thread is what CheckThread found on one thread.
type Thread struct {
	Tid    int
	Probe  string // Registered, Unregistered or an errno name
	Area   string // SameArea's answer, or "-" when not asked
	TP     string // TPArea's answer
	CPUBad string // "" when percpu.CPU agreed with getcpu, else details
}

// CheckThread probes the calling thread, which must be locked to its
// goroutine: its registration (Probe), whether the runtime's published area
// is the registered one (SameArea, asked only of registered threads when
// the runtime publishes an area), whether the thread-pointer path to the
// area agrees with the M's (TPArea), and whether percpu.CPU agrees with
// getcpu.
func CheckThread() Thread {
	t := Thread{Tid: unix.Gettid(), Probe: Probe(), Area: "-", TP: TPArea()}
	if t.Probe == Registered && RuntimeArea() != 0 {
		t.Area = SameArea()
	}
	t.CPUBad = CheckCPU()
	return t
}

// CheckCPU compares percpu.CPU with getcpu calls made right before and
// right after it. Only brackets in which the two getcpu calls agree (the
// thread did not move) count; it returns "" once one such bracket agrees
// with CPU, and a description of the last disagreement if none of 1000
// did.
func CheckCPU() string {
	bad := "the thread migrated during every try"
	for try := 0; try < 1000; try++ {
		c0, _ := getcpu.Get()
		c := percpu.CPU()
		c1, _ := getcpu.Get()
		if c0 != c1 {
			continue
		}
		if c == c0 {
			return ""
		}
		bad = fmt.Sprintf("percpu.CPU()=%d getcpu=%d", c, c0)
	}
	return bad
}

// Tally counts thread results by kind, for key=value reports.
type Tally struct {
	mu      sync.Mutex
	Threads int
	Tids    map[int]bool
	Probe   map[string]int
	Area    map[string]int
	TP      map[string]int
	CPUBad  int
	Fails   []string // details of unexpected results
}

// NewTally returns an empty Tally.
func NewTally() *Tally {
	return &Tally{Tids: map[int]bool{}, Probe: map[string]int{}, Area: map[string]int{}, TP: map[string]int{}}
}

// Add records one thread's result.
func (t *Tally) Add(r Thread) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Threads++
	t.Tids[r.Tid] = true
	t.Probe[r.Probe]++
	t.Area[r.Area]++
	tp := r.TP
	if strings.HasPrefix(tp, "mismatch") {
		tp = "mismatch"
		if len(t.Fails) < 20 {
			t.Fails = append(t.Fails, fmt.Sprintf("tid %d: %s", r.Tid, r.TP))
		}
	}
	t.TP[tp]++
	if r.CPUBad != "" {
		t.CPUBad++
		if len(t.Fails) < 20 {
			t.Fails = append(t.Fails, fmt.Sprintf("tid %d: %s", r.Tid, r.CPUBad))
		}
	}
}

// Print writes the tally as prefix_key=value lines: threads, distinct_tids,
// probe_<result>, area_<result>, tp_<result>, cpu_bad, and fail lines.
func (t *Tally) Print(w io.Writer, prefix string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(w, "%s_threads=%d\n", prefix, t.Threads)
	fmt.Fprintf(w, "%s_distinct_tids=%d\n", prefix, len(t.Tids))
	for _, k := range sortedKeys(t.Probe) {
		fmt.Fprintf(w, "%s_probe_%s=%d\n", prefix, k, t.Probe[k])
	}
	for _, k := range sortedKeys(t.Area) {
		name := k
		if name == "-" {
			name = "unchecked"
		}
		fmt.Fprintf(w, "%s_area_%s=%d\n", prefix, name, t.Area[k])
	}
	for _, k := range sortedKeys(t.TP) {
		name := k
		if name == "-" {
			name = "unchecked"
		}
		fmt.Fprintf(w, "%s_tp_%s=%d\n", prefix, name, t.TP[k])
	}
	fmt.Fprintf(w, "%s_cpu_bad=%d\n", prefix, t.CPUBad)
	for _, f := range t.Fails {
		fmt.Fprintf(w, "%s_fail=%s\n", prefix, f)
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LockedThreads runs n goroutines that each lock a thread and stay locked
// until all n have checked theirs, so that they are n distinct threads.
// They unlock afterwards, leaving the threads to the scheduler.
func LockedThreads(n int) *Tally {
	tally := NewTally()
	var locked, done sync.WaitGroup
	locked.Add(n)
	done.Add(n)
	release := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tally.Add(CheckThread())
			locked.Done()
			<-release
		}()
	}
	locked.Wait()
	close(release)
	done.Wait()
	return tally
}

// ExitingThreads runs n goroutines one after the other; each locks its
// thread, checks it and returns still locked, so that the runtime ends
// the thread. The next one therefore runs on another thread, most often a
// new one. It also returns how many of the n threads did not exist before
// (per /proc/self/task) and how many threads existed before.
func ExitingThreads(n int) (tally *Tally, fresh, before int) {
	pre := Tasks()
	tally = NewTally()
	ch := make(chan Thread)
	for i := 0; i < n; i++ {
		go func() {
			runtime.LockOSThread()
			ch <- CheckThread()
			// Return without unlocking: the thread exits.
		}()
		r := <-ch
		tally.Add(r)
		if !pre[r.Tid] {
			fresh++
		}
	}
	return tally, fresh, len(pre)
}

// Tasks returns the ids of the process's threads.
func Tasks() map[int]bool {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		panic(err)
	}
	m := map[int]bool{}
	for _, e := range ents {
		if id, err := strconv.Atoi(e.Name()); err == nil {
			m[id] = true
		}
	}
	return m
}
