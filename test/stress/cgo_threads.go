// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build cgo

package main

/*
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

// In cgo_export.go.
extern int gorseqStressCgoStep(int id);

static atomic_int stress_cgo_stop;
static pthread_t *stress_cgo_threads;
static int stress_cgo_n;

// Each C thread calls into Go again and again (each call is a cgo
// callback: the runtime lends the thread an extra M and takes it back)
// until told to stop or Go says so.
static void *stress_cgo_main(void *arg) {
	int id = (int)(long)arg;
	while (!atomic_load(&stress_cgo_stop)) {
		if (gorseqStressCgoStep(id) != 0)
			break;
	}
	return NULL;
}

static int stress_cgo_start(int n) {
	stress_cgo_threads = calloc(n, sizeof(pthread_t));
	if (stress_cgo_threads == NULL)
		return -1;
	atomic_store(&stress_cgo_stop, 0);
	stress_cgo_n = 0;
	for (int i = 0; i < n; i++) {
		int err = pthread_create(&stress_cgo_threads[i], NULL, stress_cgo_main, (void *)(long)i);
		if (err != 0)
			return err;
		stress_cgo_n++;
	}
	return 0;
}

static void stress_cgo_stop_join(void) {
	atomic_store(&stress_cgo_stop, 1);
	for (int i = 0; i < stress_cgo_n; i++)
		pthread_join(stress_cgo_threads[i], NULL);
	free(stress_cgo_threads);
	stress_cgo_threads = NULL;
	stress_cgo_n = 0;
}
*/
import "C"

import (
	"fmt"
	"sync/atomic"
)

const cgoBuilt = true

// cgoWorkers are the workers of the C threads, by C thread number.
var cgoWorkers atomic.Pointer[[]*worker]

// startCgo starts the -cgo C threads and returns the function that stops
// and joins them.
func (e *env) startCgo() (func(), error) {
	if e.cfg.cgoThreads == 0 {
		return nil, nil
	}
	ws := make([]*worker, e.cfg.cgoThreads)
	for i := range ws {
		ws[i] = newWorker(e, e.cfg.threads+i)
	}
	cgoWorkers.Store(&ws)
	stop := func() {
		C.stress_cgo_stop_join()
	}
	if err := C.stress_cgo_start(C.int(len(ws))); err != 0 {
		stop()
		return nil, fmt.Errorf("starting %d C threads: error %d", len(ws), int(err))
	}
	return stop, nil
}

// cgoCounts returns the steps and fallback steps of the C threads.
func (e *env) cgoCounts() (steps, fallbacks int64) {
	p := cgoWorkers.Load()
	if p == nil {
		return 0, 0
	}
	for _, w := range *p {
		steps += w.steps
		fallbacks += w.fallbacks
	}
	return steps, fallbacks
}
