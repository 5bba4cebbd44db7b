// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"sync"
	"sync/atomic"
	"time"
)

// RWMutex is a reader-biased reader/writer lock: RLock and RUnlock touch
// only the current CPU's words of per-CPU counters (a restartable add each,
// no atomic read-modify-write, no cache line shared with readers on other
// CPUs), while Lock pays for the ordering with a membarrier system call
// and waits for the readers to leave. Use it instead of sync.RWMutex where
// reads vastly outnumber writes and come from many CPUs (configuration,
// routing tables, caches); for balanced or write-heavy use, sync.RWMutex or
// sync.Mutex cost less. The zero RWMutex is unlocked. It must not be copied
// after first use. The semantics are sync.RWMutex's: a goroutine must not
// RLock recursively while a writer may be waiting, and Unlock/RUnlock of an
// unlocked RWMutex is a bug (it is not detected).
//
// How it works. Readers count RLocks and RUnlocks in two separate per-CPU
// counters (in and left): a reader may RUnlock on another CPU than it
// RLocked on, and a restartable commit must never meet an atomic
// read-modify-write from another CPU on the same word, so no counter is
// ever decremented. The readers inside are sum(in) - sum(left). A reader
// adds to in, then loads the writer flag; a writer stores the flag, runs
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), and then reads the sums,
// left before in. Without rseq (or without membarrier), readers use atomic
// adds on separate words of the same counters, which are full barriers on
// their own; both kinds can mix.
//
// Memory ordering, the same argument on amd64 and arm64, with the barriers
// each needs:
//
//  1. Reader's add to in against the writer's flag (store buffering: each
//     side stores, then loads what the other stored). membarrier makes
//     every CPU that runs a thread of the process execute a full barrier
//     (an IPI, or the scheduler's barrier for a thread that is not
//     running) between the writer's flag store and its loads of in. Where
//     that barrier falls in the reader's program order decides: before
//     the reader's load of the flag, and the reader sees the flag and
//     backs out; after it, and the reader's earlier add to in is visible
//     to the writer. So the reader needs no fence of its own on either
//     architecture: a plain store (the restartable commit) and a load. The
//     flag load is atomic.Int32.Load (MOV on amd64, LDAR on arm64), which
//     also keeps the reader's critical-section loads after it.
//  2. Every counted left has its in counted. The writer loads sum(left),
//     then sum(in), with atomic loads (MOV; LDAR on arm64, so the in loads
//     cannot be satisfied before the left loads). A reader's add to in
//     comes before its add to left in program order, with the flag load
//     between; on arm64 neither plain stores nor an acquire load keep a
//     store after an earlier store, so the add to left (RUnlock, and the
//     back-out) is Counter.addRelease: a store-release (STLR) commit,
//     ordered after the add to in. On amd64 stores stay in order (x86-TSO)
//     and addRelease is the plain commit. A reader that moved to another
//     CPU in between crossed the scheduler's full barriers. So when the
//     writer sees sum(in) == sum(left), no reader that passed the flag
//     check is still inside.
//  3. A reader's critical-section loads happen before a writer's stores.
//     RUnlock's add to left is a release (STLR on arm64; any x86 store
//     keeps earlier loads before it), and the writer reads it with an
//     acquire load before it returns from Lock; its own stores follow.
//  4. A writer's stores happen before later readers' loads. Unlock stores
//     the flag 0 with atomic.Int32.Store (XCHG on amd64, STLR on arm64), a
//     release; a reader that loads 0 there (acquire) sees the writes. A
//     reader that loaded the 0 from before the writer's flag store is the
//     case of 1: the writer saw its in and waited for it.
//
// The fallback's atomic adds are full barriers (LOCK XADD; LDADDAL or an
// LDAXR/STLXR loop on arm64), which give 1 to 3 directly. The
// machine-code tests check the barriers above: STLR in counterAddRelease
// and LDAR in the loads (cs_machinecode_arm64_test.go).
type RWMutex struct {
	_      noCopy
	w      sync.Mutex   // serialises writers; readers that back out wait on it
	writer atomic.Int32 // 1 while a writer waits for readers or holds the lock
	in     Counter      // RLocks
	left   Counter      // RUnlocks, and RLocks that backed out
	// wake is signalled by a reader that leaves while a writer waits.
	wake atomic.Pointer[chan struct{}]
	// raceLeft orders readers' RUnlocks before the writer for the race
	// detector (race builds only; see raceEnabled).
	raceLeft atomic.Int64
}

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
	switch rwFenced.Load() {
	case rwFencedYes:
		return true
	case rwFencedNo:
		return false
	}
	st := int32(rwFencedNo)
	if mode != ModeFallback && memoryFenceRegistered() {
		st = rwFencedYes
	}
	rwFenced.CompareAndSwap(rwFencedUnknown, st)
	return rwFenced.Load() == rwFencedYes
}

