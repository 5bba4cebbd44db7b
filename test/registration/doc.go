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
// The children and how each is built are one table (children, in
// harness_test.go); internal/childtest builds them on first use, or takes
// them prebuilt, for a machine without a Go toolchain (test/vm's guests):
//
//	GORSEQ_PREBUILD_OUT=/tmp/ch GORSEQ_CHILD_GOARCH=arm64 _toolchain/goroot/bin/go test ./test/registration
//	GOARCH=arm64 _toolchain/goroot/bin/go test -c -o registration.test ./test/registration
//	GORSEQ_CHILDREN=/tmp/ch ./registration.test -test.v      # in the guest
//
// The first command only builds (cgo children for arm64 with
// CC=aarch64-linux-gnu-gcc); with GORSEQ_CHILDREN the tests run every
// child from the directory and never look for a go command. The cgo and
// PIE children need glibc's dynamic loader and C library where they run.
//
// Toolchains: GORSEQ_GO is the patched go (default
// <module root>/_toolchain/goroot/bin/go), GORSEQ_OVERLAY the overlay for
// the stock go (default <module root>/_toolchain/overlay.json), both made
// by ./build.sh. The stock go is GORSEQ_STOCK_GO, or the first go on PATH
// whose GOROOT has no gorseq patch (go test puts its own GOROOT/bin first
// on PATH, which is the patched one when the suite runs under it).
//
// The tests run on linux/amd64 and linux/arm64 (the rseq system call,
// signature and thread-pointer rule of each are in internal/rseqcheck and
// testdata). The node and mm_cid expectations follow the kernel's feature
// size (kernels before 6.3 report none: 20 bytes, no node_id or mm_cid),
// and the affinity tests use the CPUs the test may run on. The cgo tests
// expect glibc 2.35 or newer, which registers rseq for its threads unless
// GLIBC_TUNABLES=glibc.pthread.rseq=0.
package registration
