// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// A kernel is one of the guests' kernels: a Debian bookworm kernel
// package, named by the meta-package that follows its series.
type kernel struct {
	arch   string // GOARCH and Debian architecture: amd64 or arm64
	series string // "6.1" (no AT_RSEQ_FEATURE_SIZE, no node_id/mm_cid) or "6.12"
	meta   string // Debian meta-package
}

// kernels is the matrix: each architecture with Debian 12's own kernel
// (6.1) and the backported 6.12 (in bookworm-security/updates as
// linux-image-6.12-*).
var kernels = []kernel{
	{"amd64", "6.1", "linux-image-amd64"},
	{"amd64", "6.12", "linux-image-6.12-amd64"},
	{"arm64", "6.1", "linux-image-arm64"},
	{"arm64", "6.12", "linux-image-6.12-arm64"},
}

// name is how guests are selected and sub-tests named: "amd64/6.1".
func (k kernel) name() string { return k.arch + "/" + k.series }

// cacheDir is where k's vmlinuz is kept under the cache directory.
func (k kernel) cacheDir(cache string) string {
	return filepath.Join(cache, "kernels", k.arch+"-"+k.series)
}

// fetch returns the path of k's vmlinuz and the name of the package it
// came from, downloading the package only when the cache has none: the
// concrete linux-image-6.* package that k.meta depends on, fetched with
// apt-get download, vmlinuz taken out of it with dpkg-deb. (Delete the
// cache directory to pick up a newer kernel.)
func (k kernel) fetch(a *apt, cache string) (vmlinuz, pkg string, err error) {
	dir := k.cacheDir(cache)
	vmlinuz = filepath.Join(dir, "vmlinuz")
	if data, err := os.ReadFile(filepath.Join(dir, "package")); err == nil {
		if _, err := os.Stat(vmlinuz); err == nil {
			return vmlinuz, strings.TrimSpace(string(data)), nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	hostArch, err := a.run("dpkg", "--print-architecture")
	if err != nil {
		return "", "", err
	}
	suffix := ""
	if strings.TrimSpace(hostArch) != k.arch {
		suffix = ":" + k.arch
		if err := a.addArch(k.arch); err != nil {
			return "", "", err
		}
	}
	concrete, err := k.concrete(a, suffix)
	if err != nil {
		if uerr := a.update(); uerr != nil {
			return "", "", uerr
		}
		if concrete, err = k.concrete(a, suffix); err != nil {
			return "", "", err
		}
	}
	tmp, err := os.MkdirTemp(filepath.Join(cache, "kernels"), "download-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, 0o755) // so that apt's sandbox user can write (else it warns)
	a.logf("apt-get download %s%s", concrete, suffix)
	if _, err := a.runIn(tmp, "apt-get", "download", "-qq", concrete+suffix); err != nil {
		return "", "", err
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return "", "", fmt.Errorf("apt-get download %s: got %v", concrete, debs)
	}
	image, err := vmlinuzFromDeb(debs[0])
	if err != nil {
		return "", "", err
	}
	if image, err = unzboot(image); err != nil {
		return "", "", fmt.Errorf("%s: %v", debs[0], err)
	}
	if err := os.WriteFile(vmlinuz+".tmp", image, 0o644); err != nil {
		return "", "", err
	}
	if err := os.Rename(vmlinuz+".tmp", vmlinuz); err != nil {
		return "", "", err
	}
	pkg = filepath.Base(debs[0])
	if err := os.WriteFile(filepath.Join(dir, "package"), []byte(pkg+"\n"), 0o644); err != nil {
		return "", "", err
	}
	return vmlinuz, pkg, nil
}

// concrete returns the linux-image-<series>.* package k.meta depends on.
func (k kernel) concrete(a *apt, suffix string) (string, error) {
	out, err := a.run("apt-cache", "depends", "--no-recommends", "--no-suggests", k.meta+suffix)
	if err != nil {
		return "", err
	}
	prefix := "linux-image-" + k.series + "."
	for _, line := range strings.Split(out, "\n") {
		dep, ok := strings.CutPrefix(strings.TrimSpace(line), "Depends: ")
		if !ok {
			continue
		}
		dep = strings.TrimSuffix(dep, suffix)
		if strings.HasPrefix(dep, prefix) {
			return dep, nil
		}
	}
	return "", fmt.Errorf("apt-cache depends %s%s: no %s* dependency in\n%s", k.meta, suffix, prefix, out)
}

// vmlinuzFromDeb returns the boot/vmlinuz-* file of a kernel package.
func vmlinuzFromDeb(deb string) ([]byte, error) {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var image []byte
	tr := tar.NewReader(stdout)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %v", deb, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if path.Dir(name) == "boot" && strings.HasPrefix(path.Base(name), "vmlinuz-") && h.Typeflag == tar.TypeReg {
			if image, err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %v\n%s", deb, err, stderr.Bytes())
	}
	if image == nil {
		return nil, fmt.Errorf("%s has no boot/vmlinuz-*", deb)
	}
	return image, nil
}

// unzboot returns the kernel inside an EFI zboot image (the arm64
// kernel's "MZ...zimg" format, which older qemu's -kernel does not
// unpack), and any other image unchanged. Only gzip payloads are
// handled: Debian bookworm's arm64 kernels (6.1 and 6.12) are plain
// arm64 Images anyway.
func unzboot(image []byte) ([]byte, error) {
	if len(image) < 64 || string(image[0:2]) != "MZ" || string(image[4:8]) != "zimg" {
		return image, nil
	}
	off := binary.LittleEndian.Uint32(image[8:])
	size := binary.LittleEndian.Uint32(image[12:])
	comp := string(bytes.TrimRight(image[24:56], "\x00"))
	if uint64(off)+uint64(size) > uint64(len(image)) {
		return nil, fmt.Errorf("zboot image: payload [%d, +%d) beyond its %d bytes", off, size, len(image))
	}
	if comp != "gzip" {
		return nil, fmt.Errorf("zboot image compressed with %q: only gzip is handled", comp)
	}
	zr, err := gzip.NewReader(bytes.NewReader(image[off : off+size]))
	if err != nil {
		return nil, fmt.Errorf("zboot image: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("zboot image: %v", err)
	}
	return out, nil
}
