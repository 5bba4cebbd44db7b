// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64

package percpu

// Only amd64 reads the rseq area so far; elsewhere every read falls back.
// See cpu_amd64.go for the documentation.

// CPU returns the number of the CPU the calling goroutine is running on.
func CPU() int { return fallbackCPU() }

// Node returns the NUMA node of the CPU the calling goroutine is running on.
func Node() int { return fallbackNode() }

// CID returns the calling thread's concurrency ID, here the CPU number.
func CID() int { return fallbackCPU() }

func archFallbacks() []int { return nil }

func rdpid() uint32     { panic("percpu: rdpid is amd64-only") }
func rdtscpAux() uint32 { panic("percpu: rdtscp is amd64-only") }
