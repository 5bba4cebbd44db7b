// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#ifndef CTHREADS_H
#define CTHREADS_H

// Where a C thread checked its registration (see cthreads.c).
enum {
	PH_START,      // callback thread, before its first call into Go
	PH_BETWEEN,    // callback thread, after each call into Go returned
	PH_EXIT,       // callback thread exiting, after Go's key destructor
	PH_SIG_BEFORE, // signal thread, before it signalled itself
	PH_SIG_AFTER,  // signal thread, after Go's handler ran on it
	PH_FOREIGN_REG,   // foreign thread: registering its own area (registered: it took)
	PH_FOREIGN_UNREG, // foreign thread: unregistering it after its calls (unregistered: it worked)
	PHASES
};

// What it found.
enum {
	KIND_REGISTERED,
	KIND_UNREGISTERED,
	KIND_OTHER,
	KINDS
};

long get_count(int phase, int kind);
int run_callback_threads(int first_id, int nthreads, int calls);
int run_signal_thread(int sig);
int run_foreign_threads(int first_id, int nthreads, int calls);

#endif
