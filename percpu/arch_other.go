// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64 && !arm64

package percpu

// What this architecture's assembly implements: nothing, so percpu falls
// back even where the runtime registered rseq.
const (
	archRseq       = false
	archELFMachine = 0
)

// archTPRule is a rule no runtime publishes (the sections do not exist).
const archTPRule uint32 = 1<<32 - 1
