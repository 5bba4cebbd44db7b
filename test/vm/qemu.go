// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A machine is how the guests of one GOARCH are started.
type machine struct {
	qemu    string   // the qemu command
	console string   // the serial console's device in the guest
	base    []string // the machine and, under TCG, the CPU
}

var machines = map[string]machine{
	// The pc machine; -cpu max under TCG offers what TCG emulates
	// (RDPID, RDTSCP...), -cpu host under KVM.
	"amd64": {"qemu-system-x86_64", "ttyS0", []string{"-M", "pc"}},
	// Always TCG on this x86 host. The max CPU with an implementation-
	// defined pointer authentication algorithm: the architected QARMA5,
	// which the kernel uses on every call, costs a fifth of a guest's
	// time under TCG.
	"arm64": {"qemu-system-aarch64", "ttyAMA0", []string{"-M", "virt", "-cpu", "max,pauth-impdef=on"}},
}

// Guest resources: two CPUs (the host has two cores, and guests run one
// at a time) and 2 GiB, which holds the initramfs and the tests.
const (
	guestCPUs   = "2"
	guestMemory = "2G"
)

// An accel is how a guest's CPUs run.
type accel struct {
	kvm bool
	why string // how it was chosen, for the log
}

func (a accel) String() string {
	if a.kvm {
		return "kvm (" + a.why + ")"
	}
	return "tcg (" + a.why + ")"
}

// short is "kvm" or "tcg".
func (a accel) short() string {
	if a.kvm {
		return "kvm"
	}
	return "tcg"
}

// qemuArgs returns the qemu command line of a guest: no disk, no network,
// the serial console on stdout, no reboot (a panic ends qemu).
func qemuArgs(arch string, acc accel, vmlinuz, initrd string) []string {
	m := machines[arch]
	args := append([]string{}, m.base...)
	if arch == "amd64" {
		if acc.kvm {
			args = append(args, "-accel", "kvm", "-cpu", "host")
		} else {
			args = append(args, "-accel", "tcg", "-cpu", "max")
		}
	} else {
		args = append(args, "-accel", "tcg")
	}
	args = append(args,
		"-smp", guestCPUs, "-m", guestMemory,
		"-nographic", "-no-reboot", "-nic", "none",
		"-kernel", vmlinuz,
		"-append", "console="+m.console+" panic=-1 loglevel=4",
	)
	if initrd != "" {
		args = append(args, "-initrd", initrd)
	}
	return args
}

// runQemu runs qemu with args until it exits or ctx is done (then it is
// killed), with its output in logPath; each line that mentions a marker
// goes to onMarker as it arrives. stop, if not nil, ends the run early
// when it returns true for a line.
func runQemu(ctx context.Context, arch string, args []string, logPath string, onMarker func(string), stop func(string) bool) error {
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "# %s %s\n", machines[arch].qemu, strings.Join(args, " "))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, machines[arch].qemu, args...)
	cmd.WaitDelay = 10 * time.Second
	// A test binary killed by go test's -timeout takes its guest along.
	// The kernel sends Pdeathsig when the thread that forked qemu exits,
	// not only the process: this goroutine keeps its thread until qemu
	// is gone, so that no thread exit kills a running guest.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		br := bufio.NewReaderSize(pr, 1<<16)
		for {
			line, err := br.ReadString('\n')
			log.WriteString(line)
			clean := strings.TrimRight(line, "\r\n")
			if onMarker != nil && strings.Contains(clean, "@@vm ") {
				onMarker(clean)
			}
			if stop != nil && stop(clean) {
				cancel()
			}
			if err != nil {
				io.Copy(io.Discard, pr)
				return
			}
		}
	}()
	err = cmd.Run()
	pw.Close()
	wg.Wait()
	if ctx.Err() != nil && err != nil {
		return ctx.Err()
	}
	return err
}

// lockFile takes the lock file path (flock), waiting while another test
// run holds it (why says what for, in the log), and returns its release.
func lockFile(path, why string, logf func(string)) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t0 := time.Now()
		logf(fmt.Sprintf("waiting for %s: another test run %s", f.Name(), why))
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
		logf(fmt.Sprintf("got %s after %v", f.Name(), time.Since(t0).Round(time.Second)))
	}
	return func() { f.Close() }, nil
}

// chooseAccel decides how amd64 guests run: GORSEQ_VM_ACCEL (kvm or tcg)
// if set; else KVM if /dev/kvm opens and a probe boot under -accel kvm
// prints the kernel's banner within 30 s, else TCG. The probe's verdict
// is cached (keyed by the host kernel and the qemu version).
func chooseAccel(a *apt, cache, vmlinuz string, logf func(string, ...any)) accel {
	switch v := os.Getenv("GORSEQ_VM_ACCEL"); v {
	case "kvm":
		return accel{true, "GORSEQ_VM_ACCEL=kvm"}
	case "tcg":
		return accel{false, "GORSEQ_VM_ACCEL=tcg"}
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return accel{false, err.Error()}
	}
	f.Close()
	release, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	version, _ := a.run(machines["amd64"].qemu, "--version")
	version, _, _ = strings.Cut(version, "\n")
	key := strings.TrimSpace(string(release)) + " " + strings.TrimSpace(version)
	cached := filepath.Join(cache, "kvm-probe")
	if data, err := os.ReadFile(cached); err == nil {
		if k, verdict, ok := strings.Cut(strings.TrimSpace(string(data)), "\n"); ok && k == key {
			kvm, why, _ := strings.Cut(verdict, " ")
			return accel{kvm == "kvm", "cached probe in " + cached + ": " + why}
		}
	}
	acc := probeKVM(cache, vmlinuz)
	verdict := "tcg"
	if acc.kvm {
		verdict = "kvm"
	}
	os.WriteFile(cached, []byte(key+"\n"+verdict+" "+acc.why+"\n"), 0o644)
	logf("kvm probe: %v", acc)
	return acc
}

// probeKVM boots vmlinuz without an initramfs under KVM and watches for
// the banner. (Some hosts offer a /dev/kvm that cannot run a stock
// kernel: a nested or paravirtual KVM, where qemu either aborts on -cpu
// host or the guest never prints a line.)
func probeKVM(cache, vmlinuz string) accel {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := qemuArgs("amd64", accel{kvm: true}, vmlinuz, "")
	for i, a := range args {
		if a == guestMemory {
			args[i] = "256M"
		}
	}
	var banner bool
	var last string
	logPath := filepath.Join(cache, "logs", "kvm-probe.log")
	err := runQemu(ctx, "amd64", args, logPath, nil, func(line string) bool {
		if strings.Contains(line, "Linux version") {
			banner = true
		}
		if s := strings.TrimSpace(line); s != "" {
			last = s
		}
		return banner
	})
	switch {
	case banner:
		return accel{true, "probe boot printed the kernel banner"}
	case errors.Is(err, context.DeadlineExceeded):
		return accel{false, "probe boot under -accel kvm printed no kernel banner in 30s; see " + logPath}
	default:
		return accel{false, fmt.Sprintf("probe boot under -accel kvm failed (%v): %s", err, last)}
	}
}
