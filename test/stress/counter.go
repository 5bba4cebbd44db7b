// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"fmt"
	"sync/atomic"

	"github.com/gorseq/gorseq/percpu"
)

func init() {
	register("counter", "percpu.Counter alone: bursts of Add, the section gorseq's compiler emits inline; the sum is exact", func() scenario { return &counter{} })
}

// counterBurst is how many Adds a step makes: enough that most of a
// worker's time is spent in them, so that preemption and the stressors'
// signals land in the sequences.
const counterBurst = 64

// counter: every step adds the worker's amount (1 + id) counterBurst
// times to one percpu.Counter. With gorseq's toolchain each Add is the
// sequence the compiler emits inline at the call site, which has no
// injection points: only preemption, migration and signals abort it (the
// run reports them as inline_aborts); elsewhere it is the assembly
// section, with its injection points. A thread without rseq (-M) adds to
// a fallback word inside the Counter (its steps count as fallback steps).
// Invariant: the Counter holds what the workers added.
type counter struct {
	noBackground
	c     percpu.Counter
	added atomic.Int64
}

func (s *counter) setup(e *env) error { return nil }

func (s *counter) close() {}

func (s *counter) step(w *worker) {
	v := int64(w.id + 1)
	for range counterBurst {
		s.c.Add(v)
	}
	s.added.Add(counterBurst * v)
	if w.disabled {
		// The adds went to the Counter's fallback words.
		w.fallbacks++
	}
	w.outside()
}

func (s *counter) check(e *env) error {
	if got, want := s.c.Load(), s.added.Load(); got != want {
		return fmt.Errorf("Counter %d, want %d", got, want)
	}
	return nil
}

func (s *counter) report() [][2]string {
	return [][2]string{{"counter", fmt.Sprint(s.c.Load())}}
}
