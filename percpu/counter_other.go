// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64 && !arm64

package percpu

func counterAdd(c *Counter, v int64) { counterAddSlow(c, v) }

func counterAddRelease(c *Counter, v int64) { counterAddReleaseSlow(c, v) }
