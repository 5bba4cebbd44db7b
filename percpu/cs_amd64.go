// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import "unsafe"

// The critical sections (cs_amd64.s). Each works on the current thread's
// shard of per-CPU memory at addr (shard 0's address), the shard index
// read from the rseq area at offset field. Results: >= 0 the shard
// committed to; csNoRseq, csFailed, csCorrupt.

//go:noescape
func csAdd(addr uintptr, v int64, field uintptr) int32

//go:noescape
func csCmpStore(addr uintptr, old, new uint64, field uintptr) int32

//go:noescape
func csPop(addr uintptr, links unsafe.Pointer, n uintptr, field uintptr) (item uint64, shard int32)

//go:noescape
func csPush(addr uintptr, links unsafe.Pointer, item uintptr, field uintptr) int32

//go:noescape
func csStoreCommit(addr uintptr, old, new uint64, dst uintptr, v uint64, field uintptr) int32

//go:noescape
func csCopyCommit(addr uintptr, old, new uint64, dst uintptr, src unsafe.Pointer, n uintptr, field uintptr) int32

//go:noescape
func csEntries(out *[csCount]unsafe.Pointer)
