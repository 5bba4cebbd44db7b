// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"errors"
	"fmt"
	"unsafe"
)

// Restartable operations on per-CPU memory.
//
// Each operation works on an 8-byte word of a [Block], at a byte offset,
// in the shard of the calling thread (its CPU or CID, per the Block's
// [Index]), and returns that shard. It runs as one restartable critical
// section: if the thread is preempted, migrated or signalled before the
// final store (the commit), the kernel abandons it and the operation starts
// over on whatever CPU the thread is then. So a word is only ever written
// by the CPU that owns it, with plain loads and stores, and no update is
// lost. Words that these operations write must not be written by anything
// else while operations may run (an atomic add from another CPU can be
// overwritten by a commit); read them with atomic loads.
//
// Without rseq on the calling thread (see [Status]), the operations do
// nothing and return [ErrNoRseq]: a structure built on them needs a
// fallback, as [Counter] has.
//
// Memory ordering. A commit is a plain store (MOV on amd64, STR on arm64),
// except that StoreCommit and CopyCommit commit with a store-release on
// arm64 (STLR; every x86 store is one already): a reader on another CPU
// that loads the commit word with an atomic load and sees the new value
// also sees what the operation stored before it. Nothing else is ordered
// for other CPUs: per-CPU data that only its own CPU's sections touch
// needs no ordering (a CPU sees its own stores in order, and a thread that
// migrates crosses the scheduler's full barriers); anything that readers
// on other CPUs rely on must be published through a release, as these two
// and [RWMutex] do.

// Errors of the restartable operations. They are returned, not wrapped, so
// that callers can compare them with ==.
var (
	// ErrNoRseq: the calling thread has no rseq registration; nothing
	// was done.
	ErrNoRseq = errors.New("percpu: no rseq on this thread")
	// ErrMismatch: the word did not hold the expected value; nothing was
	// stored.
	ErrMismatch = errors.New("percpu: word does not hold the expected value")
	// ErrEmpty: the list of the current shard is empty.
	ErrEmpty = errors.New("percpu: list is empty")
	// ErrCorruptList: the list head names an item outside the links.
	ErrCorruptList = errors.New("percpu: list head out of range of the links")
	// ErrNilBase: the base word of AddIndirect holds 0 (no Block is
	// published); nothing was stored.
	ErrNilBase = errors.New("percpu: the base word holds no Block")
)

// MaxCopy is the most bytes [CopyCommit] copies in one critical section.
// A longer copy is likelier to be aborted and restarted.
const MaxCopy = 1024

// Results of the critical sections below 0.
const (
	csNoRseq  = -1
	csFailed  = -2
	csCorrupt = -3
)

// word returns the address in shard 0 of b's 8-byte word at off, after
// checking the arguments.
func (b Block) word(op string, off int) uintptr {
	if b.addr == nil {
		panic("percpu: " + op + " on a zero Block (use Alloc)")
	}
	if off < 0 || off%8 != 0 || off > 1<<b.class-8 {
		panic(fmt.Sprintf("percpu: %s: offset %d is not an 8-byte aligned word of a %d-byte Block", op, off, 1<<b.class))
	}
	return uintptr(b.addr) + uintptr(off)
}

// mustSameIndex panics unless dst picks its shard as b does: a store to
// dst's shard of b's index could meet a commit to the same word from
// another CPU.
func mustSameIndex(op string, b, dst Block) {
	if b.field != dst.field {
		panic(fmt.Sprintf("percpu: %s: the Blocks are indexed differently (%v and %v)", op, b.index, dst.index))
	}
}

func shardResult(r int32, failed error) (int, error) {
	switch {
	case r >= 0:
		return int(r), nil
	case r == csNoRseq:
		return -1, ErrNoRseq
	case r == csCorrupt:
		return -1, ErrCorruptList
	}
	return -1, failed
}

// Add adds v to the int64 at offset off of the current shard of b
// (load-add-store) and returns the shard.
func Add(b Block, off int, v int64) (shard int, err error) {
	return shardResult(csAdd(b.word("Add", off), v, uintptr(b.field)), nil)
}

// CompareAndStore stores new in the word at offset off of the current
// shard of b if it holds old (load-compare-store), and returns the shard.
// It returns ErrMismatch if the word holds another value.
func CompareAndStore(b Block, off int, old, new uint64) (shard int, err error) {
	return shardResult(csCmpStore(b.word("CompareAndStore", off), old, new, uintptr(b.field)), ErrMismatch)
}

// Pop removes the first item of the current shard's list and returns it
// with the shard. The list's head is the word at offset off of b: 0 for an
// empty list, else 1 + the index of the first item. links[i] is the head
// value that follows item i (0 at the end): links are shared by every
// shard, and an item is in at most one list at a time. It returns ErrEmpty
// when the list is empty.
func Pop(b Block, off int, links []uint64) (item int, shard int, err error) {
	addr := b.word("Pop", off)
	if len(links) == 0 {
		panic("percpu: Pop with no links")
	}
	it, r := csPop(addr, unsafe.Pointer(&links[0]), uintptr(len(links)), uintptr(b.field))
	shard, err = shardResult(r, ErrEmpty)
	if err != nil {
		return -1, -1, err
	}
	return int(it), shard, nil
}

// Push makes item the first item of the current shard's list (see [Pop])
// and returns the shard. The item must be the caller's: in no list, and
// not pushed by anyone else at the same time.
func Push(b Block, off int, links []uint64, item int) (shard int, err error) {
	addr := b.word("Push", off)
	if item < 0 || item >= len(links) {
		panic(fmt.Sprintf("percpu: Push: item %d out of range of %d links", item, len(links)))
	}
	return shardResult(csPush(addr, unsafe.Pointer(&links[0]), uintptr(item), uintptr(b.field)), nil)
}

