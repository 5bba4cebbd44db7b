// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Per-CPU memory comes from regions mapped outside the Go heap. A region
// holds [Shards] shards of regionStride bytes each: shard i of a region at
// base is [base + i*regionStride, base + (i+1)*regionStride). A Block has
// the same offset in every shard, so its address in shard i is its
// address in shard 0 plus i*regionStride, which is what the critical
// sections compute. Blocks of one shard are packed together (a counter
// costs 8 bytes per shard, not a cache line); different shards never
// share a cache line, since the stride is a multiple of the page size.
//
// The memory holds no Go pointers (the assembly stores without write
// barriers), and the garbage collector never scans it. Pages are backed
// only when first touched, so a region costs address space up front and
// memory only for the shards the process really uses.
const (
	regionStrideShift = 16 // 64 KiB per shard per region
	regionStride      = 1 << regionStrideShift

	minBlockShift = 3 // 8 bytes
	maxBlockShift = 12
	// MaxBlockSize is the largest size [Alloc] accepts.
	MaxBlockSize = 1 << maxBlockShift
)

// Index says which number of the current thread picks its shard.
type Index uint8

const (
	// ByCPU indexes shards by the CPU number.
	ByCPU Index = iota
	// ByCID indexes shards by the kernel's mm_cid (see [CID]): dense when
	// the process runs on few CPUs of a large machine. Where the kernel
	// has no mm_cid it is the same as ByCPU.
	ByCID
)

// String returns "cpu" or "cid".
func (x Index) String() string {
	switch x {
	case ByCPU:
		return "cpu"
	case ByCID:
		return "cid"
	}
	return fmt.Sprintf("Index(%d)", uint8(x))
}

// Block is per-CPU memory: Size bytes in every shard, at the same offset
// in each. Restartable operations ([Add], [CompareAndStore], ...) work on
// the 8-byte words of the current shard. The zero Block is invalid.
//
// A Block costs Size (rounded up to a power of two) times [Shards] bytes
// of address space; pages are backed when first touched.
type Block struct {
	addr  unsafe.Pointer // address in shard 0, outside the Go heap
	class uint8          // log2 of the rounded size
	field uint8          // offset in struct rseq of the index: cpu_id or mm_cid
	index Index
}

// Errors of the allocator.
var (
	ErrBlockSize = errors.New("percpu: block size must be 1 to MaxBlockSize bytes")
)

// Alloc returns a zeroed Block of size bytes in every shard, indexed by
// idx. Free it when done.
func Alloc(size int, idx Index) (Block, error) {
	if size <= 0 || size > MaxBlockSize {
		return Block{}, fmt.Errorf("%w: got %d", ErrBlockSize, size)
	}
	if idx != ByCPU && idx != ByCID {
		return Block{}, fmt.Errorf("percpu: Alloc: unknown Index %d", idx)
	}
	class := uint8(max(bits.Len(uint(size-1)), minBlockShift))
	addr, err := regions.alloc(class)
	if err != nil {
		return Block{}, err
	}
	return Block{addr: addr, class: class, field: indexField(idx), index: idx}, nil
}

// indexField returns the offset in struct rseq of the number that idx (a
// valid Index) picks the shard by.
func indexField(idx Index) uint8 {
	if idx == ByCID && hasCID {
		return rseqMMCIDOffset
	}
	return rseqCPUIDOffset
}

// Free zeroes b in every shard and returns it to the allocator. No
// operation on b may be in flight or follow.
func (b Block) Free() {
	b.mustValid("Free")
	if !regions.retire(b.addr, b.class) {
		panic("percpu: Block.Free of a Block that is not allocated (freed twice?)")
	}
	// Clear only the shards that were written: reading an untouched page
	// maps the shared zero page, clearing it would back it with memory.
	words := 1 << b.class / 8
	for i := 0; i < shardCount; i++ {
		w := unsafe.Slice((*uint64)(b.shard(i)), words)
		for _, x := range w {
			if x != 0 {
				clear(w)
				break
			}
		}
	}
	regions.free(b.addr, b.class)
}

// Size returns the usable size of b in each shard, its requested size
// rounded up to a power of two.
func (b Block) Size() int {
	b.mustValid("Size")
	return 1 << b.class
}

// Index returns how b's shard is chosen.
func (b Block) Index() Index { return b.index }

// Addr returns the address of b in shard 0 as an integer: the value to
// publish in the base word of [AddIndirect]. It is not a Go pointer (the
// memory is outside the Go heap), so any integer word can hold it.
func (b Block) Addr() uint64 {
	b.mustValid("Addr")
	return uint64(uintptr(b.addr))
}

// Shard returns the address of b in shard i. The memory is outside the Go
// heap; read it with atomic loads while operations may run.
func (b Block) Shard(i int) unsafe.Pointer {
	b.mustValid("Shard")
	if i < 0 || i >= shardCount {
		panic(fmt.Sprintf("percpu: Block.Shard(%d): shard out of range [0, %d)", i, shardCount))
	}
	return b.shard(i)
}

func (b Block) shard(i int) unsafe.Pointer {
	return unsafe.Add(b.addr, i<<regionStrideShift)
}

func (b Block) mustValid(op string) {
	if b.addr == nil {
		panic("percpu: Block." + op + " on a zero Block (use Alloc)")
	}
}

// Offsets in struct rseq that an index can come from.
const (
	rseqCPUIDOffset = 4
	rseqMMCIDOffset = 24
)

// regions is the allocator of Blocks. Each size class has a free list
// and bumps through the current region's shard-0 stride.
var regions regionAllocator

type regionAllocator struct {
	mu      sync.Mutex
	maps    [][]byte       // keeps the mappings referenced; never unmapped
	base    unsafe.Pointer // current region, nil before the first
	used    int            // bytes of the current region's stride handed out
	freed   [maxBlockShift + 1][]unsafe.Pointer
	live    map[unsafe.Pointer]uint8 // allocated blocks and their classes
	inUse   int                      // blocks handed out and not freed, for tests
	regions int
}

func (r *regionAllocator) alloc(class uint8) (unsafe.Pointer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live == nil {
		r.live = map[unsafe.Pointer]uint8{}
	}
	if l := r.freed[class]; len(l) > 0 {
		a := l[len(l)-1]
		r.freed[class] = l[:len(l)-1]
		r.inUse++
		r.live[a] = class
		return a, nil
	}
	size := 1 << class
	off := (r.used + size - 1) &^ (size - 1)
	if r.base == nil || off+size > regionStride {
		m, err := unix.Mmap(-1, 0, shardCount<<regionStrideShift,
			unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
		if err != nil {
			return nil, fmt.Errorf("percpu: mapping %d bytes of per-CPU memory: %w", shardCount<<regionStrideShift, err)
		}
		r.maps = append(r.maps, m)
		r.base, off = unsafe.Pointer(&m[0]), 0
		r.regions++
	}
	r.used = off + size
	r.inUse++
	a := unsafe.Add(r.base, off)
	r.live[a] = class
	return a, nil
}

// retire marks an allocated block as no longer live, so that a second
// Free of it is caught, and reports whether it was live. The caller then
// clears it and hands it to free.
func (r *regionAllocator) retire(addr unsafe.Pointer, class uint8) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.live[addr]
	if !ok || c != class {
		return false
	}
	delete(r.live, addr)
	return true
}

func (r *regionAllocator) free(addr unsafe.Pointer, class uint8) {
	r.mu.Lock()
	r.freed[class] = append(r.freed[class], addr)
	r.inUse--
	r.mu.Unlock()
}
