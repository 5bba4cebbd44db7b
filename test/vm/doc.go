// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package vm runs gorseq's tests on real Linux kernels: TestVM boots
// Debian's kernels under qemu, {amd64, arm64} x {6.1, 6.12}, one guest at
// a time, and runs in each the test binaries of percpu (plain, with
// -tags gorseq_inject, and with runtime/cgo so that glibc's registration
// is adopted), test/registration and test/stress (with their child
// programs prebuilt on the host), all built by the patched toolchain for
// the guest's GOARCH. Kernel 6.1 has rseq without AT_RSEQ_FEATURE_SIZE
// (no node_id or mm_cid); 6.12 has both.
//
//	_toolchain/goroot/bin/go test -count=1 -timeout 40m -v ./test/vm
//
// A guest has no disk: its initramfs (a newc cpio archive written here)
// holds a static /init (internal/guestinit), a manifest of commands
// (internal/manifest), the binaries, and glibc's loader and libraries
// for the dynamically linked ones (the host's for amd64, the Debian
// cross sysroot /usr/aarch64-linux-gnu for arm64). /init prints the
// kernel release, the CPUs and AT_RSEQ_FEATURE_SIZE, runs each command
// with its output on the serial console between "@@vm begin NAME" and
// "@@vm end NAME exit=N" markers, kills it at its timeout, and powers
// off. The host parses the console: a sub-test per guest and program
// (TestVM/amd64/6.12/percpu) fails when the program exited non-zero,
// timed out or never ran, with the program's guest output. The whole
// serial log is in _vm/logs/ARCH-SERIES.log. Guests run one at a time,
// also across test runs and clones on one machine (flock on
// $TMPDIR/gorseq-vm-qemu.lock), each with two CPUs and 2 GiB.
//
// The harness installs what it needs with apt-get when it is missing
// (apt-get update once first): qemu-system-x86, qemu-system-arm,
// gcc-aarch64-linux-gnu, libc6-arm64-cross, the arm64 dpkg architecture,
// and the kernels, fetched with apt-get download (the linux-image-6.*
// package that linux-image-amd64, linux-image-6.12-amd64 and their arm64
// counterparts depend on) and cached as _vm/kernels/ARCH-SERIES/vmlinuz.
// Remove _vm to fetch newer kernels. amd64 guests use KVM when a probe
// boot under -accel kvm works (its verdict is cached in _vm/kvm-probe),
// else TCG; arm64 guests are always TCG (-M virt -cpu max, with
// pauth-impdef=on: the architected pointer authentication is slow to
// emulate).
//
// Settings (environment):
//
//	GORSEQ_VM=amd64/6.12,arm64   the guests to run: ARCH/SERIES or ARCH items (default all)
//	GORSEQ_VM_RUN=regexp         only the programs whose name matches (percpu, percpu-inject,
//	                             percpu-cgo, registration, stress, bench)
//	GORSEQ_VM_BENCH=1            also run "percpu bench" in the last selected arm64 guest; its
//	                             output goes to _vm/bench/percpu-bench-arm64-SERIES.txt
//	GORSEQ_VM_ACCEL=kvm|tcg      how amd64 guests run, instead of probing
//	GORSEQ_VM_DIR=dir            the cache and log directory instead of _vm
//	GORSEQ_GO=go                 the patched go command instead of _toolchain/goroot/bin/go
//
// The payload is the list in payload.go.
package vm
