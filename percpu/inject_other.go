// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && !amd64

package percpu

// threadRseq: only amd64 has critical sections so far, and the tests that
// switch registrations are about them.
func threadRseq(unregister bool) error { return ErrNoRseq }
