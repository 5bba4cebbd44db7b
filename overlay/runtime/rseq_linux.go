// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64 || arm64

package runtime

import (
	"internal/goarch"
	"internal/runtime/atomic"
	"unsafe"
)

// Restartable sequences (rseq) for every M.
//
// Linux publishes the current CPU of a thread in a per-thread area that the
// thread registers with the rseq system call (kernel 4.18+), and restarts a
// short critical section described by that area if the thread is preempted,
// migrated or signalled inside it. The runtime makes sure every M that runs
// Go code has such a registration, so that packages outside the runtime
// (github.com/gorseq/gorseq/percpu) can build per-CPU data on it.
//
// Who owns the area:
//
//   - Without cgo, or with cgo when glibc did not register rseq
//     (GLIBC_TUNABLES=glibc.pthread.rseq=0, or a libc that does not know
//     rseq), each M registers the area embedded in its own mOS (mOS.rseq.buf)
//     in minit and unregisters it in unminit, which runs both in dropm and in
//     mexit before the m can be freed. mdestroy checks again. The kernel
//     writes the area whenever the thread returns to user space while the
//     registration is live, so the registration must end before the m's
//     memory can be reused.
//   - With cgo on glibc >= 2.35, glibc registered its own area in the
//     thread's TCB when it created the thread (or at start-up for the main
//     thread). The M adopts it: it records thread pointer + __rseq_offset and
//     forgets it in unminit. glibc unregisters it when the thread exits.
//
// In both cases mOS.rseq.area points at the area the M must use; it is never
// zero after minit, so readers need no nil check. When the thread has no
// live registration, it points at mOS.rseq.buf with cpu_id set to
// rseqCPUUninitialized (-1, rseq is off) or rseqCPURegistrationFailed (-2,
// this thread failed while others succeeded). Readers treat any negative
// cpu_id as "no rseq on this thread".
//
// Who writes what, when:
//
//   - mOS.rseq.area, mOS.rseq.own, and m.tls[1] where rseqSetArea mirrors
//     the area there: only the M's own thread, in minit, unminit and
//     mdestroy. Read by code running on that same thread (the
//     current goroutine's g.m), so no synchronisation is needed.
//   - The area's cpu_id_start, cpu_id, node_id and mm_cid: only the kernel,
//     while the registration is live. The runtime initialises cpu_id before
//     registering and after unregistering, never in between (kernels 7.0+
//     kill a process that writes them in the optimised mode).
//   - The area's rseq_cs: the thread itself (a critical section stores its
//     descriptor there) and the kernel (it clears it on abort).
//   - rseqState: m0 in its minit, once, before any other M can run minit
//     (extra Ms and new Ms are only created after m0's minit). Read-only
//     afterwards.

// struct rseq as the kernel defines it (include/uapi/linux/rseq.h). Only
// the fields up to mm_cid are named; newer fields live in the rest of the
// registered length and are left to the kernel.
type rseqArea struct {
	cpuIDStart uint32 // offset 0, written by the kernel
	cpuID      int32  // offset 4, written by the kernel; <0: not registered
	rseqCS     uint64 // offset 8, pointer to the current struct rseq_cs
	flags      uint32 // offset 16, must stay 0
	nodeID     uint32 // offset 20, kernel 6.3+
	mmCID      uint32 // offset 24, kernel 6.3+
}

const (
	// rseqOrigLen is the length of the original (4.18) struct rseq and
	// the minimum registration length and alignment.
	rseqOrigLen = 32

	// rseqBufAlign and rseqBufLen bound the own area this runtime can
	// register: an area of up to rseqBufLen bytes aligned to up to
	// rseqBufAlign. A kernel asking for more (a feature size above 32)
	// gets the original 32-byte registration, which every kernel accepts
	// and which holds every field up to mm_cid. The buffer is kept this
	// small on purpose: m must stay in a size class whose alignment the
	// runtime's spinbit mutex needs (go1.27 checks this at start-up).
	rseqBufAlign = 32
	rseqBufLen   = 32

	rseqFlagUnregister = 1

	rseqCPUUninitialized      = -1
	rseqCPURegistrationFailed = -2

	// auxv keys of kernel 6.3+.
	_AT_RSEQ_FEATURE_SIZE = 27
	_AT_RSEQ_ALIGN        = 28

	// The feature size of a kernel that does not report one: cpu_id_start,
	// cpu_id, rseq_cs and flags.
	rseqOrigFeatureSize = 20

	_EPERM = 1
	_EBUSY = 16
)

