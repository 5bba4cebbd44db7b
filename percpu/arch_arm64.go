// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

// What this architecture's assembly implements.
const (
	// archRseq: the critical sections and the area readers exist.
	archRseq = true
	// archTPRule is the thread-pointer rule the assembly's RSEQ_AREA
	// follows (TPIDR_EL0 is the base (glibc's thread pointer, TLS variant I)).
	archTPRule = rtTPDirect
	// archELFMachine is the ELF e_machine of this architecture, to
	// check the dynamic loader percpu reads glibc's symbols from.
	archELFMachine = 183
)
