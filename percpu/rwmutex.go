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
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every CPU
// running the process execute a full barrier, and then reads the sums. So
// either the writer sees the reader's add, or the reader sees the flag and
// backs out (adds to left and waits for the writer); neither side needs a
// fence on its own. The writer reads sum(left) before sum(in): a reader's
// add to left follows its add to in (x86 keeps stores in order), so every
// counted left has its in counted too, and sum(in) - sum(left) == 0 means
// that no reader that passed the flag check is inside.
//
// Without rseq (or without membarrier), readers use atomic adds on
// separate words of the same counters, which are full barriers on their
// own; both kinds can mix.
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

func (rw *RWMutex) readerAdd(c *Counter) {
	if readersFenced() {
		c.Add(1)
		return
	}
	c.addAtomic(1)
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
		rw.readerAdd(&rw.in)
		if rw.writer.Load() == 0 {
			return
		}
		rw.backOut()
	}
}

// backOut undoes a reader's add to in while a writer is waiting or
// inside, and waits for that writer.
func (rw *RWMutex) backOut() {
	rw.readerAdd(&rw.left)
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
		rw.left.Add(1)
	} else {
		rw.readerAdd(&rw.left)
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
