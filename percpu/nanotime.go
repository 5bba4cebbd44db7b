// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import _ "unsafe" // for go:linkname

// nanotime is the runtime's monotonic clock in nanoseconds (the one
// time.Now's monotonic reading comes from), without time.Time's wall
// clock read. The runtime marks it for linkname on every Go version gorseq
// supports. RWMutex times its bias revocations with it.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64
