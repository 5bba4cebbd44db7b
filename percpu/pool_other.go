// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64 && !arm64

package percpu

import "unsafe"

func poolPop(tops uintptr, slabs unsafe.Pointer) (unsafe.Pointer, int32) { return nil, csNoRseq }

func poolPush(tops uintptr, slabs unsafe.Pointer, x unsafe.Pointer) int32 { return csNoRseq }
