// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"os"
	"runtime"
	"strconv"
	"strings"
)

// shardCount is the number of shards of per-CPU memory: one per CPU the
// kernel may ever report (the possible CPUs, not only the online or
// allowed ones, since CPUs can come online later). mm_cid values are below
// the number of possible CPUs too, so one count serves both index modes.
// Written once by init.
var shardCount = possibleCPUs()

// Shards returns the number of shards of per-CPU memory: every CPU number
// [CPU] can return, and every [CID], is below it.
func Shards() int { return shardCount }

// possibleCPUs reads /sys/devices/system/cpu/possible ("0-63", "0,2-5").
// Without it, it assumes the kernel's default upper bound on x86 distros
// rather than risk an index past the end.
func possibleCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err == nil {
		if n, ok := parseCPUList(strings.TrimSpace(string(b))); ok {
			return max(n, runtime.NumCPU())
		}
	}
	return max(8192, runtime.NumCPU())
}

// parseCPUList returns 1 + the highest CPU in a kernel CPU list.
func parseCPUList(s string) (int, bool) {
	hi := -1
	for part := range strings.SplitSeq(s, ",") {
		last := part
		if i := strings.IndexByte(part, '-'); i >= 0 {
			last = part[i+1:]
		}
		n, err := strconv.Atoi(last)
		if err != nil || n < 0 {
			return 0, false
		}
		hi = max(hi, n)
	}
	return hi + 1, hi >= 0
}
