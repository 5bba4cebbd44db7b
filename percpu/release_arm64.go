// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

// storeRelease64 stores v at addr with release ordering: every load and
// store the thread made before it is ordered before it (release_arm64.s:
// STLR).
//
//go:noescape
func storeRelease64(addr *uint64, v uint64)

// acquireFence orders the thread's earlier loads before its later loads
// and stores (release_arm64.s: DMB ISHLD).
func acquireFence()
