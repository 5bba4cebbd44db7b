// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorseq/gorseq/percpu"
)

// FuzzOpsArgs calls the operations with arbitrary arguments. Each call
// either panics with a "percpu: " message and changes nothing, or returns
// what the model says: the arguments' validity is decided here from the
// documentation alone (a word is 8 bytes, 8-byte aligned, inside the
// Block; an item is an index of the links; a copy fits the destination
// and is at most MaxCopy bytes). A StoreCommit or CopyCommit whose value
// or copy overlaps its own commit word may also be refused with a
// "percpu: " panic (see TestOpsCommitWordOverlap).
//
// The arguments:
//
//	op      operation (op%7: Add, CompareAndStore, Pop, Push, StoreCommit,
//	        CopyCommit, Block.Shard); op&0x80 picks ByCID over ByCPU
//	size    Alloc's size; an invalid size leaves the zero Block, on which
//	        every operation must panic
//	off     the word's offset
//	item    Push's item, Shard's index, StoreCommit's and CopyCommit's
//	        destination offset (in the same Block), and the value every
//	        shard's word at off holds before the call (Pop: the list head)
//	n       the number of links; its parity makes the compares match or not
//	srcLen  CopyCommit's source length
func FuzzOpsArgs(f *testing.F) {
	for _, s := range []struct {
		op                         uint8
		size, off, item, n, srcLen int
	}{
		{0, 8, 0, 5, 0, 0},
		{0x80, 64, 56, -3, 1, 0},
		{0, 64, 60, 0, 0, 0},
		{0, 0, 0, 0, 0, 0},
		{0, -1, 0, 0, 0, 0},
		{0, percpu.MaxBlockSize + 1, 0, 0, 0, 0},
		{1, 16, 8, 7, 2, 0},
		{1, 16, 8, 7, 3, 0},
		{0x81, 16, 16, 7, 2, 0},
		{1, 16, -8, 0, 0, 0},
		{2, 32, 8, 0, 4, 0},
		{2, 32, 8, 3, 4, 0},
		{2, 32, 8, 4, 4, 0},
		{2, 32, 8, 5, 4, 0},
		{2, 32, 8, -1, 4, 0},
		{2, 32, 8, 1, 0, 0},
		{3, 32, 0, 2, 4, 0},
		{0x83, 32, 0, 3, 4, 0},
		{3, 32, 0, 4, 4, 0},
		{3, 32, 0, -1, 4, 0},
		{3, 32, 0, 0, 0, 0},
		{4, 24, 0, 16, 2, 0},
		{4, 24, 0, 0, 2, 0},
		{4, 24, 0, 16, 3, 0},
		{4, 24, 0, 20, 2, 0},
		{4, 24, 0, 24, 2, 0},
		{5, 2048, 0, 8, 2, 1},
		{5, 2048, 0, 3, 2, 17},
		{0x85, 2048, 0, 1024, 2, 1024},
		{5, 2048, 0, 1024, 2, 1025},
		{5, 2048, 8, 1, 2, 100},
		{5, 2048, 8, 1, 3, 100},
		{5, 16, 0, 8, 2, 8},
		{5, 16, 0, 9, 2, 8},
		{5, 16, 0, 16, 2, 0},
		{5, 16, 0, 17, 2, 0},
		{5, 16, 0, -1, 2, 1},
		{6, 8, 0, 0, 0, 0},
		{6, 8, 0, -1, 0, 0},
		{6, 8, 0, 1 << 20, 0, 0},
		{6, 0, 0, 0, 0, 0},
		// Offsets whose end overflows int (checks fixed in 223b6bb).
		{0, 64, math.MaxInt &^ 7, 0, 0, 0},
		{1, 64, math.MaxInt &^ 7, 0, 0, 0},
		{2, 64, math.MaxInt &^ 7, 1, 2, 0},
		{3, 64, math.MaxInt &^ 7, 0, 2, 0},
		{4, 64, 0, math.MaxInt &^ 7, 2, 0},
		{5, 64, math.MaxInt &^ 7, 0, 2, 1},
		{5, 64, 0, math.MaxInt - 4, 2, 9},
		{5, 64, 0, math.MaxInt, 2, 1},
		{0, 64, math.MinInt, 0, 0, 0},
		{5, 64, 0, math.MinInt, 2, 1},
		{6, 64, 0, math.MaxInt, 0, 0},
	} {
		f.Add(s.op, s.size, s.off, s.item, s.n, s.srcLen)
	}
	f.Fuzz(fuzzOpsArgs)
}