// rseqSig is the signature that must precede every abort handler. These are
// the values glibc, librseq and the kernel selftests use, so that all of
// them can share one registration.
const rseqSig = 0x53053053*goarch.IsAmd64 + 0xd428bc00*goarch.IsArm64

// mRseq is the per-M rseq state, embedded in mOS.
type mRseq struct {
	// area is the address of the struct rseq this M's thread uses. Never
	// zero after minit. See the comment at the top of this file.
	area uintptr

	// own reports that area is buf, registered by this M with the kernel,
	// so that this M must unregister it before buf can be reused.
	own bool

	// buf holds the M's own area at an aligned offset. It is written by
	// the kernel while own is true.
	buf [rseqBufLen + rseqBufAlign]byte
}

// rseq modes, as published in gorseqABI.mode.
const (
	rseqModeOff   = 0 // no rseq: see gorseqABI.reason
	rseqModeOwn   = 1 // the runtime registers an area per M
	rseqModeGlibc = 2 // glibc registered every thread; Ms adopt its area
)

// Reasons rseq is off, as published in gorseqABI.reason.
const (
	rseqOffNone     = 0 // rseq is on
	rseqOffGodebug  = 1 // GODEBUG=rseq=0
	rseqOffNoKernel = 2 // the kernel has no rseq (ENOSYS)
	rseqOffRefused  = 3 // refused (EPERM, e.g. a seccomp filter)
	rseqOffError    = 4 // registration failed with another errno
)

// gorseqABIVersion is the version of the gorseqABI layout and of the rules
// above. A reader that does not know the version must not use the area.
const gorseqABIVersion = 1

// gorseqABI describes the process's rseq set-up to
// github.com/gorseq/gorseq/percpu, which pulls it with linkname. The
// variable is initialised (not zero), so that the linker picks this
// definition over the zero-valued one a reader declares: with a runtime
// that lacks this file, the reader sees version 0 and falls back.
//
// The layout is part of the ABI: fields are only ever appended, and any
// change of meaning bumps gorseqABIVersion. All fields are written by m0's
// minit before any user code runs, except threadsFailed.
//
//go:linkname gorseqABI
var gorseqABI = gorseqABIType{version: gorseqABIVersion}

type gorseqABIType struct {
	version       uint32  // gorseqABIVersion
	mode          uint32  // rseqMode*
	reason        uint32  // rseqOff*, when mode is rseqModeOff
	errno         uint32  // errno behind reason, if any
	featureSize   uint32  // AT_RSEQ_FEATURE_SIZE, or 20 when absent
	align         uint32  // AT_RSEQ_ALIGN, or 32 when absent
	length        uint32  // length of the areas the runtime registers
	sig           uint32  // rseqSig
	gM            uintptr // offset of m in g
	mArea         uintptr // offset of mOS.rseq.area in m
	threadsFailed uint32  // Ms whose registration failed while mode was on; atomic
	tpArea        uint32  // rseqTP*: how every M's area follows from the thread pointer
	tpOffset      uintptr // see tpArea
}

// Values of gorseqABI.tpArea. A reader that does not know a value takes
// the m path (gM, mArea), which always holds.
const (
	rseqTPNone   = 0 // no rule: use the m path
	rseqTPDeref  = 1 // area = *(thread pointer) + tpOffset (amd64: %fs:0)
	rseqTPDirect = 2 // area = thread pointer + tpOffset (arm64: TPIDR_EL0)
)

// rseqState holds what m0 decided at start-up.
var rseqState struct {
	inited  bool    // m0 ran rseqinit
	tlsArea bool    // mirror mOS.rseq.area in m.tls[1]; see rseqSetArea
	length  uint32  // registration length for own areas
	align   uint32  // alignment of own areas
	offset  uintptr // glibc: __rseq_offset
}

// rseqGlibcInfo is filled by runtime/cgo's x_cgo_rseq_info.
type rseqGlibcInfo struct {
	offset uintptr // __rseq_offset
	size   uintptr // __rseq_size; 0: glibc did not register
}

