// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
)

// The restartable operations against a model of the memory of every shard.
//
// With rseq (the patched toolchain) the tests pin the thread to one CPU at
// a time so that the shard is known (ByCPU) and compare every shard's
// memory with the model after every operation. Without rseq (the stock
// toolchain, GODEBUG=rseq=0) each test instead checks that every
// operation returns ErrNoRseq and changes nothing: that is the whole test
// there.

// opsRseq: the operations work: the process is in an rseq mode, which
// percpu only reports on an architecture with critical sections.
var opsRseq = percpu.Status().Mode.Rseq()

var opsIndexes = []percpu.Index{percpu.ByCPU, percpu.ByCID}

// --- memory model ---------------------------------------------------------

// opsWordAddr returns the address of the word at off of b in shard s.
func opsWordAddr(b percpu.Block, s, off int) *uint64 {
	return (*uint64)(unsafe.Add(b.Shard(s), off))
}

// opsLoad reads b's memory in shard s, word by word with atomic loads.
func opsLoad(b percpu.Block, s int) []byte {
	out := make([]byte, b.Size())
	for off := 0; off < b.Size(); off += 8 {
		binary.LittleEndian.PutUint64(out[off:], atomic.LoadUint64(opsWordAddr(b, s, off)))
	}
	return out
}

// opsModel is the expected memory of a Block in every shard.
type opsModel struct {
	b   percpu.Block
	mem [][]byte
}

// newOpsModel models b as it is now (after checking it reads as zero if
// zero is true).
func newOpsModel(t testing.TB, b percpu.Block, zero bool) *opsModel {
	t.Helper()
	m := &opsModel{b: b}
	for s := 0; s < percpu.Shards(); s++ {
		got := opsLoad(b, s)
		if zero && !allZero(got) {
			t.Fatalf("new %d-byte Block: shard %d is not zero: % x", b.Size(), s, got)
		}
		m.mem = append(m.mem, got)
	}
	return m
}

func allZero(p []byte) bool {
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}

func (m *opsModel) word(s, off int) uint64 { return binary.LittleEndian.Uint64(m.mem[s][off:]) }

func (m *opsModel) setWord(s, off int, v uint64) { binary.LittleEndian.PutUint64(m.mem[s][off:], v) }

// storeAll writes v to the word at off of every shard, with atomic stores
// (the caller runs no operation on the Block meanwhile), and in the model.
func (m *opsModel) storeAll(off int, v uint64) {
	for s := range m.mem {
		atomic.StoreUint64(opsWordAddr(m.b, s, off), v)
		m.setWord(s, off, v)
	}
}

// diff describes how the memory differs from the model, "" if it does not.
func (m *opsModel) diff() string {
	for s, want := range m.mem {
		got := opsLoad(m.b, s)
		if bytes.Equal(got, want) {
			continue
		}
		var d []string
		for i := range got {
			if got[i] != want[i] {
				d = append(d, fmt.Sprintf("byte %d: %#02x, want %#02x", i, got[i], want[i]))
				if len(d) == 8 {
					d = append(d, "...")
					break
				}
			}
		}
		return fmt.Sprintf("shard %d of the %d-byte Block: %s", s, m.b.Size(), strings.Join(d, "; "))
	}
	return ""
}

func (m *opsModel) check(t testing.TB, format string, args ...any) {
	t.Helper()
	if d := m.diff(); d != "" {
		t.Fatalf("after %s: %s", fmt.Sprintf(format, args...), d)
	}
}

func opsAlloc(t testing.TB, size int, idx percpu.Index) percpu.Block {
	t.Helper()
	b, err := percpu.Alloc(size, idx)
	if err != nil {
		t.Fatalf("Alloc(%d, %v): %v", size, idx, err)
	}
	return b
}

// --- pinning --------------------------------------------------------------

// opsAllowedCPUs returns the CPUs the process may run on.
func opsAllowedCPUs(t testing.TB) []int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for cpu := 0; cpu < 8*int(unsafe.Sizeof(set)); cpu++ {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	if len(cpus) == 0 {
		t.Fatal("no allowed CPU")
	}
	return cpus
}

// opsOnEachCPU runs f on the calling goroutine, locked to its thread and
// pinned to each allowed CPU in turn.
func opsOnEachCPU(t testing.TB, f func(cpu int)) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &orig)
	for _, cpu := range opsAllowedCPUs(t) {
		var one unix.CPUSet
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatalf("pinning to CPU %d: %v", cpu, err)
		}
		f(cpu)
	}
}

// opsCheckShard checks an operation's result on a thread pinned to cpu.
func opsCheckShard(t testing.TB, b percpu.Block, cpu, shard int, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s on CPU %d: %v", what, cpu, err)
	}
	switch {
	case shard < 0 || shard >= percpu.Shards():
		t.Fatalf("%s on CPU %d: shard %d out of [0, %d)", what, cpu, shard, percpu.Shards())
	case b.Index() == percpu.ByCPU && shard != cpu:
		t.Fatalf("%s on CPU %d: shard %d, want the CPU", what, cpu, shard)
	}
}

// --- without rseq ---------------------------------------------------------

// opsRseqOrCheckNoRseq returns true when the process has rseq. Otherwise
// it checks that every operation returns ErrNoRseq and changes nothing,
// with arguments that would succeed with rseq, and returns false: the
// caller's whole test without rseq.
func opsRseqOrCheckNoRseq(t *testing.T) bool {
	t.Helper()
	if opsRseq {
		return true
	}
	t.Logf("no rseq (%s): checking that every operation returns ErrNoRseq and changes nothing", percpu.Status().Reason)
	for _, idx := range opsIndexes {
		b := opsAlloc(t, 64, idx)
		dst := opsAlloc(t, 2*percpu.MaxCopy, idx)
		m := newOpsModel(t, b, true)
		md := newOpsModel(t, dst, true)
		// Words that make every compare succeed and the list non-empty.
		m.storeAll(0, 7)
		m.storeAll(8, 2) // list head: item 1
		links := []uint64{0, 1, 0, 0}
		want := append([]uint64(nil), links...)
		expect := func(what string, err error) {
			t.Helper()
			if err != percpu.ErrNoRseq {
				t.Errorf("%v: %s: %v, want ErrNoRseq", idx, what, err)
			}
			m.check(t, "%s", what)
			md.check(t, "%s", what)
			if fmt.Sprint(links) != fmt.Sprint(want) {
				t.Errorf("%v: %s changed the links: %v, want %v", idx, what, links, want)
			}
		}
		_, err := percpu.Add(b, 0, 1)
		expect("Add", err)
		_, err = percpu.CompareAndStore(b, 0, 7, 8)
		expect("CompareAndStore", err)
		_, err = percpu.CompareAndStore(b, 0, 6, 8)
		expect("CompareAndStore (mismatch)", err)
		it, _, err := percpu.Pop(b, 8, links)
		expect("Pop", err)
		if it != -1 {
			t.Errorf("%v: Pop without rseq returned item %d", idx, it)
		}
		_, err = percpu.Push(b, 8, links, 2)
		expect("Push", err)
		_, err = percpu.StoreCommit(b, 0, 7, 8, dst, 16, 99)
		expect("StoreCommit", err)
		_, err = percpu.StoreCommit(b, 0, 7, 8, b, 0, 99)
		expect("StoreCommit (dst = b)", err)
		for _, n := range []int{0, 1, 7, 8, 9, percpu.MaxCopy} {
			src := bytes.Repeat([]byte{0xa5}, n)
			_, err = percpu.CopyCommit(b, 0, 7, 8, dst, 3, src)
			expect(fmt.Sprintf("CopyCommit of %d bytes", n), err)
		}
		b.Free()
		dst.Free()
	}
	return false
}

