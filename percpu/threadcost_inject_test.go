// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && (amd64 || arm64)

package percpu_test

import (
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
)

// BenchmarkRseqRegisterPair measures what the runtime patch adds to each
// thread's life: one rseq registration (minit) and one unregistration
// (unminit). Compare it with BenchmarkThreadCreate in the same run: the
// ratio is the patch's cost on thread creation. The benchmark borrows its
// locked thread by unregistering the runtime's area for the duration.
func BenchmarkRseqRegisterPair(b *testing.B) {
	if !percpu.Status().Mode.Rseq() || percpu.Status().Mode != percpu.ModeRseqOwn {
		b.Fatalf("needs the patched toolchain in own mode, have %v", percpu.Status().Mode)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := percpu.ThreadRseq(true); err != nil {
		b.Fatalf("unregistering the runtime's area: %v", err)
	}
	defer func() {
		if err := percpu.ThreadRseq(false); err != nil {
			panic("registering the runtime's area again: " + err.Error())
		}
	}()
	// A global: the kernel keeps the address, so it must not move.
	area := (uintptr(unsafe.Pointer(&registerPairArea[0])) + 31) &^ 31
	for i := 0; i < b.N; i++ {
		if _, _, e := unix.RawSyscall6(unix.SYS_RSEQ, area, 32, 0, 0x53053053, 0, 0); e != 0 {
			b.Fatalf("register: %v", e)
		}
		if _, _, e := unix.RawSyscall6(unix.SYS_RSEQ, area, 32, 1, 0x53053053, 0, 0); e != 0 {
			b.Fatalf("unregister: %v", e)
		}
	}
}

var registerPairArea [64]byte
