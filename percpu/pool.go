// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Pool is a per-CPU cache of reusable objects, in the style of a memory
// allocator's per-CPU caches: Get and Put touch only the current CPU's
// cache in the common case, one restartable critical section each, with
// no atomic read-modify-write and no lock. Each CPU caches up to
// [PoolCacheSize] objects; beyond that, objects go to a shared overflow of
// bounded size, and beyond that they are dropped for the garbage collector.
//
// The fast path is for pointer types (Pool[*bytes.Buffer], the usual
// use); a Pool of another type uses the per-P caches described below.
//
// Compared with sync.Pool: objects in a Pool survive garbage collections.
// sync.Pool empties its caches over two collections, so that an idle pool
// costs nothing; a Pool instead holds at most PoolCacheSize objects per
// CPU (PoolCacheSize + 1 per P in the per-P caches) plus the overflow, so
// its memory is bounded by what the program put
// in at its peak, and a Get after a collection still finds a warm object.
// An object taken by Get may also stay referenced by its slab slot until a
// later Put overwrites it, so the pool can delay its collection (never
// free it early). Call [Pool.Drain] to release the cached objects (for
// example when a burst is over). Like sync.Pool, a Pool may hand out any
// of the objects put in, in any order; it never hands one object to two
// holders at once, and never loses an object it kept.
//
// How it is GC-safe: each CPU's slab is a part of a Go []unsafe.Pointer,
// which the garbage collector scans; the number of objects in it is a word
// of per-CPU memory. Put's critical section stores the object into the
// slab, a pointer store that skips the write barrier, so it runs only
// while the collector is not marking (it checks the runtime's write
// barrier flag, which cannot change while a goroutine runs assembly);
// while the collector marks, Put uses the per-P caches instead. Get's
// critical section only loads.
//
// Memory ordering (amd64 and arm64). A CPU's slab and its count are read
// and written only by critical sections running on that CPU (Drain pins
// its thread to each CPU in turn), so the sections need no barrier: a CPU
// sees its own stores in program order, and a thread that moves to
// another CPU crosses the scheduler's full barriers. That also carries an
// object's contents from the goroutine that Put it to the one that Gets
// it on the same CPU. The collector reads the slabs from other CPUs only
// after the stop-the-world that turns marking on, which orders every
// earlier slot store before its scan; while it marks, Put stores no
// pointers. Both commits are plain stores (STR on arm64); the
// machine-code tests check that no section has a barrier or an atomic.
//
// Without rseq on the thread (stock toolchain, GODEBUG=rseq=0), and for a
// Pool of a non-pointer type, Get and Put use per-P caches, each touched
// only by the goroutine running on its P with preemption disabled
// (procPin, sync.Pool's technique): no lock and no atomic read-modify-
// write either. Drain reaches them with a grace period instead: it sets
// the pool's draining flag, which a section reads after pinning and, if
// set, leaves its cache alone and uses the overflow; then it stops the
// world once (waitPinned), which cannot complete while any P
// runs a pinned section, so every section that could have missed the flag
// has ended, and every later one sees it. The stop-the-world is also the
// barrier that carries the sections' stores to Drain (on both
// architectures: the runtime's own locks and atomics order a stopped P's
// earlier stores before the stop completes), and clearing the flag with
// an atomic store (a release) carries Drain's stores to the next
// sections, which read the flag with an atomic load (an acquire: a MOV on
// amd64, LDAR on arm64). TestStopTheWorldWaitsForPinned checks the
// runtime property the grace period rests on. The race detector sees none
// of that, so race builds guard each per-P cache with a mutex instead.
//
// The zero Pool is ready to use; New, if set, makes an object when the
// pool has none. A Pool must not be copied after first use.
type Pool[T any] struct {
	_ noCopy
	// New returns a new object for Get when the pool has none; nil
	// makes Get return the zero T.
	New func() T

	once     sync.Once
	pointers bool             // T is a pointer type
	fast     bool             // pointers, and the process has rseq
	ready    atomic.Uint32    // poolFast or poolPerP once the fields below are set
	slab0    unsafe.Pointer   // &slabs[0]
	tops     Block            // per CPU: the number of objects in its slab
	slabs    []unsafe.Pointer // PoolCacheSize slots per shard
	overflow struct {
		sync.Mutex
		items   []T
		dropped int64 // objects Put found no room for (for the tests)
	}
	byP []poolPShard[T] // the per-P caches

	draining atomic.Uint32 // Drain owns the per-P caches; sections keep off
	usedP    atomic.Bool   // a Put has used a per-P cache
	drainMu  sync.Mutex    // one Drain at a time
}