// StoreCommit writes v to the word at offset dstOff of dst and then new to
// the word at offset off of b, both in the current shard, if the word of b
// holds old; the second store commits. b and dst must have the same
// [Index]. It returns ErrMismatch, having
// written nothing, if the word holds another value. dst may be b; if the
// two words are the same, the commit overwrites v and StoreCommit is
// CompareAndStore. A reader that loads the word of b with an atomic load
// and sees new also sees v (the commit is a release).
func StoreCommit(b Block, off int, old, new uint64, dst Block, dstOff int, v uint64) (shard int, err error) {
	addr := b.word("StoreCommit", off)
	d := dst.word("StoreCommit", dstOff)
	mustSameIndex("StoreCommit", b, dst)
	if d == addr {
		// Storing v there first would break the compare of a retry
		// after an abort between the two stores.
		return CompareAndStore(b, off, old, new)
	}
	return shardResult(csStoreCommit(addr, old, new, d, v, uintptr(b.field)), ErrMismatch)
}

// CopyCommit copies src to offset dstOff of dst and then stores new in the
// word at offset off of b, both in the current shard, if the word of b
// holds old; the store commits. b and dst must have the same [Index]. src
// is at most [MaxCopy] bytes. It returns
// ErrMismatch, having stored nothing, if the word holds another value. A
// reader that reads the copy after seeing new (with an atomic load) sees
// all of it. The copy must not overlap the word at off (it would break the
// compare of a retry after an abort in the middle of the copy).
func CopyCommit(b Block, off int, old, new uint64, dst Block, dstOff int, src []byte) (shard int, err error) {
	addr := b.word("CopyCommit", off)
	if dst.addr == nil {
		panic("percpu: CopyCommit to a zero Block (use Alloc)")
	}
	mustSameIndex("CopyCommit", b, dst)
	if len(src) > MaxCopy {
		panic(fmt.Sprintf("percpu: CopyCommit of %d bytes, more than MaxCopy (%d)", len(src), MaxCopy))
	}
	if dstOff < 0 || dstOff > 1<<dst.class-len(src) {
		panic(fmt.Sprintf("percpu: CopyCommit: %d bytes at offset %d do not fit a %d-byte Block", len(src), dstOff, 1<<dst.class))
	}
	if len(src) == 0 {
		return CompareAndStore(b, off, old, new)
	}
	d := uintptr(dst.addr) + uintptr(dstOff)
	if d < addr+8 && addr < d+uintptr(len(src)) {
		panic(fmt.Sprintf("percpu: CopyCommit: %d bytes at offset %d overlap the commit word at offset %d", len(src), dstOff, off))
	}
	return shardResult(csCopyCommit(addr, old, new, d, unsafe.Pointer(&src[0]), uintptr(len(src)), uintptr(b.field)), ErrMismatch)
}

// AddIndirect adds v to the int64 at offset off of the current shard of
// the Block whose [Block.Addr] the word *base holds, and returns the
// shard. It reads *base inside the same critical section as the add (the
// kernel selftests' rseq_offset_deref_addv), which lets a manager retire
// a Block while threads add to it: the manager stores another Block's Addr
// (or 0) in *base with an atomic store, then calls
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0), having
// registered the process once with
// MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ. When membarrier returns,
// every AddIndirect that had read the old value has either committed or
// been aborted (and retries with the new value), so the old Block changes
// no more: its final value can be read, or it can be freed.
//
// *base must hold 0 or the Addr of a live Block of at least off+8 bytes,
// indexed by idx, whenever AddIndirect may read it: the critical section
// adds where *base points, with no further check. If *base holds 0,
// AddIndirect returns ErrNilBase having stored nothing. base is ordinary
// memory holding an integer, not a Go pointer, so it may be anywhere (a
// variable, a field), and the garbage collector does not track the Block
// through it; write it with atomic stores while AddIndirect may run.
//
// Memory ordering (amd64 and arm64). The manager's atomic store of *base
// is a release (XCHG; STLR on arm64), so whatever it wrote into the new
// Block before publishing it is visible to a section that loads the new
// Addr: the section's load and store through it are address-dependent on
// the load of *base, which both architectures keep in order (the
// machine-code tests check the dependency on arm64). membarrier's
// RSEQ command runs a full barrier on every CPU it interrupts before the
// kernel aborts the section there, and waits for them all: a section that
// committed to the old Block before the barrier is visible to the
// manager when membarrier returns, and one that had not is restarted and
// loads *base again, after the barrier, so it sees the new value.
//
// AddIndirect panics, before reading *base, if base is nil, if off is not
// an 8-byte aligned offset in [0, MaxBlockSize-7), or if idx is not an
// Index. Without rseq on the calling thread it returns ErrNoRseq and does
// nothing, whatever *base holds.
func AddIndirect(base *uint64, off int, v int64, idx Index) (shard int, err error) {
	if base == nil {
		panic("percpu: AddIndirect with a nil base")
	}
	if off < 0 || off%8 != 0 || off >= MaxBlockSize-7 {
		panic(fmt.Sprintf("percpu: AddIndirect: offset %d is not an 8-byte aligned word of a Block (MaxBlockSize %d)", off, MaxBlockSize))
	}
	if idx != ByCPU && idx != ByCID {
		panic(fmt.Sprintf("percpu: AddIndirect: unknown %v", idx))
	}
	return shardResult(csAddIndirect(base, uintptr(off), v, uintptr(indexField(idx))), ErrNilBase)
}
