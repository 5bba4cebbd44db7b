// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Values holds one T per shard: per CPU with rseq (per mm_cid where the
// kernel has it, which keeps the shards dense), per P without. Update
// gives the caller exclusive access to the current shard's T; Do visits
// every T, each exclusively, to merge or drain them. This is the sharded
// value of golang/go#18802: per-CPU accumulators, histograms, free lists
// of Go objects, anything a single mutex-protected value would make every
// CPU fight over.
//
// T may hold Go pointers: the values live in ordinary Go memory. The
// callback may block or run long.
//
// How it works with rseq. Each shard has a lock word in per-CPU memory
// (0 free, 1 held by an Update, 2 closed by Do) and two Ts. Update takes
// the current shard's word with a restartable compare-and-store (0 to 1,
// committed only on that shard's CPU, no atomic read-modify-write), runs
// the callback on the word's T, and releases the word with a plain store
// of 0, from whatever CPU the goroutine has moved to: while the word is 1
// only its holder writes it, and while it is 0 only critical sections of
// its own shard do, which rseq serialises. An Update that finds the word
// taken (a holder that was preempted or blocks, or Do at work) uses the
// shard's second T under the shard's mutex instead, so it never waits for
// a holder that may block. Do closes a word with an atomic
// compare-and-swap from 0 to 2 and then fences every CPU's critical
// sections (membarrier's PRIVATE_EXPEDITED_RSEQ): a section that had read
// 0 before the swap either committed before the fence, and then Do finds
// 1 where it wrote 2 and waits for that holder, or is restarted and finds
// 2. Do visits the T of a word that still says 2, reopens it, and visits
// every second T under its mutex. In the common case an Update costs one
// restartable operation, the callback, and a plain store: about what a
// Counter add costs. Without rseq, without membarrier's rseq command
// (Linux 5.10), and in race builds, every Update takes the shard's mutex.
//
// Memory ordering, amd64 and arm64. Taking the word acquires: the
// section's load of 0 sees the previous holder's release, and the loads
// of the T that follow must not be satisfied before it; x86 keeps loads
// in order (nothing to add), arm64 does not (acquireFence, DMB ISHLD,
// after a successful take). Releasing the word is a store-release of 0
// (storeRelease64: a plain MOV on amd64, where stores stay after earlier
// accesses; STLR on arm64), which orders the callback's accesses before
// it. Do's compare-and-swap (LOCK CMPXCHG; an acquire-release
// read-modify-write on arm64) acquires from the holder's release, and
// its reopening store is a store-release too. The membarrier fence is a
// full barrier on every CPU that runs a thread of the process. The second
// Ts are guarded by sync.Mutex (acquire on Lock, release on Unlock). The
// machine-code tests check STLR and DMB ISHLD in the arm64 build.
//
// A Values must be made with [NewValues] and must not be copied.
type Values[T any] struct {
	_      noCopy
	init   func(*T)
	shards []valuesShard[T]
	byP    bool // shards are per P (no rseq in the process)

	// With lock words (see the type's comment): locks holds each
	// shard's word; doing serialises Do.
	fast   bool
	locks  Block
	doing  sync.Mutex
	closed []int // Do's scratch lists, kept between calls
	wait   []int
}

// The lock word's values.
const (
	valuesFree   = 0
	valuesHeld   = 1
	valuesClosed = 2
)

type valuesShard[T any] struct {
	mu   sync.Mutex // guards slow (and v, without lock words)
	v    *T         // the lock word's T (the mutex's, without lock words)
	slow *T         // with lock words: the T of Updates that found the word taken
	_    [64 - 24]byte
}

// NewValues returns a Values whose shards' Ts are created on first use:
// zero, then passed to init (which may be nil).
func NewValues[T any](init func(*T)) *Values[T] {
	v := &Values[T]{init: init}
	if mode == ModeFallback {
		v.byP = true
		v.shards = make([]valuesShard[T], max(runtime.GOMAXPROCS(0), runtime.NumCPU()))
		return v
	}
	v.shards = make([]valuesShard[T], shardCount)
	if raceEnabled || rseqFenceRegistered() != nil {
		// The race detector cannot see the lock words' ordering; Do
		// needs the rseq fence.
		return v
	}
	b, err := Alloc(8, ByCID)
	if err != nil {
		panic("percpu: NewValues: " + err.Error())
	}
	v.locks, v.fast = b, true
	// Every method keeps v reachable while it uses the words.
	runtime.AddCleanup(v, Block.Free, b)
	return v
}

// word returns shard i's lock word.
func (v *Values[T]) word(i int) *uint64 { return (*uint64)(v.locks.shard(i)) }

// release frees shard i's lock word (held by the caller, or closed by Do).
func (v *Values[T]) release(i int) { releaseWord(v.word(i), unsafe.Pointer(v)) }

// releaseWord frees the lock word w of the Values at owner, which it
// keeps reachable until then (its cleanup frees the words). Not generic,
// so that it inlines into Update's deferred call.
func releaseWord(w *uint64, owner unsafe.Pointer) {
	storeRelease64(w, valuesFree)
	runtime.KeepAlive(owner)
}

