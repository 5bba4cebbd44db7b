// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !cgo

package main

import "errors"

const cgoBuilt = false

func (e *env) startCgo() (func(), error) {
	if e.cfg.cgoThreads == 0 {
		return nil, nil
	}
	return nil, errors.New("built without cgo")
}

func (e *env) cgoCounts() (steps, fallbacks int64) { return 0, 0 }
