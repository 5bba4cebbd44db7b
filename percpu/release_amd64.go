// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

// storeRelease64 stores v at addr with release ordering: every load and
// store the thread made before it is ordered before it. On amd64 a plain
// aligned 8-byte store is one MOV, and every store is a release (x86-TSO
// keeps it after the thread's earlier loads and stores; the runtime's own
// StoreRel is the same MOV). The compiler keeps it after everything the
// caller did before calling (a call is a barrier to its scheduling of
// memory operations), which is all that Values' release needs: the
// callback has returned. sync/atomic's Store would be an XCHG, a full
// barrier that costs an atomic.
func storeRelease64(addr *uint64, v uint64) { *addr = v }

// acquireFence orders the thread's earlier loads before its later loads
// and stores: nothing to do on amd64, where loads are not reordered with
// later loads or stores.
func acquireFence() {}
