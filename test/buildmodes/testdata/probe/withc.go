// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build withc

package main

// static int probe_c(void) { return 1; }
import "C"

// withC calls the probe's own C code.
func withC() bool { return C.probe_c() == 1 }
