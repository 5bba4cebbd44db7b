// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"math"
	"runtime"
	"strconv"
	"sync/atomic"
)

// FloatCounter is a per-CPU float64 counter: Add updates the current CPU's
// shard with a restartable load-add-store of a float64, a few plain
// instructions, so that goroutines on different CPUs never contend; Load
// sums the shards. It is Counter for fractional amounts (seconds, bytes
// scaled, weights), where the usual alternative is a compare-and-swap
// loop on one shared word. The zero FloatCounter is ready to use and
// counts from 0. A FloatCounter must not be copied after first use.
//
// Its shards are a Counter's: a word that only restartable commits write
// (threads with rseq), and a word that only compare-and-swap loops write
// (threads without), indexed by the current P, so that threads with and
// without rseq mix with no lost add. It costs 16 bytes per possible CPU
// of per-CPU memory, returned when the FloatCounter is garbage
// collected.
//
// Rounding: each shard keeps a running float64 sum of the adds that
// committed on it, and Load adds the shards' sums in shard order. Float
// addition is not associative, so the total may differ in its last bits
// from one running sum of the same adds, and which adds are grouped in
// which shard depends on where the goroutines ran. The error is of the
// same order as one running sum's: every add rounds once, and Load adds
// at most 2*Shards() roundings of its own, each within half an ulp of
// the partial total. Amounts whose every partial sum is exact in float64
// (integers, or multiples of a power of two such as 0.25, with totals
// below 2^53 of those units) sum exactly whatever the grouping. A NaN or
// an infinity, once added, stays in the total, as in one sum. With no
// negative amount, a Load never returns less than a Load before it: each
// word only grows, and rounding to nearest is monotonic, so the sum in
// fixed order is too.
//
// Memory ordering is a Counter's: an Add is a plain store to the current
// CPU's word, ordering nothing for other CPUs; Load's atomic loads see,
// for each word, its latest write or an earlier one.
//
// FloatCounter implements expvar.Var.
type FloatCounter struct {
	_ noCopy
	// shard0 is the counter's Block in shard 0, nil before first use.
	// Set once.
	shard0 atomic.Pointer[counterShard]
}

// Add adds v to the counter.
//
// It is one call of floatCounterAdd (assembly): with rseq on the thread,
// the critical section; before the counter is in use, a jump to
// floatCounterAddInit; on a thread without rseq, a jump to
// floatCounterAddSlow.
func (c *FloatCounter) Add(v float64) { floatCounterAdd(c, v) }

// floatCounterAddInit is Add when c is not yet in use: it allocates c's
// Block (unless another goroutine just did) and adds again, through the
// section where the thread has rseq.
func floatCounterAddInit(c *FloatCounter, v float64) {
	if c.shard0.Load() == nil {
		initCounterShard(&c.shard0, c, "FloatCounter")
	}
	if mode == ModeFallback {
		floatCounterAddSlow(c, v)
		return
	}
	floatCounterAdd(c, v) // c is in use: the section, or floatCounterAddSlow
}

// floatCounterAddSlow is Add on a thread without rseq once c is in use
// (and, on architectures without floatCounterAdd's assembly, always): a
// compare-and-swap loop on the current P's fallback word.
func floatCounterAddSlow(c *FloatCounter, v float64) {
	s0 := c.shard0.Load()
	if s0 == nil {
		floatCounterAddInit(c, v)
		return
	}
	i := procPin()
	if i >= shardCount {
		i %= shardCount
	}
	// Other goroutines may update the same word: a P beyond the shard
	// count shares it.
	p := &s0.in(i).fallback
	for {
		old := atomic.LoadInt64(p)
		if atomic.CompareAndSwapInt64(p, old, int64(math.Float64bits(math.Float64frombits(uint64(old))+v))) {
			break
		}
	}
	procUnpin()
	runtime.KeepAlive(c)
}

// Load returns the counter's value: the sum of its shards, each word read
// atomically, in shard order. Adds that run at the same time may or may
// not be included.
func (c *FloatCounter) Load() float64 {
	s0 := c.shard0.Load()
	if s0 == nil {
		return 0
	}
	var sum float64
	for i := 0; i < shardCount; i++ {
		s := s0.in(i)
		sum += math.Float64frombits(uint64(atomic.LoadInt64(&s.rseq)))
		sum += math.Float64frombits(uint64(atomic.LoadInt64(&s.fallback)))
	}
	runtime.KeepAlive(c)
	return sum
}

// String returns the counter's value as expvar.Float formats it (the
// shortest decimal that reads back as the same float64).
func (c *FloatCounter) String() string { return strconv.FormatFloat(c.Load(), 'g', -1, 64) }
