// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64 || arm64

package percpu

import "unsafe"

// Pool's critical sections (pool_amd64.s, pool_arm64.s). Results: >= 0 the shard;
// csNoRseq, csFailed (slab empty or full, or being drained), poolMarking.

// poolPop takes the top object of the current CPU's slab.
func poolPop(tops uintptr, slabs unsafe.Pointer) (x unsafe.Pointer, r int32)

// poolPush puts x on top of the current CPU's slab, unless the garbage
// collector is marking.
func poolPush(tops uintptr, slabs unsafe.Pointer, x unsafe.Pointer) int32

func writeBarrierAddr() uintptr
