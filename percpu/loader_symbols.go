// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// Looking up a dynamic symbol of the ELF object mapped at a base address,
// in memory, without cgo and without reading files: how percpu finds
// glibc's __rseq_offset and __rseq_size in the dynamic loader (AT_BASE)
// when the runtime has no gorseq patch. Only what a loaded 64-bit
// little-endian shared object needs: the ELF header, the program headers,
// PT_DYNAMIC, and DT_SYMTAB/DT_STRTAB with DT_GNU_HASH or DT_HASH (Debian's
// ld-linux-x86-64.so.2 has both, ld-linux-aarch64.so.1 only DT_GNU_HASH).

// ELF constants (elf.h).
const (
	elfPTDynamic = 2
	elfDTNull    = 0
	elfDTHash    = 4
	elfDTStrtab  = 5
	elfDTSymtab  = 6
	elfDTStrsz   = 10
	elfDTGnuHash = 0x6ffffef5
	elfSymSize   = 24 // Elf64_Sym
	elfSHNUndef  = 0
)

// errNoSymbol: the object does not define the symbol.
var errNoSymbol = errors.New("no such symbol")

// loadedELF is an ELF shared object mapped at base.
type loadedELF struct {
	base    uintptr
	symtab  uintptr
	strtab  uintptr
	strsz   uintptr
	hash    uintptr // DT_HASH, 0 if absent
	gnuHash uintptr // DT_GNU_HASH, 0 if absent
}

// memAt returns addr as a pointer, for reading memory that is not Go's.
func memAt(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

func mem32(addr uintptr) uint32 {
	return binary.LittleEndian.Uint32(unsafe.Slice((*byte)(memAt(addr)), 4))
}
func mem64(addr uintptr) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(memAt(addr)), 8))
}

// openLoadedELF reads the dynamic section of the object at base, which
// must be a mapped ELF64 object of this machine (machine is e_machine).
func openLoadedELF(base uintptr, machine uint16) (*loadedELF, error) {
	if base == 0 {
		return nil, errors.New("no base address")
	}
	ident := unsafe.Slice((*byte)(memAt(base)), 16)
	if string(ident[:4]) != "\x7fELF" || ident[4] != 2 || ident[5] != 1 {
		return nil, fmt.Errorf("no little-endian ELF64 header at %#x", base)
	}
	if m := uint16(mem32(base+18) & 0xffff); m != machine {
		return nil, fmt.Errorf("ELF machine %d at %#x, want %d", m, base, machine)
	}
	phoff := uintptr(mem64(base + 32))
	phentsize := uintptr(mem32(base+54) & 0xffff)
	phnum := uintptr(mem32(base+56) & 0xffff)
	if phoff == 0 || phentsize < 56 || phnum == 0 || phnum > 64 {
		return nil, fmt.Errorf("implausible program headers (offset %d, size %d, count %d)", phoff, phentsize, phnum)
	}
	var dynamic uintptr
	for i := uintptr(0); i < phnum; i++ {
		ph := base + phoff + i*phentsize
		if mem32(ph) == elfPTDynamic {
			dynamic = base + uintptr(mem64(ph+16)) // p_vaddr
			break
		}
	}
	if dynamic == 0 {
		return nil, errors.New("no PT_DYNAMIC")
	}
	e := &loadedELF{base: base}
	// glibc relocates some d_ptr entries of a loaded object in place and
	// not others; an address below base is an offset from it. (The
	// objects are position independent, linked at address 0.)
	addr := func(v uint64) uintptr {
		if uintptr(v) < base {
			return base + uintptr(v)
		}
		return uintptr(v)
	}
	for d, n := dynamic, 0; ; d, n = d+16, n+1 {
		if n > 1024 {
			return nil, errors.New("no DT_NULL in the dynamic section")
		}
		tag, val := mem64(d), mem64(d+8)
		switch tag {
		case elfDTNull:
			if e.symtab == 0 || e.strtab == 0 || e.hash == 0 && e.gnuHash == 0 {
				return nil, errors.New("no DT_SYMTAB, DT_STRTAB or hash table")
			}
			return e, nil
		case elfDTSymtab:
			e.symtab = addr(val)
		case elfDTStrtab:
			e.strtab = addr(val)
		case elfDTStrsz:
			e.strsz = uintptr(val)
		case elfDTHash:
			e.hash = addr(val)
		case elfDTGnuHash:
			e.gnuHash = addr(val)
		}
	}
}

// lookup returns the address of the defined symbol name.
func (e *loadedELF) lookup(name string) (uintptr, error) {
	if e.gnuHash != 0 {
		return e.lookupGNU(name)
	}
	return e.lookupSysV(name)
}

// symbol returns the address of symbol i if its name is name and it is
// defined.
func (e *loadedELF) symbol(i uint32, name string) (uintptr, bool) {
	sym := e.symtab + uintptr(i)*elfSymSize
	off := uintptr(mem32(sym))
	if e.strsz != 0 && off+uintptr(len(name)) >= e.strsz {
		return 0, false
	}
	s := unsafe.Slice((*byte)(memAt(e.strtab+off)), len(name)+1)
	if string(s[:len(name)]) != name || s[len(name)] != 0 {
		return 0, false
	}
	if shndx := mem32(sym+4) >> 16; shndx == elfSHNUndef {
		return 0, false
	}
	return e.base + uintptr(mem64(sym+8)), true
}

// lookupGNU searches DT_GNU_HASH: nbuckets, symoffset, bloom size, bloom
// shift, the bloom words (8 bytes each), the buckets, then one hash per
// symbol from symoffset on, whose low bit ends a chain.
func (e *loadedELF) lookupGNU(name string) (uintptr, error) {
	h := uint32(5381)
	for i := 0; i < len(name); i++ {
		h = h*33 + uint32(name[i])
	}
	t := e.gnuHash
	nbuckets, symoffset, bloomSize := mem32(t), mem32(t+4), mem32(t+8)
	if nbuckets == 0 {
		return 0, errNoSymbol
	}
	buckets := t + 16 + uintptr(bloomSize)*8
	chain := buckets + uintptr(nbuckets)*4
	i := mem32(buckets + uintptr(h%nbuckets)*4)
	if i < symoffset {
		return 0, errNoSymbol
	}
	for n := 0; n < 1<<16; n, i = n+1, i+1 {
		h2 := mem32(chain + uintptr(i-symoffset)*4)
		if h|1 == h2|1 {
			if a, ok := e.symbol(i, name); ok {
				return a, nil
			}
		}
		if h2&1 != 0 {
			break
		}
	}
	return 0, errNoSymbol
}

// lookupSysV searches DT_HASH: nbucket, nchain, the buckets, the chains.
func (e *loadedELF) lookupSysV(name string) (uintptr, error) {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h<<4 + uint32(name[i])
		g := h & 0xf0000000
		h ^= g >> 24
		h &^= g
	}
	t := e.hash
	nbucket, nchain := mem32(t), mem32(t+4)
	if nbucket == 0 {
		return 0, errNoSymbol
	}
	i := mem32(t + 8 + uintptr(h%nbucket)*4)
	for n := uint32(0); i != 0 && i < nchain && n < nchain; n++ {
		if a, ok := e.symbol(i, name); ok {
			return a, nil
		}
		i = mem32(t + 8 + uintptr(nbucket)*4 + uintptr(i)*4)
	}
	return 0, errNoSymbol
}
