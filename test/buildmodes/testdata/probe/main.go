// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Command probe is the executable child of test/buildmodes: built as each
// test row says (toolchain, cgo, C library, build mode), it prints
// key=value lines: percpu's status, an Add on the main thread and one on
// another thread, a Counter and Adds from many goroutines, and an abort
// phase (see package work), then done=1.
//
// With -tags withc the probe has C code of its own (import "C"), which the
// go command links externally; with -tags runtimecgo it links runtime/cgo
// and nothing else (linked internally).
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/test/buildmodes/testdata/work"
)

// main runs on the main thread: the runtime's m0, which the dynamic
// loader may have registered before the runtime started.
func init() { runtime.LockOSThread() }

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	work.Status(w)
	fmt.Fprintf(w, "cgo_c=%v\n", withC())
	fmt.Fprintf(w, "main_is_pid=%v\n", unix.Gettid() == unix.Getpid())
	work.OneAdd(w, "main_")
	// Another thread: main keeps m0 locked, so this goroutine runs
	// elsewhere.
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		fmt.Fprintf(w, "thread_is_pid=%v\n", unix.Gettid() == unix.Getpid())
		work.OneAdd(w, "")
	}()
	<-done
	work.Goroutines(w, 8, 100000)
	work.AbortPhase(w)
	fmt.Fprintln(w, "done=1")
}
