// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/internal/getcpu"
	"github.com/gorseq/gorseq/percpu"
)

// TestExpectedMode checks the mode against GORSEQ_EXPECT, which the
// project's test command sets: "rseq" with the patched toolchain (either
// rseq mode; "own" or "glibc" to name one), "fallback" with the stock one.
// Without it, the mode is only reported.
func TestExpectedMode(t *testing.T) {
	st := percpu.Status()
	t.Logf("status:\n%v", st)
	switch want := os.Getenv("GORSEQ_EXPECT"); want {
	case "rseq", "own", "glibc":
		if !st.Mode.Rseq() {
			t.Fatalf("GORSEQ_EXPECT=%s, but the mode is %v (%s)", want, st.Mode, st.Reason)
		}
		if want == "own" && st.Mode != percpu.ModeRseqOwn || want == "glibc" && st.Mode != percpu.ModeRseqGlibc {
			t.Fatalf("GORSEQ_EXPECT=%s, but the mode is %v", want, st.Mode)
		}
		// ABI 0 (a stock runtime) is glibc's registration, found by
		// percpu itself.
		if st.ABIVersion != 1 && !(st.ABIVersion == 0 && st.Mode == percpu.ModeRseqGlibc) || st.Reason != "" || st.Length < 32 {
			t.Errorf("%v with ABI %d, reason %q, length %d", st.Mode, st.ABIVersion, st.Reason, st.Length)
		}
		if st.ThreadsFailed != 0 {
			t.Errorf("%d threads failed to register", st.ThreadsFailed)
		}
	case "fallback":
		if st.Mode != percpu.ModeFallback || st.Reason == "" {
			t.Fatalf("GORSEQ_EXPECT=fallback, but the mode is %v, reason %q", st.Mode, st.Reason)
		}
	case "":
	default:
		t.Fatalf("GORSEQ_EXPECT=%q: want rseq, own, glibc or fallback", want)
	}
	if !strings.Contains(st.String(), st.Mode.String()) {
		t.Errorf("Info.String() does not name the mode:\n%s", st)
	}
}

// pinned runs f on a thread pinned to each allowed CPU in turn.
func pinned(t *testing.T, f func(cpu int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &orig)
	n := 0
	for cpu := 0; cpu < 8*len(orig); cpu++ {
		if !orig.IsSet(cpu) {
			continue
		}
		var one unix.CPUSet
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatalf("pinning to CPU %d: %v", cpu, err)
		}
		f(cpu)
		n++
	}
	if n == 0 {
		t.Fatal("no allowed CPU")
	}
}

func TestCPUPinned(t *testing.T) {
	pinned(t, func(cpu int) {
		for i := 0; i < 100; i++ {
			if got := percpu.CPU(); got != cpu {
				t.Fatalf("pinned to CPU %d, CPU() = %d", cpu, got)
			}
		}
		kcpu, knode := getcpu.Get()
		if kcpu != cpu {
			t.Fatalf("pinned to CPU %d, getcpu = %d", cpu, kcpu)
		}
		if got := percpu.Node(); got != knode {
			t.Errorf("on CPU %d, Node() = %d, getcpu node = %d", cpu, got, knode)
		}
		if cid := percpu.CID(); cid < 0 || cid >= runtime.NumCPU() {
			t.Errorf("on CPU %d, CID() = %d, want [0, %d)", cpu, cid, runtime.NumCPU())
		}
	})
}

// TestCIDUniqueAmongRunning checks the property that makes CID an index:
// threads that run at the same time have different CIDs. Each of
// NumCPU locked threads is pinned to its own CPU, so all run at once.
func TestCIDUniqueAmongRunning(t *testing.T) {
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for cpu := 0; cpu < 8*len(orig); cpu++ {
		if orig.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	var (
		start, done sync.WaitGroup
		mu          sync.Mutex
		seen        = map[int]int{}
	)
	start.Add(len(cpus))
	done.Add(len(cpus))
	for _, cpu := range cpus {
		go func() {
			defer done.Done()
			runtime.LockOSThread() // the thread exits with the goroutine
			var one unix.CPUSet
			one.Set(cpu)
			if err := unix.SchedSetaffinity(0, &one); err != nil {
				t.Errorf("pinning to CPU %d: %v", cpu, err)
			}
			start.Done()
			start.Wait()
			// While spinning here every thread is on its own CPU.
			cid := percpu.CID()
			mu.Lock()
			if other, dup := seen[cid]; dup {
				t.Errorf("CID %d on CPU %d and on CPU %d at the same time", cid, cpu, other)
			}
			seen[cid] = cpu
			mu.Unlock()
		}()
	}
	done.Wait()
}

// TestCPUConcurrent reads CPU from many goroutines: every value must be an
// allowed CPU.
func TestCPUConcurrent(t *testing.T) {
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4*runtime.NumCPU(); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10000; i++ {
				if c := percpu.CPU(); !orig.IsSet(c) {
					t.Errorf("CPU() = %d, not an allowed CPU", c)
					return
				}
				if i%100 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
}
