// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"testing"
	"unsafe"
)

// TestPoolPShardPadding: the bytes that one P's cache writes on every Get
// and Put end more than a cache line before the next P's begin, for small
// and large T (false sharing there once made parallel Get+Put 3x slower).
func TestPoolPShardPadding(t *testing.T) {
	check := func(name string, size, used uintptr) {
		if size-used < 64 {
			t.Errorf("poolPShard[%s]: %d bytes, %d used: %d apart, want >= 64", name, size, used, size-used)
		}
	}
	var p poolPShard[*int]
	check("*int", unsafe.Sizeof(p), unsafe.Offsetof(p.mu)+unsafe.Sizeof(p.mu))
	var b poolPShard[[]byte]
	check("[]byte", unsafe.Sizeof(b), unsafe.Offsetof(b.mu)+unsafe.Sizeof(b.mu))
	var l poolPShard[[100]byte]
	check("[100]byte", unsafe.Sizeof(l), unsafe.Offsetof(l.mu)+unsafe.Sizeof(l.mu))
}
