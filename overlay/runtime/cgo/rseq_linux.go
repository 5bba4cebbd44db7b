// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && (amd64 || arm64)

package cgo

// Import "unsafe" because we use go:linkname.
import _ "unsafe"

// The runtime asks the C library, through x_cgo_rseq_info, whether it
// registered rseq for its threads and where the area is, so that each M
// adopts that registration instead of making its own. See
// runtime/rseq_linux.go.

//go:cgo_import_static x_cgo_rseq_info
//go:linkname x_cgo_rseq_info x_cgo_rseq_info
//go:linkname _cgo_rseq_info _cgo_rseq_info
var x_cgo_rseq_info byte
var _cgo_rseq_info = &x_cgo_rseq_info
