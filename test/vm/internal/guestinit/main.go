// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Command guestinit is the /init of test/vm's guests: it mounts the
// pseudo file systems, prints where it runs, runs the commands of the
// manifest (internal/manifest) one by one with their output on the
// console between markers, and powers the machine off. It is built
// static (CGO_ENABLED=0) for the guest's GOARCH.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gorseq/gorseq/test/vm/internal/manifest"
)

// console is where everything goes: the kernel opened /dev/console as
// fds 0, 1 and 2 for /init.
var console = os.Stdout

// baseEnv is every command's environment before its own Env.
var baseEnv = []string{
	"PATH=/vm/bin:/usr/bin:/bin",
	"HOME=/root",
	"TMPDIR=/tmp",
	"USER=root",
	"LOGNAME=root",
	"LANG=C",
	"TERM=dumb",
}

func main() {
	mountAll()
	os.Clearenv()
	for _, kv := range baseEnv {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	printInfo()
	m, err := manifest.Read(manifest.Path)
	if err != nil {
		fmt.Fprintf(console, "\ninit: %v\n", err)
		powerOff()
	}
	for _, c := range m.Commands {
		run(c)
	}
	fmt.Fprintf(console, "\n%s\n", manifest.Done)
	powerOff()
}

// mountAll mounts proc, sysfs, devtmpfs and the tmpfs file systems;
// a failure is printed (the commands will show what it breaks).
func mountAll() {
	for _, m := range []struct{ fstype, dir, data string }{
		{"proc", "/proc", ""},
		{"sysfs", "/sys", ""},
		{"devtmpfs", "/dev", ""},
		{"tmpfs", "/tmp", "mode=1777"},
		{"tmpfs", "/dev/shm", "mode=1777"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			fmt.Fprintf(console, "init: %v\n", err)
			continue
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, 0, m.data); err != nil && !errors.Is(err, unix.EBUSY) {
			fmt.Fprintf(console, "init: mount %s on %s: %v\n", m.fstype, m.dir, err)
		}
	}
}

// printInfo prints the Info marker: kernel release, CPUs, and the rseq
// entries of the auxiliary vector.
func printInfo() {
	var u unix.Utsname
	release := "?"
	if err := unix.Uname(&u); err == nil {
		release = unix.ByteSliceToString(u.Release[:])
	}
	online, _ := os.ReadFile("/sys/devices/system/cpu/online")
	aux := auxv()
	val := func(k uint64) string {
		if v, ok := aux[k]; ok {
			return fmt.Sprint(v)
		}
		return "absent"
	}
	fmt.Fprintf(console, "\n%s kernel=%s arch=%s cpus=%d online=%s rseq_feature_size=%s rseq_align=%s\n",
		manifest.Info, release, runtime.GOARCH, runtime.NumCPU(), strings.TrimSpace(string(online)),
		val(atRseqFeatureSize), val(atRseqAlign))
}

// The auxiliary vector's rseq keys (kernel 6.3+; not in x/sys/unix).
const (
	atRseqFeatureSize = 27
	atRseqAlign       = 28
)

// auxv reads /proc/self/auxv (64-bit words on both guest architectures).
func auxv() map[uint64]uint64 {
	data, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		fmt.Fprintf(console, "init: %v\n", err)
	}
	m := map[uint64]uint64{}
	for len(data) >= 16 {
		k, v := binary.LittleEndian.Uint64(data), binary.LittleEndian.Uint64(data[8:])
		data = data[16:]
		if k == 0 {
			break
		}
		m[k] = v
	}
	return m
}

// run runs c between its markers and kills its process group when it
// exits or times out.
func run(c manifest.Command) {
	fmt.Fprintf(console, "\n%s %s\n", manifest.Begin, c.Name)
	start := time.Now()
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Dir = c.Dir
	if cmd.Dir == "" {
		cmd.Dir = "/tmp"
	}
	cmd.Stdin = nil
	cmd.Stdout = console
	cmd.Stderr = console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	status := "error"
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(console, "init: %v\n", err)
	} else {
		pgid := cmd.Process.Pid
		var timedOut atomic.Bool
		timer := time.AfterFunc(c.Timeout, func() {
			timedOut.Store(true)
			fmt.Fprintf(console, "\ninit: %s: timeout after %v, killing it\n", c.Name, c.Timeout)
			unix.Kill(-pgid, unix.SIGKILL)
		})
		err := cmd.Wait()
		timer.Stop()
		unix.Kill(-pgid, unix.SIGKILL) // what it left behind
		var ee *exec.ExitError
		switch {
		case timedOut.Load():
			status = "timeout"
		case err == nil:
			status = "0"
		case errors.As(err, &ee):
			ws := ee.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				status = "signal:" + unix.SignalName(ws.Signal())
			} else {
				status = fmt.Sprint(ws.ExitStatus())
			}
		default:
			fmt.Fprintf(console, "init: %v\n", err)
		}
	}
	reap()
	fmt.Fprintf(console, "\n%s %s exit=%s elapsed=%v\n", manifest.End, c.Name, status, time.Since(start).Round(time.Millisecond))
}

// reap collects the orphans that were reparented to /init.
func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// powerOff syncs and powers the machine off; if that fails, /init exits,
// the kernel panics and (panic=-1, qemu -no-reboot) qemu exits.
func powerOff() {
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Fprintf(console, "init: power off: %v\n", err)
	}
	os.Exit(1)
}