// --- single-threaded operations --------------------------------------------

func TestOpsAdd(t *testing.T) {
	if !opsRseqOrCheckNoRseq(t) {
		return
	}
	for _, idx := range opsIndexes {
		t.Run(idx.String(), func(t *testing.T) {
			b := opsAlloc(t, 40, idx)
			defer b.Free()
			if b.Size() != 64 || b.Index() != idx {
				t.Fatalf("Alloc(40, %v): Size %d Index %v, want 64 and %v", idx, b.Size(), b.Index(), idx)
			}
			m := newOpsModel(t, b, true)
			vals := []int64{1, -5, 1 << 62, math.MaxInt64, math.MinInt64, 12345, -1, 0}
			opsOnEachCPU(t, func(cpu int) {
				for k := 0; k < 64; k++ {
					v := vals[k%len(vals)]
					off := (k * 8 * (cpu + 1)) % b.Size()
					shard, err := percpu.Add(b, off, v)
					what := fmt.Sprintf("Add(b, %d, %d)", off, v)
					opsCheckShard(t, b, cpu, shard, err, what)
					m.setWord(shard, off, m.word(shard, off)+uint64(v))
					m.check(t, "%s on CPU %d (shard %d)", what, cpu, shard)
				}
			})
		})
	}
}

func TestOpsCompareAndStore(t *testing.T) {
	if !opsRseqOrCheckNoRseq(t) {
		return
	}
	for _, idx := range opsIndexes {
		t.Run(idx.String(), func(t *testing.T) {
			b := opsAlloc(t, 32, idx)
			defer b.Free()
			m := newOpsModel(t, b, true)
			vals := []uint64{0, 1, math.MaxUint64, 1 << 63, 0x0123456789abcdef}
			opsOnEachCPU(t, func(cpu int) {
				for k, old := range vals {
					for _, off := range []int{0, 8, 24} {
						// Every shard holds old: the operation's shard is
						// the one that changes.
						m.storeAll(off, old)
						next := vals[(k+1)%len(vals)] ^ uint64(cpu)
						shard, err := percpu.CompareAndStore(b, off, old, next)
						what := fmt.Sprintf("CompareAndStore(b, %d, %#x, %#x)", off, old, next)
						opsCheckShard(t, b, cpu, shard, err, what)
						m.setWord(shard, off, next)
						m.check(t, "%s on CPU %d", what, cpu)

						// old == new: stores the same value.
						shard, err = percpu.CompareAndStore(b, off, next, next)
						opsCheckShard(t, b, cpu, shard, err, what+" again")
						m.check(t, "%s again", what)

						// Mismatch: every shard holds old, expect old+1.
						m.storeAll(off, old)
						_, err = percpu.CompareAndStore(b, off, old+1, next)
						if err != percpu.ErrMismatch {
							t.Fatalf("CompareAndStore(b, %d, %#x, ...) on a word holding %#x: %v, want ErrMismatch", off, old+1, old, err)
						}
						m.check(t, "a mismatched CompareAndStore")
					}
				}
			})
		})
	}
}

// opsList is the model of the per-shard lists that Push and Pop keep.
type opsList struct {
	stacks map[int][]int // shard -> items, the last is the first in the list
	links  []uint64
}

