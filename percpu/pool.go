// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Pool is a per-CPU cache of reusable objects, in the style of a memory
// allocator's per-CPU caches: Get and Put touch only the current CPU's
// cache in the common case, with one restartable list pop and one push
// each, and no atomic read-modify-write. Each CPU caches up to
// [PoolCacheSize] objects; beyond that, objects go to a shared overflow of
// bounded size, and beyond that they are dropped for the garbage collector.
//
// Compared with sync.Pool: objects in a Pool survive garbage collections.
// sync.Pool empties its caches over two collections, so that an idle pool
// costs nothing; a Pool instead holds at most PoolCacheSize objects per
// CPU plus the overflow, so its memory is bounded by what the program put
// in at its peak, and a Get after a collection still finds a warm object.
// Call [Pool.Drain] to release everything (for example when a burst is
// over). Like sync.Pool, a Pool may hand out any of the objects put in,
// in any order; it never hands one object to two holders at once, and it
// never loses an object it kept while it is reachable.
//
// How it is GC-safe: the objects live in a slice of T in Go memory, which
// only Go code writes; the restartable operations only move slot indices
// between per-CPU lists (a list of free slots and a list of full ones per
// CPU, in per-CPU memory that holds no Go pointers). A slot popped from a
// list belongs to the goroutine that popped it until it pushes it again,
// so its Go store or load needs no lock.
//
// Without rseq on the thread (stock toolchain, GODEBUG=rseq=0), Get and
// Put use a per-P cache under a mutex that only that P uses.
//
// The zero Pool is ready to use; New, if set, makes an object when the
// pool has none. A Pool must not be copied after first use.
type Pool[T any] struct {
	_ noCopy
	// New returns a new object for Get when the pool has none; nil
	// makes Get return the zero T.
	New func() T

	once     sync.Once
	lists    Block    // word poolFull: head of full slots; poolFree: free slots
	links    []uint64 // next-slot links of the lists, shared by all CPUs
	slots    []T      // the cached objects, by slot
	overflow struct {
		sync.Mutex
		items []T
	}
	byP []poolPShard[T] // the fallback caches
}

// PoolCacheSize is the number of objects a Pool caches per CPU.
const PoolCacheSize = 32

// poolOverflowSize bounds a Pool's shared overflow.
const poolOverflowSize = 256

// Word offsets in Pool.lists.
const (
	poolFull = 0
	poolFree = 8
)

type poolPShard[T any] struct {
	mu    sync.Mutex
	items []T
	_     [64 - 8 - 24]byte
}

func (p *Pool[T]) lazyInit() {
	p.once.Do(func() {
		n := max(runtime.GOMAXPROCS(0), runtime.NumCPU())
		p.byP = make([]poolPShard[T], n)
		if mode == ModeFallback {
			return
		}
		b, err := Alloc(16, ByCPU)
		if err != nil {
			panic("percpu: Pool: " + err.Error())
		}
		p.lists = b
		slots := shardCount * PoolCacheSize
		p.slots = make([]T, slots)
		p.links = make([]uint64, slots)
		// Thread each shard's slots onto its free list. Nothing runs
		// on the lists yet, so plain stores do.
		for s := 0; s < shardCount; s++ {
			first := s * PoolCacheSize
			for i := first; i < first+PoolCacheSize-1; i++ {
				p.links[i] = uint64(i + 2) // head value of slot i+1
			}
			p.links[first+PoolCacheSize-1] = 0
			*(*uint64)(b.shard(s)) = 0 // full list: empty
			*(*uint64)(unsafe.Add(b.shard(s), poolFree)) = uint64(first + 1)
		}
		// The lists' Block is freed when the Pool is collected; slots
		// and links are Go memory.
		runtime.AddCleanup(p, Block.Free, b)
	})
}

// Get takes an object from the pool, or returns New() (the zero T if New
// is nil) when it has none.
func (p *Pool[T]) Get() T {
	p.lazyInit()
	if p.slots != nil {
		// The critical sections are called directly: the Block and
		// the links are the pool's own, valid by construction.
		lists, links := uintptr(p.lists.addr), unsafe.Pointer(&p.links[0])
		slot, r := csPop(lists+poolFull, links, uintptr(len(p.links)), rseqCPUIDOffset)
		switch {
		case r >= 0:
			var zero T
			x := p.slots[slot]
			p.slots[slot] = zero
			p.pushSlot(lists+poolFree, links, uintptr(slot))
			return x
		case r == csFailed: // this CPU's cache is empty
			if x, ok := p.takeOverflow(); ok {
				return x
			}
			return p.newT()
		case r == csCorrupt:
			panic("percpu: Pool: corrupt slot list")
		}
		// csNoRseq: this thread has none; use the per-P caches.
	}
	if x, ok := p.getP(); ok {
		return x
	}
	return p.newT()
}

