// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// membarrier(2) commands (include/uapi/linux/membarrier.h).
const (
	membarrierPrivateExpedited             = 1 << 3
	membarrierRegisterPrivateExpedited     = 1 << 4
	membarrierPrivateExpeditedRseq         = 1 << 7
	membarrierRegisterPrivateExpeditedRseq = 1 << 8
	membarrierFlagCPU                      = 1 << 0
)

// ErrNoFence: the kernel cannot fence restartable sequences
// (membarrier's PRIVATE_EXPEDITED_RSEQ command needs Linux 5.10, and a
// seccomp filter may refuse membarrier).
var ErrNoFence = errors.New("percpu: the kernel has no membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ)")

// Fence waits until no restartable operation that started before the call
// is still running: each one has either committed or been aborted (and
// will start over, reading everything again). Code that unpublishes
// per-CPU memory (swaps the address that operations read, as with
// [AddIndirect]) calls Fence before it reuses or frees the old memory.
//
// Fence costs a system call that interrupts every CPU running a thread of
// the process: microseconds, meant for rare events. Without rseq in the
// process no restartable operation runs, and Fence returns nil at once.
// Where the kernel lacks the command it returns an error wrapping
// [ErrNoFence].
func Fence() error { return fence(0, 0) }

// FenceCPU is [Fence] for the restartable operations running on one CPU.
func FenceCPU(cpu int) error {
	if cpu < 0 || cpu >= shardCount {
		panic(fmt.Sprintf("percpu: FenceCPU(%d): CPU out of range [0, %d)", cpu, shardCount))
	}
	return fence(membarrierFlagCPU, cpu)
}

func fence(flags, cpu int) error {
	if mode == ModeFallback {
		return nil
	}
	if err := rseqFenceRegistered(); err != nil {
		return err
	}
	if _, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierPrivateExpeditedRseq, uintptr(flags), uintptr(cpu)); e != 0 {
		return fmt.Errorf("%w: %v", ErrNoFence, e)
	}
	return nil
}

// rseqFenceRegistered registers the process for PRIVATE_EXPEDITED_RSEQ
// once.
var rseqFenceRegistered = sync.OnceValue(func() error {
	if _, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierRegisterPrivateExpeditedRseq, 0, 0); e != 0 {
		return fmt.Errorf("%w: registering: %v", ErrNoFence, e)
	}
	return nil
})

// memoryFence makes every store that any thread of the process made before
// the call visible to the caller's later loads, as if each of them had run
// a full memory barrier: membarrier's PRIVATE_EXPEDITED command. It lets
// readers use plain stores and loads where a writer, rarely, pays for the
// ordering (see RWMutex). It reports false when the kernel cannot.
func memoryFence() bool {
	if !memoryFenceRegistered() {
		return false
	}
	_, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierPrivateExpedited, 0, 0)
	return e == 0
}

var memoryFenceRegistered = sync.OnceValue(func() bool {
	_, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierRegisterPrivateExpedited, 0, 0)
	return e == 0
})
