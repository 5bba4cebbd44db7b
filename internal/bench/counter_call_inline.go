// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build goexperiment.rseqinline && (amd64 || arm64)

package bench

import (
	"testing"
	_ "unsafe" // for go:linkname

	"github.com/gorseq/gorseq/percpu"
)

// counterCallCases: with gorseq's toolchain, percpu.Counter.Add is the
// critical section inlined by the compiler; this case is the assembly
// call that Add makes in every other build (percpu's counterAdd), so that
// one run compares the two.
func counterCallCases() []Case {
	return []Case{{"percpu.Counter (call)", callSerial, callParallel}}
}

//go:linkname counterAdd github.com/gorseq/gorseq/percpu.counterAdd
func counterAdd(c *percpu.Counter, v int64)

func callSerial(b *testing.B) {
	var c percpu.Counter
	for i := 0; i < b.N; i++ {
		counterAdd(&c, 1)
	}
	sink = c.Load()
}

func callParallel(b *testing.B) {
	var c percpu.Counter
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			counterAdd(&c, 1)
		}
	})
	sink = c.Load()
}
