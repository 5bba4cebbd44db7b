// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gorseq/gorseq/percpu"
)

// runInProcess runs the command in this process and returns its exit
// code and key=value lines.
func runInProcess(t *testing.T, args ...string) (int, map[string]string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	kv := map[string]string{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			if k == "error" && kv[k] != "" {
				v = kv[k] + "; " + v
			}
			kv[k] = v
		}
	}
	return code, kv, stdout.String() + stderr.String()
}

// TestScenariosInProcess runs every scenario briefly in the test process
// (no injection): with rseq under the patched toolchain, through the
// fallbacks under a stock one. The matrix (TestMatrix) is the real test.
func TestScenariosInProcess(t *testing.T) {
	for _, name := range scenarioNames() {
		t.Run(name, func(t *testing.T) {
			code, kv, out := runInProcess(t, "-T", name, "-d", "200ms", "-t", "8", "-allow-fallback")
			if code == exitUnsupported && name == "membarrier" {
				t.Skipf("unsupported: %s", kv["error"])
			}
			if code != exitOK || kv["invariant"] != "ok" || kv["done"] != "1" {
				t.Fatalf("exit %d, invariant=%q:\n%s", code, kv["invariant"], out)
			}
			if percpu.Status().Mode.Rseq() && kv["fallback_steps"] != "0" {
				t.Errorf("fallback_steps=%s with rseq", kv["fallback_steps"])
			}
			t.Logf("mode %s: %s steps, %s aborts", kv["mode"], kv["steps"], kv["aborts"])
		})
	}
}

// TestUsage checks the command's refusals: bad flags are exit 2 with an
// error line, a missing kernel feature exit 3.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-T", "nosuch"}, exitUsage, "unknown scenario"},
		{[]string{"-m", "5"}, exitUsage, "without -y, -k or -s"},
		{[]string{"-y"}, exitUsage, "need -m"},
		{[]string{"-sig", "hup", "-m", "1", "-k"}, exitUsage, "want usr1 or urg"},
		{[]string{"-t", "0"}, exitUsage, "at least one thread"},
		{[]string{"-T", "membarrier", "-membarrier-missing", "-allow-fallback", "-r", "1"}, exitUnsupported, "lacks MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ"},
	} {
		code, kv, out := runInProcess(t, tc.args...)
		if code != tc.code || !strings.Contains(kv["error"], tc.want) {
			t.Errorf("%q: exit %d, error=%q; want exit %d and %q\n%s", tc.args, code, kv["error"], tc.code, tc.want, out)
		}
	}
	if !injectBuilt {
		for _, args := range [][]string{{"-2", "100"}, {"-M", "2"}} {
			code, kv, _ := runInProcess(t, args...)
			if code != exitUsage || !strings.Contains(kv["error"], "gorseq_inject") {
				t.Errorf("%q without -tags gorseq_inject: exit %d, error=%q; want exit %d naming the tag", args, code, kv["error"], exitUsage)
			}
		}
	}
}
