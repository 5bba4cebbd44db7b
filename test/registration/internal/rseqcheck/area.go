// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && (amd64 || arm64)

package rseqcheck

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RuntimeABI mirrors runtime.gorseqABI, version 1, of the gorseq runtime
// patch (patches/gorseq/). It is read independently of
// percpu, so that the tests check the runtime's own word against the
// kernel's.
type RuntimeABI struct {
	Version       uint32
	Mode          uint32 // 0 off, 1 own, 2 glibc
	Reason        uint32
	Errno         uint32
	FeatureSize   uint32
	Align         uint32
	Length        uint32
	Sig           uint32
	GM            uintptr
	MArea         uintptr
	ThreadsFailed uint32
	TPArea        uint32  // 0 none; 1: area = *(thread pointer) + TPOffset (amd64); 2: area = thread pointer + TPOffset (arm64)
	TPOffset      uintptr // see TPArea
}

// rt binds to runtime.gorseqABI with a patched runtime. A stock runtime
// has no such symbol and rt stays zero: version 0.
//
//go:linkname rt runtime.gorseqABI
var rt RuntimeABI

// ABI returns a copy of the runtime's gorseqABI (all zero without the
// patch).
func ABI() RuntimeABI {
	return rt
}

// getg returns the current goroutine's g (from TLS).
func getg() unsafe.Pointer

// RuntimeArea returns the address of the rseq area the runtime published
// for the calling thread's M (m.mOS.rseq.area), or 0 without a version 1
// gorseqABI. The caller must be locked to its thread.
func RuntimeArea() uintptr {
	if rt.Version != 1 || rt.GM == 0 || rt.MArea == 0 {
		return 0
	}
	mp := *(*unsafe.Pointer)(unsafe.Add(getg(), rt.GM))
	return *(*uintptr)(unsafe.Add(mp, rt.MArea))
}

// TPArea reports whether the thread-pointer rule the runtime advertises
// (gorseqABI.tpArea), which percpu's readers take, leads to the same area
// as m.mOS.rseq.area: "match", "mismatch: ..." or "-" when the runtime
// advertises no rule. The rule must be this architecture's (tpRule:
// *(%fs:0) + tpOffset on amd64, TPIDR_EL0 + tpOffset on arm64); any other
// is a mismatch. The caller must be locked to its thread.
func TPArea() string {
	if rt.Version != 1 || rt.TPArea == 0 {
		return "-"
	}
	if rt.TPArea != tpRule {
		return fmt.Sprintf("mismatch: gorseqABI.tpArea=%d, the rule of %s is %d", rt.TPArea, runtime.GOARCH, tpRule)
	}
	tp, how := tpRuleArea(rt.TPOffset)
	if m := RuntimeArea(); tp != m {
		return fmt.Sprintf("mismatch: %s=%#x, m.rseq.area=%#x", how, tp, m)
	}
	return "match"
}

// Area results of SameArea.
const (
	AreaSame      = "same"      // the kernel has the runtime's area registered
	AreaDifferent = "different" // the kernel has another area (or length) registered
	AreaNone      = "none"      // the runtime published no area
)

// SameArea reports whether the area the runtime published for the calling
// thread's M is the one the kernel has registered for the thread: offering
// it again with the registered length gives EBUSY, while another area or
// length gives EINVAL. Lengths tried: the runtime's own registration length
// and the 32 bytes glibc 2.35-2.39 registers, then the larger lengths
// newer glibc may use. Call it only on a registered thread (see Probe): on
// an unregistered one the offer would briefly succeed.
func SameArea() string {
	addr := RuntimeArea()
	if addr == 0 {
		return AreaNone
	}
	lengths := []uint32{rt.Length, 32, 64, 128, 256}
	for _, l := range lengths {
		if l == 0 {
			continue
		}
		switch e := Offer(addr, l); e {
		case unix.EBUSY:
			return AreaSame
		case unix.EINVAL:
			continue
		case 0:
			return Unregistered
		default:
			return ErrnoName(e)
		}
	}
	return AreaDifferent
}
