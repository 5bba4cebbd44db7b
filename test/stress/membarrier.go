// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gorseq/gorseq/percpu"
	"golang.org/x/sys/unix"
)

func init() {
	register("membarrier", "workers AddIndirect through a base word; a manager swaps the active Block and fences with membarrier(PRIVATE_EXPEDITED_RSEQ): the retired Block never changes", func() scenario { return &membarrier{} })
}

// membarrier(2) commands and flags (include/uapi/linux/membarrier.h).
const (
	membarrierCmdQuery                       = 0
	membarrierCmdPrivateExpeditedRseq        = 1 << 7
	membarrierCmdRegisterPrivateExpeditedRse = 1 << 8
	membarrierCmdFlagCPU                     = 1 << 0
)

func sysMembarrier(cmd, flags, cpu int) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, uintptr(cmd), uintptr(flags), uintptr(cpu))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// membarrierSetup registers the process for the RSEQ fence, or says why
// it cannot.
func membarrierSetup(fakeMissing bool) error {
	mask, err := sysMembarrier(membarrierCmdQuery, 0, 0)
	if fakeMissing {
		mask, err = mask&^(membarrierCmdPrivateExpeditedRseq|membarrierCmdRegisterPrivateExpeditedRse), nil
	}
	switch {
	case errors.Is(err, unix.ENOSYS):
		return unsupportedError{"membarrier: the kernel has no membarrier system call (ENOSYS)"}
	case err != nil:
		return fmt.Errorf("membarrier(MEMBARRIER_CMD_QUERY): %w", err)
	case mask&membarrierCmdPrivateExpeditedRseq == 0 || mask&membarrierCmdRegisterPrivateExpeditedRse == 0:
		return unsupportedError{fmt.Sprintf("membarrier: the kernel lacks MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ (Linux 5.10+; MEMBARRIER_CMD_QUERY returned %#x)", mask)}
	}
	if _, err := sysMembarrier(membarrierCmdRegisterPrivateExpeditedRse, 0, 0); err != nil {
		return fmt.Errorf("membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ): %w", err)
	}
	return nil
}

// membarrier: two Blocks of one counter word; the base word holds the
// Addr of the active one. Workers add 1 with percpu.AddIndirect, which
// reads the base word inside its critical section. A manager thread swaps
// the base word to the other Block and fences with
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ): on all CPUs (three
// rounds in four) or on one allowed CPU (MEMBARRIER_CMD_FLAG_CPU). After a
// fence no section that read the old base can commit: the manager
// snapshots the retired Block (every shard, or the fenced CPU's shard),
// lets the workers run, and checks that the snapshot has not changed
// before the next swap makes the Block active again. Threads without rseq
// add to an atomic fallback word. Invariant: the retired Block never
// changes after a fence, and both Blocks plus the fallback word sum to the
// number of adds.
type membarrier struct {
	blocks [2]perCPU
	base   uint64 // Addr of the active Block; atomic stores and loads
	added  atomic.Int64
	fb     atomic.Int64

	rounds, cpuRounds, stableChecks atomic.Int64
}

func (s *membarrier) setup(e *env) (err error) {
	if err := membarrierSetup(e.cfg.fakeNoMembarrier); err != nil {
		return err
	}
	for i := range s.blocks {
		if s.blocks[i], err = allocPerCPU(8, percpu.ByCPU); err != nil {
			return err
		}
	}
	atomic.StoreUint64(&s.base, s.blocks[0].b.Addr())
	return nil
}

func (s *membarrier) close() {
	for _, b := range s.blocks {
		b.free()
	}
}

func (s *membarrier) step(w *worker) {
	_, err := percpu.AddIndirect(&s.base, 0, 1, percpu.ByCPU)
	switch err {
	case nil:
	case percpu.ErrNoRseq:
		s.fb.Add(1)
		w.fallbacks++
	default:
		w.e.fail("worker %d: AddIndirect: %v", w.id, err)
		return
	}
	s.added.Add(1)
	w.outside()
}

func (s *membarrier) background(e *env) func() error {
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		done <- s.manage(e, stop)
	}()
	return func() error {
		close(stop)
		return <-done
	}
}

// manage swaps and fences until stopped.
func (s *membarrier) manage(e *env, stop <-chan struct{}) error {
	r := rand.New(rand.NewPCG(e.cfg.seed, 0x3b))
	active := 0
	snap := make([]uint64, len(s.blocks[0].shards))
	for round := 0; ; round++ {
		select {
		case <-stop:
			return nil
		default:
		}
		old := s.blocks[active]
		active = 1 - active
		atomic.StoreUint64(&s.base, s.blocks[active].b.Addr())
		lo, hi := 0, len(snap) // the retired shards to watch
		if round%4 == 3 {
			cpu := e.cpus[r.IntN(len(e.cpus))]
			if _, err := sysMembarrier(membarrierCmdPrivateExpeditedRseq, membarrierCmdFlagCPU, cpu); err != nil {
				if !errors.Is(err, unix.ENXIO) { // the CPU went offline
					return fmt.Errorf("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, cpu %d): %w", cpu, err)
				}
				continue
			}
			lo, hi = cpu, cpu+1
			s.cpuRounds.Add(1)
		} else if _, err := sysMembarrier(membarrierCmdPrivateExpeditedRseq, 0, 0); err != nil {
			return fmt.Errorf("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ): %w", err)
		}
		for sh := lo; sh < hi; sh++ {
			snap[sh] = old.load(sh, 0)
		}
		// Let the workers run on the new Block a while, then look again.
		if d := r.IntN(300); d < 100 {
			for i := 0; i < d*100; i++ {
				sink.Add(1)
			}
		} else {
			time.Sleep(time.Duration(d) * time.Microsecond)
		}
		for sh := lo; sh < hi; sh++ {
			if v := old.load(sh, 0); v != snap[sh] {
				e.fail("membarrier: shard %d of the retired Block changed from %d to %d after the fence (round %d, fence on %s)",
					sh, snap[sh], v, round, fenceName(lo, hi, len(snap)))
			}
		}
		s.stableChecks.Add(int64(hi - lo))
		s.rounds.Add(1)
	}
}

func fenceName(lo, hi, n int) string {
	if lo == 0 && hi == n {
		return "all CPUs"
	}
	return fmt.Sprintf("CPU %d", lo)
}

func (s *membarrier) check(e *env) error {
	a, b := s.blocks[0].sumShards(0), s.blocks[1].sumShards(0)
	if want := s.added.Load(); a+b+s.fb.Load() != want {
		return fmt.Errorf("Blocks sum to %d + %d, fallback %d: %d, want %d", a, b, s.fb.Load(), a+b+s.fb.Load(), want)
	}
	if s.rounds.Load() == 0 {
		return errors.New("the manager never swapped the Blocks")
	}
	return nil
}

func (s *membarrier) report() [][2]string {
	return [][2]string{
		{"sum", fmt.Sprint(s.added.Load())},
		{"sum_fallback", fmt.Sprint(s.fb.Load())},
		{"fences", fmt.Sprint(s.rounds.Load())},
		{"fences_one_cpu", fmt.Sprint(s.cpuRounds.Load())},
	}
}