// _cgo_rseq_info is set by runtime/cgo when cgo is linked in.
//
//go:linkname _cgo_rseq_info _cgo_rseq_info
var _cgo_rseq_info unsafe.Pointer

// sysRseq is the rseq system call. It returns 0 or a negative errno.
//
//go:noescape
func sysRseq(area unsafe.Pointer, length uint32, flags int32, sig uint32) int32

// rseqThreadPointer returns the thread pointer as the C library sees it
// (%fs base on amd64, TPIDR_EL0 on arm64). Only meaningful with cgo.
func rseqThreadPointer() uintptr

// rseqinit decides the process-wide mode. It runs on m0 in minit, after
// schedinit has read the environment and before any other M exists.
func rseqinit() {
	rseqState.inited = true
	abi := &gorseqABI
	abi.gM = unsafe.Offsetof(g{}.m)
	abi.mArea = unsafe.Offsetof(m{}.mOS) + unsafe.Offsetof(mOS{}.rseq) + unsafe.Offsetof(mRseq{}.area)
	abi.sig = rseqSig
	abi.featureSize = rseqOrigFeatureSize
	abi.align = rseqOrigLen
	for i := 0; i+1 < len(auxv); i += 2 {
		switch auxv[i] {
		case _AT_RSEQ_FEATURE_SIZE:
			abi.featureSize = uint32(auxv[i+1])
		case _AT_RSEQ_ALIGN:
			abi.align = uint32(auxv[i+1])
		}
	}
	length, align := uint32(rseqOrigLen), uint32(rseqOrigLen)
	if abi.featureSize > length {
		length = abi.featureSize
	}
	if abi.align > align {
		align = abi.align
	}
	length = (length + align - 1) &^ (align - 1)
	if length > rseqBufLen || align > rseqBufAlign || align&(align-1) != 0 {
		// Too large for buf: the original ABI is always accepted.
		length, align = rseqOrigLen, rseqOrigLen
	}
	rseqState.length, rseqState.align = length, align
	abi.length = length

	if rseqGodebugOff() {
		abi.mode, abi.reason = rseqModeOff, rseqOffGodebug
		return
	}
	if _cgo_rseq_info != nil {
		var info rseqGlibcInfo
		asmcgocall(_cgo_rseq_info, unsafe.Pointer(&info))
		if info.size != 0 {
			rseqState.offset = info.offset
			abi.mode = rseqModeGlibc
			// glibc's area is at a fixed offset from its thread
			// pointer on every thread. On amd64 the thread pointer's
			// first word is the TCB's own address (the x86-64 TLS
			// ABI), which is the base readers load from %fs:0; on
			// arm64 the base is TPIDR_EL0 itself (TLS variant I: the
			// offset is negative). Go leaves both alone under cgo.
			switch {
			case goarch.IsAmd64 == 1:
				abi.tpArea, abi.tpOffset = rseqTPDeref, info.offset
			case goarch.IsArm64 == 1:
				abi.tpArea, abi.tpOffset = rseqTPDirect, info.offset
			}
			return
		}
	}
	// Register m0's own area now, as the probe.
	mp := getg().m
	rseqState.tlsArea = goarch.IsAmd64 == 1 && !iscgo
	switch errno := rseqRegister(mp); errno {
	case 0:
	case _EBUSY, _EINVAL:
		// The main thread was registered before the runtime started,
		// at an address the runtime cannot learn: the dynamic loader
		// of glibc 2.35+ does this for a PIE or dynamically linked
		// binary without cgo (and the runtime then replaced the
		// thread pointer). The kernel keeps writing that area, which
		// is never freed. Threads made by the runtime start
		// unregistered, so rseq stays on for them; m0 takes the slow
		// path (its area says rseqCPURegistrationFailed).
		atomic.Xadd(&abi.threadsFailed, 1)
	default:
		abi.mode, abi.errno = rseqModeOff, uint32(errno)
		switch errno {
		case _ENOSYS:
			abi.reason = rseqOffNoKernel
		case _EPERM:
			abi.reason = rseqOffRefused
		default:
			abi.reason = rseqOffError
		}
		return
	}
	abi.mode = rseqModeOwn
	if rseqState.tlsArea {
		abi.tpArea = rseqTPDeref
	}
}

