// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !goexperiment.rseqinline || !(amd64 || arm64)

package bench

// counterCallCases is empty: Counter.Add is itself the assembly call.
func counterCallCases() []Case { return nil }
