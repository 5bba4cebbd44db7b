// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64 && !arm64

package percpu

import "unsafe"

// Architectures without critical sections (all but amd64 and arm64):
// every restartable operation reports that the thread has no rseq.

func init() { shardCount32 = uint32(shardCount) }

func csAdd(addr uintptr, v int64, field uintptr) int32              { return csNoRseq }
func csCmpStore(addr uintptr, old, new uint64, field uintptr) int32 { return csNoRseq }
func csPop(addr uintptr, links unsafe.Pointer, n uintptr, field uintptr) (uint64, int32) {
	return 0, csNoRseq
}
func csPush(addr uintptr, links unsafe.Pointer, item uintptr, field uintptr) int32 { return csNoRseq }
func csStoreCommit(addr uintptr, old, new uint64, dst uintptr, v uint64, field uintptr) int32 {
	return csNoRseq
}
func csCopyCommit(addr uintptr, old, new uint64, dst uintptr, src unsafe.Pointer, n uintptr, field uintptr) int32 {
	return csNoRseq
}
func csAddIndirect(base *uint64, off uintptr, v int64, field uintptr) int32 { return csNoRseq }
