// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && (amd64 || arm64)

package percpu

import "golang.org/x/sys/unix"

// rseqThreadArea returns the address of the current thread's rseq area,
// as the critical sections find it, or 0 when the process has no rseq
// (inject_amd64.s, inject_arm64.s). The caller must be locked to its thread for the
// result to stay its own.
func rseqThreadArea() uintptr

// counterAddSlowCounted is counterAdd's slow path in this build
// (inject_amd64.s, inject_arm64.s): it counts the call in counterAddSlows and jumps to
// counterAddSlow. Only counterAdd jumps to it.
func counterAddSlowCounted(c *Counter, v int64)

// counterAddReleaseSlowCounted is counterAddRelease's, counted in the same
// counterAddSlows.
func counterAddReleaseSlowCounted(c *Counter, v int64)

func threadRseq(unregister bool) error {
	area := rseqThreadArea()
	if area == 0 {
		return ErrNoRseq
	}
	var flags uintptr
	if unregister {
		flags = 1 // RSEQ_FLAG_UNREGISTER
	}
	_, _, errno := unix.RawSyscall6(unix.SYS_RSEQ, area, uintptr(regLength), flags, rseqSig, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
