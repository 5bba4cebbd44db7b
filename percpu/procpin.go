// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"runtime"
	_ "unsafe" // for go:linkname
)

// procPin disables preemption of the calling goroutine and returns the id
// of its P; procUnpin enables it again. The runtime marks both for
// linkname (sync.Pool's trick), on every Go version gorseq supports. The
// fallback paths use the P id as a shard index.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// waitPinned returns when every goroutine that was pinned (procPin) at
// the call has unpinned, and with a full barrier between their pinned
// stores and the caller's later loads: a grace period for sections that
// run pinned. It stops the world once, through runtime.ReadMemStats: the
// runtime cannot stop a P whose goroutine has preemption disabled, so the
// stop completes only after each such section ends, and the stop's own
// synchronization orders the sections' memory accesses before it. That is
// a property of the runtime, not of ReadMemStats' documentation:
// TestStopTheWorldWaitsForPinned checks it on every Go version the tests
// run with. It costs what a stop-the-world costs: microseconds, and a
// pause of every goroutine.
func waitPinned() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
}
