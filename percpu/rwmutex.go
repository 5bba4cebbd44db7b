// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// RWMutex is a reader/writer lock with an adaptive reader bias, in the
// spirit of BRAVO (Dice and Kogan, USENIX ATC 2019). While the bias is on,
// RLock and RUnlock touch only the current CPU's words of per-CPU counters
// (a restartable add each, no atomic read-modify-write, no cache line
// shared with readers on other CPUs), and a writer pays for the ordering
// with a membarrier system call. A writer that had to revoke the bias
// turns it off for a while, nine times as long as the revocation took;
// meanwhile readers use atomic adds on per-goroutine-striped words of the
// same counters and writers need no system call, so regular writes stop
// paying a membarrier each. A reader turns the bias back on when the time
// is up. Use it instead of sync.RWMutex where reads come from many CPUs;
// with frequent writes it costs about what sync.RWMutex costs. The zero
// RWMutex is unlocked and biased. It must not be copied after first use.
// The semantics are sync.RWMutex's: a goroutine must not RLock
// recursively while a writer may be waiting, and Unlock/RUnlock of an
// unlocked RWMutex is a bug (it is not detected).
//
// How it works. Readers count RLocks and RUnlocks in two separate
// counters (in and left): a reader may RUnlock on another CPU than it
// RLocked on, and a restartable commit must never meet an atomic
// read-modify-write from another CPU on the same word, so no counter is
// ever decremented; plain (restartable) adds and atomic adds go to
// separate words of each counter. The readers inside are sum(in) -
// sum(left), whichever kind of add counted them, so a reader may RLock
// under one bias and RUnlock under the other. One atomic word, state,
// holds the writer bit (a writer waits for readers or holds the lock) and
// the unbiased bit; a reader enters on the fast path only when state is 0
// before and after its plain add to in, and otherwise backs out with an
// add to left and takes the slow path: an atomic add to in, then state
// loaded again. A writer sets the writer bit with an atomic OR, which
// also tells it whether the bias was on; if so it runs membarrier, waits
// for the readers, and sets the unbiased bit (the revocation); then it
// reads the sums, left before in, until they are equal. Without rseq (or
// without membarrier) readers always take the slow path and writers never
// fence.
//
// Memory ordering, the same argument on amd64 and arm64, with the barriers
// each needs:
//
//  1. A fast reader's add to in against the writer's state store (store
//     buffering: each side stores, then loads what the other stored).
//     membarrier makes every CPU that runs a thread of the process execute
//     a full barrier (an IPI, or the scheduler's barrier for a thread that
//     is not running) between the writer's OR and its loads of in. Where
//     that barrier falls in the reader's program order decides: before the
//     reader's second load of state, and the reader sees the writer bit
//     and backs out; after its add, and the add is visible to the writer,
//     which waits for the reader. (This membarrier command does not
//     restart critical sections, so the barrier may fall between the
//     add's load and its commit: that is still before the second load
//     of state, the first case.) So the fast reader needs no fence of its
//     own on either architecture: a plain store (the restartable commit)
//     and a load (atomic.Int32.Load: MOV on amd64, LDAR on arm64, which
//     also keeps the reader's critical-section loads after it). A reader
//     that loaded state 0 long ago and adds only now is the same case:
//     after the revoking writer's membarrier it can only see state != 0.
//     After a revocation no reader enters on the fast path until the bias
//     is back (state 0 again), which is why a writer that finds the
//     unbiased bit needs no membarrier.
//  2. A slow reader's atomic add to in against a writer's OR: both are
//     atomic read-modify-writes, full barriers (LOCK XADD and LOCK OR or
//     CMPXCHG on amd64; LDADDAL, or an LDAXR/STLXR loop, and an LDSETAL
//     or LDAXR/STLXR loop on arm64, followed by LDAR loads, which arm64
//     keeps after a store-release), so one of them sees the other: the
//     reader sees the writer bit, or the writer counts the reader.
//  3. Every counted left has its in counted. The writer loads sum(left),
//     then sum(in), with atomic loads (MOV; LDAR on arm64, so the in loads
//     cannot be satisfied before the left loads). A reader's add to in
//     comes before its add to left in program order, with a state load
//     between; on arm64 neither plain stores nor an acquire load keep a
//     store after an earlier store, so a plain add to left (RUnlock, and
//     the fast path's back-out) is Counter.addRelease: a store-release
//     (STLR) commit, ordered after the add to in. On amd64 stores stay in
//     order (x86-TSO) and addRelease is the plain commit. Atomic adds are
//     full barriers. A reader that moved to another CPU in between crossed
//     the scheduler's full barriers. So when the writer sees sum(in) ==
//     sum(left), no reader that passed the state check is still inside.
//  4. A reader's critical-section loads happen before a writer's stores.
//     RUnlock's add to left is a release (STLR, or an atomic, on arm64;
//     any x86 store keeps earlier loads before it), and the writer reads
//     it with an acquire load before it returns from Lock; its own stores
//     follow.
//  5. A writer's stores happen before later readers' loads. Unlock clears
//     the writer bit with an atomic AND, a release; a reader that loads
//     state without it (acquire) sees the writes; so does a reader that
//     loads the 0 a slow reader's re-bias compare-and-swap wrote, through
//     the chain of Unlock's release, the CAS (acquire and release) and its
//     own acquire. A reader that loaded a state from before the writer's
//     OR is the case of 1 or 2: the writer saw its in and waited for it.
//  6. The bias comes back by a compare-and-swap of state from unbiased to
//     0, by a slow reader that is inside (so no writer holds the lock, and
//     the CAS fails if one has set its bit meanwhile). The next writer's
//     OR sees 0 and revokes again (1).
//
// The machine-code tests check the barriers above: STLR in
// counterAddRelease and LDAR in the loads (cs_machinecode_arm64_test.go).
type RWMutex struct {
	_     noCopy
	w     sync.Mutex   // serialises writers; readers that back out wait on it
	state atomic.Int32 // rwWriter | rwUnbiased
	in    Counter      // RLocks
	left  Counter      // RUnlocks, and RLocks that backed out
	// biasAt is the nanotime after which a slow reader may turn the
	// bias back on.
	biasAt atomic.Int64
	// wake is signalled by a reader that leaves while a writer waits.
	wake atomic.Pointer[chan struct{}]
	// raceLeft orders readers' RUnlocks before the writer for the race
	// detector (race builds only; see raceEnabled).
	raceLeft atomic.Int64
}

