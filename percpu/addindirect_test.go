// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu_test

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/percpu"
)

// AddIndirect: the add through a published base word, against the model
// (pinned, as the other operations), its misuse, and the retirement of a
// Block with membarrier while threads add through the base.

// TestAddIndirect: pinned to each CPU in turn, adds through a base word
// land in the Block it names at the current shard, ErrNilBase when it
// holds 0 stores nothing, and a new base takes effect at once.
func TestAddIndirect(t *testing.T) {
	for _, idx := range opsIndexes {
		t.Run(idx.String(), func(t *testing.T) {
			a := opsAlloc(t, 64, idx)
			defer a.Free()
			b := opsAlloc(t, percpu.MaxBlockSize, idx)
			defer b.Free()
			if a.Addr() != uint64(uintptr(a.Shard(0))) {
				t.Fatalf("Addr() = %#x, Shard(0) = %p", a.Addr(), a.Shard(0))
			}
			ma, mb := newOpsModel(t, a, true), newOpsModel(t, b, true)
			var base uint64
			check := func(what string) {
				t.Helper()
				ma.check(t, "%s", what)
				mb.check(t, "%s", what)
			}
			if !opsRseq {
				t.Logf("no rseq (%s): AddIndirect must return ErrNoRseq and change nothing", percpu.Status().Reason)
				for _, bs := range []uint64{0, a.Addr(), b.Addr()} {
					atomic.StoreUint64(&base, bs)
					shard, err := percpu.AddIndirect(&base, 8, 1, idx)
					if err != percpu.ErrNoRseq || shard != -1 {
						t.Errorf("AddIndirect with base %#x: shard %d, %v; want -1, ErrNoRseq", bs, shard, err)
					}
					check("AddIndirect without rseq")
				}
				return
			}
			vals := []int64{1, -5, 1 << 62, math.MaxInt64, math.MinInt64, 12345, -1, 0}
			opsOnEachCPU(t, func(cpu int) {
				atomic.StoreUint64(&base, a.Addr())
				for k := 0; k < 32; k++ {
					v := vals[k%len(vals)]
					off := (k * 8 * (cpu + 1)) % a.Size()
					shard, err := percpu.AddIndirect(&base, off, v, idx)
					what := fmt.Sprintf("AddIndirect(base -> a, %d, %d)", off, v)
					opsCheckShard(t, a, cpu, shard, err, what)
					ma.setWord(shard, off, ma.word(shard, off)+uint64(v))
					check(what)
				}

				atomic.StoreUint64(&base, 0)
				shard, err := percpu.AddIndirect(&base, 8, 1, idx)
				if err != percpu.ErrNilBase || shard != -1 {
					t.Fatalf("AddIndirect with base 0 on CPU %d: shard %d, %v; want -1, ErrNilBase", cpu, shard, err)
				}
				check("AddIndirect with base 0")

				// The last word of the largest Block.
				atomic.StoreUint64(&base, b.Addr())
				for _, off := range []int{0, percpu.MaxBlockSize - 8} {
					shard, err := percpu.AddIndirect(&base, off, int64(cpu)+7, idx)
					what := fmt.Sprintf("AddIndirect(base -> b, %d, %d)", off, cpu+7)
					opsCheckShard(t, b, cpu, shard, err, what)
					mb.setWord(shard, off, mb.word(shard, off)+uint64(cpu)+7)
					check(what)
				}
			})
		})
	}
}

