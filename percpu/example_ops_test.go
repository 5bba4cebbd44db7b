// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
)

// The examples print the same with or without rseq: each keeps a fallback
// for ErrNoRseq, as any structure built on the operations must.

// A per-CPU event counter: Add updates the current CPU's word, and the
// total is the sum of every shard (read atomically) and of the fallback.
func ExampleAdd() {
	b, err := percpu.Alloc(8, percpu.ByCPU)
	if err != nil {
		panic(err)
	}
	defer b.Free()
	var fallback atomic.Int64 // for threads without rseq

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				if _, err := percpu.Add(b, 0, 1); err != nil { // ErrNoRseq
					fallback.Add(1)
				}
			}
		}()
	}
	wg.Wait()

	total := fallback.Load()
	for s := 0; s < percpu.Shards(); s++ {
		total += atomic.LoadInt64((*int64)(b.Shard(s)))
	}
	fmt.Println(total)
	// Output: 4000
}

// A per-CPU maximum: read the current CPU's word as a hint, and store the
// new maximum only if the word of the CPU the thread is on when the
// operation runs still holds what was read. ErrMismatch means the thread
// moved or another thread got there first: read again.
func ExampleCompareAndStore() {
	b, err := percpu.Alloc(8, percpu.ByCPU)
	if err != nil {
		panic(err)
	}
	defer b.Free()
	var mu sync.Mutex
	var fallbackMax uint64 // for threads without rseq

	observe := func(x uint64) {
		for {
			cur := atomic.LoadUint64((*uint64)(b.Shard(percpu.CPU())))
			if cur >= x {
				return
			}
			switch _, err := percpu.CompareAndStore(b, 0, cur, x); err {
			case nil:
				return
			case percpu.ErrMismatch:
				continue
			default: // ErrNoRseq
				mu.Lock()
				fallbackMax = max(fallbackMax, x)
				mu.Unlock()
				return
			}
		}
	}
	for _, x := range []uint64{3, 42, 7, 19} {
		observe(x)
	}

	m := fallbackMax
	for s := 0; s < percpu.Shards(); s++ {
		m = max(m, atomic.LoadUint64((*uint64)(b.Shard(s))))
	}
	fmt.Println(m)
	// Output: 42
}

// Push and Pop keep one list per CPU, threaded through links shared by
// all: the head word holds 1 + the first item (0: empty), links[i] the
// head after item i. Here the thread stays on one CPU, so both operations
// see the same list: last in, first out.
func ExamplePop() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var all, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		panic(err)
	}
	defer unix.SchedSetaffinity(0, &all)
	one.Set(percpu.CPU())
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		panic(err)
	}

	head, err := percpu.Alloc(8, percpu.ByCPU)
	if err != nil {
		panic(err)
	}
	defer head.Free()
	links := make([]uint64, 4)
	var fallback []int // for threads without rseq

	for _, item := range []int{1, 2, 3} {
		if _, err := percpu.Push(head, 0, links, item); err == percpu.ErrNoRseq {
			fallback = append(fallback, item)
		}
	}
	for {
		item, _, err := percpu.Pop(head, 0, links)
		if err == percpu.ErrNoRseq && len(fallback) > 0 {
			item, fallback, err = fallback[len(fallback)-1], fallback[:len(fallback)-1], nil
		}
		if err != nil { // ErrEmpty, or ErrNoRseq with nothing left
			break
		}
		fmt.Print(item, " ")
	}
	fmt.Println()
	// Output: 3 2 1
}

// A per-CPU log of 8-byte entries: StoreCommit writes the entry into the
// next slot of the current CPU's ring and then commits the CPU's count,
// both or neither. The count read beforehand is a hint: if the thread
// moved, or another thread logged meanwhile, the operation reports
// ErrMismatch and the entry is written again.
func ExampleStoreCommit() {
	const slots = 8
	count, err := percpu.Alloc(8, percpu.ByCPU)
	if err != nil {
		panic(err)
	}
	defer count.Free()
	ring, err := percpu.Alloc(8*slots, percpu.ByCPU)
	if err != nil {
		panic(err)
	}
	defer ring.Free()
	var mu sync.Mutex
	var fallback []uint64 // for threads without rseq

	log := func(v uint64) {
		for {
			c := atomic.LoadUint64((*uint64)(count.Shard(percpu.CPU())))
			_, err := percpu.StoreCommit(count, 0, c, c+1, ring, int(c%slots)*8, v)
			if err == percpu.ErrMismatch {
				continue
			}
			if err != nil { // ErrNoRseq
				mu.Lock()
				fallback = append(fallback, v)
				mu.Unlock()
			}
			return
		}
	}
	for v := uint64(1); v <= 5; v++ {
		log(v)
	}

	// Each shard's newest entries, read atomically.
	n, sum := len(fallback), uint64(0)
	for _, v := range fallback {
		sum += v
	}
	for s := 0; s < percpu.Shards(); s++ {
		c := atomic.LoadUint64((*uint64)(count.Shard(s)))
		for i := c - min(c, slots); i < c; i++ {
			sum += atomic.LoadUint64((*uint64)(unsafe.Add(ring.Shard(s), int(i%slots)*8)))
			n++
		}
	}
	fmt.Println(n, "entries, sum", sum)
	// Output: 5 entries, sum 15
}

// The last message logged on each CPU: CopyCommit copies the text and then
// commits its length, so a reader that loads the length (atomically) sees
// the whole text.
func ExampleCopyCommit() {
	length, err := percpu.Alloc(8, percpu.ByCPU)
	if err != nil {
		panic(err)
	}
	defer length.Free()
	text, err := percpu.Alloc(64, percpu.ByCPU)
	if err != nil {
		panic(err)
	}
	defer text.Free()

	msg := []byte("hello from a CPU")
	for {
		n := atomic.LoadUint64((*uint64)(length.Shard(percpu.CPU())))
		shard, err := percpu.CopyCommit(length, 0, n, uint64(len(msg)), text, 0, msg)
		if err == percpu.ErrMismatch {
			continue
		}
		if err != nil { // ErrNoRseq: keep the message elsewhere
			fmt.Println(string(msg))
			break
		}
		// Read back from the shard the message went to. No operation
		// runs on it now; otherwise read it with atomic loads.
		l := atomic.LoadUint64((*uint64)(length.Shard(shard)))
		fmt.Println(string(unsafe.Slice((*byte)(text.Shard(shard)), l)))
		break
	}
	// Output: hello from a CPU
}
