// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package getcpu wraps the Linux getcpu system call: the kernel's own
// answer to "which CPU is this thread on", the reference that percpu's
// faster readers are checked against.
package getcpu

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Get returns the CPU and NUMA node the calling thread is running on. The
// system call cannot fail on Linux 2.6.19+.
func Get() (cpu, node int) {
	var c, n uint32
	unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&n)), 0)
	return int(c), int(n)
}
