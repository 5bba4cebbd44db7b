// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && (amd64 || arm64)

package rseqcheck

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	flagUnregister = 1
	origLen        = 32
)

// Probe results.
const (
	Registered   = "registered"   // EINVAL or EBUSY: the thread has an area
	Unregistered = "unregistered" // the fresh area was accepted (and dropped again)
)

// Probe reports whether the calling thread has an rseq registration. It
// offers the kernel a fresh 32-byte area: a registered thread refuses it
// with EINVAL (another area registered) or EBUSY (this one). An
// unregistered thread accepts it; Probe unregisters it at once, so the
// thread is left as it was, and reports Unregistered. Any other errno
// (ENOSYS, or EPERM from a seccomp filter, ...) is reported by name.
//
// The caller must be locked to its thread (runtime.LockOSThread, or a
// cgo callback), or the answer is about some thread.
func Probe() string {
	buf := new([2 * origLen]byte)
	p := uintptr(unsafe.Pointer(&buf[0]))
	e := Offer(p+(origLen-p%origLen)%origLen, origLen)
	runtime.KeepAlive(buf)
	switch e {
	case unix.EINVAL, unix.EBUSY:
		return Registered
	case 0:
		return Unregistered
	}
	return ErrnoName(e)
}

// Offer offers the area at addr (length bytes, suitably aligned, kept
// alive by the caller) to the kernel as the calling thread's rseq area and
// returns the errno. On success (0) the registration has already been
// undone.
func Offer(addr uintptr, length uint32) unix.Errno {
	_, _, e := unix.RawSyscall6(unix.SYS_RSEQ, addr, uintptr(length), 0, Sig, 0, 0)
	if e == 0 {
		_, _, e2 := unix.RawSyscall6(unix.SYS_RSEQ, addr, uintptr(length), flagUnregister, Sig, 0, 0)
		if e2 != 0 {
			// The kernel would keep writing to memory the GC
			// may reuse: nothing sensible can continue.
			panic(fmt.Sprintf("rseqcheck: registered a probe area and cannot unregister it: %v", e2))
		}
	}
	return e
}

// ErrnoName returns "ENOSYS", "EPERM", ... for e, or "errno<N>".
func ErrnoName(e unix.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno%d", int(e))
}
