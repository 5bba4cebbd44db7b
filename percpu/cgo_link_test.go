// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build cgo && gorseq_cgo

package percpu_test

// Built with -tags gorseq_cgo and cgo on, the test binary links
// runtime/cgo: every M is then a pthread that glibc registered for rseq,
// and percpu runs in glibc mode (GORSEQ_EXPECT=glibc), on the area at the
// thread pointer plus __rseq_offset. Nothing in percpu's tests imports C
// otherwise, so without the tag they are a static program in own mode.
import _ "runtime/cgo"
