// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !gorseq_inject

package main

import "errors"

// injectBuilt: without -tags gorseq_inject, percpu has no delay loops and
// no per-thread rseq switch; the flags that need them are refused.
const injectBuilt = false

var errNoInject = errors.New("needs a binary built with -tags gorseq_inject (percpu's test-only delay injection and rseq switch); this one was built without")

func setInjectDelay(p, loops int) error { return errNoInject }

func threadRseq(unregister bool) error { return errNoInject }

// inlineAbortCount is 0: the count of the inline sequences' aborts is
// part of the test-only API.
func inlineAbortCount() uint64 { return 0 }
