// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && amd64

package percpu

import "unsafe"

// injectLoopAddrs returns the addresses of injectLoops[1..4], which the
// delay at each injection point loads: the machine-code test finds the
// delays by them.
func injectLoopAddrs() []uintptr {
	var a []uintptr
	for n := 1; n <= injectPoints; n++ {
		a = append(a, uintptr(unsafe.Pointer(&injectLoops[n])))
	}
	return a
}
