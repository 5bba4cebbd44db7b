// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64

package percpu

// Without x86's TSC_AUX the fallback reads the CPU with the getcpu system
// call (arm64 has no vDSO getcpu).

func archFallbacks() []int { return nil }

func rdpid() uint32     { panic("percpu: rdpid is amd64-only") }
func rdtscpAux() uint32 { panic("percpu: rdtscp is amd64-only") }