// PoolCacheSize is the number of objects a Pool caches per CPU.
const PoolCacheSize = 32

// poolSlabShift is log2 of a slab's size in bytes.
const poolSlabShift = 8

// poolOverflowSize bounds a Pool's shared overflow.
const poolOverflowSize = 256

// Pool.ready: which path Get and Put take first, once lazyInit has run.
const (
	poolFast = 1 // the per-CPU slabs (rseq, pointer T, no race detector)
	poolPerP = 2 // the per-P caches
)

// poolMarking: Put found the garbage collector marking.
const poolMarking = -4

// A poolPShard is one P's cache: a private slot (sync.Pool's, the
// cheapest place for the object of a Get right after a Put) and up to
// PoolCacheSize more. Outside race builds, only a goroutine pinned to that
// P (or Drain, after its grace period) touches it; mu is used only by
// race builds.
type poolPShard[T any] struct {
	private    T
	hasPrivate bool
	items      []T
	mu         sync.Mutex
	// Whatever T's size, the used bytes of two Ps' caches are more than
	// a cache line apart (each P writes its own on every Get and Put).
	_ [64]byte
}

// take removes an object from the cache, if it has one.
func (s *poolPShard[T]) take() (x T, ok bool) {
	var zero T
	if s.hasPrivate {
		x, s.private, s.hasPrivate = s.private, zero, false
		return x, true
	}
	if n := len(s.items); n > 0 {
		x = s.items[n-1]
		s.items[n-1] = zero
		s.items = s.items[:n-1]
		return x, true
	}
	return x, false
}

// add puts x in the cache if it has room. An append that grows the slice
// allocates with preemption disabled, as sync.Pool's does: the allocator
// does not assist the collector there.
func (s *poolPShard[T]) add(x T) bool {
	if !s.hasPrivate {
		s.private, s.hasPrivate = x, true
		return true
	}
	if len(s.items) < PoolCacheSize {
		s.items = append(s.items, x)
		return true
	}
	return false
}

// drain empties the cache and returns how many objects it held.
func (s *poolPShard[T]) drain() int {
	n := len(s.items)
	if s.hasPrivate {
		var zero T
		s.private, s.hasPrivate = zero, false
		n++
	}
	clear(s.items)
	s.items = s.items[:0]
	return n
}

func (p *Pool[T]) lazyInit() {
	p.once.Do(func() {
		p.byP = make([]poolPShard[T], max(runtime.GOMAXPROCS(0), runtime.NumCPU()))
		k := reflect.TypeFor[T]().Kind()
		p.pointers = k == reflect.Pointer || k == reflect.UnsafePointer
		// The race detector cannot see objects handed over through the
		// assembly: race builds use the per-P caches.
		if mode == ModeFallback || !p.pointers || raceEnabled {
			p.usedP.Store(true)
			p.ready.Store(poolPerP)
			return
		}
		b, err := Alloc(8, ByCPU)
		if err != nil {
			panic("percpu: Pool: " + err.Error())
		}
		p.tops = b
		p.slabs = make([]unsafe.Pointer, shardCount*PoolCacheSize)
		p.slab0 = unsafe.Pointer(&p.slabs[0])
		p.fast = true
		// The tops' Block is freed when the Pool is collected: p is
		// the receiver of every call that uses tops, and stays
		// reachable through it until the call returns.
		runtime.AddCleanup(p, Block.Free, b)
		p.ready.Store(poolFast)
	})
}

// Get takes an object from the pool, or returns New() (the zero T if New
// is nil) when it has none.
func (p *Pool[T]) Get() T {
	switch p.ready.Load() {
	case poolFast:
		x, r := poolPop(uintptr(p.tops.addr), p.slab0)
		runtime.KeepAlive(p) // its cleanup frees tops
		if r >= 0 {
			return *(*T)(unsafe.Pointer(&x))
		}
	case poolPerP:
		// getPinned, written out: a call fewer on the fallback's path.
		if !raceEnabled {
			pid := procPin()
			if p.draining.Load() == 0 {
				if b := p.byP; pid < len(b) {
					if x, ok := b[pid].take(); ok {
						procUnpin()
						return x
					}
				}
			}
			procUnpin()
		}
	}
	return p.getSlow()
}

