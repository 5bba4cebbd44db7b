// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64

package percpu

// Only amd64 has rseq readers so far; elsewhere every read falls back.

func rseqCPU() int32  { return -1 }
func rseqNode() int32 { return -1 }
func rseqCID() int32  { return -1 }

func archFallbacks() []int { return nil }

func rdpid() uint32     { panic("percpu: rdpid is amd64-only") }
func rdtscpAux() uint32 { panic("percpu: rdtscp is amd64-only") }
