// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build amd64

package asmnop

// Nop returns at once. A call to it costs what any call into assembly
// costs.
func Nop()

// Int32 returns 0, with the same signature as percpu's readers.
func Int32() int32
