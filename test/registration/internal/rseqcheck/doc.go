// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package rseqcheck is what the child programs of the registration tests
// share: a probe that asks the kernel whether the calling thread has an
// rseq registration, a reader of the runtime's published rseq state, and
// the per-thread checks and key=value reports the tests parse.
//
// It is for linux/amd64 and linux/arm64, like the tests: the
// architecture's signature (Sig) and thread-pointer rule are in
// arch_<GOARCH>.go, the reads of g and the thread pointer in area_<GOARCH>.s.
package rseqcheck
