// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build cgo && gorseq_cgo

package main

// Built with -tags gorseq_cgo and cgo on, the command links runtime/cgo,
// as any program that imports C (or net's cgo resolver) does: every M is
// then a pthread that glibc registered for rseq, and with a stock
// toolchain percpu runs in glibc mode. This is how to see, with the Go
// you have, what percpu gives a cgo program:
//
//	CGO_ENABLED=1 go run -tags gorseq_cgo ./cmd/percpu info
import _ "runtime/cgo"
