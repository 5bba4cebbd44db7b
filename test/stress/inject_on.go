// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject

package main

import (
	"fmt"

	"github.com/gorseq/gorseq/percpu"
)

// injectBuilt: this binary has percpu's test-only hooks (-tags
// gorseq_inject): delay loops inside the critical sections and the
// per-thread rseq switch.
const injectBuilt = true

var errNoInject error // never returned in this build

// setInjectDelay sets the delay loops at point p of every critical
// section.
func setInjectDelay(p, loops int) error {
	if n := percpu.InjectPoints(); p < 1 || p > n {
		return fmt.Errorf("injection point %d: percpu has points 1..%d", p, n)
	}
	percpu.SetInjectDelay(p, loops)
	return nil
}

// threadRseq unregisters (true) or registers again the calling locked
// thread's rseq area.
func threadRseq(unregister bool) error { return percpu.ThreadRseq(unregister) }

// inlineAbortCount returns how many of percpu.AbortCount's aborts were in
// the Counter.Add sequences that gorseq's compiler emits inline.
func inlineAbortCount() uint64 { return percpu.InlineAbortCount() }
