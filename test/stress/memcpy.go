// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/gorseq/gorseq/percpu"
)

func init() {
	register("memcpy", "per-CPU rings of 32-byte checksummed records moved with CopyCommit; records conserved and never torn", func() scenario { return &memcpy{} })
}

// A record is 32 bytes: id, generation, payload and a checksum of the
// three. A copy torn by an abort in the middle, or read while being
// overwritten, fails the checksum.
const recordSize = 32

type record struct{ id, gen, payload, sum uint64 }

func mix(x uint64) uint64 { // splitmix64's finalizer
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func checksum(id, gen, payload uint64) uint64 {
	return mix(id ^ mix(gen^mix(payload^0x9e3779b97f4a7c15)))
}

func (r record) valid() bool { return r.sum == checksum(r.id, r.gen, r.payload) }

func (r record) put(b []byte) {
	binary.LittleEndian.PutUint64(b[0:], r.id)
	binary.LittleEndian.PutUint64(b[8:], r.gen)
	binary.LittleEndian.PutUint64(b[16:], r.payload)
	binary.LittleEndian.PutUint64(b[24:], r.sum)
}

// Layout of a ring shard: the tagged word (count and head), padding to 32
// bytes, then ringCap records.
const (
	ringBlock   = 4096
	ringRecords = recordSize
	ringCap     = 120
)

func ringOff(slot int) int { return ringRecords + recordSize*slot }

// memcpy: per-CPU FIFO rings of records. Push copies the record into the
// slot after the last one with CopyCommit (the copy and the commit of the
// tagged word in one critical section); pop reads the record at the head
// with atomic loads outside any critical section, then advances the head
// with CompareAndStore on the tagged word: as in the buffer scenario, the
// tag and sequence make the compare succeed only if the ring did not
// change since the word was read, so the record read is the one removed
// and cannot have been torn: its checksum is checked on every successful
// pop (a torn read that the compare then rejects is counted, not an
// error: it proves concurrent writers were there). A worker bumps the
// generation and payload of every record it moves. Threads without rseq
// use a mutex-protected pool. Invariant: the rings and the pool hold every
// record exactly once, each with a valid checksum.
type memcpy struct {
	noBackground
	ring      perCPU
	n         int
	own       *ownership
	pool      pool[record]
	moves     atomic.Int64
	empty     atomic.Int64
	tornReads atomic.Int64 // reads the compare then rejected, with a bad checksum
	found     struct{ rings, pool int }
}

func (s *memcpy) setup(e *env) (err error) {
	if err := checkShardLimit(); err != nil {
		return err
	}
	if s.ring, err = allocPerCPU(ringBlock, percpu.ByCPU); err != nil {
		return err
	}
	s.n = itemsFor(e, 24, ringCap)
	s.own = newOwnership(s.n)
	for sh := range s.ring.shards {
		*s.ring.word(sh, 0) = twInit(sh)
	}
	var b [recordSize]byte
	for it := 0; it < s.n; it++ {
		sh := e.cpus[it%len(e.cpus)]
		w := *s.ring.word(sh, 0)
		c := twCount(w)
		r := record{id: uint64(it), payload: uint64(it) * 7}
		r.sum = checksum(r.id, r.gen, r.payload)
		r.put(b[:])
		copy(ringBytes(s.ring, sh, c), b[:])
		*s.ring.word(sh, 0) = twNext(w, 0, c+1)
	}
	return nil
}

func ringBytes(p perCPU, sh, slot int) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p.word(sh, ringOff(slot)))), recordSize)
}

func (s *memcpy) close() { s.ring.free() }

func (s *memcpy) readSlot(sh, slot int) record {
	off := ringOff(slot)
	return record{s.ring.load(sh, off), s.ring.load(sh, off+8), s.ring.load(sh, off+16), s.ring.load(sh, off+24)}
}

// push copies r, which the worker holds, to the tail of the current CPU's
// ring; false if the thread has no rseq.
func (s *memcpy) push(w *worker, r record) bool {
	r.put(w.buf[:])
	s.own.give(w.e, w, int(r.id), "push")
	for n := 0; ; n++ {
		sh := percpu.CPU()
		old := s.ring.load(sh, 0)
		if twTag(old) != sh {
			w.e.fail("worker %d: shard %d has the tag of shard %d (word %#x)", w.id, sh, twTag(old), old)
			return true
		}
		c, h := twCount(old), twHead(old)
		if c >= ringCap {
			w.e.fail("worker %d: the ring of shard %d is full with %d records of %d", w.id, sh, c, s.n)
			return true
		}
		slot := (h + c) % ringCap
		got, err := percpu.CopyCommit(s.ring.b, 0, old, twNext(old, h, c+1), s.ring.b, ringOff(slot), w.buf[:])
		switch err {
		case nil:
			if got != sh {
				w.e.fail("worker %d: CopyCommit of a word read from shard %d committed to shard %d", w.id, sh, got)
			}
			return true
		case percpu.ErrMismatch:
			w.spin(n)
		case percpu.ErrNoRseq:
			s.own.take(w.e, w, int(r.id), "push (no rseq)")
			return false
		default:
			w.e.fail("worker %d: CopyCommit: %v", w.id, err)
			return true
		}
	}
}