// getSlow is Get when the slab is empty, the thread has no rseq, or the
// pool is not on its fast path (yet).
func (p *Pool[T]) getSlow() T {
	p.lazyInit()
	if p.fast {
		x, r := poolPop(uintptr(p.tops.addr), p.slab0)
		runtime.KeepAlive(p)
		if r >= 0 {
			return *(*T)(unsafe.Pointer(&x))
		}
		// Empty slab, or no rseq on this thread.
	}
	if x, ok := p.getP(); ok {
		return x
	}
	return p.newT()
}

// Put adds x to the pool. A nil pointer is not kept.
func (p *Pool[T]) Put(x T) {
	switch p.ready.Load() {
	case poolFast:
		ptr := *(*unsafe.Pointer)(unsafe.Pointer(&x))
		if ptr != nil && poolPush(uintptr(p.tops.addr), p.slab0, ptr) >= 0 {
			runtime.KeepAlive(p)
			return
		}
	case poolPerP:
		if p.pointers && *(*unsafe.Pointer)(unsafe.Pointer(&x)) == nil {
			return
		}
		// putPinned, written out: a call fewer on the fallback's path.
		if !raceEnabled {
			pid := procPin()
			if p.draining.Load() == 0 {
				if b := p.byP; pid < len(b) {
					if b[pid].add(x) {
						procUnpin()
						return
					}
				}
			}
			procUnpin()
		}
	}
	p.putSlow(x)
}

// putSlow is Put when the slab is full, the collector is marking, the
// thread has no rseq, or the pool is not on its fast path (yet).
func (p *Pool[T]) putSlow(x T) {
	p.lazyInit()
	if p.pointers && *(*unsafe.Pointer)(unsafe.Pointer(&x)) == nil {
		return
	}
	if p.fast {
		r := poolPush(uintptr(p.tops.addr), p.slab0, *(*unsafe.Pointer)(unsafe.Pointer(&x)))
		runtime.KeepAlive(p)
		switch {
		case r >= 0:
			return
		case r == csFailed: // this CPU's slab is full (or being drained)
			p.putOverflow(x)
			return
		}
		// No rseq on this thread, or the collector is marking.
	}
	p.putP(x)
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
	} else {
		p.overflow.dropped++
	}
	p.overflow.Unlock()
}

// getP takes an object from the current P's cache, else from the
// overflow.
func (p *Pool[T]) getP() (x T, ok bool) {
	if raceEnabled {
		x, ok = p.getPLocked()
	} else {
		x, ok = p.getPinned()
	}
	if ok {
		return x, true
	}
	return p.takeOverflow()
}

// getPinned takes an object from the current P's cache, if it has one
// and Drain is not at work (outside race builds; see Pool).
func (p *Pool[T]) getPinned() (x T, ok bool) {
	if raceEnabled {
		return x, false
	}
	pid := procPin()
	if p.draining.Load() == 0 {
		if b := p.byP; pid < len(b) {
			x, ok = b[pid].take()
		}
	}
	procUnpin()
	return x, ok
}

// putP adds x to the current P's cache, else to the overflow.
func (p *Pool[T]) putP(x T) {
	if !p.usedP.Load() {
		p.usedP.Store(true)
	}
	if raceEnabled {
		if !p.putPLocked(x) {
			p.putOverflow(x)
		}
		return
	}
	for try := 0; ; try++ {
		ok, beyond := p.putPinned(x)
		switch {
		case ok:
			return
		case beyond && try == 0:
			p.growP() // GOMAXPROCS grew since the caches were made
		default:
			p.putOverflow(x)
			return
		}
	}
}

// putPinned adds x to the current P's cache if it has room and Drain is
// not at work (outside race builds; see Pool); beyond reports that the P
// has no cache.
func (p *Pool[T]) putPinned(x T) (ok, beyond bool) {
	if raceEnabled {
		return false, false
	}
	pid := procPin()
	if p.draining.Load() == 0 {
		if b := p.byP; pid < len(b) {
			ok = b[pid].add(x)
		} else {
			beyond = true
		}
	}
	procUnpin()
	return ok, beyond
}

// growP gives every P a cache (GOMAXPROCS has grown): the caches are
// copied into a longer slice while the sections keep off, as for Drain.
func (p *Pool[T]) growP() {
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	n := runtime.GOMAXPROCS(0)
	if n <= len(p.byP) {
		return
	}
	p.draining.Store(1)
	waitPinned()
	b := make([]poolPShard[T], n)
	for i := range p.byP {
		o := &p.byP[i]
		b[i].private, b[i].hasPrivate, b[i].items = o.private, o.hasPrivate, o.items
	}
	p.byP = b
	p.draining.Store(0)
}

