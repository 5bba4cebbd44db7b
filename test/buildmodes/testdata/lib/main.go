// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Command lib is the library child of test/buildmodes, built with
// -buildmode=c-shared or -buildmode=c-archive and loaded by the C program
// in ../host, whose threads call into it.
package main

// #include <stdlib.h>
import "C"

import (
	"bytes"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
	"github.com/gorseq/gorseq/test/buildmodes/testdata/work"
)

// What the C threads' calls add to.
var (
	counter percpu.Counter
	adds    = work.NewAdds()
	calls   percpu.Counter
)

// GorseqStatus returns percpu's status and the result of one Add on the
// calling thread as key=value lines, in memory the caller frees.
//
//export GorseqStatus
func GorseqStatus() *C.char {
	var b bytes.Buffer
	work.Status(&b)
	fmt.Fprintf(&b, "caller_is_pid=%v\n", unix.Gettid() == unix.Getpid())
	work.OneAdd(&b, "")
	return C.CString(b.String())
}

// GorseqWork adds n to the Counter, one at a time, and does n Adds on the
// library's Block, from the calling (C) thread. It returns how many of
// the Adds committed.
//
//export GorseqWork
func GorseqWork(n C.int) C.longlong {
	calls.Inc()
	ok := 0
	for i := 0; i < int(n); i++ {
		counter.Inc()
		shard, err := percpu.Add(adds.Block(), 0, 1)
		adds.Count(shard, err)
		if err == nil {
			ok++
		}
	}
	return C.longlong(ok)
}

// GorseqReport returns the totals of the GorseqWork calls (counter, the
// Adds' tallies as adds_*, calls) and then runs the abort phase in Go
// goroutines (see work.AbortPhase), as key=value lines in memory the
// caller frees.
//
//export GorseqReport
func GorseqReport() *C.char {
	var b bytes.Buffer
	fmt.Fprintf(&b, "counter=%d\n", counter.Load())
	fmt.Fprintf(&b, "calls=%d\n", calls.Load())
	adds.Report(&b, "adds")
	work.AbortPhase(&b)
	return C.CString(b.String())
}

// GorseqAborts returns percpu.AbortCount.
//
//export GorseqAborts
func GorseqAborts() C.ulonglong { return C.ulonglong(percpu.AbortCount()) }

// GorseqFree frees a string the library returned.
//
//export GorseqFree
func GorseqFree(s *C.char) { C.free(unsafe.Pointer(s)) }

func main() {}
