// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import "github.com/gorseq/gorseq/internal/getcpu"

// How the fallback reads the CPU, chosen once by initFallback.
const (
	fallbackGetcpu = iota // the getcpu system call
	fallbackRDPID         // RDPID: TSC_AUX without a TSC read
	fallbackRDTSCP        // RDTSCP: TSC_AUX, and a TSC read we discard
)

var (
	fallbackKind int
	fallbackName = "getcpu"
)

var fallbackNames = [...]string{fallbackGetcpu: "getcpu", fallbackRDPID: "rdpid", fallbackRDTSCP: "rdtscp"}

// initFallback picks the cheapest way to read the CPU without rseq. Linux
// on x86 stores (node << 12) | cpu in TSC_AUX on every CPU, which RDPID
// and RDTSCP read. An instruction is only used if it agrees with getcpu:
// a hypervisor may expose it without the kernel's value behind it.
func initFallback() {
	for _, k := range archFallbacks() {
		if fallbackAgrees(k) {
			fallbackKind, fallbackName = k, fallbackNames[k]
			return
		}
	}
}

// fallbackAgrees reports whether instruction kind k returned what getcpu
// did, in one of a few tries bracketed by getcpu calls that agree with
// each other (no migration in between).
func fallbackAgrees(k int) bool {
	for try := 0; try < 10; try++ {
		c0, n0 := getcpu.Get()
		c, n := tscAux(k)
		c1, n1 := getcpu.Get()
		if c0 != c1 || n0 != n1 {
			continue
		}
		return c == c0 && n == n0
	}
	return false
}

// fallbackCPU is CPU without rseq.
func fallbackCPU() int {
	cpu, _ := fallbackCPUNode()
	return cpu
}

// fallbackNode is Node without rseq.
func fallbackNode() int {
	_, node := fallbackCPUNode()
	return node
}

// fallbackCPUNode returns the current CPU and node without rseq.
func fallbackCPUNode() (cpu, node int) {
	if fallbackKind == fallbackGetcpu {
		return getcpu.Get()
	}
	return tscAux(fallbackKind)
}

// tscAux decodes TSC_AUX as Linux sets it: (node << 12) | cpu.
func tscAux(k int) (cpu, node int) {
	var aux uint32
	if k == fallbackRDPID {
		aux = rdpid()
	} else {
		aux = rdtscpAux()
	}
	return int(aux & 0xfff), int(aux >> 12)
}
