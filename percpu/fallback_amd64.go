// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

// archFallbacks lists the instructions this CPU has, cheapest first.
func archFallbacks() []int {
	var kinds []int
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf >= 7 {
		if _, _, ecx, _ := cpuid(7, 0); ecx&(1<<22) != 0 {
			kinds = append(kinds, fallbackRDPID)
		}
	}
	if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt >= 0x80000001 {
		if _, _, _, edx := cpuid(0x80000001, 0); edx&(1<<27) != 0 {
			kinds = append(kinds, fallbackRDTSCP)
		}
	}
	return kinds
}

func cpuid(eax, ecx uint32) (a, b, c, d uint32)

// rdpid returns TSC_AUX through RDPID.
func rdpid() uint32

// rdtscpAux returns TSC_AUX through RDTSCP.
func rdtscpAux() uint32
