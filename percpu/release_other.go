// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64 && !arm64

package percpu

import "sync/atomic"

// Without critical sections these are never on a fast path: sync/atomic's
// sequentially consistent operations give at least the ordering asked for.

func storeRelease64(addr *uint64, v uint64) { atomic.StoreUint64(addr, v) }

func acquireFence() {}
