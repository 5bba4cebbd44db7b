// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !gorseq_inject

package percpu

import "sync/atomic"

// InlineAbortCount returns how many aborts the compiler's inline Add
// sequences counted (counter_add_inline.go); part of AbortCount. (The
// gorseq_inject build has it in its test-only API, inject.go.)
func InlineAbortCount() uint64 { return atomic.LoadUint64(&inlineAbortCount) }
