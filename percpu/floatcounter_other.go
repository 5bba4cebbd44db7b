// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64 && !arm64

package percpu

func floatCounterAdd(c *FloatCounter, v float64) { floatCounterAddSlow(c, v) }
