// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"fmt"
	"runtime"

	"github.com/gorseq/gorseq/percpu"
)

// info prints percpu.Status and the current CPU.
func info() error {
	fmt.Printf("go:           %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Print(percpu.Status())
	fmt.Printf("now on:       cpu %d, node %d, cid %d\n", percpu.CPU(), percpu.Node(), percpu.CID())
	return nil
}
