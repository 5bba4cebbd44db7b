// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// A hostTool is a file the harness needs on the host and the Debian
// package that installs it.
type hostTool struct {
	path string // an absolute path, or a command looked up in PATH
	pkg  string
}

// hostTools lists what each guest GOARCH needs on the host: qemu, the C
// compiler and C library for the cgo builds, and the glibc the guest's
// dynamically linked programs get. dpkg-deb and apt-get come with Debian.
var hostTools = map[string][]hostTool{
	"amd64": {
		{"qemu-system-x86_64", "qemu-system-x86"},
		{"gcc", "gcc"},
		{"/lib/x86_64-linux-gnu/libc.so.6", "libc6"},
	},
	"arm64": {
		{"qemu-system-aarch64", "qemu-system-arm"},
		{"aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"},
		{"/usr/aarch64-linux-gnu/lib/libc.so.6", "libc6-arm64-cross"},
		{"/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1", "libc6-arm64-cross"},
		// The cross linker's start files and libpthread.so, which
		// gcc-aarch64-linux-gnu only recommends (the harness installs
		// with --no-install-recommends).
		{"/usr/aarch64-linux-gnu/lib/crti.o", "libc6-dev-arm64-cross"},
	},
}

func (h hostTool) present() bool {
	if strings.HasPrefix(h.path, "/") {
		_, err := os.Stat(h.path)
		return err == nil
	}
	_, err := exec.LookPath(h.path)
	return err == nil
}

// apt runs apt-get and dpkg for the harness: each only when something is
// missing, with "apt-get update" at most once per test run (again after
// a foreign architecture was added). logf receives what it does.
type apt struct {
	mu      sync.Mutex
	updated bool
	logf    func(format string, args ...any)
}

// ensure installs the packages of the tools in tools that are missing.
func (a *apt) ensure(tools []hostTool) error {
	var pkgs []string
	seen := map[string]bool{}
	for _, h := range tools {
		if !h.present() && !seen[h.pkg] {
			seen[h.pkg] = true
			pkgs = append(pkgs, h.pkg)
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	if err := a.update(); err != nil {
		return err
	}
	a.logf("apt-get install %s", strings.Join(pkgs, " "))
	if _, err := a.run("apt-get", append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)...); err != nil {
		return err
	}
	for _, h := range tools {
		if !h.present() {
			return fmt.Errorf("%s is still missing after installing %s", h.path, h.pkg)
		}
	}
	return nil
}

// update runs apt-get update, once.
func (a *apt) update() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.updated {
		return nil
	}
	a.logf("apt-get update")
	if _, err := a.run("apt-get", "update", "-qq"); err != nil {
		return err
	}
	a.updated = true
	return nil
}

// addArch makes dpkg know the foreign architecture arch (for the arm64
// kernel packages); the next update fetches its package lists.
func (a *apt) addArch(arch string) error {
	out, err := a.run("dpkg", "--print-architecture")
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) == arch {
		return nil
	}
	out, err = a.run("dpkg", "--print-foreign-architectures")
	if err != nil {
		return err
	}
	for _, f := range strings.Fields(out) {
		if f == arch {
			return nil
		}
	}
	a.logf("dpkg --add-architecture %s", arch)
	if _, err := a.run("dpkg", "--add-architecture", arch); err != nil {
		return err
	}
	a.mu.Lock()
	a.updated = false
	a.mu.Unlock()
	return a.update()
}

// run runs a command quietly and returns its stdout; on failure the error
// holds its output.
func (a *apt) run(name string, args ...string) (string, error) {
	return a.runIn("", name, args...)
}

func (a *apt) runIn(dir, name string, args ...string) (string, error) {
	if os.Geteuid() != 0 && (name == "apt-get" || name == "dpkg" && len(args) > 0 && args[0] == "--add-architecture") {
		return "", fmt.Errorf("%s %s needs root: install it by hand or run the test as root", name, strings.Join(args, " "))
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String(), nil
}
