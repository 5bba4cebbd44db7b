// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"runtime"
	"testing"

	"github.com/gorseq/gorseq/internal/asmnop"
	"github.com/gorseq/gorseq/internal/getcpu"
	"github.com/gorseq/gorseq/percpu"
)

var sink int

// The readers side by side: compare with benchstat, or read the ratios in
// one run. BenchmarkCPU should cost about BenchmarkAsmCall.

func BenchmarkCPU(b *testing.B) {
	s := 0
	for i := 0; i < b.N; i++ {
		s += percpu.CPU()
	}
	sink = s
}

func BenchmarkCID(b *testing.B) {
	s := 0
	for i := 0; i < b.N; i++ {
		s += percpu.CID()
	}
	sink = s
}

func BenchmarkAsmCall(b *testing.B) {
	s := 0
	for i := 0; i < b.N; i++ {
		s += int(asmnop.Int32())
	}
	sink = s
}

func BenchmarkGetcpuSyscall(b *testing.B) {
	s := 0
	for i := 0; i < b.N; i++ {
		c, _ := getcpu.Get()
		s += c
	}
	sink = s
}

// BenchmarkThreadCreate measures a thread's life: each iteration's
// goroutine locks its thread and exits, so the thread exits too and the
// next iteration needs a new one. Run it with the patched and the stock
// toolchain (or GODEBUG=rseq=0) to see what registration adds.
func BenchmarkThreadCreate(b *testing.B) {
	done := make(chan struct{})
	for i := 0; i < b.N; i++ {
		go func() {
			runtime.LockOSThread()
			done <- struct{}{}
		}()
		<-done
	}
}
