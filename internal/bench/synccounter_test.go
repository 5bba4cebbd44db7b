// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_synccounter

package bench

import (
	"sync"
	"testing"
)

// BenchmarkSyncCounter puts the series' sync.Counter (patches/series
// 0005) beside the counter group's candidates, in one run, for
// docs/proposal.md. It needs a toolchain built by build.sh (sync.Counter
// exists only there) and the tag:
//
//	_toolchain127/goroot/bin/go test -tags gorseq_synccounter -run '^$' \
//		-bench 'SyncCounter|Benchmark/counter/' -count 6 -cpu 1,2 ./internal/bench
func BenchmarkSyncCounter(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		var c sync.Counter[int64]
		for i := 0; i < b.N; i++ {
			c.Add(1)
		}
		sink = c.Value()
	})
	b.Run("parallel", func(b *testing.B) {
		var c sync.Counter[int64]
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Add(1)
			}
		})
		sink = c.Value()
	})
	b.Run("value", func(b *testing.B) {
		var c sync.Counter[int64]
		c.Add(1)
		for i := 0; i < b.N; i++ {
			sink += c.Value()
		}
	})
}
