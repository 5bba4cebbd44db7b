// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	_ "unsafe" // for go:linkname

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/internal/getcpu"
)

// rseq from glibc with a runtime that has no gorseq patch.
//
// A program built with a stock toolchain and cgo creates every M with
// pthread_create; its main thread and the C threads that call into Go are
// glibc threads too. glibc 2.35+ registers an rseq area for each of them
// when it creates it and unregisters it when the thread exits, so every
// thread that runs Go code has a live area at a fixed offset from its
// thread pointer, for its whole life. percpu uses it as the patched
// runtime's glibc mode does (the thread-pointer path of RSEQ_AREA):
// nothing of the runtime patch is needed but the offset, which glibc
// exports from its dynamic loader as __rseq_offset (GLIBC_2.35, with
// __rseq_size, 0 when glibc did not register). percpu reads the symbols
// from the loader's dynamic symbol table in memory (AT_BASE), so that it
// needs no cgo of its own, and checks the area on the current thread
// against getcpu before it trusts it. Anything unexpected means the
// fallback, with the reason.

// iscgo reports whether runtime/cgo is linked in (the runtime marks it
// for linkname).
//
//go:linkname iscgo runtime.iscgo
var iscgo bool

// glibcRseq is what initGlibcRseq found: the offset from the thread
// pointer's base and glibc's registration size.
var glibcRseq struct {
	offset uintptr
	size   uint32
}

// Auxiliary vector keys (elf.h, kernel 6.3+ for the rseq ones).
const (
	atBase            = 7
	atRseqFeatureSize = 27
)

// auxvValue returns the value of key in the process's auxiliary vector,
// or 0.
func auxvValue(key uintptr) uintptr {
	vec, err := unix.Auxv()
	if err != nil {
		return 0
	}
	for _, kv := range vec {
		if kv[0] == key {
			return kv[1]
		}
	}
	return 0
}

// kernelFeatureSize returns AT_RSEQ_FEATURE_SIZE, or 20 (the original
// struct rseq's fields up to flags) for a kernel that does not report it.
func kernelFeatureSize() uint32 {
	if v := auxvValue(atRseqFeatureSize); v != 0 {
		return uint32(v)
	}
	return 20
}

// godebugRseqOff reports whether GODEBUG has rseq=0, the last setting
// winning, as the patched runtime reads it.
func godebugRseqOff(godebug string) bool {
	off := false
	for godebug != "" {
		var kv string
		for i := 0; ; i++ {
			if i == len(godebug) {
				kv, godebug = godebug, ""
				break
			}
			if godebug[i] == ',' {
				kv, godebug = godebug[:i], godebug[i+1:]
				break
			}
		}
		if len(kv) > 5 && kv[:5] == "rseq=" {
			off = kv[5:] == "0"
		}
	}
	return off
}

// initGlibcRseq looks for glibc's registration in a process whose runtime
// has no gorseq patch, and returns "" when percpu can use it (glibcRseq
// is then set), else why not.
func initGlibcRseq() string {
	const noPatch = "the Go runtime has no gorseq patch"
	switch {
	case !archRseq:
		return noPatch
	case godebugRseqOff(os.Getenv("GODEBUG")):
		return "rseq disabled by GODEBUG=rseq=0"
	case !iscgo:
		return noPatch + ", and cgo is not linked, so no glibc registered rseq for the threads (build with gorseq's toolchain, or with cgo on glibc 2.35+)"
	}
	base := auxvValue(atBase)
	if base == 0 {
		return noPatch + ", and the program has no dynamic loader (static): glibc's rseq registration is unknown"
	}
	ld, err := openLoadedELF(base, archELFMachine)
	if err != nil {
		return fmt.Sprintf("%s; reading the dynamic loader at %#x: %v", noPatch, base, err)
	}
	offAddr, err1 := ld.lookup("__rseq_offset")
	sizeAddr, err2 := ld.lookup("__rseq_size")
	if err1 != nil || err2 != nil {
		return noPatch + ", and the C library's loader has no __rseq_offset and __rseq_size (not glibc 2.35+: musl?)"
	}
	offset := uintptr(mem64(offAddr))
	size := mem32(sizeAddr)
	if size == 0 {
		return noPatch + ", and glibc did not register rseq (__rseq_size is 0: GLIBC_TUNABLES=glibc.pthread.rseq=0, or a kernel without rseq)"
	}
	if size < 20 {
		return fmt.Sprintf("%s, and glibc's __rseq_size is %d, too small for struct rseq", noPatch, size)
	}
	if reason := checkGlibcArea(offset); reason != "" {
		return noPatch + "; " + reason
	}
	glibcRseq.offset, glibcRseq.size = offset, size
	return ""
}

// checkGlibcArea checks, on the calling thread, that thread pointer base +
// offset is a live rseq area: 32-byte aligned, cpu_id non-negative and
// equal to getcpu's answer (in one of a few tries bracketed by getcpu
// calls that agree, in case the thread migrates).
func checkGlibcArea(offset uintptr) string {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	area := tpBase() + offset
	if area%32 != 0 {
		return fmt.Sprintf("glibc's rseq area at thread pointer %+d is not 32-byte aligned (%#x)", int64(offset), area)
	}
	cpuID := (*int32)(memAt(area + rseqCPUIDOffset))
	var got int32
	for try := 0; try < 10; try++ {
		c0, _ := getcpu.Get()
		got = atomic.LoadInt32(cpuID)
		c1, _ := getcpu.Get()
		if c0 != c1 {
			continue
		}
		if got >= 0 && int(got) == c0 {
			return ""
		}
		break
	}
	return fmt.Sprintf("glibc's rseq area at thread pointer %+d does not check out (cpu_id %d, getcpu disagrees)", int64(offset), got)
}

// glibcRegLength is the length glibc registered its areas with, given
// __rseq_size: at least the original 32 bytes (glibc 2.35 to 2.39 register
// 32 and report 20, the original feature size), rounded up to 32.
func glibcRegLength(size uint32) uint32 {
	return max(32, (size+31)&^31)
}
