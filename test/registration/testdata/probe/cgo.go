// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build withcgo

package main

// With -tags withcgo the probe links runtime/cgo without any C code of its
// own, the way a program that uses the cgo DNS resolver does: the go
// command links such a program internally by default, and glibc creates
// its threads.
import _ "runtime/cgo"
