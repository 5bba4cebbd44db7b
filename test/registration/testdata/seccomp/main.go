// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Command seccomp installs a seccomp filter that makes the rseq system call
// fail with a chosen errno, allows every other system call, and executes
// a program under it. The registration tests build it with the stock
// toolchain, so that it has no rseq of its own to worry about.
//
// Usage:
//
//	seccomp ERRNO PROGRAM [ARGS...]
//
// ERRNO is ENOSYS, EPERM or EACCES.
package main

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	// The filter and the exec must happen on the same thread.
	runtime.LockOSThread()
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: seccomp ENOSYS|EPERM|EACCES PROGRAM [ARGS...]")
	}
	errnos := map[string]unix.Errno{"ENOSYS": unix.ENOSYS, "EPERM": unix.EPERM, "EACCES": unix.EACCES}
	errno, ok := errnos[os.Args[1]]
	if !ok {
		fail("seccomp: unknown errno %q", os.Args[1])
	}

	// seccomp_data: nr at offset 0, arch at offset 4.
	prog := []unix.SockFilter{
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 4),
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, auditArch, 1, 0),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW), // another ABI: leave it alone
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 0),
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, unix.SYS_RSEQ, 0, 1),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(errno)),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}

	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fail("seccomp: PR_SET_NO_NEW_PRIVS: %v", err)
	}
	// TSYNC: every thread of this process gets the filter, not only the
	// one that execs (which is the one that matters).
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		fail("seccomp: SECCOMP_SET_MODE_FILTER: %v", e)
	}
	runtime.KeepAlive(prog)

	// Check that the filter does what it should before handing over.
	if _, _, e := unix.RawSyscall6(unix.SYS_RSEQ, 0, 0, 0, 0, 0, 0); e != errno {
		fail("seccomp: rseq under the filter gave %v, want %v", e, errno)
	}
	err := unix.Exec(os.Args[2], os.Args[2:], os.Environ())
	fail("seccomp: exec %s: %v", os.Args[2], err)
}

func stmt(code uint16, k uint32) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k}
}

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(3)
}
