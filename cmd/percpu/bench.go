// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/gorseq/gorseq/internal/bench"
	"github.com/gorseq/gorseq/percpu"
)

// benchChildEnv marks the child that bench runs with GODEBUG=rseq=0 to
// measure percpu's fallback in the same run.
const benchChildEnv = "GORSEQ_BENCH_CHILD"

// A column of the table: serial or parallel, at a GOMAXPROCS.
type column struct {
	parallel bool
	procs    int
}

func (c column) String() string {
	kind := "serial"
	if c.parallel {
		kind = "parallel"
	}
	return fmt.Sprintf("%s P=%d", kind, c.procs)
}

var columns = []column{{false, 1}, {false, 2}, {true, 1}, {true, 2}}

// runBench runs the counter candidates side by side and prints ns/op and the
// ratio to the shared atomic, each the median of -count rounds.
func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	count := fs.Int("count", 5, "rounds per figure; the table shows the median")
	benchtime := fs.Duration("benchtime", 200*time.Millisecond, "time per measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *count < 1 || *benchtime <= 0 {
		return fmt.Errorf("-count must be >= 1 and -benchtime > 0")
	}
	testing.Init()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		return err
	}
	cases := bench.CounterCases()
	if os.Getenv(benchChildEnv) != "" {
		return benchChild(cases[0])
	}

	st := percpu.Status()
	fmt.Printf("counters: %s, %s/%s, %d CPUs, mode %v; ns/op (ratio to %s), median of %d\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), st.Mode, bench.CounterBaseline, *count)
	results := map[string][]float64{} // name/column -> rounds
	fallbackName := cases[0].Name + " (fallback)"
	for round := 0; round < *count; round++ {
		for _, c := range cases {
			for _, col := range columns {
				results[key(c.Name, col)] = append(results[key(c.Name, col)], measure(c, col))
			}
		}
		if st.Mode.Rseq() {
			fb, err := runFallbackChild()
			if err != nil {
				return err
			}
			for col, ns := range fb {
				results[key(fallbackName, col)] = append(results[key(fallbackName, col)], ns)
			}
		}
	}
	names := []string{}
	for _, c := range cases {
		names = append(names, c.Name)
		if c.Name == cases[0].Name && st.Mode.Rseq() {
			names = append(names, fallbackName)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, col := range columns {
		fmt.Fprintf(tw, "%v\t", col)
	}
	fmt.Fprintln(tw)
	for _, name := range names {
		label := name
		if name == cases[0].Name {
			label = fmt.Sprintf("%s (%v)", name, st.Mode)
		}
		fmt.Fprintf(tw, "%s\t", label)
		for _, col := range columns {
			ns, base := median(results[key(name, col)]), median(results[key(bench.CounterBaseline, col)])
			fmt.Fprintf(tw, "%.2f (%.2fx)\t", ns, ns/base)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func key(name string, col column) string { return name + "/" + col.String() }

// measure runs one case in one column and returns ns/op.
func measure(c bench.Case, col column) float64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(col.procs))
	f := c.Serial
	if col.parallel {
		f = c.Parallel
	}
	r := testing.Benchmark(f)
	return float64(r.T.Nanoseconds()) / float64(r.N)
}

// runFallbackChild runs this program's bench with GODEBUG=rseq=0 for one
// round of percpu's case and returns its ns/op per column.
func runFallbackChild() (map[column]float64, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to measure the fallback: %w", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), benchChildEnv+"=1", "GODEBUG=rseq=0")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("fallback child (GODEBUG=rseq=0): %w", err)
	}
	res := map[column]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var par, procs int
		var ns float64
		if _, err := fmt.Sscanf(sc.Text(), "%d %d %g", &par, &procs, &ns); err != nil {
			return nil, fmt.Errorf("fallback child printed %q: %w", sc.Text(), err)
		}
		res[column{par == 1, procs}] = ns
	}
	if len(res) != len(columns) {
		return nil, fmt.Errorf("fallback child gave %d figures, want %d", len(res), len(columns))
	}
	return res, nil
}

// benchChild measures c in every column and prints "parallel procs ns".
func benchChild(c bench.Case) error {
	if percpu.Status().Mode.Rseq() {
		return fmt.Errorf("the fallback child has rseq (GODEBUG=rseq=0 ignored?)")
	}
	for _, col := range columns {
		par := 0
		if col.parallel {
			par = 1
		}
		fmt.Println(par, col.procs, strconv.FormatFloat(measure(c, col), 'g', -1, 64))
	}
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