// RWMutex's state bits.
const (
	rwWriter   = 1 // a writer waits for readers or holds the lock
	rwUnbiased = 2 // readers take the slow path; writers need no membarrier
)

// rwInhibit is how many times the revocation's duration the bias stays
// off after it (BRAVO's N).
const rwInhibit = 9

// rwRebiasEvery: a slow reader looks at the clock when its atomic add
// brings its word of in to a multiple of this (a power of two), so that
// reading the clock costs the slow path little.
const rwRebiasEvery = 64

// How often the bias was revoked and turned back on, in every RWMutex of
// the process (for the tests, which must see both happen).
var rwRevocations, rwRebiases atomic.Int64

// Whether readers may use plain (restartable) adds: only if a writer can
// make them visible with membarrier. Decided by the first RLock or Lock;
// rwFencedUnknown until then.
var rwFenced atomic.Int32

const (
	rwFencedUnknown = iota
	rwFencedYes
	rwFencedNo
)

// readersFenced returns whether readers use plain adds, deciding it once.
func readersFenced() bool {
	if f := rwFenced.Load(); f != rwFencedUnknown {
		return f == rwFencedYes
	}
	return decideReadersFenced()
}

func decideReadersFenced() bool {
	st := int32(rwFencedNo)
	if mode != ModeFallback && memoryFenceRegistered() {
		st = rwFencedYes
	}
	rwFenced.CompareAndSwap(rwFencedUnknown, st)
	return rwFenced.Load() == rwFencedYes
}

// RLock locks rw for reading.
func (rw *RWMutex) RLock() {
	if rwFenced.Load() == rwFencedYes && rw.state.Load() == 0 {
		rw.in.Add(1)
		if rw.state.Load() == 0 {
			return
		}
		// A writer came, or the bias went: back out (see the type's
		// comment, 3) and take the slow path.
		rw.left.addRelease(1)
		rw.notifyWriter()
	}
	rw.rlockSlow()
}

