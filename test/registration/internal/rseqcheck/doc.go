// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package rseqcheck is what the child programs of the registration tests
// share: a probe that asks the kernel whether the calling thread has an
// rseq registration, a reader of the runtime's published rseq state, and
// the per-thread checks and key=value reports the tests parse.
//
// It is linux/amd64 only, like the tests.
package rseqcheck
