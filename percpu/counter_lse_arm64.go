// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import "golang.org/x/sys/cpu"

// counterLSE tells counterAdd's atomic fallback (counter_arm64.s) that the
// CPU has the ARMv8.1 LSE atomics (LDADDAL), as the runtime's own atomics
// check; without them it uses an LDAXR/STLXR loop.
var counterLSE = cpu.ARM64.HasATOMICS