func TestAddIndirectMisuse(t *testing.T) {
	b := opsAlloc(t, 64, percpu.ByCPU)
	defer b.Free()
	m := newOpsModel(t, b, true)
	// Validation comes before any assembly: with base holding an address
	// that is no Block, a call that got as far would fault.
	bad := uint64(8)
	good := b.Addr()
	type tc struct {
		what, want string
		f          func() error
	}
	cases := []tc{
		{"AddIndirect with a nil base", "nil base", func() error { _, err := percpu.AddIndirect(nil, 0, 1, percpu.ByCPU); return err }},
		{"AddIndirect with Index(2)", "Index(2)", func() error { _, err := percpu.AddIndirect(&good, 0, 1, percpu.Index(2)); return err }},
		{"AddIndirect with Index(255)", "Index(255)", func() error { _, err := percpu.AddIndirect(&bad, 0, 1, percpu.Index(255)); return err }},
		{"Addr of a zero Block", "zero Block", func() error { _ = percpu.Block{}.Addr(); return nil }},
	}
	for _, off := range []int{1, 4, 7, -8, -1, percpu.MaxBlockSize - 7, percpu.MaxBlockSize, percpu.MaxBlockSize + 8,
		1 << 20, math.MinInt, math.MaxInt &^ 7, math.MaxInt} {
		o := off
		name := strconv.Itoa(o)
		cases = append(cases,
			tc{"AddIndirect at " + name, "offset " + name, func() error { _, err := percpu.AddIndirect(&bad, o, 1, percpu.ByCPU); return err }},
			tc{"AddIndirect through a Block at " + name, "offset " + name, func() error { _, err := percpu.AddIndirect(&good, o, 1, percpu.ByCID); return err }})
	}
	for _, c := range cases {
		opsMustPanic(t, c.what, c.want, c.f)
		m.check(t, "%s", c.what)
	}
	if bad != 8 || good != b.Addr() {
		t.Errorf("the base words changed: %#x, %#x", bad, good)
	}
}

// Commands of membarrier(2) (include/uapi/linux/membarrier.h).
const (
	membarrierCmdPrivateExpeditedRseq         = 1 << 7
	membarrierCmdRegisterPrivateExpeditedRseq = 1 << 8
)

