// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// host is the C program of test/buildmodes that loads the Go library in
// ../lib: linked against it (the c-archive, or the c-shared library), or,
// built with -DUSE_DLOPEN, with dlopen. Its main thread and WAVES waves
// of THREADS pthreads each call into Go (a wave starts when the previous
// one has exited, so that its threads get the extra Ms that the previous
// wave's threads gave back); the main thread sends SIGURG (which Go
// handles) to the pthreads while they run. It prints key=value lines: the
// library's status from the main thread (unprefixed) and from a pthread
// (prefixed thread_), the totals, the library's report, then done=1.
//
// Usage: host WAVES THREADS CALLS N [LIBRARY.so]
//
// Each pthread calls GorseqWork(N) CALLS times.

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef char *(*status_fn)(void);
typedef long long (*work_fn)(int);
typedef char *(*report_fn)(void);
typedef unsigned long long (*aborts_fn)(void);
typedef void (*free_fn)(char *);

#ifndef USE_DLOPEN
extern char *GorseqStatus(void);
extern long long GorseqWork(int);
extern char *GorseqReport(void);
extern unsigned long long GorseqAborts(void);
extern void GorseqFree(char *);
#endif

static status_fn go_status;
static work_fn go_work;
static report_fn go_report;
static aborts_fn go_aborts;
static free_fn go_free;

static int calls, n;

struct worker {
	pthread_t thread;
	int index;
	long long ok;
	char *status; // thread 0 of the first wave only
	volatile int done;
};

static void *
run(void *arg)
{
	struct worker *w = arg;
	if (w->status == NULL && w->index == 0)
		w->status = go_status();
	for (int i = 0; i < calls; i++)
		w->ok += go_work(n);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

// print writes the lines of s, each with prefix.
static void
print(const char *prefix, char *s)
{
	for (char *line = strtok(s, "\n"); line != NULL; line = strtok(NULL, "\n"))
		printf("%s%s\n", prefix, line);
}

static void *
must_sym(void *lib, const char *name)
{
	void *p = dlsym(lib, name);
	if (p == NULL) {
		fprintf(stderr, "host: dlsym %s: %s\n", name, dlerror());
		exit(2);
	}
	return p;
}

int
main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: host WAVES THREADS CALLS N [LIBRARY.so]\n");
		return 2;
	}
	int waves = atoi(argv[1]);
	int threads = atoi(argv[2]);
	calls = atoi(argv[3]);
	n = atoi(argv[4]);
#ifdef USE_DLOPEN
	if (argc != 6) {
		fprintf(stderr, "host: built for dlopen: give the library\n");
		return 2;
	}
	void *lib = dlopen(argv[5], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		fprintf(stderr, "host: dlopen %s: %s\n", argv[5], dlerror());
		return 2;
	}
	go_status = (status_fn)must_sym(lib, "GorseqStatus");
	go_work = (work_fn)must_sym(lib, "GorseqWork");
	go_report = (report_fn)must_sym(lib, "GorseqReport");
	go_aborts = (aborts_fn)must_sym(lib, "GorseqAborts");
	go_free = (free_fn)must_sym(lib, "GorseqFree");
	printf("host_load=dlopen\n");
#else
	(void)must_sym;
	go_status = GorseqStatus;
	go_work = GorseqWork;
	go_report = GorseqReport;
	go_aborts = GorseqAborts;
	go_free = GorseqFree;
	printf("host_load=linked\n");
#endif

	char *s = go_status();
	print("", s);
	go_free(s);

	unsigned long long aborts0 = go_aborts();
	struct worker *ws = calloc(threads, sizeof *ws);
	long signals = 0;
	long long ok = 0;
	for (int wave = 0; wave < waves; wave++) {
		for (int i = 0; i < threads; i++) {
			ws[i].index = i;
			ws[i].done = 0;
			int err = pthread_create(&ws[i].thread, NULL, run, &ws[i]);
			if (err != 0) {
				fprintf(stderr, "host: pthread_create: %s\n", strerror(err));
				return 2;
			}
		}
		// Signal the running pthreads: a signal that lands in a
		// critical section aborts it.
		for (int running = threads; running > 0;) {
			running = 0;
			for (int i = 0; i < threads; i++) {
				if (__atomic_load_n(&ws[i].done, __ATOMIC_ACQUIRE))
					continue;
				running++;
				if (pthread_kill(ws[i].thread, SIGURG) == 0)
					signals++;
			}
			struct timespec ts = {0, 100 * 1000};
			nanosleep(&ts, NULL);
		}
		for (int i = 0; i < threads; i++)
			pthread_join(ws[i].thread, NULL);
	}
	for (int i = 0; i < threads; i++)
		ok += ws[i].ok;
	printf("host_threads=%d\n", waves * threads);
	printf("host_want=%lld\n", (long long)waves * threads * calls * n);
	printf("host_ok=%lld\n", ok);
	printf("host_signals=%ld\n", signals);
	printf("host_aborts=%llu\n", go_aborts() - aborts0);
	print("thread_", ws[0].status);
	go_free(ws[0].status);

	s = go_report();
	print("", s);
	go_free(s);
	printf("done=1\n");
	return 0;
}
