// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package registration tests, from outside, that the gorseq runtime patch
// gives every thread of a Go program an rseq registration, and drops it
// where it must. The tests build small child programs (testdata/) with the
// patched toolchain, the stock toolchain with -overlay, and the stock
// toolchain alone, run them in chosen environments (cgo, glibc's own rseq
// on or off, GODEBUG=rseq=0, a seccomp filter that refuses rseq) and check
// the key=value lines they print. A thread counts as registered when the
// kernel refuses a second registration (see internal/rseqcheck).
//
// Toolchains: GORSEQ_GO is the patched go (default
// <module root>/_toolchain/goroot/bin/go), GORSEQ_OVERLAY the overlay for
// the stock go (default <module root>/_toolchain/overlay.json), both made
// by ./build.sh. The stock go is GORSEQ_STOCK_GO, or the first go on PATH
// whose GOROOT has no gorseq patch (go test puts its own GOROOT/bin first
// on PATH, which is the patched one when the suite runs under it).
//
// The tests are linux/amd64 only. The cgo tests expect glibc 2.35 or
// newer, which registers rseq for its threads unless
// GLIBC_TUNABLES=glibc.pthread.rseq=0.
package registration
