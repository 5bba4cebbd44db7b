// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
)

// Mode says where the process's per-CPU information comes from.
type Mode int

const (
	// ModeFallback: no rseq. CPU numbers come from the fallback
	// ([Info.Fallback]) and per-CPU data is sharded by P.
	ModeFallback Mode = iota
	// ModeRseqOwn: the runtime registered an rseq area for every thread.
	ModeRseqOwn
	// ModeRseqGlibc: glibc registered rseq for every thread (cgo), and
	// the runtime adopted its areas; or, with a runtime without the
	// gorseq patch (ABIVersion 0), percpu found glibc's areas itself.
	ModeRseqGlibc
)

// String returns "fallback", "rseq (own)" or "rseq (glibc)".
func (m Mode) String() string {
	switch m {
	case ModeFallback:
		return "fallback"
	case ModeRseqOwn:
		return "rseq (own)"
	case ModeRseqGlibc:
		return "rseq (glibc)"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Rseq reports whether m is one of the rseq modes.
func (m Mode) Rseq() bool { return m == ModeRseqOwn || m == ModeRseqGlibc }

// Info describes what the process has. See [Status].
type Info struct {
	// Mode is the process-wide mode, decided when the program started.
	Mode Mode
	// Reason says why Mode is ModeFallback; empty otherwise.
	Reason string
	// ABIVersion is the version of the runtime's gorseq interface, 0 for
	// a runtime without the gorseq patch.
	ABIVersion int
	// FeatureSize is the kernel's AT_RSEQ_FEATURE_SIZE (20 for kernels
	// that do not report one), and Length the length of the threads'
	// registrations (the runtime's, or glibc's __rseq_size with a stock
	// runtime); both 0 in the fallback with a stock runtime.
	FeatureSize, Length int
	// NodeAvailable and CIDAvailable report whether the kernel publishes
	// node_id and mm_cid in the rseq area (kernel 6.3+). Without them,
	// [Node] and [CID] use the fallback and the CPU number.
	NodeAvailable, CIDAvailable bool
	// ThreadsFailed counts threads whose registration failed while the
	// process mode is rseq. Such threads use the fallback.
	ThreadsFailed int
	// Fallback names how CPU is read without rseq: "rdpid", "rdtscp" or
	// "getcpu".
	Fallback string
	// InlineSequences counts the restartable sequences that gorseq's
	// compiler emitted inline in this binary (Counter.Add's, one per call
	// site, with GOEXPERIMENT=rseqinline on linux/amd64, the patched
	// toolchain's default); 0 where Add calls its assembly.
	InlineSequences int
}

// Status returns what the process has: the rseq mode, or why it falls
// back, and which kernel features are available.
func Status() Info {
	return Info{
		Mode:            mode,
		Reason:          fallbackReason,
		ABIVersion:      int(rt.version),
		FeatureSize:     int(featureSize),
		Length:          int(regLength),
		NodeAvailable:   hasNode,
		CIDAvailable:    hasCID,
		ThreadsFailed:   int(atomic.LoadUint32(&rt.threadsFailed)),
		Fallback:        fallbackName,
		InlineSequences: inlineSequences(),
	}
}

// String formats the status in a few lines, as `percpu info` prints it.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mode:         %v\n", i.Mode)
	if i.Mode == ModeFallback {
		fmt.Fprintf(&b, "reason:       %s\n", i.Reason)
	}
	fmt.Fprintf(&b, "runtime ABI:  %d\n", i.ABIVersion)
	if i.Length != 0 {
		fmt.Fprintf(&b, "rseq area:    feature size %d, registered length %d\n", i.FeatureSize, i.Length)
	}
	fmt.Fprintf(&b, "node, mm_cid: %s, %s\n", availability(i.NodeAvailable), availability(i.CIDAvailable))
	if i.ThreadsFailed != 0 {
		fmt.Fprintf(&b, "failed:       %d threads could not register (they use the fallback)\n", i.ThreadsFailed)
	}
	fmt.Fprintf(&b, "fallback:     %s\n", i.Fallback)
	if i.InlineSequences != 0 {
		fmt.Fprintf(&b, "inline:       %d Counter.Add sequences emitted by the compiler\n", i.InlineSequences)
	}
	return b.String()
}

func availability(ok bool) string {
	if ok {
		return "from rseq"
	}
	return "from fallback"
}

// Process-wide state, written once by init.
var (
	mode           Mode
	fallbackReason string
	hasNode        bool // rseq node_id is published
	hasCID         bool // rseq mm_cid is published
	// featureSize and regLength are the kernel's AT_RSEQ_FEATURE_SIZE
	// and the threads' registration length, from the runtime or, with a
	// stock runtime, from the auxiliary vector and glibc.
	featureSize, regLength uint32
)

func init() {
	initFallback()
	fallbackReason = initRuntimeABI()
	initInline(fallbackReason == "")
	featureSize, regLength = rt.featureSize, rt.length
	switch {
	case !archRseq:
		fallbackReason = "percpu has no critical sections for " + runtime.GOARCH + " (only amd64 and arm64)"
	case rt.version == 0:
		// A stock runtime: glibc's registration, if it made one.
		fallbackReason = initGlibcRseq()
		if fallbackReason == "" {
			rseqPath, rseqTPOffset = rseqPathTP, glibcRseq.offset
			featureSize, regLength = kernelFeatureSize(), glibcRegLength(glibcRseq.size)
		}
	}
	if fallbackReason != "" {
		rseqPath = rseqPathNone
		counterPerP = 1
		return
	}
	mode = ModeRseqOwn
	if rt.mode == rtModeGlibc || rt.version == 0 {
		mode = ModeRseqGlibc
	}
	hasNode = featureSize >= rseqNodeIDEnd
	hasCID = featureSize >= rseqMMCIDEnd
}
