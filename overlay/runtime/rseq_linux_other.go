// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && !amd64 && !arm64

package runtime

// rseq is only wired up for amd64 and arm64; other Linux ports keep the
// hooks in os_linux.go as no-ops and publish no gorseqABI, so readers fall
// back.

type mRseq struct{}

func rseqMinit() {}

//go:nosplit
func rseqUnminit(mp *m) {}
