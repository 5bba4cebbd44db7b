// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package percpu

import (
	"testing"
	"unsafe"
)

func TestGodebugRseqOff(t *testing.T) {
	for _, c := range []struct {
		godebug string
		off     bool
	}{
		{"", false},
		{"rseq=0", true},
		{"rseq=1", false},
		{"gctrace=1,rseq=0", true},
		{"rseq=0,gctrace=1", true},
		{"rseq=0,rseq=1", false}, // the last setting wins
		{"rseq=1,rseq=0", true},
		{"rseq=00", false},
		{"xrseq=0", false},
		{",,rseq=0,", true},
	} {
		if got := godebugRseqOff(c.godebug); got != c.off {
			t.Errorf("godebugRseqOff(%q) = %v, want %v", c.godebug, got, c.off)
		}
	}
}

func TestGlibcRegLength(t *testing.T) {
	for size, want := range map[uint32]uint32{20: 32, 28: 32, 32: 32, 33: 64, 64: 64} {
		if got := glibcRegLength(size); got != want {
			t.Errorf("glibcRegLength(%d) = %d, want %d", size, got, want)
		}
	}
}

// TestOpenLoadedELFRejects feeds openLoadedELF memory that is no loaded
// ELF object.
func TestOpenLoadedELFRejects(t *testing.T) {
	junk := make([]byte, 4096)
	if _, err := openLoadedELF(uintptr(unsafe.Pointer(&junk[0])), archELFMachine); err == nil {
		t.Error("openLoadedELF of zeros: no error")
	}
	copy(junk, "\x7fELF\x02\x01")
	junk[18] = byte(archELFMachine + 1)
	if _, err := openLoadedELF(uintptr(unsafe.Pointer(&junk[0])), archELFMachine); err == nil {
		t.Error("openLoadedELF of another machine's header: no error")
	}
	if _, err := openLoadedELF(0, archELFMachine); err == nil {
		t.Error("openLoadedELF(0): no error")
	}
}
