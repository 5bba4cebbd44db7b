// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/internal/getcpu"
	"github.com/gorseq/gorseq/percpu"
)

// demo pins its thread to each allowed CPU in turn and compares
// percpu.CPU with the kernel's getcpu there.
func demo() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		return fmt.Errorf("reading the CPU affinity: %w", err)
	}
	defer unix.SchedSetaffinity(0, &orig)

	fmt.Printf("pinning to each of %d allowed CPUs (%v):\n", orig.Count(), percpu.Status().Mode)
	for cpu := 0; cpu < 8*len(orig); cpu++ {
		if !orig.IsSet(cpu) {
			continue
		}
		var one unix.CPUSet
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			return fmt.Errorf("pinning to CPU %d: %w", cpu, err)
		}
		got := percpu.CPU()
		kcpu, knode := getcpu.Get()
		fmt.Printf("  pinned to %d: percpu.CPU()=%d Node()=%d CID()=%d, getcpu=%d/%d\n",
			cpu, got, percpu.Node(), percpu.CID(), kcpu, knode)
		if got != cpu || kcpu != cpu {
			return fmt.Errorf("pinned to CPU %d, percpu.CPU() says %d and getcpu says %d", cpu, got, kcpu)
		}
	}
	fmt.Println("percpu.CPU() matched the kernel on every CPU")
	return nil
}
