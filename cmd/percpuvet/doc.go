// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Percpuvet reports misuses of github.com/gorseq/gorseq/percpu.
//
// Run it through go vet, which then runs only percpuvet's checks, or on
// its own:
//
//	go install github.com/gorseq/gorseq/cmd/percpuvet
//	go vet -vettool=$(command -v percpuvet) ./...
//	percpuvet ./...
//
// It is three analyzers in one multichecker rather than one analyzer with
// three checks: the checks share nothing but a few helpers, each can be
// run or left out by its flag (-percpuerr, -percpuindex, -percpucopy; name
// one or more to run only those, or turn one off with =false), -json
// output groups the findings by check, and only percpuerr needs
// control-flow graphs (the ctrlflow pass). go vet's own checks are split
// the same way.
//
// # percpuerr: unchecked errors of restartable operations
//
// On a thread without rseq, percpu's restartable operations (Add,
// CompareAndStore, Pop, Push, StoreCommit, CopyCommit, AddIndirect) do
// nothing and return ErrNoRseq. percpuerr reports a call whose error
// result the caller cannot have looked at:
//
//	percpu.Add(b, 0, 1)            // the results are dropped (also with go or defer)
//	shard, _ := percpu.Add(b, 0, 1) // the error is assigned to _
//	_, err := percpu.Add(b, 0, 1)   // err is overwritten before it is read:
//	_, err = percpu.Add(b, 8, 1)
//
// A variable counts as read if any path of the function's control-flow
// graph from the assignment reaches a use of it other than an assignment
// (if err != nil, return err, errors.Is(err, ...), f(err), _ = err ...)
// before another assignment. Where that graph cannot tell, percpuerr only
// reports a variable that is never read at all: when a function literal
// refers to the variable, its address is taken, or it is assigned inside a
// closure. It does not report an error stored in a named result (a bare
// return or a deferred call reads it), a field, an element or a
// package-level variable, nor calls through function values, nor methods:
// Counter.Add and the other methods of percpu's types return no error.
//
// # percpuindex: per-CPU slices sized with NumCPU or GOMAXPROCS
//
// CPU numbers, CIDs and node numbers can exceed runtime.NumCPU() and
// runtime.GOMAXPROCS(0) (cpusets, offline CPUs, containers); a slice
// indexed by them must have percpu.Shards() elements. percpuindex reports
//
//	s := make([]int64, runtime.NumCPU())
//	cpu := percpu.CPU()
//	s[cpu]++
//
// The slice is a local or package-level variable or a struct field of the
// package, every value stored in which (by =, :=, var, or a composite
// literal) is a make whose length is built from runtime.NumCPU() or
// runtime.GOMAXPROCS() by arithmetic, conversions and local variables
// that hold only such lengths, nil, or another such slice. A length that
// also involves another call (percpu.Shards(), max, min) is trusted, and
// so is a slice that is ever assigned anything else (re-sized, appended
// to, a range variable, its address taken). The index is a call of
// percpu.CPU(), CID() or Node(), or a variable assigned only such calls;
// any other index (cpu%len(s), cpu&mask) is not reported, and a bounds
// check in front of the index does not silence it. Arrays and slices
// that come from other packages or functions are not followed.
//
// # percpucopy: copies that go vet's copylocks does not see
//
// Counter, FloatCounter, RWMutex, Pool and Values must not be copied;
// each holds a noCopy field with Lock and Unlock methods, so that go
// vet's copylocks check reports copies of them, and of the arrays and
// structs that hold them, in assignments, var declarations, composite
// literals, call arguments (fmt.Println(c), atomic.Value.Store(c),
// append(cs, c), any(c)), returns, range variables, receives (also with
// comma-ok, as in v, ok := <-ch, m[k] or x.(percpu.Counter)), value
// receivers and parameters, and the per-iteration copies of a for
// loop's variables. percpucopy reports, for the same types, what
// copylocks does not look at:
//
//	ch <- c                    // a send, also in a select case
//	switch v := x.(type) {     // a type switch case that binds v to a
//	case percpu.Counter:       // percpu type and uses it
//		use(&v)
//	}
//	c2 := *counterPtr()        // *f() (copylocks assumes f returns a new
//	                           // value; *new(T) is not reported)
//	copy(cs, ds)               // copy of slices of them
//	cs = append(cs, ds...)     // append of a slice of them
//	cs = append(cs, percpu.Counter{}) // append, which may move the
//	                           // elements (unless copylocks reports an argument)
//	a := [2]percpu.Counter(cs) // a slice-to-array conversion
//	m[c] = 1                   // a map key (also in a map literal)
//
// So go vet and percpuvet together report each copy once
// (TestCopyLeavesCopylocks checks it on the testdata). As copylocks does,
// percpucopy reports a copy even of a zero value, but not of a composite
// literal or a call's result. Neither sees copies inside generic code
// instantiated with a percpu type, and a method value or call of a
// method with a value receiver is left to copylocks's report of the
// method.
package main
