// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package errcheck is testdata for percpuerr.
package errcheck

import (
	"errors"
	"fmt"

	"github.com/gorseq/gorseq/percpu"
)

var b percpu.Block

func discarded(links []uint64, base *uint64, src []byte) {
	percpu.Add(b, 0, 1)                          // want `percpu.Add's error is discarded: on a thread without rseq it does nothing and returns ErrNoRseq; check err \(or use percpu.Counter\)`
	percpu.CompareAndStore(b, 0, 1, 2)           // want `percpu.CompareAndStore's error is discarded: .*; check err$`
	percpu.Pop(b, 0, links)                      // want `percpu.Pop's error is discarded`
	percpu.Push(b, 0, links, 1)                  // want `percpu.Push's error is discarded`
	percpu.StoreCommit(b, 0, 1, 2, b, 8, 3)      // want `percpu.StoreCommit's error is discarded`
	percpu.CopyCommit(b, 0, 1, 2, b, 8, src)     // want `percpu.CopyCommit's error is discarded`
	percpu.AddIndirect(base, 0, 1, percpu.ByCPU) // want `percpu.AddIndirect's error is discarded: .*\(or use percpu.Counter\)`
	(percpu.Add(b, 0, 1))                        // want `percpu.Add's error is discarded`
	go percpu.Add(b, 0, 1)                       // want `percpu.Add's error is discarded by the go statement`
	defer percpu.Add(b, 0, 1)                    // want `percpu.Add's error is discarded by the defer statement`
	func() { percpu.Add(b, 0, 1) }()             // want `percpu.Add's error is discarded`
}

func blank(links []uint64) {
	_, _ = percpu.Add(b, 0, 1)                 // want `percpu.Add's error is assigned to _`
	shard, _ := percpu.Add(b, 0, 1)            // want `percpu.Add's error is assigned to _`
	item, shard2, _ := percpu.Pop(b, 0, links) // want `percpu.Pop's error is assigned to _`
	var s3, _ = percpu.Push(b, 0, links, 1)    // want `percpu.Push's error is assigned to _`
	fmt.Println(shard, item, shard2, s3)
}

var _, _ = percpu.Add(b, 0, 1) // want `percpu.Add's error is assigned to _`

// The compiler rejects a local variable that is never used, but not a
// parameter.
func neverRead(err error) int {
	shard, err := percpu.Add(b, 0, 1) // want `percpu.Add's error is assigned to err, which is never read`
	return shard
}

func overwritten() error {
	_, err := percpu.Add(b, 0, 1) // want `assigned to err, which is not read afterwards`
	_, err = percpu.Add(b, 8, 1)
	if err != nil {
		return err
	}
	_, err = percpu.Add(b, 16, 1) // want `assigned to err, which is not read afterwards`
	return nil
}

func overwrittenInBranch(x bool) error {
	_, err := percpu.Add(b, 0, 1) // want `which is not read afterwards`
	if x {
		err = errors.New("x")
	} else {
		err = nil
	}
	return err
}

func closureAssigns(err error) {
	func() {
		_, err = percpu.Add(b, 0, 1) // want `assigned to err, which is never read`
	}()
}

// Not reported below.

func checked() (int, error) {
	shard, err := percpu.Add(b, 0, 1)
	if err != nil {
		return 0, err
	}
	return shard, nil
}

func checkedInit() {
	if _, err := percpu.Add(b, 0, 1); err != nil {
		fmt.Println(err)
	}
	if _, err := percpu.CompareAndStore(b, 0, 1, 2); errors.Is(err, percpu.ErrNoRseq) {
		fmt.Println("no rseq")
	}
}

func returned() (int, error) {
	return percpu.Add(b, 0, 1)
}

func passedOn() {
	fmt.Println(percpu.Add(b, 0, 1))
}

func compared(links []uint64) bool {
	_, _, err := percpu.Pop(b, 0, links)
	return err == percpu.ErrNoRseq
}

func switched(links []uint64) {
	switch _, err := percpu.Push(b, 0, links, 1); err {
	case nil:
	case percpu.ErrNoRseq:
		fmt.Println("no rseq")
	}
}

func named() (err error) {
	_, err = percpu.Add(b, 0, 1) // a bare return reads it
	return
}

func namedDeferred() (err error) {
	defer func() {
		if err != nil {
			fmt.Println(err)
		}
	}()
	_, err = percpu.Add(b, 0, 1)
	return nil
}

func loop() error {
	var err error
	for i := 0; i < 10; i++ {
		_, err = percpu.Add(b, 8*i, 1) // read by the next iteration's check or after the loop
		if err == nil {
			break
		}
	}
	return err
}

func loopLast() error {
	var err error
	for i := range 4 {
		_, err = percpu.Add(b, 8*i, 1)
	}
	return err
}

func closureReads() {
	var err error
	fmt.Println(err)
	func() {
		_, err = percpu.Add(b, 0, 1) // read before: not followed into closures
	}()
}

func captured() {
	var err error
	defer func() { fmt.Println(err) }()
	_, err = percpu.Add(b, 0, 1)
	_, err = percpu.Add(b, 8, 1)
}

func addressTaken() {
	var err error
	p := &err
	_, err = percpu.Add(b, 0, 1)
	fmt.Println(*p)
}

type result struct{ err error }

func intoField(r *result, errs []error) {
	_, r.err = percpu.Add(b, 0, 1)
	_, errs[0] = percpu.Add(b, 0, 1)
}

var pkgErr error

func intoPackageVar() {
	_, pkgErr = percpu.Add(b, 0, 1)
}

func selectRead(ch chan error) error {
	_, err := percpu.Add(b, 0, 1)
	select {
	case err = <-ch:
	default:
	}
	return err
}

func methods(c *percpu.Counter, f *percpu.FloatCounter) {
	c.Add(1) // a method: returns nothing
	f.Add(1)
}

func funcValue() {
	add := percpu.Add
	add(b, 0, 1) // not followed through function values
}

type other struct{}

func (other) Add(b percpu.Block, off int, v int64) (int, error) { return 0, nil }

func otherAdd(o other) {
	o.Add(b, 0, 1) // not percpu's
}
