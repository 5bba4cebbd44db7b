// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package copycheck is testdata for percpucopy. Lines marked "copylocks"
// are copies that go vet's copylocks reports (TestCopyLeavesCopylocks
// checks that it does, and that percpucopy does not); lines with "want"
// are copies it does not report.
package copycheck

import (
	"fmt"
	"sync/atomic"

	"github.com/gorseq/gorseq/percpu"
)

type stats struct {
	hits percpu.Counter
	n    int
}

var (
	c   percpu.Counter
	fc  percpu.FloatCounter
	rw  percpu.RWMutex
	st  stats
	arr [2]percpu.Counter
)

func counterPtr() *percpu.Counter { return &c }
func statsPtr() *stats            { return &st }
func takeAny(x any)               {}

func sends(ch chan percpu.Counter, chs chan stats, cha chan any, p *percpu.Counter) {
	ch <- c             // want `sending a percpu.Counter on a channel copies it; send a pointer`
	ch <- *p            // want `sending a percpu.Counter on a channel copies it`
	chs <- st           // want `sending a percpu.Counter \(in stats\) on a channel copies it`
	cha <- rw           // want `sending a percpu.RWMutex on a channel`
	cha <- fc           // want `sending a percpu.FloatCounter on a channel`
	ch <- arr[0]        // want `sending a percpu.Counter on a channel`
	ch <- *counterPtr() // want `sending a percpu.Counter on a channel`
	select {
	case chs <- st: // want `sending a percpu.Counter \(in stats\) on a channel`
	default:
	}
	ch <- percpu.Counter{} // a new zero value
	ch <- *new(percpu.Counter)
	cp := make(chan *percpu.Counter, 1)
	cp <- &c
}

func typeSwitch(x any) {
	switch v := x.(type) {
	case percpu.Counter: // want `the type switch copies a percpu.Counter out of the interface into v; store a pointer in the interface`
		fmt.Println(v.Load())
	case stats: // want `the type switch copies a percpu.Counter \(in stats\) out of the interface`
		fmt.Println(v.n)
	case percpu.RWMutex: // v unused here: no copy
	case *percpu.Counter, percpu.FloatCounter: // v is an interface here
		fmt.Println(v)
	case *percpu.Pool[int]:
		fmt.Println(v.Get())
	}
	switch x.(type) {
	case percpu.Counter:
	}
}

func derefCalls() percpu.Counter {
	a := *counterPtr()                                   // want `dereferencing the pointer copies a percpu.Counter; keep the pointer`
	var s = *statsPtr()                                  // want `dereferencing the pointer copies a percpu.Counter \(in stats\)`
	takeAny(*counterPtr())                               // want `dereferencing the pointer copies a percpu.Counter`
	_ = []stats{*statsPtr()}                             // want `dereferencing the pointer copies`
	_ = [1]percpu.Counter(*(*[1]percpu.Counter)(arr[:])) // want `dereferencing the pointer copies`
	z := *new(percpu.Counter)                            // a new zero value
	fmt.Println(&a, &s, &z)
	return *counterPtr() // want `dereferencing the pointer copies a percpu.Counter`
}

func builtins(cs, ds []percpu.Counter, ss []stats) []percpu.Counter {
	copy(cs, ds)                      // want `copy copies each percpu.Counter; use a slice of pointers`
	copy(ss, ss[1:])                  // want `copy copies each percpu.Counter \(in stats\)`
	cs = append(cs, ds...)            // want `append copies each percpu.Counter of the appended slice`
	cs = append(cs, percpu.Counter{}) // want `append may move the slice to a new array, copying each percpu.Counter; make the slice with its final length, or use a slice of pointers`
	ss = append(ss, stats{n: 1})      // want `append may move the slice to a new array, copying each percpu.Counter \(in stats\)`
	a := [2]percpu.Counter(cs)        // want `converting the slice to an array copies each percpu.Counter; use a pointer to an array`
	fmt.Println(&a, len(cs), cap(ss))
	pa := (*[2]percpu.Counter)(cs) // a pointer: no copy
	ps := append([]*percpu.Counter(nil), &c)
	ns := append([]int(nil), 1)
	copy(ns, []int{2})
	fmt.Println(pa, ps, ns)
	return cs
}

func mapKeys(m map[percpu.Counter]int) {
	_ = map[percpu.Counter]int{c: 1} // want `a map key copies a percpu.Counter; key the map by pointer`
	m[c] = 2                         // want `a map key copies a percpu.Counter`
	m[c]++                           // want `a map key copies a percpu.Counter`
	m[percpu.Counter{}] = 3          // a new zero value
	fmt.Println(m[c])                // a lookup stores no copy
}

// Copies that copylocks reports: not reported again.

func (s stats) byValue() int { return s.n } // copylocks

func leftToCopylocks(p *percpu.Counter, ch chan percpu.Counter, m map[string]percpu.Counter, x any, cs []percpu.Counter) {
	a := *p                     // copylocks
	b := <-ch                   // copylocks
	d, ok := <-ch               // copylocks
	e, ok := m["k"]             // copylocks
	f, ok := x.(percpu.Counter) // copylocks
	fmt.Println(c)              // copylocks
	var av atomic.Value
	av.Store(c)            // copylocks
	cs = append(cs, c)     // copylocks
	var i any = st         // copylocks
	g := arr               // copylocks
	for _, h := range cs { // copylocks
		fmt.Println(&h)
	}
	m["k"] = c     // copylocks
	go takeAny(rw) // copylocks
	fmt.Println(&a, &b, &d, &e, &f, ok, i, &g, av.Load())
	method := st.byValue // the copy is reported at byValue's declaration
	fmt.Println(method(), st.byValue())
	delete(m, "k")
	fmt.Println(&c, p.Load(), len(cs))
}
