// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64 && !arm64

package percpu

// Architectures without assembly readers of the rseq area (all but amd64
// and arm64): every read falls back. See cpu_asm.go for the documentation.

// CPU returns the number of the CPU the calling goroutine is running on.
func CPU() int { return fallbackCPU() }

// Node returns the NUMA node of the CPU the calling goroutine is running on.
func Node() int { return fallbackNode() }

// CID returns the calling thread's concurrency ID, here the CPU number.
func CID() int { return fallbackCPU() }
