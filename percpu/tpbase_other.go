// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64 && !arm64

package percpu

// tpBase: no thread-pointer path on this architecture (archRseq is false,
// so nothing calls it).
func tpBase() uintptr { panic("percpu: no thread-pointer path on this architecture") }
