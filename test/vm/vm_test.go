// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorseq/gorseq/test/vm/internal/manifest"
)

// bootAllowance is a guest's time beyond its commands' timeouts: booting
// under TCG (25 s for arm64), unpacking the initramfs, powering off.
const bootAllowance = 5 * time.Minute

// TestVM boots each selected guest (GORSEQ_VM) and runs the payload in
// it: a sub-test per guest and per program.
func TestVM(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := patchedGo(root)
	if err != nil {
		t.Fatal(err)
	}
	selected, err := selectKernels(os.Getenv("GORSEQ_VM"))
	if err != nil {
		t.Fatal(err)
	}
	keep, err := programFilter(os.Getenv("GORSEQ_VM_RUN"))
	if err != nil {
		t.Fatal(err)
	}
	cache := cacheDir(root)
	if err := os.MkdirAll(filepath.Join(cache, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	var summary []string
	defer func() { t.Logf("timings:\n\t%s", strings.Join(summary, "\n\t")) }()
	note := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		summary = append(summary, s)
		t.Log(s)
	}

	// Host tools and kernels.
	start := time.Now()
	a := &apt{logf: t.Logf}
	var tools []hostTool
	arches := map[string]bool{}
	for _, k := range selected {
		if !arches[k.arch] {
			arches[k.arch] = true
			tools = append(tools, hostTools[k.arch]...)
		}
	}
	if err := a.ensure(tools); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockFile(filepath.Join(cache, "kernels.lock"), "is fetching kernels", func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	vmlinuz := map[string]string{}
	for _, k := range selected {
		t0 := time.Now()
		path, pkg, err := k.fetch(a, cache)
		if err != nil {
			t.Fatalf("kernel %s: %v", k.name(), err)
		}
		vmlinuz[k.name()] = path
		t.Logf("kernel %s: %s (%v)", k.name(), pkg, time.Since(t0).Round(time.Millisecond))
	}
	var acc accel
	for _, k := range selected {
		if k.arch == "amd64" {
			acc = chooseAccel(a, cache, vmlinuz[k.name()], t.Logf)
			t.Logf("amd64 guests: %v", acc)
			break
		}
	}
	unlock()
	note("host tools and kernels: %v", time.Since(start).Round(time.Second))

	// The builds of a GOARCH serve all its guests: in TestVM's temporary
	// directory, not a guest's.
	buildRoot := t.TempDir()
	builders := map[string]*archBuild{}
	for _, k := range selected {
		t.Run(k.name(), func(t *testing.T) {
			b := builders[k.arch]
			if b == nil {
				dir := filepath.Join(buildRoot, k.arch)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				b = &archBuild{builder: builder{root: root, goBin: goBin, arch: k.arch, dir: dir, logf: t.Logf}, built: map[string]error{}}
				builders[k.arch] = b
			}
			runGuest(t, k, selected, keep, b, acc, vmlinuz[k.name()], cache, note)
		})
	}
}

// An archBuild is a builder that builds each program once for all the
// guests of its GOARCH.
type archBuild struct {
	builder
	initBin string
	initErr error
	built   map[string]error
}

func (b *archBuild) program(p program, note func(string, ...any)) error {
	if err, ok := b.built[p.name]; ok {
		return err
	}
	t0 := time.Now()
	err := b.build(p)
	b.built[p.name] = err
	note("build %s %s: %v", b.arch, p.name, time.Since(t0).Round(100*time.Millisecond))
	return err
}

func (b *archBuild) init(note func(string, ...any)) (string, error) {
	if b.initBin == "" && b.initErr == nil {
		t0 := time.Now()
		b.initBin = filepath.Join(b.dir, "init")
		b.initErr = b.run([]string{"GOOS=linux", "GOARCH=" + b.arch, "CGO_ENABLED=0"}, "build", "-o", b.initBin, "./test/vm/internal/guestinit")
		note("build %s init: %v", b.arch, time.Since(t0).Round(100*time.Millisecond))
	}
	return b.initBin, b.initErr
}

// runGuest builds what guest k runs, boots it and checks every program's
// result.
func runGuest(t *testing.T, k kernel, selected []kernel, keep func(string) bool, b *archBuild, acc accel, vmlinuz, cache string, note func(string, ...any)) {
	initBin, err := b.init(note)
	if err != nil {
		t.Fatal(err)
	}
	var progs []program
	for _, p := range programsFor(k, selected, keep) {
		if err := b.program(p, note); err != nil {
			t.Run(p.name, func(t *testing.T) { t.Fatalf("build: %v", err) })
			continue
		}
		progs = append(progs, p)
	}
	if len(progs) == 0 {
		t.Fatal("nothing to run")
	}
	r, m, err := assemble(&b.builder, initBin, progs)
	if err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(t.TempDir(), "initrd.cpio")
	size, err := r.writeFile(initrd)
	if err != nil {
		t.Fatal(err)
	}
	// One guest at a time on this machine, also across test runs and
	// clones (a lock in the system's temporary directory): the guests'
	// timing-sensitive tests need the host's cores.
	unlock, err := lockFile(filepath.Join(os.TempDir(), "gorseq-vm-qemu.lock"), "has a guest running", func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	timeout := bootAllowance
	for _, c := range m.Commands {
		timeout += c.Timeout
	}
	// A guest that outlives the test binary's deadline is killed a
	// minute before it, so that its failure is reported.
	if d, ok := t.Deadline(); ok && time.Until(d)-time.Minute < timeout {
		timeout = max(time.Until(d)-time.Minute, time.Second).Round(time.Second)
	}
	tag := k.arch + "-" + k.series
	logPath := filepath.Join(cache, "logs", tag+".log")
	guestAcc := acc
	if k.arch != "amd64" {
		guestAcc = accel{false, "arm64 on an x86 host"}
	}
	t.Logf("booting %s: %s, initramfs %.1f MiB (%d files), %v, timeout %v; serial log %s",
		k.name(), vmlinuz, float64(size)/(1<<20), len(r.entries), guestAcc, timeout, logPath)

	// A guest that dies before /init prints its info line never ran
	// any of our code: qemu or the emulated machine failed (seen once in
	// CI, an amd64 guest gone after 4 s). It is booted once more, and
	// both attempts are reported.
	var g *guestLog
	var qerr error
	for attempt := 1; ; attempt++ {
		g, qerr = bootGuest(t, k, guestAcc, vmlinuz, initrd, logPath, timeout, m, note)
		if g.info != "" || attempt == 2 {
			break
		}
		first := logPath + ".boot1"
		os.Rename(logPath, first)
		note("guest %s: attempt %d died before /init ran (qemu: %v); kept its log as %s; last lines:\n%s", k.name(), attempt, qerr, first, tail(g.boot, 15))
	}
	if qerr != nil {
		t.Errorf("qemu: %v (timeout %v); serial log %s; last lines:\n%s", qerr, timeout, logPath, tail(g.boot, 30))
		note("guest %s FAILED: qemu: %v; last lines:\n%s", k.name(), qerr, tail(g.boot, 15))
	}
	checkInfo(t, k, g, logPath)
	for _, c := range m.Commands {
		p := programByName(progs, c.Name)
		t.Run(c.Name, func(t *testing.T) {
			res := g.commands[c.Name]
			switch {
			case res == nil:
				t.Fatalf("never started in the guest (serial log %s); guest output outside commands, last lines:\n%s", logPath, tail(g.boot, 40))
			case !res.ended:
				t.Fatalf("no end marker: the guest died or was killed while it ran (serial log %s); its output:\n%s", logPath, strings.Join(res.output, "\n"))
			}
			if p.output != "" {
				out := filepath.Join(cache, fmt.Sprintf(p.output, tag))
				os.MkdirAll(filepath.Dir(out), 0o755)
				data := fmt.Sprintf("# %s in the %s guest (%s), %s\n%s\n", strings.Join(c.Argv, " "), k.name(), g.info, time.Now().UTC().Format(time.RFC3339), strings.Join(res.output, "\n"))
				if err := os.WriteFile(out, []byte(data), 0o644); err != nil {
					t.Error(err)
				}
				t.Logf("output in %s", out)
			}
			if res.exit != "0" {
				t.Fatalf("exit=%s after %s (serial log %s); its output:\n%s", res.exit, res.elapsed, logPath, strings.Join(res.output, "\n"))
			}
			t.Logf("exit=0 after %s; last lines:\n%s", res.elapsed, tail(res.output, 3))
		})
	}
	if !g.done && qerr == nil {
		t.Errorf("the guest powered off before /init finished (serial log %s)", logPath)
	}
}

// bootGuest runs one boot of guest k and parses its serial log.
func bootGuest(t *testing.T, k kernel, acc accel, vmlinuz, initrd, logPath string, timeout time.Duration, m *manifest.Manifest, note func(string, ...any)) (*guestLog, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	t0 := time.Now()
	onMarker := func(line string) {
		t.Logf("[%s %6.1fs] %s", k.name(), time.Since(t0).Seconds(), line)
	}
	qerr := runQemu(ctx, k.arch, qemuArgs(k.arch, acc, vmlinuz, initrd), logPath, onMarker, nil)
	wall := time.Since(t0)
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	g := parseLog(f)
	f.Close()

	var times []string
	for _, c := range m.Commands {
		if res := g.commands[c.Name]; res != nil && res.ended {
			times = append(times, c.Name+" "+res.elapsed)
		}
	}
	note("guest %s (%s): %v wall; %s", k.name(), acc.short(), wall.Round(time.Second), strings.Join(times, ", "))
	return g, qerr
}

// checkInfo checks that the guest ran the kernel it should, with the
// rseq features of its series: 6.1 has no AT_RSEQ_FEATURE_SIZE, 6.12 does.
func checkInfo(t *testing.T, k kernel, g *guestLog, logPath string) {
	t.Helper()
	if g.info == "" {
		t.Errorf("no info line from /init (serial log %s); last lines:\n%s", logPath, tail(g.boot, 40))
		return
	}
	t.Logf("guest: %s", g.info)
	if rel := g.infoField("kernel"); !strings.HasPrefix(rel, k.series+".") {
		t.Errorf("guest kernel %q, want %s.*", rel, k.series)
	}
	fs := g.infoField("rseq_feature_size")
	switch {
	case k.series == "6.1" && fs != "absent":
		t.Errorf("6.1 guest reports AT_RSEQ_FEATURE_SIZE=%s", fs)
	case k.series != "6.1" && fs == "absent":
		t.Errorf("%s guest has no AT_RSEQ_FEATURE_SIZE", k.series)
	}
}

func programByName(ps []program, name string) program {
	for _, p := range ps {
		if p.name == name {
			return p
		}
	}
	return program{}
}

// tail returns the last n lines.
func tail(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