// pShardLocked is the current P's cache for race builds (a P beyond the
// caches sized at first use shares one; race builds do not grow them).
func (p *Pool[T]) pShardLocked() *poolPShard[T] {
	i := procPin()
	procUnpin()
	return &p.byP[i%len(p.byP)]
}

func (p *Pool[T]) getPLocked() (x T, ok bool) {
	s := p.pShardLocked()
	s.mu.Lock()
	x, ok = s.take()
	s.mu.Unlock()
	return x, ok
}

func (p *Pool[T]) putPLocked(x T) bool {
	s := p.pShardLocked()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(x)
}

// drainP empties the per-P caches and returns how many objects it
// removed. Outside race builds it first waits out every section that may
// not have seen the draining flag (see Pool).
func (p *Pool[T]) drainP() int {
	if !p.usedP.Load() {
		return 0
	}
	if !raceEnabled {
		p.draining.Store(1)
		defer p.draining.Store(0)
		waitPinned()
	}
	n := 0
	for i := range p.byP {
		s := &p.byP[i]
		if raceEnabled {
			s.mu.Lock()
		}
		n += s.drain()
		if raceEnabled {
			s.mu.Unlock()
		}
	}
	return n
}

// Drain removes every object the pool holds and returns how many it
// removed. Objects that Gets and Puts move meanwhile may stay, and so may
// the caches of CPUs the process may no longer run on (Drain visits each
// CPU its cpuset allows, to reach that CPU's cache). Drain is meant for
// rare events: it pins its thread to each CPU in turn, and once the per-P
// caches have been used it stops the world for a moment (see Pool).
func (p *Pool[T]) Drain() int {
	p.lazyInit()
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	n := p.drainP()
	for {
		if _, ok := p.takeOverflow(); !ok {
			break
		}
		n++
	}
	if p.fast {
		n += p.drainCPUs()
	}
	return n
}

// poolDraining is the slab count while Drain clears a slab: above
// PoolCacheSize, so that pops find the slab empty and pushes find it full
// and both go elsewhere, leaving the slots to the drainer.
const poolDraining = PoolCacheSize + 1

// drainCPUs empties every CPU's slab that the thread can run on and
// clears its slots, so that the objects can be collected. A restartable
// operation only reaches the current CPU's slab, so the thread visits
// each CPU in turn: every CPU with a shard that sched_setaffinity lets it
// move to (the process's cpuset and the online CPUs decide; another
// thread's affinity, even the main thread's, says nothing about where the
// pool's users ran). It returns how many objects it removed.
func (p *Pool[T]) drainCPUs() int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if unix.SchedGetaffinity(0, &orig) != nil {
		return 0
	}
	defer unix.SchedSetaffinity(0, &orig)
	tops, slabs := uintptr(p.tops.addr), p.slab0
	n := 0
	for cpu := 0; cpu < shardCount; cpu++ {
		var one unix.CPUSet
		one.Set(cpu)
		if unix.SchedSetaffinity(0, &one) != nil {
			continue // not a CPU this process may run on
		}
		for {
			if _, r := poolPop(tops, slabs); r >= 0 {
				n++
				continue
			}
			// Empty: close the slab, unless a push came in between.
			r := csCmpStore(tops, 0, poolDraining, rseqCPUIDOffset)
			if r == csFailed {
				// A push came in, or an earlier Drain left this slab
				// closed (it lost its CPU before reopening it; Drains
				// are serialised, so a closed slab is stale): reopen
				// it, and look again.
				csCmpStore(tops, poolDraining, 0, rseqCPUIDOffset)
				continue
			}
			if r < 0 {
				break // no rseq on this thread: leave the slab as it is
			}
			// Clear the slots of the slab the close committed on: the
			// thread's affinity may have been overridden (a CPU went
			// offline, a cpuset changed) and r is not cpu. A closed slab
			// takes no pushes, so its slots are the drainer's.
			clear(p.slabs[int(r)*PoolCacheSize : (int(r)+1)*PoolCacheSize])
			// The reopen fails only if the thread has left CPU r since;
			// then r stays closed (its pops find it empty, its pushes
			// full) until a later Drain reopens it, above.
			csCmpStore(tops, poolDraining, 0, rseqCPUIDOffset)
			break
		}
	}
	runtime.KeepAlive(p)
	return n
}
