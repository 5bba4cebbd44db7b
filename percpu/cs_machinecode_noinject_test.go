// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !gorseq_inject && amd64

package percpu

// injectLoopAddrs: production builds have no injection points, and the
// machine-code test checks that their sections load nothing but the
// package's own globals.
func injectLoopAddrs() []uintptr { return nil }
