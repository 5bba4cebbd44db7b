// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package bench

import (
	"sync"
	"testing"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/gorseq/gorseq/percpu"
)

// RWMutexBaseline names the case that reader/writer lock ratios are taken
// against.
const RWMutexBaseline = "sync.RWMutex"

// The protected data: readers read it, writers change it.
var guarded [8]int64

// rwLock is what the read-only and 1%-writer loops need of a lock.
type rwLock interface {
	read()
	write()
}

type percpuRW struct{ percpu.RWMutex }

func (l *percpuRW) read()  { l.RLock(); _ = guarded[0]; l.RUnlock() }
func (l *percpuRW) write() { l.Lock(); guarded[0]++; l.Unlock() }

type syncRW struct{ sync.RWMutex }

func (l *syncRW) read()  { l.RLock(); _ = guarded[0]; l.RUnlock() }
func (l *syncRW) write() { l.Lock(); guarded[0]++; l.Unlock() }

type xsyncRB struct{ m *xsync.RBMutex }

func (l *xsyncRB) read()  { t := l.m.RLock(); _ = guarded[0]; l.m.RUnlock(t) }
func (l *xsyncRB) write() { l.m.Lock(); guarded[0]++; l.m.Unlock() }

func newPercpuRW() rwLock { return &percpuRW{} }
func newSyncRW() rwLock   { return &syncRW{} }
func newXsyncRB() rwLock  { return &xsyncRB{xsync.NewRBMutex()} }

// RWMutexReadCases compare RLock+RUnlock with no writers.
func RWMutexReadCases() []Case {
	return []Case{
		rwCase("percpu.RWMutex", newPercpuRW, 0),
		rwCase(RWMutexBaseline, newSyncRW, 0),
		rwCase("xsync.RBMutex", newXsyncRB, 0),
	}
}

// RWMutexWriteCases compare the same with one operation in 100 a write.
func RWMutexWriteCases() []Case {
	return []Case{
		rwCase("percpu.RWMutex", newPercpuRW, 100),
		rwCase(RWMutexBaseline, newSyncRW, 100),
		rwCase("xsync.RBMutex", newXsyncRB, 100),
	}
}

// RWMutexWrite10Cases compare the same with one operation in 10 a write.
func RWMutexWrite10Cases() []Case {
	return []Case{
		rwCase("percpu.RWMutex", newPercpuRW, 10),
		rwCase(RWMutexBaseline, newSyncRW, 10),
		rwCase("xsync.RBMutex", newXsyncRB, 10),
	}
}

// rwCase makes a case; every writeEvery-th operation writes (0: never).
// The lock is called through an interface in every case alike.
func rwCase(name string, mk func() rwLock, writeEvery int) Case {
	serial := func(b *testing.B) {
		l := mk()
		for i := 0; i < b.N; i++ {
			if writeEvery != 0 && i%writeEvery == 0 {
				l.write()
			} else {
				l.read()
			}
		}
	}
	parallel := func(b *testing.B) {
		l := mk()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if writeEvery != 0 && i%writeEvery == 0 {
					l.write()
				} else {
					l.read()
				}
			}
		})
	}
	return Case{name, serial, parallel}
}