func TestOpsPushPop(t *testing.T) {
	if !opsRseqOrCheckNoRseq(t) {
		return
	}
	for _, idx := range opsIndexes {
		t.Run(idx.String(), func(t *testing.T) {
			b := opsAlloc(t, 16, idx)
			defer b.Free()
			const off = 8
			m := newOpsModel(t, b, true)
			cpus := opsAllowedCPUs(t)
			const perCPU = 6
			links := make([]uint64, perCPU*len(cpus)+3)
			model := opsList{stacks: map[int][]int{}, links: make([]uint64, len(links))}
			checkLinks := func(what string) {
				t.Helper()
				for i := range links {
					if got := atomic.LoadUint64(&links[i]); got != model.links[i] {
						t.Fatalf("after %s: links[%d] = %d, want %d (links %v)", what, i, got, model.links[i], links)
					}
				}
			}
			head := func(s int) uint64 {
				st := model.stacks[s]
				if len(st) == 0 {
					return 0
				}
				return uint64(st[len(st)-1] + 1)
			}
			push := func(cpu, item int) {
				t.Helper()
				shard, err := percpu.Push(b, off, links, item)
				what := fmt.Sprintf("Push(item %d)", item)
				opsCheckShard(t, b, cpu, shard, err, what)
				model.links[item] = head(shard)
				model.stacks[shard] = append(model.stacks[shard], item)
				m.setWord(shard, off, head(shard))
				m.check(t, "%s on CPU %d", what, cpu)
				checkLinks(what)
			}
			pop := func(cpu int) (int, error) {
				t.Helper()
				item, shard, err := percpu.Pop(b, off, links)
				if err == percpu.ErrEmpty {
					if item != -1 {
						t.Errorf("Pop: ErrEmpty with item %d", item)
					}
					if idx == percpu.ByCPU && len(model.stacks[cpu]) != 0 {
						t.Fatalf("Pop on CPU %d: ErrEmpty, but the shard's list is %v", cpu, model.stacks[cpu])
					}
					m.check(t, "Pop (empty)")
					return -1, err
				}
				opsCheckShard(t, b, cpu, shard, err, "Pop")
				st := model.stacks[shard]
				if len(st) == 0 {
					t.Fatalf("Pop on CPU %d: item %d from shard %d, whose list is empty", cpu, item, shard)
				}
				if want := st[len(st)-1]; item != want {
					t.Fatalf("Pop on CPU %d: item %d from shard %d, want %d (list %v)", cpu, item, shard, want, st)
				}
				model.stacks[shard] = st[:len(st)-1]
				m.setWord(shard, off, head(shard))
				m.check(t, "Pop of %d on CPU %d", item, cpu)
				checkLinks("Pop")
				return item, nil
			}

			// Each CPU pushes its own items; each then pops them back, LIFO,
			// untouched by the other CPUs' lists.
			opsOnEachCPU(t, func(cpu int) {
				k := indexOf(cpus, cpu)
				for i := 0; i < perCPU; i++ {
					push(cpu, k*perCPU+i)
				}
			})
			opsOnEachCPU(t, func(cpu int) {
				k := indexOf(cpus, cpu)
				var got []int
				for {
					item, err := pop(cpu)
					if err != nil {
						break
					}
					got = append(got, item)
				}
				if idx == percpu.ByCPU {
					var want []int
					for i := perCPU - 1; i >= 0; i-- {
						want = append(want, k*perCPU+i)
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("CPU %d popped %v, want %v", cpu, got, want)
					}
				}
			})
			// Interleaved pushes and pops, and the last link (item len-1).
			opsOnEachCPU(t, func(cpu int) {
				last := len(links) - 1
				push(cpu, last)
				push(cpu, 0)
				if it, _ := pop(cpu); idx == percpu.ByCPU && it != 0 {
					t.Errorf("popped %d, want 0", it)
				}
				push(cpu, 1)
				for {
					if _, err := pop(cpu); err != nil {
						break
					}
				}
				if idx == percpu.ByCPU && head(cpu) != 0 {
					t.Errorf("CPU %d: list %v left after popping to empty", cpu, model.stacks[cpu])
				}
			})
			if idx != percpu.ByCPU {
				return
			}

			// A head out of range of the links: ErrCorruptList, and
			// nothing changes. Written while pinned, with no operation
			// running on b.
			opsOnEachCPU(t, func(cpu int) {
				for _, bad := range []uint64{uint64(len(links)) + 1, uint64(len(links)) + 1000, 1 << 63, math.MaxUint64} {
					m.storeAll(off, 0)
					atomic.StoreUint64(opsWordAddr(b, cpu, off), bad)
					m.setWord(cpu, off, bad)
					item, _, err := percpu.Pop(b, off, links)
					if err != percpu.ErrCorruptList || item != -1 {
						t.Errorf("Pop with head %#x and %d links: item %d, %v, want -1, ErrCorruptList", bad, len(links), item, err)
					}
					m.check(t, "Pop of a corrupt head %#x", bad)
					checkLinks("Pop of a corrupt head")
				}
				m.storeAll(off, 0)
				model.stacks[cpu] = nil

				// A corrupt link: the item pops, the next Pop reports it.
				push(cpu, 2)
				links[2], model.links[2] = 1000, 1000
				if item, shard, err := percpu.Pop(b, off, links); item != 2 || shard != cpu || err != nil {
					t.Errorf("Pop of item 2 whose link is corrupt: %d, %d, %v", item, shard, err)
				}
				m.setWord(cpu, off, 1000)
				m.check(t, "Pop of an item with a corrupt link")
				if _, _, err := percpu.Pop(b, off, links); err != percpu.ErrCorruptList {
					t.Errorf("Pop after a corrupt link: %v, want ErrCorruptList", err)
				}
				m.check(t, "Pop of a corrupt link")
				m.storeAll(off, 0)
				model.stacks[cpu] = nil

				// The largest valid head: item len-1.
				links[len(links)-1], model.links[len(links)-1] = 0, 0
				atomic.StoreUint64(opsWordAddr(b, cpu, off), uint64(len(links)))
				if item, _, err := percpu.Pop(b, off, links); item != len(links)-1 || err != nil {
					t.Errorf("Pop with head %d: %d, %v, want item %d", len(links), item, err, len(links)-1)
				}
				m.check(t, "Pop of the last item")
			})
		})
	}
}

// opsAnyShardHas reports whether byte i of the model holds c in some
// shard.
func opsAnyShardHas(m *opsModel, i int, c byte) bool {
	for _, mem := range m.mem {
		if i < len(mem) && mem[i] == c {
			return true
		}
	}
	return false
}