// rseqGodebugOff reports whether GODEBUG has rseq=0. The last setting wins,
// as with the runtime's own GODEBUG keys. Only the environment variable
// counts: rseq is not in internal/godebugs' table, so //go:debug lines and
// go.mod godebug settings cannot name it.
func rseqGodebugOff() bool {
	s := gogetenv("GODEBUG")
	off := false
	for s != "" {
		i := 0
		for i < len(s) && s[i] != ',' {
			i++
		}
		kv := s[:i]
		if i < len(s) {
			i++
		}
		s = s[i:]
		if len(kv) > 5 && kv[:5] == "rseq=" {
			off = kv[5:] == "0"
		}
	}
	return off
}

// rseqOwnArea returns the aligned area inside mp's buf.
//
//go:nosplit
func rseqOwnArea(mp *m) *rseqArea {
	p := uintptr(unsafe.Pointer(&mp.rseq.buf[0]))
	a := uintptr(rseqState.align)
	if a == 0 {
		a = rseqOrigLen
	}
	return (*rseqArea)(unsafe.Pointer((p + a - 1) &^ (a - 1)))
}

// rseqSetArea records a as mp's area. On linux/amd64 without cgo, the
// thread pointer (%fs base) is &mp.tls[1] (settls skips the g slot), and no
// other code uses tls[1]: the area's address is kept there too, so that a
// reader finds it with two loads, %fs:0 and then the field, instead of
// walking g and m. gorseqABI.tpArea tells readers this holds.
//
//go:nosplit
func rseqSetArea(mp *m, a uintptr) {
	mp.rseq.area = a
	if rseqState.tlsArea {
		mp.tls[1] = a
	}
}

// rseqDetach points mp at its own unregistered area, marked with cpu. mp
// must not have a live registration of its own area.
//
//go:nosplit
func rseqDetach(mp *m, cpu int32) {
	a := rseqOwnArea(mp)
	*a = rseqArea{cpuID: cpu}
	rseqSetArea(mp, uintptr(unsafe.Pointer(a)))
}

// rseqRegister registers mp's own area for the current thread, which must
// be mp's. It returns 0 or the errno. On failure mp.rseq.area is detached.
func rseqRegister(mp *m) int32 {
	a := rseqOwnArea(mp)
	*a = rseqArea{cpuID: rseqCPUUninitialized}
	// From here until unregistration, cpu_id_start, cpu_id, node_id and
	// mm_cid belong to the kernel.
	r := sysRseq(unsafe.Pointer(a), rseqState.length, 0, rseqSig)
	if r != 0 {
		rseqDetach(mp, rseqCPURegistrationFailed)
		return -r
	}
	mp.rseq.own = true
	rseqSetArea(mp, uintptr(unsafe.Pointer(a)))
	return 0
}

// rseqMinit gives the current thread, which runs mp, an rseq area.
func rseqMinit() {
	mp := getg().m
	if mp == &m0 && !rseqState.inited {
		rseqinit()
		if gorseqABI.mode == rseqModeOwn {
			return // rseqinit registered m0, or counted its failure
		}
	}
	switch gorseqABI.mode {
	case rseqModeGlibc:
		mp.rseq.own = false
		a := rseqThreadPointer() + rseqState.offset
		rseqSetArea(mp, a)
		if (*rseqArea)(unsafe.Pointer(a)).cpuID < 0 {
			// glibc failed to register this thread (cpu_id is
			// rseqCPURegistrationFailed).
			atomic.Xadd(&gorseqABI.threadsFailed, 1)
		}
	case rseqModeOwn:
		if rseqRegister(mp) != 0 {
			atomic.Xadd(&gorseqABI.threadsFailed, 1)
		}
	default:
		rseqDetach(mp, rseqCPUUninitialized)
	}
}

// rseqUnminit ends the current thread's use of mp's area: it unregisters
// an own area, or forgets an adopted one. After it returns the kernel no
// longer writes mp.rseq.buf.
//
//go:nosplit
func rseqUnminit(mp *m) {
	if mp.rseq.own {
		a := rseqOwnArea(mp)
		if r := sysRseq(unsafe.Pointer(a), rseqState.length, rseqFlagUnregister, rseqSig); r != 0 {
			// The area stays live: letting the m be freed would let
			// the kernel write into reused memory.
			throw("runtime: rseq unregister failed")
		}
		mp.rseq.own = false
	}
	rseqDetach(mp, rseqCPUUninitialized)
}
