// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import _ "unsafe" // for go:linkname

// procPin disables preemption of the calling goroutine and returns the id
// of its P; procUnpin enables it again. The runtime marks both for
// linkname (sync.Pool's trick), on every Go version gorseq supports. The
// fallback paths use the P id as a shard index.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()
