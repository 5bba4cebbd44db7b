// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

// What this architecture's assembly implements.
const (
	// archRseq: the critical sections and the area readers exist.
	archRseq = true
	// archTPRule is the thread-pointer rule the assembly's RSEQ_AREA
	// follows (%fs:0 holds the base (the TCB self-pointer, or the runtime's copy of the area address)).
	archTPRule = rtTPDeref
	// archELFMachine is the ELF e_machine of this architecture, to
	// check the dynamic loader percpu reads glibc's symbols from.
	archELFMachine = 62
)
