// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build gorseq_inject && !amd64 && !arm64

package percpu

// threadRseq: architectures without critical sections have nothing for
// the tests that switch registrations to exercise.
func threadRseq(unregister bool) error { return ErrNoRseq }
