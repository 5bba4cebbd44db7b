// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && goexperiment.rseqinline && (amd64 || arm64)

package percpu

import (
	"fmt"
	_ "unsafe" // for go:linkname
)

// Add adds v to the counter.
//
// With gorseq's toolchain (GOEXPERIMENT=rseqinline, on by default there)
// Add inlines, and the compiler emits Add's critical section at each call
// site: the load of the thread's rseq area from g.m, the arming store, the
// read of cpu_id and one store to the CPU's rseq word as the commit (ADDQ
// on amd64; LDR, ADD, STR on arm64), with its own descriptor and abort
// handler (cmd/compile/internal/amd64's and arm64's rseq.go in
// patches/gorseq). When the section cannot run (c not yet in
// use, a thread without rseq, a CPU beyond the shards) Add makes the call
// it makes in other builds, counterAdd, whose assembly handles every case;
// in a process without rseq it makes the call at once.
func (c *Counter) Add(v int64) {
	if inline.shards == 0 || !counterAddInline(c, v, &inline, regionStrideShift) {
		counterAdd(c, v)
	}
}

// counterAddInline is the compiler's intrinsic (ssagen's rseq.go): it adds
// v to c's rseq word in the current CPU's shard with a restartable
// sequence emitted inline, and reports whether it did. The thread's area
// is at offset abi.ma in the m at offset abi.gm in g; abi.shards bounds
// cpu_id; shift (a constant) is log2 of the shard stride. The assembly
// body (counter_add_inline_*.s) runs only where the compiler does not
// intrinsify (-d=ssa/intrinsics/off) and returns false.
//
//go:noescape
func counterAddInline(c *Counter, v int64, abi *inlineABI, shift uintptr) bool

// inlineABI is what counterAddInline reads, in this layout (the
// intrinsic's contract with the compiler).
type inlineABI struct {
	gm, ma uintptr // offsets of m in g and of the area's address in m
	shards uint32  // 0 when the process has no rseq
}

// inline holds counterAddInline's operands: written once by init, before
// any Add can run. shards is 0 when the process has no rseq
// (GODEBUG=rseq=0, a kernel without it, a seccomp filter): Add then makes
// its call at once, and costs what it costs in other builds but a load,
// a test and a branch, instead of running the sequence up to its failed
// test of the area.
var inline inlineABI

// initInline fills inline, from status.go's init once it has decided
// whether the process has rseq through the runtime (initRuntimeABI).
func initInline(runtimeRseq bool) {
	if rt.version != abiVersion {
		// The compiler and the runtime come from the same GOROOT, so
		// this is a toolchain from another version of build.sh.
		panic(fmt.Sprintf("percpu: this toolchain inlines percpu's critical sections (GOEXPERIMENT=rseqinline), but its runtime's gorseq ABI is version %d, not %d: rebuild the toolchain with this module's build.sh, or build with GOEXPERIMENT=norseqinline", rt.version, abiVersion))
	}
	inline.gm, inline.ma = rt.gM, rt.mArea
	if runtimeRseq {
		inline.shards = uint32(shardCount)
	}
}

// inlineCS lists the addresses of the descriptors of every inline
// sequence in the binary: the linker fills in the runtime's
// gorseqInlineCS (cmd/link's rseqcs.go in patches/gorseq) when something
// refers to it, as this does. The machine-code test checks each one.
//
//go:linkname inlineCS runtime.gorseqInlineCS
var inlineCS []uintptr

// inlineSequences is Info.InlineSequences.
func inlineSequences() int { return len(inlineCS) }
