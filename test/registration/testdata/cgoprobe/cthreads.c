// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// C threads for the cgo child: threads made with pthread_create that call
// into Go, threads that take a signal Go handles, each checking its own
// rseq registration from C before, between and after, and threads that
// register an rseq area of their own before they call into Go.

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cthreads.h"
#include "_cgo_export.h"

#ifndef SYS_rseq
#error "<sys/syscall.h> has no SYS_rseq: the kernel headers predate rseq (4.18)"
#endif

// The signature of glibc, librseq and the gorseq runtime (rseqcheck.Sig).
#if defined(__x86_64__)
#define RSEQ_SIG 0x53053053UL
#elif defined(__aarch64__)
#define RSEQ_SIG 0xd428bc00UL // brk #0x45e0
#else
#error "cthreads.c: no rseq signature for this architecture"
#endif

#define RSEQ_FLAG_UNREGISTER 1L

static long counts[PHASES][KINDS];

static void
record(int phase, int kind)
{
	__atomic_fetch_add(&counts[phase][kind], 1, __ATOMIC_SEQ_CST);
}

long
get_count(int phase, int kind)
{
	return __atomic_load_n(&counts[phase][kind], __ATOMIC_SEQ_CST);
}

// c_probe is rseqcheck.Probe in C: offer a fresh area; a registered thread
// refuses it (EINVAL, EBUSY), an unregistered one accepts it and we drop it
// again at once.
static int
c_probe(void)
{
	struct {
		uint32_t w[8];
	} __attribute__((aligned(32))) area;
	long r;

	memset(&area, 0, sizeof area);
	area.w[1] = (uint32_t)-1; // cpu_id: not registered yet
	r = syscall(SYS_rseq, &area, 32L, 0L, RSEQ_SIG);
	if (r == 0) {
		if (syscall(SYS_rseq, &area, 32L, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) != 0) {
			fprintf(stderr, "cthreads: cannot unregister the probe area: %s\n", strerror(errno));
			abort();
		}
		return KIND_UNREGISTERED;
	}
	if (errno == EINVAL || errno == EBUSY)
		return KIND_REGISTERED;
	return KIND_OTHER;
}

// At thread exit glibc runs the destructors of the thread's keys in rounds
// until no value is left. Go's own key (runtime/cgo's pthread_g) drops the
// thread's M in its destructor, in the first round. Ours re-arms itself in
// the first round, so that its second call, the one that probes, comes
// after Go's dropm whatever the order of the keys.
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void
exit_destructor(void *v)
{
	if ((uintptr_t)v == 1) {
		pthread_setspecific(exit_key, (void *)2);
		return;
	}
	record(PH_EXIT, c_probe());
}

static void
make_exit_key(void)
{
	if (pthread_key_create(&exit_key, exit_destructor) != 0)
		abort();
}

struct cb_arg {
	int id;
	int calls;
};

static void *
callback_thread(void *p)
{
	struct cb_arg *a = p;
	int i;

	pthread_setspecific(exit_key, (void *)1);
	record(PH_START, c_probe());
	for (i = 0; i < a->calls; i++) {
		goCallback(a->id, i);
		record(PH_BETWEEN, c_probe());
	}
	return NULL;
}

// run_threads starts nthreads C threads at fn, each with its own cb_arg
// (ids from first_id, calls each), and joins them. It returns the
// pthread_create error that stopped it, or 0.
static int
run_threads(void *(*fn)(void *), int first_id, int nthreads, int calls)
{
	pthread_t *t = calloc(nthreads, sizeof *t);
	struct cb_arg *a = calloc(nthreads, sizeof *a);
	int i, err = 0, n = 0;

	for (i = 0; i < nthreads; i++) {
		a[i].id = first_id + i;
		a[i].calls = calls;
		err = pthread_create(&t[i], NULL, fn, &a[i]);
		if (err != 0)
			break;
		n++;
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
	free(a);
	return err;
}

int
run_callback_threads(int first_id, int nthreads, int calls)
{
	pthread_once(&exit_key_once, make_exit_key);
	return run_threads(callback_thread, first_id, nthreads, calls);
}

static void *
signal_thread(void *p)
{
	int sig = *(int *)p;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	record(PH_SIG_BEFORE, c_probe());
	// The handler runs before pthread_kill returns to this thread: Go's
	// handler borrows an M (needm), queues the signal and drops the M.
	pthread_kill(pthread_self(), sig);
	record(PH_SIG_AFTER, c_probe());
	return NULL;
}

int
run_signal_thread(int sig)
{
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, signal_thread, &sig);
	if (err != 0)
		return err;
	pthread_join(t, NULL);
	return 0;
}

// foreign_thread registers an rseq area of its own, as a C library other
// than glibc (or a program using librseq) would, then calls into Go. The
// runtime cannot register its area on such a thread; it must leave the
// thread's registration alone, so that the thread can unregister it.
static void *
foreign_thread(void *p)
{
	struct cb_arg *a = p;
	uint32_t *area;
	int i, registered;

	area = aligned_alloc(32, 32);
	if (area == NULL)
		abort();
	memset(area, 0, 32);
	area[1] = (uint32_t)-1; // cpu_id: not registered yet
	registered = syscall(SYS_rseq, area, 32L, 0L, RSEQ_SIG) == 0;
	record(PH_FOREIGN_REG, registered ? KIND_REGISTERED : KIND_OTHER);
	for (i = 0; i < a->calls; i++)
		goForeignCallback(a->id, i);
	if (registered) {
		if (syscall(SYS_rseq, area, 32L, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) != 0) {
			// Still live: the kernel may write to it, never free it.
			record(PH_FOREIGN_UNREG, KIND_OTHER);
			return NULL;
		}
		record(PH_FOREIGN_UNREG, KIND_UNREGISTERED);
	}
	free(area);
	return NULL;
}

int
run_foreign_threads(int first_id, int nthreads, int calls)
{
	return run_threads(foreign_thread, first_id, nthreads, calls);
}
