// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Counter is a per-CPU int64 counter: Add updates the current CPU's shard
// with a restartable load-add-store, a few plain instructions, so that
// goroutines on different CPUs never contend; Load sums the shards. Use it
// for hot counters that are updated far more often than read (requests,
// bytes, events). The zero Counter is ready to use and counts from 0. A
// Counter must not be copied after first use.
//
// In every shard a Counter has two words: one that only restartable
// commits write (threads with rseq), and one that only atomic adds write
// (threads without: a stock toolchain, GODEBUG=rseq=0, a thread whose
// registration failed), indexed by P. The two kinds never write the same
// word, so no update is lost when they mix. A Counter costs 16 bytes per
// possible CPU of per-CPU memory, and returns it when the Counter is
// garbage collected.
//
// Memory ordering: an Add is a plain store to the current CPU's word (a
// restartable commit) and orders nothing for other CPUs; Load's atomic
// loads see, for each shard, its latest commit or an earlier one. A
// Counter counts; it does not publish other data (see RWMutex, which adds
// with a release where it must). Where gorseq's toolchain emits Add's
// section inline at the call site (counter_add_inline.go), the commit is
// the same plain store with no barrier on either architecture (ADDQ to
// the word on amd64; LDR, ADD, STR on arm64), and the machine-code tests
// (cs_inline_machinecode*_test.go) check that it is the section's only
// store.
//
// Counter implements expvar.Var.
type Counter struct {
	_ noCopy
	// shard0 is the counter's Block in shard 0, nil before first use.
	// Set once.
	shard0 atomic.Pointer[counterShard]
}

// counterShard is a Counter's or a FloatCounter's Block in one shard. A
// FloatCounter keeps the bits of a float64 (math.Float64bits) in each word.
type counterShard struct {
	rseq     int64 // written only by restartable commits
	fallback int64 // written only by atomic adds (compare-and-swap for a FloatCounter)
}

// noCopy makes go vet's copylocks check report copies of a Counter.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// counterPerP is 1 when the process has no rseq: the assembly's fallback
// then takes the slow path's per-P atomic add instead of its own striped
// one. Set once by init.
var counterPerP uint8

// counterAddPerP is Add without rseq in the process, once c is in use:
// the assembly jumps here (counterPerP).
func counterAddPerP(c *Counter, v int64) {
	s0 := c.shard0.Load()
	i := procPin()
	if i >= shardCount {
		i %= shardCount
	}
	atomic.AddInt64(&s0.in(i).fallback, v)
	procUnpin()
}

// counterAddSlow is Add when c is not yet in use (and, on architectures
// without counterAdd's assembly, always).
func counterAddSlow(c *Counter, v int64) {
	s := c.shard0.Load()
	if s == nil {
		s = c.init()
	}
	if mode == ModeFallback || csAdd(uintptr(unsafe.Pointer(s)), v, rseqCPUIDOffset) < 0 {
		counterAddFallback(s, v)
	}
	runtime.KeepAlive(c)
}

// Inc adds 1 to the counter.
func (c *Counter) Inc() { c.Add(1) }

// Dec subtracts 1 from the counter.
func (c *Counter) Dec() { c.Add(-1) }

// addRelease adds v to c as Add does, with a store-release: every load and
// store the goroutine made before it is ordered before the add, for a
// reader on another CPU that sees the add with an atomic load (RWMutex's
// RUnlock and back-out). With rseq it is Add's critical section
// committing with STLR on arm64 (on amd64 every store is a release, and
// the section is Add's); otherwise it is the atomic add on the fallback
// word, a full barrier.
func (c *Counter) addRelease(v int64) { counterAddRelease(c, v) }

// counterAddReleaseSlow is addRelease when c is not yet in use, or the
// thread has no rseq: the atomic add on the fallback word (Add's
// restartable slow path commits with a plain store).
func counterAddReleaseSlow(c *Counter, v int64) {
	s := c.shard0.Load()
	if s == nil {
		s = c.init()
	}
	counterAddFallback(s, v)
	runtime.KeepAlive(c)
}

// addAtomic adds v to c with an atomic add on the current P's fallback
// word, even on a thread with rseq, and returns that word's new value (not
// the counter's): the add of the fallback, and of callers that need the
// add to be a full barrier (RWMutex's slow path).
func (c *Counter) addAtomic(v int64) int64 {
	s := c.shard0.Load()
	if s == nil {
		s = c.init()
	}
	// counterAddFallback, written out: the fallback's readers and
	// writers call this on every RLock and RUnlock.
	i := procPin()
	if i >= shardCount {
		i %= shardCount
	}
	n := atomic.AddInt64(&s.in(i).fallback, v)
	procUnpin()
	runtime.KeepAlive(c)
	return n
}

// counterAddFallback adds v atomically to the fallback word of the shard
// that the current P's id picks (other goroutines may add to the same
// word: the P's next goroutine, a thread without rseq, or a P beyond the
// shard count), and returns the word's new value. Measured against the
// alternatives on a 2-CPU machine (docs/benchmarks.md, issue 9): the P's
// word is as cheap as a word picked from the stack pointer, alone, and
// never shared between two running goroutines in parallel, where stack
// stripes over two shards collide half the time.
func counterAddFallback(s0 *counterShard, v int64) int64 {
	i := procPin()
	if i >= shardCount {
		i %= shardCount
	}
	n := atomic.AddInt64(&s0.in(i).fallback, v)
	procUnpin()
	return n
}

// in returns the counter's Block in shard i, given its Block in shard 0.
func (s0 *counterShard) in(i int) *counterShard {
	return (*counterShard)(unsafe.Add(unsafe.Pointer(s0), i<<regionStrideShift))
}

// Load returns the counter's value: the sum of its shards, each read
// atomically. Adds that run at the same time may or may not be included.
func (c *Counter) Load() int64 {
	s0 := c.shard0.Load()
	if s0 == nil {
		return 0
	}
	var sum int64
	for i := 0; i < shardCount; i++ {
		s := s0.in(i)
		sum += atomic.LoadInt64(&s.rseq) + atomic.LoadInt64(&s.fallback)
	}
	runtime.KeepAlive(c)
	return sum
}

// String returns the counter's value in decimal, for expvar.
func (c *Counter) String() string { return strconv.FormatInt(c.Load(), 10) }

// counterInit serialises the first use of Counters and FloatCounters.
var counterInit sync.Mutex

// init allocates c's Block on first use.
func (c *Counter) init() *counterShard { return initCounterShard(&c.shard0, c, "Counter") }

// initCounterShard allocates the Block of a Counter or FloatCounter (owner,
// whose shard0 field p is) on first use, frees it when owner is garbage
// collected, and returns its shard 0.
func initCounterShard[T any](p *atomic.Pointer[counterShard], owner *T, what string) *counterShard {
	counterInit.Lock()
	defer counterInit.Unlock()
	if s := p.Load(); s != nil {
		return s
	}
	b, err := Alloc(int(unsafe.Sizeof(counterShard{})), ByCPU)
	if err != nil {
		panic("percpu: " + what + ": " + err.Error())
	}
	s := (*counterShard)(b.addr)
	p.Store(s)
	runtime.AddCleanup(owner, Block.Free, b)
	return s
}
