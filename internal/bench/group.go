// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package bench

// A Group is a set of candidates compared in one table: ratios are taken
// against Baseline, and Cases[0] is percpu's candidate (the one measured
// again without rseq).
type Group struct {
	Name     string
	Baseline string
	Cases    []Case
}

// Groups returns every comparison, in the order `percpu bench` prints
// them.
func Groups() []Group {
	return []Group{
		{"counter", CounterBaseline, CounterCases()},
		{"float counter Add(0.5)", FloatCounterBaseline, FloatCounterCases()},
		{"pool Get+Put", PoolBaseline, PoolCases()},
		{"pool Get+Put, []byte", PoolBaseline, PoolSliceCases()},
		{"rwmutex RLock+RUnlock, read-only", RWMutexBaseline, RWMutexReadCases()},
		{"rwmutex, 1% writers", RWMutexBaseline, RWMutexWriteCases()},
		{"rwmutex, 10% writers", RWMutexBaseline, RWMutexWrite10Cases()},
		{"values Update", ValuesBaseline, ValuesCases()},
	}
}
