// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"fmt"
	_ "unsafe" // for go:linkname
)

// abiVersion is the version of runtime.gorseqABI this package understands.
const abiVersion = 1

// Runtime modes, as the patched runtime publishes them.
const (
	rtModeOff   = 0
	rtModeOwn   = 1
	rtModeGlibc = 2
)

// runtimeABI mirrors runtime.gorseqABI in gorseq's runtime patch
// (patches/gorseq/, on top of the series in patches/series/). Fields are
// only appended there; a change of meaning bumps the version.
type runtimeABI struct {
	version       uint32
	mode          uint32
	reason        uint32
	errno         uint32
	featureSize   uint32
	align         uint32
	length        uint32
	sig           uint32
	gM            uintptr
	mArea         uintptr
	threadsFailed uint32
	tpArea        uint32
	tpOffset      uintptr
}

// rt is the runtime's description of the process's rseq set-up. A patched
// runtime defines runtime.gorseqABI with a non-zero version, and the
// linker binds rt to it. A stock runtime has no such symbol, and rt is
// this package's own zero value: version 0, fallback.
//
//go:linkname rt runtime.gorseqABI
var rt runtimeABI

// How the assembly finds the current thread's rseq area, written once by
// init and read-only afterwards.
//
// rseqPath is rseqPathNone when the process has no rseq. With
// rseqPathTP, the area is at a base taken from the thread pointer, plus
// rseqTPOffset: on amd64 the base is the thread pointer's first word
// (%fs:0: glibc's TCB self-pointer in glibc mode, the runtime's copy of
// the area address in own mode without cgo); on arm64 it is the thread
// pointer itself (TPIDR_EL0, glibc mode). With
// rseqPathM, the area's address is at offset rseqMArea in the current m,
// which is at offset rseqGM in g.
var (
	rseqPath     uint8
	rseqTPOffset uintptr
	rseqGM       uintptr
	rseqMArea    uintptr
)

// Values of rseqPath; rseq_amd64.h and rseq_arm64.h have them too.
const (
	rseqPathNone = 0
	rseqPathTP   = 1
	rseqPathM    = 2
)

// Values of rt.tpArea: how every thread's area follows from its thread
// pointer, if it does. A rule this architecture's assembly does not
// implement (archTPRule) means the m path.
const (
	rtTPNone   = 0 // no rule
	rtTPDeref  = 1 // area = *(thread pointer) + tpOffset (amd64)
	rtTPDirect = 2 // area = thread pointer + tpOffset (arm64)
)

// Field offsets in struct rseq (include/uapi/linux/rseq.h).
const (
	rseqNodeIDEnd = 24 // node_id is at 20..24 (kernel 6.3+)
	rseqMMCIDEnd  = 28 // mm_cid is at 24..28 (kernel 6.3+)
)

// Reasons the runtime gives for rseq being off (runtime rseqOff*).
var runtimeReasons = map[uint32]string{
	1: "rseq disabled by GODEBUG=rseq=0",
	2: "the kernel has no rseq (ENOSYS)",
	3: "rseq refused (EPERM: a seccomp filter?)",
	4: "rseq registration failed",
}

// initRuntimeABI validates rt and returns the reason for falling back, or
// "" when the process has rseq.
func initRuntimeABI() string {
	switch {
	case rt.version == 0:
		return "the Go runtime has no gorseq patch (build with gorseq's build.sh toolchain)"
	case rt.version != abiVersion:
		return fmt.Sprintf("the runtime's gorseq ABI is version %d, this percpu understands %d: rebuild the toolchain with the build.sh of this module's version", rt.version, abiVersion)
	case rt.mode == rtModeOff:
		reason, ok := runtimeReasons[rt.reason]
		if !ok {
			reason = fmt.Sprintf("rseq off (runtime reason %d)", rt.reason)
		}
		if rt.errno != 0 {
			reason += fmt.Sprintf(", errno %d", rt.errno)
		}
		return reason
	case rt.mode != rtModeOwn && rt.mode != rtModeGlibc:
		return fmt.Sprintf("the runtime reports an unknown rseq mode %d", rt.mode)
	case rt.gM == 0 || rt.mArea == 0:
		return "the runtime publishes no offsets for the rseq area"
	}
	rseqGM, rseqMArea = rt.gM, rt.mArea
	rseqPath = rseqPathM
	if rt.tpArea == archTPRule {
		rseqPath, rseqTPOffset = rseqPathTP, rt.tpOffset
	}
	return ""
}