// pop removes the head record of the current CPU's ring.
func (s *memcpy) pop(w *worker) (record, error) {
	for n := 0; ; n++ {
		sh := percpu.CPU()
		old := s.ring.load(sh, 0)
		c, h := twCount(old), twHead(old)
		if c == 0 {
			return record{}, percpu.ErrEmpty
		}
		r := s.readSlot(sh, h)
		got, err := percpu.CompareAndStore(s.ring.b, 0, old, twNext(old, (h+1)%ringCap, c-1))
		switch err {
		case nil:
			if got != sh {
				w.e.fail("worker %d: CompareAndStore of a word read from shard %d committed to shard %d", w.id, sh, got)
			}
			if !r.valid() {
				w.e.fail("worker %d: torn record popped from slot %d of shard %d: %+v", w.id, h, sh, r)
				return record{}, percpu.ErrEmpty
			}
			if r.id >= uint64(s.n) {
				w.e.fail("worker %d: record id %d out of range", w.id, r.id)
				return record{}, percpu.ErrEmpty
			}
			s.own.take(w.e, w, int(r.id), "pop")
			return r, nil
		case percpu.ErrMismatch:
			if !r.valid() {
				s.tornReads.Add(1)
			}
			w.spin(n)
		case percpu.ErrNoRseq:
			return record{}, err
		default:
			w.e.fail("worker %d: CompareAndStore: %v", w.id, err)
			return record{}, percpu.ErrEmpty
		}
	}
}

// touch makes a new version of a record the worker holds.
func (s *memcpy) touch(w *worker, r record) record {
	r.gen++
	r.payload = w.rng.Uint64()
	r.sum = checksum(r.id, r.gen, r.payload)
	return r
}

func (s *memcpy) step(w *worker) {
	if w.steps%64 == 17 {
		if r, ok := s.fromPool(w); ok {
			if !s.push(w, s.touch(w, r)) {
				s.toPool(w, r)
			}
			return
		}
	}
	r, err := s.pop(w)
	switch err {
	case nil:
	case percpu.ErrEmpty:
		s.empty.Add(1)
		w.outside()
		return
	case percpu.ErrNoRseq:
		w.fallbacks++
		if r, ok := s.fromPool(w); ok {
			w.outside()
			s.toPool(w, s.touch(w, r))
		}
		return
	}
	w.outside()
	r = s.touch(w, r)
	if w.steps%64 == 49 || !s.push(w, r) {
		s.toPool(w, r)
		return
	}
	s.moves.Add(1)
}

func (s *memcpy) fromPool(w *worker) (record, bool) {
	r, ok := s.pool.get()
	if ok {
		if !r.valid() {
			w.e.fail("worker %d: invalid record in the pool: %+v", w.id, r)
		}
		s.own.take(w.e, w, int(r.id), "the pool")
	}
	return r, ok
}

func (s *memcpy) toPool(w *worker, r record) {
	s.own.give(w.e, w, int(r.id), "a return to the pool")
	s.pool.put(r)
}

func (s *memcpy) check(e *env) error {
	var found []int
	for sh := range s.ring.shards {
		word := s.ring.load(sh, 0)
		if twTag(word) != sh {
			return fmt.Errorf("shard %d: word %#x has the tag of shard %d", sh, word, twTag(word))
		}
		c, h := twCount(word), twHead(word)
		if c > ringCap || h >= ringCap {
			return fmt.Errorf("shard %d: count %d, head %d, capacity %d", sh, c, h, ringCap)
		}
		for i := 0; i < c; i++ {
			r := s.readSlot(sh, (h+i)%ringCap)
			if !r.valid() {
				return fmt.Errorf("shard %d: torn record in slot %d: %+v", sh, (h+i)%ringCap, r)
			}
			found = append(found, int(r.id))
		}
	}
	s.found.rings = len(found)
	s.found.pool = len(s.pool.items)
	for _, r := range s.pool.items {
		if !r.valid() {
			return fmt.Errorf("torn record in the pool: %+v", r)
		}
		found = append(found, int(r.id))
	}
	if err := census(found, s.n, "the rings and the pool"); err != nil {
		return err
	}
	return s.own.released("record")
}

func (s *memcpy) report() [][2]string {
	return [][2]string{
		{"items", fmt.Sprint(s.n)},
		{"moves", fmt.Sprint(s.moves.Load())},
		{"empty", fmt.Sprint(s.empty.Load())},
		{"torn_reads_rejected", fmt.Sprint(s.tornReads.Load())},
		{"in_rings_end", fmt.Sprint(s.found.rings)},
		{"pool_end", fmt.Sprint(s.found.pool)},
	}
}
