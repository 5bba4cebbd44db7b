// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package buildmodes tests percpu in every way a user builds a Go program
// (linux/amd64): the stock toolchain with and without cgo, the patched
// toolchain and the stock one with -overlay, -buildmode=c-shared and
// c-archive loaded by a C program whose pthreads call into Go, musl
// (static and dynamic), -buildmode=pie, and the race detector, each in the
// environments that change the mode (GLIBC_TUNABLES=glibc.pthread.rseq=0,
// GODEBUG=rseq=0). For each it builds a child (testdata/probe, or
// testdata/lib with the C program testdata/host), runs it, and checks the
// key=value lines it prints: percpu's mode, reason and ABI version; that
// the restartable operations commit on a valid shard where the mode has
// rseq and return ErrNoRseq where it does not; that a Counter incremented
// from many goroutines (or C threads) has the exact total; and that
// AbortCount grows when signals hit the critical sections. The README's
// "Build configurations" table lists the rows.
//
// The patched go is GORSEQ_GO (default <module root>/_toolchain/goroot/bin/go),
// the overlay GORSEQ_OVERLAY (default <module root>/_toolchain/overlay.json),
// both made by ./build.sh; the stock go is GORSEQ_STOCK_GO, or the first go
// on PATH whose GOROOT has no gorseq runtime, whichever go runs the tests.
// The tests fail, never skip, when one is missing. The C programs need gcc,
// the musl rows musl-gcc, which the tests install (apt-get install
// musl-tools) when it is missing.
//
//	_toolchain/goroot/bin/go test -count=1 ./test/buildmodes
package buildmodes
