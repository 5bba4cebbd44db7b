// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package asmnop holds empty assembly functions: the floor that
// benchmarks of percpu's assembly readers are compared against.
package asmnop
