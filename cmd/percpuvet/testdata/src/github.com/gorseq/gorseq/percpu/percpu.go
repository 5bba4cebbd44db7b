// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package percpu is a stub of github.com/gorseq/gorseq/percpu for the
// tests of percpuvet: the same names and signatures, no implementation.
package percpu

import "errors"

// ErrNoRseq: the calling thread has no rseq registration.
var ErrNoRseq = errors.New("percpu: no rseq on this thread")

// ErrMismatch: the word did not hold the expected value.
var ErrMismatch = errors.New("percpu: word does not hold the expected value")

// Index says how a Block picks its shard.
type Index uint8

// The Indexes.
const (
	ByCPU Index = iota
	ByCID
)

// Block is per-CPU memory.
type Block struct{ addr *byte }

// Alloc allocates a Block.
func Alloc(size int, idx Index) (Block, error) { return Block{}, nil }

// Free frees b.
func (b Block) Free() {}

// Addr returns b's address.
func (b Block) Addr() uint64 { return 0 }

// noCopy makes go vet's copylocks check report copies.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Counter is a per-CPU counter.
type Counter struct {
	_ noCopy
	n int64
}

// Add adds v to c.
func (c *Counter) Add(v int64) {}

// Inc adds 1 to c.
func (c *Counter) Inc() {}

// Load returns c's value.
func (c *Counter) Load() int64 { return 0 }

// FloatCounter is a per-CPU float64 counter.
type FloatCounter struct {
	_ noCopy
	n float64
}

// Add adds v to c.
func (c *FloatCounter) Add(v float64) {}

// RWMutex is a reader-biased lock.
type RWMutex struct {
	_ noCopy
	w int32
}

// Lock locks rw.
func (rw *RWMutex) Lock() {}

// Unlock unlocks rw.
func (rw *RWMutex) Unlock() {}

// Pool is a per-CPU pool.
type Pool[T any] struct {
	_   noCopy
	New func() T
}

// Get returns an object.
func (p *Pool[T]) Get() T { var x T; return x }

// Put puts x in p.
func (p *Pool[T]) Put(x T) {}

// Values holds one T per CPU.
type Values[T any] struct {
	_      noCopy
	shards []T
}

// NewValues returns a Values.
func NewValues[T any](init func(*T)) *Values[T] { return new(Values[T]) }

// Update calls f with the current CPU's T.
func (v *Values[T]) Update(f func(*T)) {}

// CPU returns the current CPU.
func CPU() int { return 0 }

// CID returns the current concurrency ID.
func CID() int { return 0 }

// Node returns the current NUMA node.
func Node() int { return 0 }

// Shards returns the number of shards.
func Shards() int { return 1 }

// Add adds v to a word of the current shard.
func Add(b Block, off int, v int64) (shard int, err error) { return 0, nil }

// CompareAndStore compares and stores.
func CompareAndStore(b Block, off int, old, new uint64) (shard int, err error) { return 0, nil }

// Pop pops an item.
func Pop(b Block, off int, links []uint64) (item int, shard int, err error) { return 0, 0, nil }

// Push pushes an item.
func Push(b Block, off int, links []uint64, item int) (shard int, err error) { return 0, nil }

// StoreCommit stores and commits.
func StoreCommit(b Block, off int, old, new uint64, dst Block, dstOff int, v uint64) (shard int, err error) {
	return 0, nil
}

// CopyCommit copies and commits.
func CopyCommit(b Block, off int, old, new uint64, dst Block, dstOff int, src []byte) (shard int, err error) {
	return 0, nil
}

// AddIndirect adds through a base word.
func AddIndirect(base *uint64, off int, v int64, idx Index) (shard int, err error) { return 0, nil }
