// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build race

package percpu

// raceEnabled: built with -race. The race detector does not see atomics
// on per-CPU memory (it is outside the Go heap) nor the assembly, so types
// that synchronise through them add an atomic on a Go-heap word that the
// detector does see.
const raceEnabled = true