// Update calls f with the current shard's T, exclusively. f may block or
// run long; see the type's documentation for what that costs.
func (v *Values[T]) Update(f func(*T)) {
	if f == nil {
		panic("percpu: Values.Update(nil)")
	}
	if v == nil || v.shards == nil {
		panic("percpu: Values used without NewValues")
	}
	if v.fast {
		if i := int(csCmpStore(uintptr(v.locks.addr), valuesFree, valuesHeld, uintptr(v.locks.field))); i >= 0 {
			acquireFence()
			defer releaseWord(v.word(i), unsafe.Pointer(v))
			s := &v.shards[i]
			if s.v == nil {
				s.v = v.newT()
			}
			f(s.v)
			return
		}
	}
	v.updateLocked(f)
}

// updateLocked is Update under the current shard's mutex: without lock
// words, or when the shard's word is taken.
func (v *Values[T]) updateLocked(f func(*T)) {
	var i int
	if v.byP {
		i = procPin()
		procUnpin()
	} else {
		i = CID()
	}
	if i >= len(v.shards) {
		i %= len(v.shards)
	}
	s := &v.shards[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &s.v
	if v.fast {
		t = &s.slow
	}
	if *t == nil {
		*t = v.newT()
	}
	f(*t)
}

func (v *Values[T]) newT() *T {
	t := new(T)
	if v.init != nil {
		v.init(t)
	}
	return t
}

// Do calls f with each shard's T that has been created, one at a time and
// exclusively, so that f may read and reset it. Updates of other shards
// run meanwhile; an Update of a shard that Do is visiting uses that
// shard's other T. With lock words Do costs one membarrier system call
// (microseconds) per round of shards it closes, and waits for Updates
// that hold a word (as it would for a mutex).
func (v *Values[T]) Do(f func(*T)) {
	if f == nil {
		panic("percpu: Values.Do(nil)")
	}
	if v == nil || v.shards == nil {
		panic("percpu: Values used without NewValues")
	}
	if v.fast {
		v.doing.Lock()
		defer v.doing.Unlock()
		v.doWords(f)
	}
	for i := range v.shards {
		v.doLocked(&v.shards[i], f)
	}
}

// doLocked calls f with shard s's mutex-guarded T, if it exists, holding
// the mutex (released even if f panics).
func (v *Values[T]) doLocked(s *valuesShard[T], f func(*T)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.v
	if v.fast {
		t = s.slow
	}
	if t != nil {
		f(t)
	}
}

// visitClosed fences the critical sections, then visits and reopens each
// word of closed that still says closed, and returns held with the others
// (a section committed over the close) appended. If f panics, every word
// it closed is reopened before the panic goes on.
func (v *Values[T]) visitClosed(closed, held []int, f func(*T)) []int {
	if err := Fence(); err != nil {
		// NewValues registered the fence: it cannot fail now.
		for _, i := range closed {
			if atomic.LoadUint64(v.word(i)) == valuesClosed {
				v.release(i)
			}
		}
		panic("percpu: Values.Do: " + err.Error())
	}
	mine := closed[:0] // the words that stayed closed
	for _, i := range closed {
		if atomic.LoadUint64(v.word(i)) == valuesClosed {
			mine = append(mine, i)
		} else {
			held = append(held, i)
		}
	}
	next := 0
	defer func() {
		for _, i := range mine[next:] {
			v.release(i)
		}
	}()
	for ; next < len(mine); next++ {
		if t := v.shards[mine[next]].v; t != nil {
			f(t)
		}
		v.release(mine[next])
	}
	return held
}

// doWords visits the lock words' Ts: it closes every free word, fences,
// visits and reopens the words that stayed closed, and tries again, after
// a pause that grows, for the words that were held.
func (v *Values[T]) doWords(f func(*T)) {
	pending := v.wait[:0]
	for i := range v.shards {
		pending = append(pending, i)
	}
	pause := time.Microsecond
	for len(pending) > 0 {
		closed, held := v.closed[:0], pending[:0]
		for _, i := range pending {
			if atomic.CompareAndSwapUint64(v.word(i), valuesFree, valuesClosed) {
				closed = append(closed, i)
			} else {
				held = append(held, i)
			}
		}
		if len(closed) > 0 {
			held = v.visitClosed(closed, held, f)
		}
		v.closed, pending = closed, held
		if len(pending) > 0 && len(closed) == 0 {
			time.Sleep(pause)
			pause = min(2*pause, time.Millisecond)
		}
	}
	v.wait = pending
	runtime.KeepAlive(v)
}

// String describes v for debugging.
func (v *Values[T]) String() string {
	if v == nil {
		return "percpu.Values(nil)"
	}
	kind := "cpu"
	if v.byP {
		kind = "P"
	}
	return fmt.Sprintf("percpu.Values[%d shards by %s]", len(v.shards), kind)
}