// Put adds x to the pool.
func (p *Pool[T]) Put(x T) {
	p.lazyInit()
	if p.slots != nil {
		lists, links := uintptr(p.lists.addr), unsafe.Pointer(&p.links[0])
		slot, r := csPop(lists+poolFree, links, uintptr(len(p.links)), rseqCPUIDOffset)
		switch {
		case r >= 0:
			p.slots[slot] = x
			p.pushSlot(lists+poolFull, links, uintptr(slot))
			return
		case r == csFailed: // this CPU's cache is full
			p.putOverflow(x)
			return
		case r == csCorrupt:
			panic("percpu: Pool: corrupt slot list")
		}
	}
	p.putP(x)
}

// pushSlot pushes a slot the caller popped (and so owns) onto a list. The
// thread had rseq for the pop, so it has it for the push.
func (p *Pool[T]) pushSlot(list uintptr, links unsafe.Pointer, slot uintptr) {
	if csPush(list, links, slot, rseqCPUIDOffset) < 0 {
		panic("percpu: Pool: the thread lost rseq between a pop and a push")
	}
	runtime.KeepAlive(p) // the cleanup frees the lists' Block
}

func (p *Pool[T]) newT() T {
	if p.New != nil {
		return p.New()
	}
	var zero T
	return zero
}

func (p *Pool[T]) takeOverflow() (T, bool) {
	var zero T
	p.overflow.Lock()
	defer p.overflow.Unlock()
	n := len(p.overflow.items)
	if n == 0 {
		return zero, false
	}
	x := p.overflow.items[n-1]
	p.overflow.items[n-1] = zero
	p.overflow.items = p.overflow.items[:n-1]
	return x, true
}

func (p *Pool[T]) putOverflow(x T) {
	p.overflow.Lock()
	if len(p.overflow.items) < poolOverflowSize {
		p.overflow.items = append(p.overflow.items, x)
	}
	p.overflow.Unlock()
}

func (p *Pool[T]) pShard() *poolPShard[T] {
	i := procPin()
	procUnpin()
	return &p.byP[i%len(p.byP)]
}

func (p *Pool[T]) getP() (T, bool) {
	s := p.pShard()
	s.mu.Lock()
	n := len(s.items)
	if n > 0 {
		var zero T
		x := s.items[n-1]
		s.items[n-1] = zero
		s.items = s.items[:n-1]
		s.mu.Unlock()
		return x, true
	}
	s.mu.Unlock()
	return p.takeOverflow()
}

func (p *Pool[T]) putP(x T) {
	s := p.pShard()
	s.mu.Lock()
	if len(s.items) < PoolCacheSize {
		s.items = append(s.items, x)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	p.putOverflow(x)
}

// Drain removes every object the pool holds and returns how many it
// removed. Objects that Gets and Puts move meanwhile may stay, and so may
// the caches of CPUs outside the process's CPU affinity (Drain visits each
// allowed CPU to reach its cache).
func (p *Pool[T]) Drain() int {
	p.lazyInit()
	n := 0
	for {
		if _, ok := p.takeOverflow(); !ok {
			break
		}
		n++
	}
	for i := range p.byP {
		s := &p.byP[i]
		s.mu.Lock()
		n += len(s.items)
		clear(s.items)
		s.items = s.items[:0]
		s.mu.Unlock()
	}
	if p.slots != nil {
		n += p.drainCPUs()
	}
	return n
}

// drainCPUs empties every CPU's cache that this process may run on: a
// restartable pop only reaches the current CPU's list, so the thread visits
// each allowed CPU in turn. It returns how many objects it removed.
func (p *Pool[T]) drainCPUs() int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		return 0
	}
	defer unix.SchedSetaffinity(0, &orig)
	n := 0
	var zero T
	for cpu := 0; cpu < shardCount; cpu++ {
		if !orig.IsSet(cpu) {
			continue
		}
		var one unix.CPUSet
		one.Set(cpu)
		if unix.SchedSetaffinity(0, &one) != nil {
			continue
		}
		for {
			lists, links := uintptr(p.lists.addr), unsafe.Pointer(&p.links[0])
			slot, r := csPop(lists+poolFull, links, uintptr(len(p.links)), rseqCPUIDOffset)
			if r < 0 {
				break
			}
			p.slots[slot] = zero
			p.pushSlot(lists+poolFree, links, uintptr(slot))
			n++
		}
	}
	return n
}