// readerAdd adds 1 to rw.in: a plain restartable add if readers are
// fenced, else an atomic one.
func (rw *RWMutex) readerAdd() {
	if readersFenced() {
		rw.in.Add(1)
		return
	}
	rw.in.addAtomic(1)
}

// readerLeave adds 1 to rw.left: a restartable add with a release commit
// if readers are fenced (see the type's comment), else an atomic one.
func (rw *RWMutex) readerLeave() {
	if readersFenced() {
		rw.left.addRelease(1)
		return
	}
	rw.left.addAtomic(1)
}

// RLock locks rw for reading.
func (rw *RWMutex) RLock() {
	if rwFenced.Load() == rwFencedYes {
		rw.in.Add(1)
		if rw.writer.Load() == 0 {
			return
		}
		rw.backOut()
	}
	rw.rlockSlow()
}

// rlockSlow is RLock after a first try that backed out, or before the
// readers' mode is decided, or without membarrier.
func (rw *RWMutex) rlockSlow() {
	for {
		rw.readerAdd()
		if rw.writer.Load() == 0 {
			return
		}
		rw.backOut()
	}
}

// backOut undoes a reader's add to in while a writer is waiting or
// inside, and waits for that writer.
func (rw *RWMutex) backOut() {
	rw.readerLeave()
	rw.notifyWriter()
	rw.w.Lock() // only to wait for the writer
	rw.w.Unlock()
}

// RUnlock undoes one RLock.
func (rw *RWMutex) RUnlock() {
	if raceEnabled {
		rw.raceLeft.Add(1)
	}
	if rwFenced.Load() == rwFencedYes {
		rw.left.addRelease(1)
	} else {
		rw.readerLeave()
	}
	if rw.writer.Load() != 0 {
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

// Lock locks rw for writing, waiting until no reader is inside. Each Lock
// costs a membarrier system call (microseconds) when readers use rseq.
func (rw *RWMutex) Lock() {
	rw.w.Lock()
	if rw.wake.Load() == nil {
		ch := make(chan struct{}, 1)
		rw.wake.Store(&ch)
	}
	rw.writer.Store(1)
	if readersFenced() && !memoryFence() {
		// membarrier worked at start-up: it cannot fail now.
		panic("percpu: RWMutex: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed")
	}
	wait := time.Microsecond
	for {
		left := rw.left.Load() // before in: see the type's comment
		if rw.in.Load() == left {
			if raceEnabled {
				rw.raceLeft.Load()
			}
			return
		}
		select {
		case <-*rw.wake.Load():
		case <-time.After(wait):
			wait = min(2*wait, time.Millisecond)
		}
	}
}

// Unlock unlocks rw for writing.
func (rw *RWMutex) Unlock() {
	rw.writer.Store(0)
	rw.w.Unlock()
}

// RLocker returns a sync.Locker whose Lock and Unlock are rw's RLock and
// RUnlock.
func (rw *RWMutex) RLocker() sync.Locker { return (*rlocker)(rw) }

type rlocker RWMutex

func (r *rlocker) Lock()   { (*RWMutex)(r).RLock() }
func (r *rlocker) Unlock() { (*RWMutex)(r).RUnlock() }
