// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !amd64

package asmnop

//go:noinline
func Nop() {}

//go:noinline
func Int32() int32 { return 0 }