// rlockSlow is RLock with atomic adds: while the bias is off, without
// rseq or membarrier, and before the readers' mode is decided.
func (rw *RWMutex) rlockSlow() {
	fenced := readersFenced()
	for {
		n := rw.in.addAtomic(1)
		s := rw.state.Load()
		if s&rwWriter == 0 {
			if fenced && s&rwUnbiased != 0 && n%rwRebiasEvery == 0 && nanotime() >= rw.biasAt.Load() {
				if rw.state.CompareAndSwap(rwUnbiased, 0) {
					rwRebiases.Add(1)
				}
			}
			return
		}
		rw.left.addAtomic(1)
		rw.notifyWriter()
		rw.w.Lock() // only to wait for the writer
		rw.w.Unlock()
	}
}

// RUnlock undoes one RLock.
func (rw *RWMutex) RUnlock() {
	if raceEnabled {
		rw.raceLeft.Add(1)
	}
	if rwFenced.Load() == rwFencedYes && rw.state.Load()&rwUnbiased == 0 {
		rw.left.addRelease(1)
	} else {
		// The atomic add is also a full barrier before the state load
		// below, so that a writer that needs no membarrier is woken.
		rw.left.addAtomic(1)
	}
	if rw.state.Load()&rwWriter != 0 {
		rw.notifyWriter()
	}
}

// notifyWriter wakes a writer waiting for readers, if there is one.
func (rw *RWMutex) notifyWriter() {
	if ch := rw.wake.Load(); ch != nil {
		select {
		case *ch <- struct{}{}:
		default:
		}
	}
}

// Lock locks rw for writing, waiting until no reader is inside. A Lock
// that finds the readers' bias on costs a membarrier system call
// (microseconds) and turns the bias off for a while (see the type's
// comment); other Locks cost about what sync.RWMutex's does.
func (rw *RWMutex) Lock() {
	rw.w.Lock()
	if rw.wake.Load() == nil {
		ch := make(chan struct{}, 1)
		rw.wake.Store(&ch)
	}
	old := rw.state.Or(rwWriter)
	if old&rwUnbiased == 0 && readersFenced() {
		t0 := nanotime()
		if !memoryFence() {
			// membarrier worked at start-up: it cannot fail now.
			panic("percpu: RWMutex: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed")
		}
		rw.waitReaders()
		now := nanotime()
		rw.biasAt.Store(now + rwInhibit*(now-t0))
		rw.state.Store(rwWriter | rwUnbiased)
		rwRevocations.Add(1)
		return
	}
	rw.waitReaders()
}

// rwSpins is how many times a writer looks at the readers' sums, yielding
// between, before it parks until a reader leaves.
const rwSpins = 8

// waitReaders returns when no reader is inside: it spins briefly, then
// parks on rw.wake, which a reader that leaves signals; a timer (from 1 us,
// doubling to 1 ms) bounds each park in case a wakeup is not needed to
// make progress (a reader that backed out, say).
func (rw *RWMutex) waitReaders() {
	var timer *time.Timer
	wait := time.Microsecond
	for i := 0; ; i++ {
		left := rw.left.Load() // before in: see the type's comment, 3
		if rw.in.Load() == left {
			if raceEnabled {
				rw.raceLeft.Load()
			}
			if timer != nil {
				timer.Stop()
			}
			return
		}
		if i < rwSpins {
			runtime.Gosched()
			continue
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-*rw.wake.Load():
		case <-timer.C:
			wait = min(2*wait, time.Millisecond)
		}
	}
}

// Unlock unlocks rw for writing.
func (rw *RWMutex) Unlock() {
	rw.state.And(^int32(rwWriter))
	rw.w.Unlock()
}

// RLocker returns a sync.Locker whose Lock and Unlock are rw's RLock and
// RUnlock.
func (rw *RWMutex) RLocker() sync.Locker { return (*rlocker)(rw) }

type rlocker RWMutex

func (r *rlocker) Lock()   { (*RWMutex)(r).RLock() }
func (r *rlocker) Unlock() { (*RWMutex)(r).RUnlock() }
