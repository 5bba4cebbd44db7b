// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build cgo

package main

import "C"

// gorseqStressCgoStep runs a few scenario steps for C thread id, in a cgo
// callback; it returns non-zero when the run is over.
//
//export gorseqStressCgoStep
func gorseqStressCgoStep(id C.int) C.int {
	w := (*cgoWorkers.Load())[id]
	for i := 0; i < 16; i++ {
		if w.e.stop.Load() {
			return 1
		}
		w.e.sc.step(w)
		w.steps++
	}
	return 0
}