func indexOf(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestOpsStoreCommit(t *testing.T) {
	if !opsRseqOrCheckNoRseq(t) {
		return
	}
	for _, idx := range opsIndexes {
		t.Run(idx.String(), func(t *testing.T) {
			b := opsAlloc(t, 16, idx)
			defer b.Free()
			dst := opsAlloc(t, 64, idx)
			defer dst.Free()
			m := newOpsModel(t, b, true)
			md := newOpsModel(t, dst, true)
			opsOnEachCPU(t, func(cpu int) {
				for k := 0; k < 16; k++ {
					off := 8 * (k % 2)
					dstOff := 8 * (k % 8)
					old, next, v := uint64(k)<<32, uint64(k)<<32|1, uint64(cpu)<<48|uint64(k)+1
					what := fmt.Sprintf("StoreCommit(b, %d, %#x, %#x, dst, %d, %#x)", off, old, next, dstOff, v)

					m.storeAll(off, old)
					shard, err := percpu.StoreCommit(b, off, old, next, dst, dstOff, v)
					opsCheckShard(t, b, cpu, shard, err, what)
					m.setWord(shard, off, next)
					md.setWord(shard, dstOff, v)
					m.check(t, "%s", what)
					md.check(t, "%s", what)

					// Mismatch: neither store.
					m.storeAll(off, next)
					_, err = percpu.StoreCommit(b, off, old, next, dst, dstOff, ^v)
					if err != percpu.ErrMismatch {
						t.Fatalf("%s on a word holding %#x: %v, want ErrMismatch", what, next, err)
					}
					m.check(t, "mismatched %s", what)
					md.check(t, "mismatched %s", what)

					// dst = b: the value, then the commit.
					m.storeAll(off, old)
					other := 8 - off
					shard, err = percpu.StoreCommit(b, off, old, next, b, other, v)
					opsCheckShard(t, b, cpu, shard, err, what+" with dst = b")
					m.setWord(shard, other, v)
					m.setWord(shard, off, next)
					m.check(t, "%s with dst = b", what)
					// The value to the commit word itself: the word ends
					// with the commit's value, or the call is refused
					// (see TestOpsCommitWordOverlap).
					m.storeAll(off, old)
					if !opsRefusedOverlap(t, func() error { shard, err = percpu.StoreCommit(b, off, old, next, b, off, v); return err }) {
						opsCheckShard(t, b, cpu, shard, err, what+" with dst the same word")
						m.setWord(shard, off, next)
					}
					m.check(t, "%s with dst the same word", what)
				}
			})
		})
	}
}

func TestOpsCopyCommit(t *testing.T) {
	if !opsRseqOrCheckNoRseq(t) {
		return
	}
	for _, idx := range opsIndexes {
		t.Run(idx.String(), func(t *testing.T) {
			b := opsAlloc(t, 8, idx)
			defer b.Free()
			dst := opsAlloc(t, percpu.MaxCopy+100, idx)
			defer dst.Free()
			if dst.Size() != 2*percpu.MaxCopy {
				t.Fatalf("Alloc(%d): Size %d", percpu.MaxCopy+100, dst.Size())
			}
			m := newOpsModel(t, b, true)
			md := newOpsModel(t, dst, true)
			seq := uint64(0)
			buf := make([]byte, percpu.MaxCopy+40)
			copies := 0
			first := opsAllowedCPUs(t)[0]
			opsOnEachCPU(t, func(cpu int) {
				for n := 1; n <= percpu.MaxCopy; n++ {
					if cpu != first && n > 64 && n%61 != 0 && n != percpu.MaxCopy {
						continue // every length on the first CPU, some on the others
					}
					for _, dstOff := range []int{0, 1, 3, 7, 8, 13, dst.Size() - n} {
						// src (at an offset of buf that varies with n)
						// differs from the destination in every byte of
						// every shard, and the bytes after it differ from
						// what follows the destination: a short or a long
						// copy shows.
						m.storeAll(0, seq)
						srcOff := n % 8
						for i := range buf[srcOff:] {
							c := byte(0x5b + i*7)
							for try := 0; try < 256 && opsAnyShardHas(md, dstOff+i, c); try++ {
								c++
							}
							buf[srcOff+i] = c
						}
						src := buf[srcOff : srcOff+n]
						what := fmt.Sprintf("CopyCommit(b, 0, %d, %d, dst, %d, %d bytes)", seq, seq+1, dstOff, n)
						shard, err := percpu.CopyCommit(b, 0, seq, seq+1, dst, dstOff, src)
						opsCheckShard(t, b, cpu, shard, err, what)
						copy(md.mem[shard][dstOff:], src)
						m.setWord(shard, 0, seq+1)
						md.check(t, "%s on CPU %d", what, cpu)
						m.check(t, "%s on CPU %d", what, cpu)
						seq++
						copies++

						// Mismatch: no byte copied, no commit.
						m.storeAll(0, seq)
						_, err = percpu.CopyCommit(b, 0, seq+1, seq+2, dst, dstOff, buf[srcOff+n:][:min(n, 32)])
						if err != percpu.ErrMismatch {
							t.Fatalf("mismatched %s: %v, want ErrMismatch", what, err)
						}
						md.check(t, "mismatched %s", what)
						m.check(t, "mismatched %s", what)
					}
				}

				// The commit word in the destination Block, outside the
				// copied bytes.
				md.storeAll(0, seq)
				src := bytes.Repeat([]byte{0xc3}, 40)
				shard, err := percpu.CopyCommit(dst, 0, seq, seq+1, dst, 8, src)
				opsCheckShard(t, dst, cpu, shard, err, "CopyCommit with dst = b")
				copy(md.mem[shard][8:], src)
				md.setWord(shard, 0, seq+1)
				md.check(t, "CopyCommit with dst = b")

				// Nothing to copy: a CompareAndStore.
				m.storeAll(0, 5)
				shard, err = percpu.CopyCommit(b, 0, 5, 6, dst, dst.Size(), nil)
				opsCheckShard(t, b, cpu, shard, err, "CopyCommit of 0 bytes")
				m.setWord(shard, 0, 6)
				m.check(t, "CopyCommit of 0 bytes")
				md.check(t, "CopyCommit of 0 bytes")
				m.storeAll(0, 6)
				if _, err := percpu.CopyCommit(b, 0, 5, 6, dst, 0, []byte{}); err != percpu.ErrMismatch {
					t.Errorf("mismatched CopyCommit of 0 bytes: %v, want ErrMismatch", err)
				}
				m.check(t, "mismatched CopyCommit of 0 bytes")
			})
			t.Logf("%d copies", copies)
		})
	}
}

// TestOpsFree: Free zeroes a Block in every shard, and Alloc hands out
// zeroed memory, reused or not.
func TestOpsFree(t *testing.T) {
	for _, size := range []int{8, 24, 100, percpu.MaxBlockSize} {
		for round := 0; round < 3; round++ {
			b := opsAlloc(t, size, percpu.ByCPU)
			newOpsModel(t, b, true)
			addr0 := b.Shard(0)
			// Dirty every word of every shard: through the operations
			// on the allowed CPUs (with rseq), and through atomic stores
			// everywhere.
			if opsRseq {
				opsOnEachCPU(t, func(cpu int) {
					for off := 0; off < b.Size(); off += 8 {
						if _, err := percpu.Add(b, off, int64(off+1)); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
			for s := 0; s < percpu.Shards(); s++ {
				for off := 0; off < b.Size(); off += 8 {
					atomic.AddUint64(opsWordAddr(b, s, off), 0xdead<<16|uint64(s))
				}
			}
			old := b
			b.Free()
			// The memory stays mapped: the freed Block reads as zero.
			for s := 0; s < percpu.Shards(); s++ {
				if got := opsLoad(old, s); !allZero(got) {
					t.Fatalf("Free of a %d-byte Block left shard %d non-zero: % x", size, s, got)
				}
			}
			b = opsAlloc(t, size, percpu.ByCPU)
			if b.Shard(0) != addr0 {
				t.Logf("Alloc(%d) after Free: another address (%p, freed %p)", size, b.Shard(0), addr0)
			}
			newOpsModel(t, b, true)
			b.Free()
		}
	}
}

// --- misuse ---------------------------------------------------------------

// opsMustPanic calls f and checks that it panics with a message that
// starts with "percpu: " and contains want. f returns the error of the
// operation it calls (nil if it calls none), which a failure reports when
// f does not panic.
func opsMustPanic(t *testing.T, what, want string, f func() error) {
	t.Helper()
	msg, ok, err := opsPanicMessage(f)
	switch {
	case !ok:
		t.Errorf("%s: did not panic (returned err %v)", what, err)
	case !strings.HasPrefix(msg, "percpu: ") || !strings.Contains(msg, want):
		t.Errorf("%s: panic %q, want \"percpu: ...%s...\"", what, msg, want)
	}
}

// opsPanicMessage runs f and returns the message it panicked with, or, if
// it did not panic, the error it returned. A memory fault (a store the
// argument checks let through) is a panic too: the caller reports it
// instead of the test binary dying.
func opsPanicMessage(f func() error) (msg string, panicked bool, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			msg = fmt.Sprint(r)
		}
	}()
	return "", false, f()
}

func TestOpsMisuse(t *testing.T) {
	b := opsAlloc(t, 32, percpu.ByCPU)
	defer b.Free()
	dst := opsAlloc(t, 16, percpu.ByCPU)
	defer dst.Free()
	m := newOpsModel(t, b, true)
	md := newOpsModel(t, dst, true)
	var zero percpu.Block
	links := make([]uint64, 4)
	big := make([]byte, percpu.MaxCopy+1)
	src := make([]byte, 9)
	maxWord := math.MaxInt &^ 7 // aligned; off+8 overflows int

	type tc struct {
		what, want string
		f          func() error
	}
	cases := []tc{
		{"Add on a zero Block", "zero Block", func() error { _, err := percpu.Add(zero, 0, 1); return err }},
		{"CompareAndStore on a zero Block", "zero Block", func() error { _, err := percpu.CompareAndStore(zero, 0, 0, 1); return err }},
		{"Pop on a zero Block", "zero Block", func() error { _, _, err := percpu.Pop(zero, 0, links); return err }},
		{"Push on a zero Block", "zero Block", func() error { _, err := percpu.Push(zero, 0, links, 0); return err }},
		{"StoreCommit on a zero Block", "zero Block", func() error { _, err := percpu.StoreCommit(zero, 0, 0, 1, dst, 0, 1); return err }},
		{"StoreCommit to a zero Block", "zero Block", func() error { _, err := percpu.StoreCommit(b, 0, 0, 1, zero, 0, 1); return err }},
		{"CopyCommit on a zero Block", "zero Block", func() error { _, err := percpu.CopyCommit(zero, 0, 0, 1, dst, 0, src); return err }},
		{"CopyCommit to a zero Block", "zero Block", func() error { _, err := percpu.CopyCommit(b, 0, 0, 1, zero, 0, src); return err }},
		{"Free of a zero Block", "zero Block", func() error { zero.Free(); return nil }},
		{"Shard of a zero Block", "zero Block", func() error { zero.Shard(0); return nil }},
		{"Shard(-1)", "out of range", func() error { b.Shard(-1); return nil }},
		{"Shard(Shards())", "out of range", func() error { b.Shard(percpu.Shards()); return nil }},
	}
	for _, off := range []int{1, 4, 7, 31, -8, -1, 32, 40, 1 << 20, math.MinInt, maxWord, math.MaxInt} {
		o := off
		name := strconv.Itoa(o)
		want := "offset " + name
		cases = append(cases,
			tc{"Add at " + name, want, func() error { _, err := percpu.Add(b, o, 1); return err }},
			tc{"CompareAndStore at " + name, want, func() error { _, err := percpu.CompareAndStore(b, o, 0, 1); return err }},
			tc{"Pop at " + name, want, func() error { _, _, err := percpu.Pop(b, o, links); return err }},
			tc{"Push at " + name, want, func() error { _, err := percpu.Push(b, o, links, 0); return err }},
			tc{"StoreCommit at " + name, want, func() error { _, err := percpu.StoreCommit(b, o, 0, 1, dst, 0, 1); return err }},
			tc{"StoreCommit to " + name, want, func() error { _, err := percpu.StoreCommit(b, 0, 0, 1, dst, o, 1); return err }},
			tc{"CopyCommit at " + name, want, func() error { _, err := percpu.CopyCommit(b, o, 0, 1, dst, 0, src); return err }},
		)
	}
	for _, item := range []int{-1, 4, 5, math.MaxInt, math.MinInt} {
		it := item
		cases = append(cases, tc{fmt.Sprintf("Push of item %d of 4", it), "out of range", func() error { _, err := percpu.Push(b, 0, links, it); return err }})
	}
	cases = append(cases,
		tc{"Push with no links", "out of range", func() error { _, err := percpu.Push(b, 0, nil, 0); return err }},
		tc{"Pop with no links", "no links", func() error { _, _, err := percpu.Pop(b, 0, nil); return err }},
		tc{"CopyCommit of MaxCopy+1 bytes", "MaxCopy", func() error { _, err := percpu.CopyCommit(b, 0, 0, 1, dst, 0, big); return err }},
		tc{"CopyCommit of 17 bytes to a 16-byte Block", "do not fit", func() error { _, err := percpu.CopyCommit(b, 0, 0, 1, dst, 0, make([]byte, 17)); return err }},
		tc{"CopyCommit of 9 bytes at 8 of 16", "do not fit", func() error { _, err := percpu.CopyCommit(b, 0, 0, 1, dst, 8, src); return err }},
		tc{"CopyCommit of 1 byte at 16 of 16", "do not fit", func() error { _, err := percpu.CopyCommit(b, 0, 0, 1, dst, 16, src[:1]); return err }},
		tc{"CopyCommit at dst offset -1", "do not fit", func() error { _, err := percpu.CopyCommit(b, 0, 0, 1, dst, -1, src); return err }},
		tc{"CopyCommit at dst offset MinInt", "do not fit", func() error { _, err := percpu.CopyCommit(b, 0, 0, 1, dst, math.MinInt, src); return err }},
		tc{"CopyCommit of 9 bytes at dst offset MaxInt-4", "do not fit", func() error { _, err := percpu.CopyCommit(b, 0, 0, 1, dst, math.MaxInt-4, src); return err }},
		tc{"CopyCommit of 0 bytes at dst offset 17", "do not fit", func() error { _, err := percpu.CopyCommit(b, 0, 0, 1, dst, 17, nil); return err }},
	)
	aborts := percpu.AbortCount()
	for _, c := range cases {
		opsMustPanic(t, c.what, c.want, c.f)
		// Nothing ran: no byte of either Block and no link changed.
		m.check(t, "%s", c.what)
		md.check(t, "%s", c.what)
		if !allZero(unsafe.Slice((*byte)(unsafe.Pointer(&links[0])), 8*len(links))) {
			t.Fatalf("%s changed the links: %v", c.what, links)
		}
	}
	if a := percpu.AbortCount(); a != aborts {
		t.Logf("%d aborts while checking misuse (another test's?)", a-aborts)
	}

	// Alloc's sizes and indexes.
	for _, size := range []int{0, -1, math.MinInt, percpu.MaxBlockSize + 1, math.MaxInt} {
		b, err := percpu.Alloc(size, percpu.ByCPU)
		if !errors.Is(err, percpu.ErrBlockSize) || b != (percpu.Block{}) {
			t.Errorf("Alloc(%d): %v, %v, want the zero Block and ErrBlockSize", size, b, err)
		}
	}
	for _, size := range []int{1, 7, 8, 9, percpu.MaxBlockSize - 1, percpu.MaxBlockSize} {
		b, err := percpu.Alloc(size, percpu.ByCID)
		if err != nil {
			t.Errorf("Alloc(%d): %v", size, err)
			continue
		}
		want := 8
		for want < size {
			want *= 2
		}
		if b.Size() != want {
			t.Errorf("Alloc(%d).Size() = %d, want %d", size, b.Size(), want)
		}
		b.Free()
	}
	if _, err := percpu.Alloc(8, percpu.Index(2)); err == nil || errors.Is(err, percpu.ErrBlockSize) {
		t.Errorf("Alloc with Index(2): %v, want an error other than ErrBlockSize", err)
	}
}

// --- concurrency ----------------------------------------------------------

// opsSignaller sends SIGURG (which the Go runtime takes for a preemption
// request and otherwise ignores) to every thread of the process, as fast
// as it can, until stop is closed; it returns how many it sent. A signal
// that lands inside a critical section aborts it.
func opsSignaller(stop <-chan struct{}, sent *atomic.Int64) {
	pid := unix.Getpid()
	var tids []int
	last := time.Time{}
	for {
		select {
		case <-stop:
			return
		default:
		}
		if time.Since(last) > 20*time.Millisecond {
			tids = tids[:0]
			ents, _ := os.ReadDir("/proc/self/task")
			for _, e := range ents {
				if tid, err := strconv.Atoi(e.Name()); err == nil {
					tids = append(tids, tid)
				}
			}
			last = time.Now()
		}
		for _, tid := range tids {
			if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
				sent.Add(1)
			}
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// opsStress runs worker(w, stop) on 4*NCPU goroutines locked to their
// threads, with GOMAXPROCS above the CPU count so that the kernel
// preempts threads in the middle of operations. For the first half of min
// the kernel's preemptions (and the runtime's own signals) are the only
// source of aborts; for the second half a signaller adds SIGURGs. It
// stops the workers after min once AbortCount has grown (waiting up to
// 20s for that), and fails the test if it never grows.
func opsStress(t *testing.T, min time.Duration, worker func(w int, stop *atomic.Bool)) {
	workers := 4 * runtime.NumCPU()
	// One P more than workers, for the signaller.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(workers + 1))
	before := percpu.AbortCount()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			worker(w, &stop)
		}()
	}
	startT := time.Now()
	var sent atomic.Int64
	stopSig := make(chan struct{})
	var quiet uint64 // aborts before the signaller started
	signalling := false
	for {
		time.Sleep(5 * time.Millisecond)
		el := time.Since(startT)
		if !signalling && el >= min/2 {
			signalling = true
			quiet = percpu.AbortCount() - before
			go opsSignaller(stopSig, &sent)
		}
		if el >= min && percpu.AbortCount() > before || el > 20*time.Second || t.Failed() {
			break
		}
	}
	stop.Store(true)
	close(stopSig)
	wg.Wait()
	delta := percpu.AbortCount() - before
	t.Logf("%d workers on %d CPUs for %v: %d aborts (%d in the first %v without extra signals, %d with %d SIGURGs)",
		workers, runtime.NumCPU(), time.Since(startT).Round(time.Millisecond), delta, quiet, min/2, delta-quiet, sent.Load())
	if delta == 0 && !t.Failed() {
		t.Errorf("AbortCount did not grow in %v with %d workers on %d CPUs and %d signals", time.Since(startT), workers, runtime.NumCPU(), sent.Load())
	}
}

// opsFirstError keeps the first error of many goroutines.
type opsFirstError struct {
	once sync.Once
	err  error
}

func (e *opsFirstError) set(format string, args ...any) {
	e.once.Do(func() { e.err = fmt.Errorf(format, args...) })
}

// TestOpsConcurrentList: many threads pop items off one list head (per
// shard) and push them back. An item is held by one goroutine at a time
// (ownership is an atomic per item, claimed on pop and released before the
// push), and at the end every item is in exactly one list.
func TestOpsConcurrentList(t *testing.T) {
	if !opsRseqOrCheckNoRseq(t) {
		return
	}
	for _, idx := range opsIndexes {
		t.Run(idx.String(), func(t *testing.T) {
			const perWorker = 6
			workers := 4 * runtime.NumCPU()
			n := workers * perWorker
			b := opsAlloc(t, 8, idx)
			defer b.Free()
			links := make([]uint64, n)
			owner := make([]atomic.Int32, n)
			var pushes, pops atomic.Int64
			var fail opsFirstError
			opsStress(t, 400*time.Millisecond, func(w int, stop *atomic.Bool) {
				var held []int
				push := func(item int) bool {
					owner[item].Store(0)
					shard, err := percpu.Push(b, 0, links, item)
					if err != nil || shard < 0 || shard >= percpu.Shards() {
						fail.set("Push(%d): shard %d, %v", item, shard, err)
						return false
					}
					pushes.Add(1)
					return true
				}
				for i := 0; i < perWorker; i++ {
					item := w*perWorker + i
					owner[item].Store(int32(w + 1))
					if !push(item) {
						return
					}
				}
				for i := 0; !stop.Load(); i++ {
					item, shard, err := percpu.Pop(b, 0, links)
					switch {
					case err == percpu.ErrEmpty:
					case err != nil || item < 0 || item >= n || shard < 0 || shard >= percpu.Shards():
						fail.set("Pop: item %d, shard %d, %v", item, shard, err)
						return
					default:
						pops.Add(1)
						if !owner[item].CompareAndSwap(0, int32(w+1)) {
							fail.set("worker %d popped item %d, which worker %d holds", w, item, owner[item].Load()-1)
							return
						}
						held = append(held, item)
					}
					// Hold up to 3 items for a while, then give back the
					// oldest.
					if len(held) > i%4 || (err == percpu.ErrEmpty && len(held) > 0) {
						if !push(held[0]) {
							return
						}
						held = held[1:]
					}
				}
				for _, item := range held {
					if !push(item) {
						return
					}
				}
			})
			if fail.err != nil {
				t.Fatal(fail.err)
			}
			// Every item in exactly one list.
			seen := make([]int, n)
			total := 0
			for s := 0; s < percpu.Shards(); s++ {
				h := atomic.LoadUint64(opsWordAddr(b, s, 0))
				for steps := 0; h != 0; steps++ {
					if h > uint64(n) || steps > n {
						t.Fatalf("shard %d: list head or link %d out of range after %d items", s, h, steps)
					}
					item := int(h - 1)
					seen[item]++
					total++
					h = atomic.LoadUint64(&links[item])
				}
			}
			for item, c := range seen {
				if c != 1 {
					t.Errorf("item %d is %d times in the lists", item, c)
				}
			}
			if total != n || pushes.Load()-pops.Load() != int64(n) {
				t.Errorf("%d items in the lists, %d pushes - %d pops, want %d", total, pushes.Load(), pops.Load(), n)
			}
			t.Logf("%d pushes, %d pops", pushes.Load(), pops.Load())
		})
	}
}

// TestOpsConcurrentSpinlock: a per-shard spinlock taken with
// CompareAndStore(0 -> 1) on the current shard and released with an
// atomic store, protecting a plain counter per shard: the counters add up
// exactly to the increments.
func TestOpsConcurrentSpinlock(t *testing.T) {
	if !opsRseqOrCheckNoRseq(t) {
		return
	}
	for _, idx := range opsIndexes {
		t.Run(idx.String(), func(t *testing.T) {
			lock := opsAlloc(t, 8, idx)
			defer lock.Free()
			data := make([]struct {
				n int64
				_ [56]byte
			}, percpu.Shards())
			hb := make([]atomic.Uint64, percpu.Shards()) // no-ops but for -race
			var incs atomic.Int64
			var fail opsFirstError
			opsStress(t, 400*time.Millisecond, func(w int, stop *atomic.Bool) {
				var mine int64
				defer func() { incs.Add(mine) }()
				for !stop.Load() {
					var s int
					for spins := 1; ; spins++ {
						shard, err := percpu.CompareAndStore(lock, 0, 0, 1)
						if err == nil {
							s = shard
							break
						}
						if err != percpu.ErrMismatch {
							fail.set("CompareAndStore: %v", err)
							return
						}
						if spins%64 == 0 {
							runtime.Gosched()
						}
					}
					if s < 0 || s >= percpu.Shards() {
						fail.set("CompareAndStore: shard %d", s)
						return
					}
					word := opsWordAddr(lock, s, 0)
					if v := atomic.LoadUint64(word); v != 1 {
						fail.set("lock of shard %d holds %d after taking it", s, v)
						return
					}
					// For the race detector, which sees neither the
					// assembly nor atomics outside the Go heap: acquire
					// what the last holder released.
					hb[s].Load()
					data[s].n++
					mine++
					hb[s].Add(1)
					atomic.StoreUint64(word, 0)
				}
			})
			if fail.err != nil {
				t.Fatal(fail.err)
			}
			var sum int64
			for s := range data {
				sum += data[s].n
				if v := atomic.LoadUint64(opsWordAddr(lock, s, 0)); v != 0 {
					t.Errorf("lock of shard %d left at %d", s, v)
				}
			}
			if sum != incs.Load() {
				t.Errorf("the counters add up to %d, want %d: %d increments lost", sum, incs.Load(), incs.Load()-sum)
			}
			t.Logf("%d increments", sum)
		})
	}
}

// TestOpsConcurrentCopyCommit: a per-shard ring of records that writers
// fill with CopyCommit, committing the shard's record count. A copy that
// is aborted half way is redone from the start, and a record only counts
// once committed: at the end each shard's newest records (all but the
// oldest slot, which an uncommitted copy may have begun to overwrite) are
// whole, stamped with the count they were committed at, and each was
// pushed exactly once. Meanwhile a reader checks the newest record of
// every shard whenever the count did not move too far while it read.
func TestOpsConcurrentCopyCommit(t *testing.T) {
	if !opsRseqOrCheckNoRseq(t) {
		return
	}
	const (
		slotSize = 256
		slots    = percpu.MaxBlockSize / slotSize
	)
	recordLen := func(id uint64) int { return 16 + int(id*7%(slotSize-16+1)) }
	fill := func(id uint64, i int) byte { return byte(id*31) ^ byte(i) }
	for _, idx := range opsIndexes {
		t.Run(idx.String(), func(t *testing.T) {
			count := opsAlloc(t, 8, idx)
			defer count.Free()
			ring := opsAlloc(t, percpu.MaxBlockSize, idx)
			defer ring.Free()
			workers := 4 * runtime.NumCPU()
			last := make([]atomic.Uint64, workers) // per worker: committed records
			var fail opsFirstError
			// check checks record c of shard s. A writer publishes its
			// count of commits right after each commit: at the end it
			// counts every record, while the writers run it may be one
			// behind.
			check := func(s int, c uint64, r []byte, running bool) error {
				stamp, id := binary.LittleEndian.Uint64(r), binary.LittleEndian.Uint64(r[8:])
				w, seq := int(id>>32), id&(1<<32-1)
				switch {
				case stamp != c:
					return fmt.Errorf("shard %d, record %d: stamped %d", s, c, stamp)
				case w < 1 || w >= workers || seq > last[w].Load() || !running && seq == last[w].Load():
					return fmt.Errorf("shard %d, record %d: id %#x was never committed", s, c, id)
				}
				for i := 16; i < recordLen(id); i++ {
					if r[i] != fill(id, i) {
						return fmt.Errorf("shard %d, record %d (id %#x, %d bytes): byte %d is %#x, want %#x: torn", s, c, id, recordLen(id), i, r[i], fill(id, i))
					}
				}
				return nil
			}
			var reads atomic.Int64
			opsStress(t, 400*time.Millisecond, func(w int, stop *atomic.Bool) {
				if w == 0 {
					// The reader: the newest record of each shard, read
					// word by word; it counts if no copy can have gone to
					// its slot meanwhile (the count moved by less than
					// slots-1).
					r := make([]byte, slotSize)
					for !stop.Load() {
						for s := 0; s < percpu.Shards(); s++ {
							c1 := atomic.LoadUint64(opsWordAddr(count, s, 0))
							if c1 == 0 {
								continue
							}
							base := int((c1-1)%slots) * slotSize
							for off := 0; off < slotSize; off += 8 {
								binary.LittleEndian.PutUint64(r[off:], atomic.LoadUint64(opsWordAddr(ring, s, base+off)))
							}
							if c2 := atomic.LoadUint64(opsWordAddr(count, s, 0)); c2-c1 > slots-2 {
								continue
							}
							if err := check(s, c1-1, r, true); err != nil {
								fail.set("reader: %v", err)
								return
							}
							reads.Add(1)
						}
					}
					return
				}
				rec := make([]byte, slotSize)
				for seq := uint64(0); !stop.Load(); {
					id := uint64(w)<<32 | seq
					hint := percpu.CPU()
					if idx == percpu.ByCID {
						hint = percpu.CID()
					}
					if hint < 0 || hint >= percpu.Shards() {
						fail.set("CPU or CID %d out of range", hint)
						return
					}
					c := atomic.LoadUint64(opsWordAddr(count, hint, 0))
					n := recordLen(id)
					binary.LittleEndian.PutUint64(rec[0:], c)
					binary.LittleEndian.PutUint64(rec[8:], id)
					for i := 16; i < n; i++ {
						rec[i] = fill(id, i)
					}
					_, err := percpu.CopyCommit(count, 0, c, c+1, ring, int(c%slots)*slotSize, rec[:n])
					switch err {
					case nil:
						seq++
						last[w].Store(seq)
					case percpu.ErrMismatch: // the hint was stale: again
					default:
						fail.set("CopyCommit: %v", err)
						return
					}
				}
			})
			if fail.err != nil {
				t.Fatal(fail.err)
			}
			var total, checked uint64
			seen := map[uint64]bool{}
			for s := 0; s < percpu.Shards(); s++ {
				cnt := atomic.LoadUint64(opsWordAddr(count, s, 0))
				total += cnt
				mem := opsLoad(ring, s)
				for c := cnt - min(cnt, slots-1); c < cnt; c++ {
					r := mem[int(c%slots)*slotSize:][:slotSize]
					if err := check(s, c, r, false); err != nil {
						t.Fatal(err)
					}
					id := binary.LittleEndian.Uint64(r[8:])
					if seen[id] {
						t.Fatalf("shard %d, record %d: id %#x twice", s, c, id)
					}
					seen[id] = true
					checked++
				}
			}
			var committed uint64
			for w := range last {
				committed += last[w].Load()
			}
			if total != committed {
				t.Errorf("the shards count %d records, the writers committed %d", total, committed)
			}
			t.Logf("%d records committed; the reader checked %d while they were written, and %d at the end", committed, reads.Load(), checked)
			if reads.Load() == 0 {
				t.Errorf("the reader checked no record")
			}
		})
	}
}

// opsRefusedOverlap calls f, an operation whose try-stores overlap its
// commit word, and reports whether it panicked (with a "percpu: "
// message: anything else fails the test) instead of running.
func opsRefusedOverlap(t *testing.T, f func() error) bool {
	t.Helper()
	msg, panicked, _ := opsPanicMessage(f)
	if panicked && !strings.HasPrefix(msg, "percpu: ") {
		t.Fatalf("panic %q, want a \"percpu: \" message", msg)
	}
	return panicked
}

// TestOpsCommitWordOverlap: StoreCommit's value and CopyCommit's copy may
// land on the commit word itself (the same Block: "dst may be b"). Such a
// call either is refused up front (a "percpu: " panic, nothing written),
// or behaves as documented: with the word holding old and no other thread
// on the Block, it succeeds whatever aborts it, and the commit overwrites
// the overlap. What must not happen: an abort between a try-store and the
// commit leaves the word changed, the retry finds a mismatch and reports
// ErrMismatch having written part of the data. Signals to the thread make
// aborts land inside the sections.
func TestOpsCommitWordOverlap(t *testing.T) {
	if !opsRseqOrCheckNoRseq(t) {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b := opsAlloc(t, 256, percpu.ByCPU)
	defer b.Free()
	m := newOpsModel(t, b, true)
	src := make([]byte, 200)
	for i := range src {
		src[i] = 0xe0 | byte(i%16)
	}
	type tc struct {
		what string
		off  int
		f    func(old, new uint64) (int, error)
		copy func(s int) // the model of the try-stores
	}
	cases := []tc{
		{"CopyCommit of 200 bytes at 1 over the commit word at 64", 64,
			func(old, new uint64) (int, error) { return percpu.CopyCommit(b, 64, old, new, b, 1, src) },
			func(s int) { copy(m.mem[s][1:], src) }},
		{"CopyCommit of 8 bytes onto the commit word at 64", 64,
			func(old, new uint64) (int, error) { return percpu.CopyCommit(b, 64, old, new, b, 64, src[:8]) },
			func(s int) { copy(m.mem[s][64:], src[:8]) }},
		{"StoreCommit with the value to the commit word at 216", 216,
			func(old, new uint64) (int, error) { return percpu.StoreCommit(b, 216, old, new, b, 216, 0x55) },
			func(s int) {}},
	}
	tid := unix.Gettid()
	stop := make(chan struct{})
	defer close(stop)
	var sent atomic.Int64
	go func() {
		pid := unix.Getpid()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
				sent.Add(1)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}()
	refused := make([]bool, len(cases))
	for i, c := range cases {
		m.storeAll(c.off, 1)
		if refused[i] = opsRefusedOverlap(t, func() error { _, err := c.f(1, 2); return err }); refused[i] {
			m.check(t, "%s, refused", c.what)
			t.Logf("%s: refused", c.what)
		} else {
			// Ran (it may have reported anything, being probed
			// before the loop): take what it wrote into the model.
			for s := range m.mem {
				m.mem[s] = opsLoad(b, s)
			}
		}
	}
	if !slices.Contains(refused, false) {
		return
	}
	before := percpu.AbortCount()
	deadline := time.Now().Add(500 * time.Millisecond)
	calls := 0
	for k := uint64(1); time.Now().Before(deadline) || percpu.AbortCount()-before < 20 && time.Now().Before(deadline.Add(4*time.Second)); k++ {
		i := int(k % uint64(len(cases)))
		c := cases[i]
		old, new := k<<8, k<<8|0xff
		if refused[i] {
			var ranErr error
			if !opsRefusedOverlap(t, func() error { _, ranErr = c.f(old, old); return ranErr }) {
				t.Fatalf("%s: refused once, then ran (returned err %v)", c.what, ranErr)
			}
			m.check(t, "%s, refused", c.what)
			continue
		}
		m.storeAll(c.off, old)
		shard, err := c.f(old, new)
		calls++
		if err != nil {
			t.Fatalf("%s, the word holding old (%d calls, %d aborts): %v, want success; %s",
				c.what, calls, percpu.AbortCount()-before, err, m.diff())
		}
		c.copy(shard)
		m.setWord(shard, c.off, new)
		m.check(t, "%s", c.what)
	}
	aborts := percpu.AbortCount() - before
	t.Logf("%d calls, %d aborts, %d signals", calls, aborts, sent.Load())
	// Only a section with a try-store onto the commit word can go wrong
	// on an abort; StoreCommit onto its own commit word runs as
	// CompareAndStore, a few instructions that signals rarely hit.
	if aborts == 0 && (!refused[0] || !refused[1]) {
		t.Errorf("no abort in %d calls with %d signals", calls, sent.Load())
	}
}