func membarrier(cmd int) error {
	if _, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, uintptr(cmd), 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// registerMembarrierRseq registers the process for
// MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ (registering again is harmless).
func registerMembarrierRseq(t testing.TB) {
	t.Helper()
	err := membarrier(membarrierCmdRegisterPrivateExpeditedRseq)
	switch {
	case errors.Is(err, unix.EINVAL):
		t.Fatalf("membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ): EINVAL: this kernel has no membarrier rseq command (Linux 5.10+, CONFIG_RSEQ), which retiring the Block behind AddIndirect's base needs")
	case err != nil:
		t.Fatalf("membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ): %v", err)
	}
}

// membarrierSwap describes a run of runMembarrierSwap.
type membarrierSwap struct {
	// membarrier: the manager calls membarrier after every swap. Without
	// it, sections that read the old base may still commit to it: the
	// control run that shows the test can see that.
	membarrier bool
	min        time.Duration // the run lasts at least this long
	minSwaps   int           // and at least this many swaps
	untilLate  bool          // and until the retired Block changed after a swap (up to 30s)
}

// membarrierSwapResult is what a run measured.
type membarrierSwapResult struct {
	swaps   int   // swaps of the base
	late    int   // swaps after which the retired Block still changed
	adds    int64 // successful AddIndirect calls
	nilBase int64 // ErrNilBase results (the base was 0)
	aborts  uint64
}

// runMembarrierSwap: 6 x NCPU locked threads add 1 through a base word
// with AddIndirect, while a manager cycles the base through Block a, Block
// b and 0, calling membarrier after each swap when cfg says so. After
// membarrier, the retired Block's sum must never change: the manager
// reads it right away, waits, and reads it again before the Block is
// published again. At the end the two Blocks hold every successful add.
func runMembarrierSwap(t *testing.T, cfg membarrierSwap) membarrierSwapResult {
	t.Helper()
	if cfg.membarrier {
		registerMembarrierRseq(t)
	}
	workers := 6 * runtime.NumCPU()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(workers+1, runtime.GOMAXPROCS(0))))
	blocks := [2]percpu.Block{opsAlloc(t, 8, percpu.ByCPU), opsAlloc(t, 8, percpu.ByCPU)}
	defer blocks[0].Free()
	defer blocks[1].Free()
	sum := func(b percpu.Block) int64 {
		var s int64
		for i := 0; i < percpu.Shards(); i++ {
			s += int64(atomic.LoadUint64(opsWordAddr(b, i, 0)))
		}
		return s
	}
	var (
		base          uint64
		stop          atomic.Bool
		wg            sync.WaitGroup
		adds, nilBase atomic.Int64
		fail          opsFirstError
		res           membarrierSwapResult
	)
	atomic.StoreUint64(&base, blocks[0].Addr())
	aborts0 := percpu.AbortCount()
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var n, nils int64
			for !stop.Load() {
				_, err := percpu.AddIndirect(&base, 0, 1, percpu.ByCPU)
				switch err {
				case nil:
					n++
				case percpu.ErrNilBase:
					nils++
				default:
					fail.set("AddIndirect: %v", err)
					stop.Store(true)
				}
			}
			adds.Add(n)
			nilBase.Add(nils)
		})
	}
	// The manager. Publishes: a, b, 0, a, b, 0, ...; after publishing,
	// every Block but the published one is retired.
	t0 := time.Now()
	cur := 0 // index of the published Block in blocks; 2: none
	for !stop.Load() && (time.Since(t0) < cfg.min || res.swaps < cfg.minSwaps || cfg.untilLate && res.late == 0) &&
		time.Since(t0) < 30*time.Second {
		cur = (cur + 1) % 3
		addr := uint64(0)
		if cur < 2 {
			addr = blocks[cur].Addr()
		}
		atomic.StoreUint64(&base, addr)
		if cfg.membarrier {
			if err := membarrier(membarrierCmdPrivateExpeditedRseq); err != nil {
				t.Fatalf("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ): %v", err)
			}
		}
		res.swaps++
		var frozen [2]int64
		for i := range blocks {
			frozen[i] = sum(blocks[i])
		}
		// Let the workers run, looking again and again.
		late := false
		for end := time.Now().Add(2 * time.Millisecond); time.Now().Before(end); {
			for i := range blocks {
				if i != cur && sum(blocks[i]) != frozen[i] {
					late = true
				}
			}
			runtime.Gosched()
		}
		if late {
			res.late++
		}
	}
	stop.Store(true)
	wg.Wait()
	if fail.err != nil {
		t.Fatal(fail.err)
	}
	res.adds, res.nilBase = adds.Load(), nilBase.Load()
	res.aborts = percpu.AbortCount() - aborts0
	total := sum(blocks[0]) + sum(blocks[1])
	t.Logf("membarrier %v: %d workers, %d swaps in %v; %d adds (%d on Block a, %d on b), %d ErrNilBase, %d aborts; the retired Block changed after %d swaps",
		cfg.membarrier, workers, res.swaps, time.Since(t0).Round(time.Millisecond), res.adds, sum(blocks[0]), sum(blocks[1]), res.nilBase, res.aborts, res.late)
	if total != res.adds {
		t.Errorf("the Blocks hold %d, want %d: %d adds lost", total, res.adds, res.adds-total)
	}
	if res.adds == 0 || res.nilBase == 0 {
		t.Errorf("%d adds, %d ErrNilBase: want both", res.adds, res.nilBase)
	}
	runtime.KeepAlive(&base)
	return res
}

// TestAddIndirectMembarrier: once membarrier returns after the base word
// was swapped, no AddIndirect still works on the Block it named before,
// and no add is lost (the kernel selftests' membarrier test).
func TestAddIndirectMembarrier(t *testing.T) {
	if !opsRseq {
		var base uint64
		if _, err := percpu.AddIndirect(&base, 0, 1, percpu.ByCPU); err != percpu.ErrNoRseq {
			t.Fatalf("without rseq: AddIndirect: %v, want ErrNoRseq", err)
		}
		t.Skipf("no rseq (%s)", percpu.Status().Reason)
	}
	res := runMembarrierSwap(t, membarrierSwap{membarrier: true, min: time.Second, minSwaps: 100})
	if res.late != 0 {
		t.Errorf("the retired Block changed after membarrier returned, after %d of %d swaps", res.late, res.swaps)
	}
}
