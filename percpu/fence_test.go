// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/gorseq/gorseq/percpu"
)

// TestFence: Fence and FenceCPU of every shard return nil, with rseq on
// this kernel (5.10+ has the membarrier command) and at once in the
// fallback; FenceCPU of a CPU out of range panics, in both modes.
func TestFence(t *testing.T) {
	for i := range 3 {
		if err := percpu.Fence(); err != nil {
			t.Fatalf("Fence #%d: %v", i, err)
		}
	}
	for cpu := range percpu.Shards() {
		if err := percpu.FenceCPU(cpu); err != nil {
			t.Errorf("FenceCPU(%d): %v", cpu, err)
		}
	}
	for _, cpu := range []int{-1, percpu.Shards(), percpu.Shards() + 1000, -1 << 40} {
		typMustPanic(t, "FenceCPU out of range", "percpu: FenceCPU(", func() { percpu.FenceCPU(cpu) })
	}
	var errs typFirstError
	var wg sync.WaitGroup
	for g := range 4 * runtime.NumCPU() {
		wg.Go(func() {
			for i := range 50 {
				var err error
				if (g+i)%2 == 0 {
					err = percpu.Fence()
				} else {
					err = percpu.FenceCPU((g + i) % percpu.Shards())
				}
				if err != nil {
					errs.Set("concurrent fence: %v", err)
				}
			}
		})
	}
	wg.Wait()
	errs.Check(t)
}

// TestFenceAborts: Fence really aborts restartable operations in flight.
// Workers pinned to all but one CPU run long CopyCommits (MaxCopy bytes,
// the longest critical section) in a loop; the test, pinned to the
// remaining CPU, counts the aborts (AbortCount) in phases of equal
// length: one quiet (only the kernel's own preemptions and signals abort
// anything), one calling Fence over and over, one calling FenceCPU of a
// worker's CPU. A fence that aborts nothing would leave the fence phases
// at the quiet phase's count. Every CopyCommit that returned committed
// once, copy and all: each worker's shard ends with its commit count and
// its last copy.
func TestFenceAborts(t *testing.T) {
	if !percpu.Status().Mode.Rseq() {
		if _, err := percpu.CopyCommit(typOneBlock(t), 0, 0, 1, typOneBlock(t), 8, []byte{1}); err != percpu.ErrNoRseq {
			t.Fatalf("without rseq, CopyCommit returned %v", err)
		}
		t.Skip("no rseq: no operation to abort")
	}
	cpus := typAllowedCPUs(t)
	fencer, workerCPUs := cpus[0], cpus[1:]
	if len(workerCPUs) == 0 {
		workerCPUs = cpus // one CPU: the fencer preempts the worker too
	}
	const dstOff = 1024
	b, err := percpu.Alloc(dstOff+percpu.MaxCopy, percpu.ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Free()

	var (
		stop    atomic.Bool
		commits = make([]atomic.Int64, len(workerCPUs))
		wg      sync.WaitGroup
		errs    typFirstError
	)
	for w, cpu := range workerCPUs {
		wg.Go(func() {
			runtime.LockOSThread() // never unlocked: the pinned thread exits
			typPin(t, cpu)
			src := make([]byte, percpu.MaxCopy)
			word := (*uint64)(b.Shard(cpu))
			for n := uint64(0); !stop.Load(); n++ {
				old := atomic.LoadUint64(word) // only this worker writes this shard
				binary.LittleEndian.PutUint64(src, old+1)
				binary.LittleEndian.PutUint64(src[percpu.MaxCopy-8:], old+1)
				shard, err := percpu.CopyCommit(b, 0, old, old+1, b, dstOff, src)
				if err != nil || shard != cpu {
					errs.Set("worker on CPU %d: CopyCommit: shard %d, %v", cpu, shard, err)
					return
				}
				commits[w].Add(1)
			}
		})
	}
	// Let every worker get going.
	for w := range workerCPUs {
		for commits[w].Load() < 1000 && !stop.Load() {
			time.Sleep(time.Millisecond)
		}
	}
	const fences = 2000
	var quiet, all, one uint64
	var fenceTime time.Duration
	typPinned(t, fencer, func() {
		phase := func(f func()) uint64 {
			a0 := percpu.AbortCount()
			f()
			return percpu.AbortCount() - a0
		}
		// A fence only aborts a section that is running at that
		// moment: on a loaded machine the worker may be off its CPU
		// for a whole batch, so a phase repeats its batch (up to a
		// deadline) until one aborted something.
		batches := func(f func()) (aborts uint64, n int) {
			deadline := time.Now().Add(10 * time.Second)
			for aborts == 0 && (n == 0 || time.Now().Before(deadline)) {
				aborts += phase(f)
				n++
			}
			return aborts, n
		}
		var nAll, nOne int
		t0 := time.Now()
		all, nAll = batches(func() {
			for range fences {
				if err := percpu.Fence(); err != nil {
					t.Fatalf("Fence: %v", err)
				}
			}
		})
		fenceTime = time.Since(t0) / time.Duration(nAll)
		quiet = phase(func() { time.Sleep(fenceTime) })
		one, nOne = batches(func() {
			for range fences {
				if err := percpu.FenceCPU(workerCPUs[0]); err != nil {
					t.Fatalf("FenceCPU(%d): %v", workerCPUs[0], err)
				}
			}
		})
		t.Logf("fence batches: %d of Fence, %d of FenceCPU", nAll, nOne)
	})
	stop.Store(true)
	wg.Wait()
	errs.Check(t)
	var total int64
	for w := range workerCPUs {
		total += commits[w].Load()
	}
	t.Logf("workers on CPUs %v, fencer on %d, %d commits: %d aborts in %d Fences (%v), %d in as long without, %d in %d FenceCPU(%d)",
		workerCPUs, fencer, total, all, fences, fenceTime, quiet, one, fences, workerCPUs[0])
	if all == 0 {
		t.Errorf("%d Fences aborted no CopyCommit", fences)
	}
	if one == 0 {
		t.Errorf("%d FenceCPU(%d) aborted no CopyCommit", fences, workerCPUs[0])
	}
	// The quiet phase is the control: it is logged, not compared, since
	// on a loaded machine either count can be small.
	for w, cpu := range workerCPUs {
		word := atomic.LoadUint64((*uint64)(b.Shard(cpu)))
		if int64(word) != commits[w].Load() {
			t.Errorf("CPU %d: the commit word is %d after %d commits", cpu, word, commits[w].Load())
		}
		dst := unsafe.Slice((*byte)(unsafe.Add(b.Shard(cpu), dstOff)), percpu.MaxCopy)
		first, last := binary.LittleEndian.Uint64(dst), binary.LittleEndian.Uint64(dst[percpu.MaxCopy-8:])
		if first != word || last != word {
			t.Errorf("CPU %d: the last copy holds %d...%d, want %d (the copy of the last commit)", cpu, first, last, word)
		}
	}
}

// typOneBlock allocates a small Block that the test frees.
func typOneBlock(t *testing.T) percpu.Block {
	b, err := percpu.Alloc(64, percpu.ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Free)
	return b
}
