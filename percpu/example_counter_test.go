// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"fmt"
	"sync"

	"github.com/gorseq/gorseq/percpu"
)

func ExampleCounter() {
	// The zero Counter is ready to use. Declare it as a variable or a
	// field, and never copy it.
	var requests percpu.Counter
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				requests.Inc() // per-CPU: handlers on different CPUs do not contend
			}
		})
	}
	wg.Wait()
	requests.Add(-500)

	// Load sums the shards; String does the same for expvar.
	fmt.Println(requests.Load())
	fmt.Println(requests.String())
	// Output:
	// 7500
	// 7500
}

func ExampleFloatCounter() {
	// Seconds spent serving requests, summed per CPU: no compare-and-swap
	// loop on a shared word.
	var busy percpu.FloatCounter
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				busy.Add(0.125) // a power-of-two fraction: every partial sum is exact
			}
		})
	}
	wg.Wait()

	fmt.Println(busy.Load())
	fmt.Println(busy.String())
	// Output:
	// 1000
	// 1000
}
