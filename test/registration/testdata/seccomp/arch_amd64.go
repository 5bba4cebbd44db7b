// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import "golang.org/x/sys/unix"

// auditArch is the seccomp_data.arch of this architecture's system calls.
const auditArch = unix.AUDIT_ARCH_X86_64 // 0xC000003E
