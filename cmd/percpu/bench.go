// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"bufio"
	"errors"
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

// measureCase and fallbackRound are measure and runFallbackChild; the
// tests replace them so as to run runBench without benchmarks.
var (
	measureCase   = measure
	fallbackRound = runFallbackChild
)

const benchUsage = `usage: percpu bench [-count n] [-benchtime d] [-group s] [-svg file] [-svg-groups prefix]

Measures percpu's types against what they replace and prints, per group,
ns/op and the ratio to the group's baseline, serial and parallel at
GOMAXPROCS 1 and 2; with rseq, percpu's candidate is measured again in a
GODEBUG=rseq=0 child. -svg and -svg-groups also draw the ratios as SVG bar
charts; their paths are checked before anything is measured.

`

// runBench runs every group of candidates side by side and prints, per
// group, ns/op and the ratio to the group's baseline, each the median of
// -count rounds. percpu's own candidate is measured again, without rseq,
// in a GODEBUG=rseq=0 child after each round. With -svg or -svg-groups it
// then draws the same ratios as SVG bar charts (svg.go).
func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
	}
	count := fs.Int("count", 5, "rounds per figure; the table shows the median")
	benchtime := fs.Duration("benchtime", 200*time.Millisecond, "time per measurement")
	only := fs.String("group", "", "run only the groups whose name contains this")
	svgAll := fs.String("svg", "", "after measuring, write a bar chart of every group's ratios to the SVG `file`")
	svgGroups := fs.String("svg-groups", "", "after measuring, write one SVG bar chart per group, to `prefix`-<group>.svg\n(or to <group>.svg in prefix, if prefix is a directory or ends in /)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see percpu bench -h)", fs.Arg(0))
	}
	if *count < 1 || *benchtime <= 0 {
		return fmt.Errorf("-count must be >= 1 and -benchtime > 0")
	}
	testing.Init()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		return err
	}
	var groups []bench.Group
	for _, g := range bench.Groups() {
		if strings.Contains(g.Name, *only) {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return fmt.Errorf("no group matches -group %q", *only)
	}
	if os.Getenv(benchChildEnv) != "" {
		return benchChild(groups)
	}
	// Fail on a bad chart path now, not after minutes of measuring.
	charts, err := planCharts(*svgAll, *svgGroups, groups)
	if err != nil {
		return err
	}

	st := percpu.Status()
	info := chartInfo{
		goVersion: runtime.Version(),
		platform:  runtime.GOOS + "/" + runtime.GOARCH,
		cpus:      runtime.NumCPU(),
		maxprocs:  runtime.GOMAXPROCS(0),
		mode:      st.Mode.String(),
		count:     *count,
		benchtime: *benchtime,
	}
	fmt.Printf("%s, %s/%s, %d CPUs, mode %v; ns/op (ratio to the group's baseline), median of %d\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), st.Mode, *count)
	results := map[string][]float64{} // group/name/column -> rounds
	for round := 0; round < *count; round++ {
		for _, g := range groups {
			for _, c := range g.Cases {
				for _, col := range columns {
					k := key(g.Name, c.Name, col)
					results[k] = append(results[k], measureCase(c, col))
				}
			}
		}
		if st.Mode.Rseq() {
			fb, err := fallbackRound()
			if err != nil {
				return err
			}
			for k, ns := range fb {
				results[k] = append(results[k], ns)
			}
		}
	}
	var tables []table
	for _, g := range groups {
		t := table{group: g.Name, baseline: g.Baseline}
		for _, col := range columns {
			t.columns = append(t.columns, col.String())
		}
		for i, c := range g.Cases {
			names := []string{c.Name}
			if i == 0 && st.Mode.Rseq() {
				names = append(names, c.Name+fallbackSuffix)
			}
			for _, name := range names {
				r := tableRow{label: name}
				if i == 0 && name == c.Name {
					r.label = fmt.Sprintf("%s (%v)", name, st.Mode)
				}
				for _, col := range columns {
					ns := median(results[key(g.Name, name, col)])
					base := median(results[key(g.Name, g.Baseline, col)])
					r.ns = append(r.ns, ns)
					r.ratio = append(r.ratio, ns/base)
				}
				t.rows = append(t.rows, r)
			}
		}
		tables = append(tables, t)
	}
	for _, t := range tables {
		fmt.Printf("\n%s\n", t.group)
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "\t")
		for _, col := range t.columns {
			fmt.Fprintf(tw, "%s\t", col)
		}
		fmt.Fprintln(tw)
		for _, r := range t.rows {
			fmt.Fprintf(tw, "%s\t", r.label)
			for j := range r.ns {
				fmt.Fprintf(tw, "%.2f (%.2fx)\t", r.ns[j], r.ratio[j])
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return charts.write(info, tables)
}

// A table is one group's figures as printed and charted: a row per
// candidate (percpu's first, then its fallback when measured), a figure
// per column.
type table struct {
	group    string
	baseline string
	columns  []string
	rows     []tableRow
}

type tableRow struct {
	label string
	ns    []float64 // median ns/op, per column
	ratio []float64 // ns over the baseline's ns in the same column
}

const fallbackSuffix = " (fallback)"

func key(group, name string, col column) string { return group + "/" + name + "/" + col.String() }

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
// round of percpu's candidates and returns their ns/op by result key.
func runFallbackChild() (map[string]float64, error) {
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
	res := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "\t")
		ns, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("fallback child printed %q", sc.Text())
		}
		res[k] = ns
	}
	return res, nil
}

// benchChild measures each group's percpu candidate in every column and
// prints "key<TAB>ns" lines.
func benchChild(groups []bench.Group) error {
	if percpu.Status().Mode.Rseq() {
		return fmt.Errorf("the fallback child has rseq (GODEBUG=rseq=0 ignored?)")
	}
	for _, g := range groups {
		c := g.Cases[0]
		for _, col := range columns {
			fmt.Printf("%s\t%s\n", key(g.Name, c.Name+fallbackSuffix, col), strconv.FormatFloat(measure(c, col), 'g', -1, 64))
		}
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
