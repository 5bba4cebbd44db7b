// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"fmt"
	"runtime"

	"github.com/gorseq/gorseq/percpu"
)

func ExampleCPU() {
	cpu := percpu.CPU()
	fmt.Println(cpu >= 0 && cpu < runtime.NumCPU()*64)
	// Output: true
}

func ExampleStatus() {
	st := percpu.Status()
	if st.Mode.Rseq() {
		fmt.Println("per-CPU data through rseq")
	} else {
		fmt.Println("per-CPU data through the fallback")
	}
	// The value depends on the toolchain, so this example shows no output.
}
