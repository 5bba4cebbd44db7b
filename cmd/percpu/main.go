// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Command percpu shows what github.com/gorseq/gorseq/percpu has in this
// process.
//
// Usage:
//
//	percpu info   print the rseq mode, the reason for any fallback, and the
//	              kernel features in use
//	percpu demo   pin a thread to each allowed CPU in turn and show that
//	              percpu.CPU agrees with the kernel
//	percpu bench [-count n] [-benchtime d] [-group s] [-svg file] [-svg-groups prefix]
//	              compare percpu's Counter, Pool, RWMutex (read-only, 1%
//	              and 10% writers) and Values with what they replace
//	              (atomics, sync.Pool, sync.RWMutex, a mutex, xsync, per-P
//	              versions), serial and parallel at GOMAXPROCS 1 and 2, in
//	              one run, with percpu's fallback measured alongside; -svg
//	              also draws the ratios of every group as bar charts in one
//	              SVG file, -svg-groups one SVG file per group
//
// Build it with gorseq's patched toolchain (./build.sh) to get rseq in
// every build. With a stock toolchain it reports the fallback, unless it
// is a cgo program on glibc 2.35 or later: -tags gorseq_cgo links
// runtime/cgo into it, and percpu then uses glibc's registration.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: percpu <command>

commands:
  info    print the rseq mode and kernel features of this process
  demo    pin a thread to each allowed CPU and read percpu.CPU there
  bench   compare percpu's types with what they replace (-count, -benchtime, -group,
          -svg, -svg-groups; percpu bench -h for details)
`

func main() {
	if len(os.Args) < 2 || (len(os.Args) > 2 && os.Args[1] != "bench") {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "info":
		err = info()
	case "demo":
		err = demo()
	case "bench":
		err = runBench(os.Args[2:])
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "percpu: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "percpu %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
