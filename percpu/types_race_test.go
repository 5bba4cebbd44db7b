// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build race

package percpu_test

// typRace: the test binary has the race detector. The RWMutex tests then
// leave out their atomic overlap checks, which would give the detector
// happens-before edges between readers and writers of their own and hide
// a missing exclusion from it.
const typRace = true
