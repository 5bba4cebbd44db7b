// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build runtimecgo

package main

// runtime/cgo and no C code of the probe's own, as in a program that uses
// the cgo DNS resolver: linked internally.
import _ "runtime/cgo"
