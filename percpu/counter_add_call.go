// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !linux || !goexperiment.rseqinline || !(amd64 || arm64)

package percpu

// Add adds v to the counter.
//
// It is one call of counterAdd (assembly): with rseq on the thread, the
// critical section; on a thread without rseq in a process with rseq, an
// atomic add on a fallback word picked from the stack pointer, with no
// hop back to Go. Without rseq in the process, the assembly's first test
// of the area sends it to counterAddSlow and an atomic add on the current
// P's fallback word (see counterAddFallback). gorseq's toolchain emits
// the section inline instead (counter_add_inline.go).
func (c *Counter) Add(v int64) { counterAdd(c, v) }

// inlineSequences is Info.InlineSequences: none in this build.
func inlineSequences() int { return 0 }

// initInline has nothing to fill in this build.
func initInline(runtimeRseq bool) {}