// opsFuzzState is a Block, its model and the links, before and after.
type opsFuzzState struct {
	b     percpu.Block
	m     *opsModel // nil for the zero Block
	links []uint64
	want  []uint64 // the links' model
}

func (s *opsFuzzState) check(t *testing.T, what string) {
	t.Helper()
	if s.m != nil {
		if d := s.m.diff(); d != "" {
			t.Fatalf("%s: %s", what, d)
		}
	}
	for i := range s.links {
		if got := atomic.LoadUint64(&s.links[i]); got != s.want[i] {
			t.Fatalf("%s: links[%d] = %d, want %d", what, i, got, s.want[i])
		}
	}
}

func fuzzOpsArgs(t *testing.T, op uint8, size, off, item, n, srcLen int) {
	idx := percpu.ByCPU
	if op&0x80 != 0 {
		idx = percpu.ByCID
	}
	sel := int(op&0x7f) % 7
	if n < 0 || n > 1024 {
		n = int(uint(n) % 1025)
	}
	if srcLen < 0 || srcLen > 2*percpu.MaxCopy {
		srcLen = int(uint(srcLen) % (2*percpu.MaxCopy + 1))
	}

	// Alloc.
	var st opsFuzzState
	b, err := percpu.Alloc(size, idx)
	if size < 1 || size > percpu.MaxBlockSize {
		if !errors.Is(err, percpu.ErrBlockSize) || b != (percpu.Block{}) {
			t.Fatalf("Alloc(%d, %v): %v, %v, want the zero Block and ErrBlockSize", size, idx, b, err)
		}
	} else {
		if err != nil {
			t.Fatalf("Alloc(%d, %v): %v", size, idx, err)
		}
		defer b.Free()
		want := 8
		for want < size {
			want *= 2
		}
		if b.Size() != want || b.Index() != idx {
			t.Fatalf("Alloc(%d, %v): Size %d Index %v, want %d", size, idx, b.Size(), b.Index(), want)
		}
		st.m = newOpsModel(t, b, true)
	}
	st.b = b
	st.links = make([]uint64, n)
	st.want = make([]uint64, n)
	for i := range st.links {
		st.links[i], st.want[i] = uint64(i), uint64(i)
	}
	valid := st.m != nil
	bsize := 0
	if valid {
		bsize = b.Size()
	}
	wordOK := func(o int) bool { return valid && o >= 0 && o%8 == 0 && o <= bsize-8 }

	// Every shard's word at off holds pre; the compares expect old.
	pre := uint64(item)
	if sel != 2 {
		pre *= 0x9e3779b97f4a7c15
	}
	old := pre
	if n%2 == 1 {
		old = pre + 1
	}
	if wordOK(off) {
		st.m.storeAll(off, pre)
	}
	next := ^pre
	v := pre>>7 | 1
	src := make([]byte, srcLen)
	for i := range src {
		src[i] = byte(i*13) ^ byte(item) | 0x80
	}

	var ok bool      // the arguments are valid
	var overlap bool // a try-store overlaps the commit word: the call may be refused
	var what string
	var call func() (shard int, err error)
	var apply func(shard int) error // the model's update; returns the error expected
	switch sel {
	case 0:
		what = fmt.Sprintf("Add(b, %d, %d)", off, int64(v))
		ok = wordOK(off)
		call = func() (int, error) { return percpu.Add(b, off, int64(v)) }
		apply = func(s int) error {
			st.m.setWord(s, off, st.m.word(s, off)+v)
			return nil
		}
	case 1:
		what = fmt.Sprintf("CompareAndStore(b, %d, %#x, %#x) on %#x", off, old, next, pre)
		ok = wordOK(off)
		call = func() (int, error) { return percpu.CompareAndStore(b, off, old, next) }
		apply = func(s int) error {
			if old != pre {
				return percpu.ErrMismatch
			}
			st.m.setWord(s, off, next)
			return nil
		}
	case 2:
		what = fmt.Sprintf("Pop(b, %d, %d links) with head %d", off, n, pre)
		ok = wordOK(off) && n > 0
		var popped int
		call = func() (int, error) {
			it, s, err := percpu.Pop(b, off, st.links)
			popped = it
			return s, err
		}
		apply = func(s int) error {
			if popped != -1 && (pre == 0 || pre > uint64(n)) {
				return fmt.Errorf("item %d with the error", popped)
			}
			switch {
			case pre == 0:
				return percpu.ErrEmpty
			case pre > uint64(n):
				return percpu.ErrCorruptList
			}
			if popped != int(pre-1) {
				return fmt.Errorf("popped item %d, want %d", popped, pre-1)
			}
			st.m.setWord(s, off, st.want[pre-1])
			return nil
		}
	case 3:
		what = fmt.Sprintf("Push(b, %d, %d links, %d)", off, n, item)
		ok = wordOK(off) && item >= 0 && item < n
		call = func() (int, error) { return percpu.Push(b, off, st.links, item) }
		apply = func(s int) error {
			st.want[item] = pre
			st.m.setWord(s, off, uint64(item)+1)
			return nil
		}
	case 4:
		what = fmt.Sprintf("StoreCommit(b, %d, %#x, %#x, b, %d, %#x) on %#x", off, old, next, item, v, pre)
		ok = wordOK(off) && wordOK(item)
		overlap = item == off
		call = func() (int, error) { return percpu.StoreCommit(b, off, old, next, b, item, v) }
		apply = func(s int) error {
			if old != pre {
				return percpu.ErrMismatch
			}
			st.m.setWord(s, item, v)
			st.m.setWord(s, off, next)
			return nil
		}
	case 5:
		what = fmt.Sprintf("CopyCommit(b, %d, %#x, %#x, b, %d, %d bytes) on %#x", off, old, next, item, srcLen, pre)
		ok = wordOK(off) && srcLen <= percpu.MaxCopy && item >= 0 && srcLen <= bsize && item <= bsize-srcLen
		overlap = srcLen > 0 && item < off+8 && off < item+srcLen
		call = func() (int, error) { return percpu.CopyCommit(b, off, old, next, b, item, src) }
		apply = func(s int) error {
			if old != pre {
				return percpu.ErrMismatch
			}
			copy(st.m.mem[s][item:], src)
			st.m.setWord(s, off, next)
			return nil
		}
	case 6:
		what = fmt.Sprintf("Shard(%d)", item)
		ok = valid && item >= 0 && item < percpu.Shards()
		call = func() (int, error) {
			if b.Shard(item) == nil {
				return -1, errors.New("a nil address")
			}
			return item, percpu.ErrNoRseq // checked as an operation without rseq
		}
		apply = func(int) error { return nil }
	}
	st.check(t, "setting up "+what)

	var shard int
	msg, panicked, opErr := opsPanicMessage(func() (err error) {
		shard, err = call()
		return err
	})
	switch {
	case panicked && ok && !overlap:
		t.Fatalf("%s on a %d-byte Block: valid arguments, but panic %q", what, bsize, msg)
	case panicked && !strings.HasPrefix(msg, "percpu: "):
		t.Fatalf("%s on a %d-byte Block: panic %q, want a \"percpu: \" message", what, bsize, msg)
	case panicked:
		st.check(t, what+" panicked ("+msg+"), but")
		return
	case !ok:
		t.Fatalf("%s on a %d-byte Block (%d links): invalid arguments, but no panic: %d, %v", what, bsize, n, shard, opErr)
	case sel == 6 || !opsRseq:
		if opErr != percpu.ErrNoRseq {
			t.Fatalf("%s without rseq: %v, want ErrNoRseq", what, opErr)
		}
		st.check(t, what+" without rseq")
		return
	}
	if opErr == nil && (shard < 0 || shard >= percpu.Shards()) {
		t.Fatalf("%s: shard %d out of [0, %d)", what, shard, percpu.Shards())
	}
	s := shard
	if opErr != nil {
		s = 0 // every shard holds the same: any one serves the model
	}
	if want := apply(s); opErr != want {
		t.Fatalf("%s: shard %d, %v, want %v", what, shard, opErr, want)
	}
	st.check(t, what)
}
