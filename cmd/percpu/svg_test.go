// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorseq/gorseq/internal/bench"
)

// The parts of the chart that the tests read.
type svgDoc struct {
	XMLName xml.Name   `xml:"http://www.w3.org/2000/svg svg"`
	Width   string     `xml:"width,attr"`
	Height  string     `xml:"height,attr"`
	ViewBox string     `xml:"viewBox,attr"`
	Title   string     `xml:"title"`
	Panels  []svgPanel `xml:"g"`
	Texts   []svgText  `xml:"text"`
}

type svgPanel struct {
	Class string    `xml:"class,attr"`
	Rects []svgRect `xml:"rect"`
	Lines []svgLine `xml:"line"`
	Texts []svgText `xml:"text"`
}

type svgRect struct {
	Class  string  `xml:"class,attr"`
	X      float64 `xml:"x,attr"`
	Y      float64 `xml:"y,attr"`
	Width  float64 `xml:"width,attr"`
	Height float64 `xml:"height,attr"`
	Fill   string  `xml:"fill,attr"`
	Title  string  `xml:"title"`
}

type svgLine struct {
	Class string  `xml:"class,attr"`
	X1    float64 `xml:"x1,attr"`
	Y1    float64 `xml:"y1,attr"`
	X2    float64 `xml:"x2,attr"`
	Y2    float64 `xml:"y2,attr"`
}

type svgText struct {
	Class string  `xml:"class,attr"`
	X     float64 `xml:"x,attr"`
	Y     float64 `xml:"y,attr"`
	Text  string  `xml:",chardata"`
}

func (p svgPanel) rects(class string) []svgRect {
	var rs []svgRect
	for _, r := range p.Rects {
		if r.Class == class {
			rs = append(rs, r)
		}
	}
	return rs
}

func (p svgPanel) lines(class string) []svgLine {
	var ls []svgLine
	for _, l := range p.Lines {
		if l.Class == class {
			ls = append(ls, l)
		}
	}
	return ls
}

func (p svgPanel) texts(class string) []svgText {
	var ts []svgText
	for _, t := range p.Texts {
		if t.Class == class {
			ts = append(ts, t)
		}
	}
	return ts
}

var testInfo = chartInfo{
	goVersion: "go1.26.8",
	platform:  "linux/amd64",
	cpus:      2,
	maxprocs:  2,
	mode:      "rseq (own)",
	count:     5,
	benchtime: 200 * time.Millisecond,
}

// testTables are two groups as bench would make them: percpu's row and
// its fallback first, the baseline at 1.00x, a name to escape.
func testTables() []table {
	cols := []string{"serial P=1", "serial P=2", "parallel P=1", "parallel P=2"}
	row := func(label string, base []float64, ratios ...float64) tableRow {
		r := tableRow{label: label, ratio: ratios}
		for j, x := range ratios {
			r.ns = append(r.ns, x*base[j])
		}
		return r
	}
	cb := []float64{2.20, 2.17, 2.16, 4.35}
	pb := []float64{11.58, 11.83, 11.07, 6.08}
	return []table{
		{
			group:    "counter",
			baseline: "atomic.AddInt64",
			columns:  cols,
			rows: []tableRow{
				row("percpu.Counter (rseq (own))", cb, 1.18, 1.19, 1.17, 0.30),
				row("percpu.Counter (fallback)", cb, 3.88, 3.78, 3.92, 1.00),
				row("atomic.AddInt64", cb, 1, 1, 1, 1),
				row("xsync.Counter", cb, 6.28, 5.92, 6.30, 1.54),
				row("plain increment", cb, 0.72, 0.79, 0.24, 0.06),
			},
		},
		{
			group:    `pool <Get&Put> "x" 'y'`,
			baseline: "sync.Pool<T>",
			columns:  cols,
			rows: []tableRow{
				row("percpu.Pool (rseq (own)) & <co>", pb, 0.80, 0.80, 0.85, 0.79),
				row("sync.Pool<T>", pb, 1, 1, 1, 1),
			},
		},
	}
}

func parseChart(t *testing.T, data []byte) svgDoc {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v\n%s", err, data)
		}
	}
	var doc svgDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("unmarshal the chart: %v", err)
	}
	return doc
}

func TestChartIsSVG(t *testing.T) {
	tables := testTables()
	doc := parseChart(t, renderChart(testInfo, tables))
	if doc.Width == "" || doc.Height == "" || doc.ViewBox != "0 0 "+doc.Width+" "+doc.Height {
		t.Errorf("width %q, height %q, viewBox %q: want all set and viewBox 0 0 width height", doc.Width, doc.Height, doc.ViewBox)
	}
	if len(doc.Panels) != len(tables) {
		t.Fatalf("%d panels, want one per group (%d)", len(doc.Panels), len(tables))
	}
	var caption []string
	for _, tx := range doc.Texts {
		if tx.Class == "caption" {
			caption = append(caption, tx.Text)
		}
	}
	all := strings.Join(caption, "\n")
	for _, want := range []string{"go1.26.8", "linux/amd64", "GOMAXPROCS 2", "mode rseq (own)", "median of 5", "200ms"} {
		if !strings.Contains(all, want) {
			t.Errorf("caption %q lacks %q", all, want)
		}
	}
}

// TestChartBars checks one bar per ratio, in table order, all from the
// axis, each as long as its ratio times the distance from the axis to the
// reference line, and the ratio printed after it.
func TestChartBars(t *testing.T) {
	tables := testTables()
	doc := parseChart(t, renderChart(testInfo, tables))
	for i, tab := range tables {
		p := doc.Panels[i]
		bars := p.rects("bar")
		if want := len(tab.rows) * len(tab.columns); len(bars) != want {
			t.Fatalf("%s: %d bars, want %d", tab.group, len(bars), want)
		}
		axis, ref := p.lines("axis"), p.lines("ref")
		if len(axis) != 1 || len(ref) != 1 {
			t.Fatalf("%s: %d axis and %d reference lines, want 1 each", tab.group, len(axis), len(ref))
		}
		if axis[0].X1 != axis[0].X2 || ref[0].X1 != ref[0].X2 {
			t.Fatalf("%s: axis %+v or reference %+v not vertical", tab.group, axis[0], ref[0])
		}
		x0, unit := axis[0].X1, ref[0].X1-axis[0].X1
		if unit <= 0 {
			t.Fatalf("%s: reference line at %v, left of the axis at %v", tab.group, ref[0].X1, x0)
		}
		ratios := p.texts("ratio")
		if len(ratios) != len(bars) {
			t.Fatalf("%s: %d ratio labels for %d bars", tab.group, len(ratios), len(bars))
		}
		k := 0
		for _, r := range tab.rows {
			for j, want := range r.ratio {
				b := bars[k]
				if b.X != x0 {
					t.Errorf("%s, %s, %s: bar starts at %v, not at the axis %v", tab.group, r.label, tab.columns[j], b.X, x0)
				}
				if math.Abs(b.Width-want*unit) > 0.01+0.01*want {
					t.Errorf("%s, %s, %s: bar %v long, want %v x %v = %v", tab.group, r.label, tab.columns[j], b.Width, want, unit, want*unit)
				}
				if b.Fill != columnColor(j) {
					t.Errorf("%s, %s, %s: fill %s, want the column's %s", tab.group, r.label, tab.columns[j], b.Fill, columnColor(j))
				}
				if !strings.Contains(b.Title, r.label) || !strings.Contains(b.Title, tab.columns[j]) {
					t.Errorf("bar title %q lacks %q or %q", b.Title, r.label, tab.columns[j])
				}
				if s := fmt.Sprintf("%.2fx", want); ratios[k].Text != s || ratios[k].X <= b.X+b.Width {
					t.Errorf("%s, %s, %s: label %q at x %v, want %q after the bar's end %v", tab.group, r.label, tab.columns[j], ratios[k].Text, ratios[k].X, s, b.X+b.Width)
				}
				if want == 1 && math.Abs(b.X+b.Width-ref[0].X1) > 0.01 {
					t.Errorf("%s: the baseline's bar ends at %v, the reference line is at %v", tab.group, b.X+b.Width, ref[0].X1)
				}
				k++
			}
		}
		// Every bar lies between the reference line's ends.
		for _, b := range bars {
			if b.Y < ref[0].Y1 || b.Y+b.Height > ref[0].Y2 {
				t.Errorf("%s: bar at y %v..%v outside the reference line's %v..%v", tab.group, b.Y, b.Y+b.Height, ref[0].Y1, ref[0].Y2)
			}
		}
	}
}

func TestChartEscapes(t *testing.T) {
	tables := testTables()
	data := renderChart(testInfo, tables)
	for _, raw := range []string{"<Get&Put>", "<T>", "<co>"} {
		if bytes.Contains(data, []byte(raw)) {
			t.Errorf("the chart has %q unescaped", raw)
		}
	}
	if !bytes.Contains(data, []byte("&lt;Get&amp;Put&gt;")) {
		t.Errorf("the chart lacks the escaped group name")
	}
	doc := parseChart(t, data)
	var names []string
	for _, p := range doc.Panels {
		for _, tx := range p.texts("group") {
			names = append(names, tx.Text)
		}
	}
	if want := []string{tables[0].group, tables[1].group}; !slices.Equal(names, want) {
		t.Errorf("group titles %q, want %q", names, want)
	}
	labels := doc.Panels[1].texts("label")
	if len(labels) != 2 || labels[0].Text != tables[1].rows[0].label {
		t.Errorf("row labels %+v, want %q first", labels, tables[1].rows[0].label)
	}
	if !strings.Contains(doc.Title, tables[1].group) {
		t.Errorf("document title %q lacks %q", doc.Title, tables[1].group)
	}
}

// TestChartNotANumber checks that a ratio that cannot be drawn (a
// baseline of 0 ns, a figure never measured) gets "n/a" and no bar.
func TestChartNotANumber(t *testing.T) {
	tab := table{
		group:    "g",
		baseline: "base",
		columns:  []string{"a", "b", "c"},
		rows: []tableRow{
			{label: "x", ratio: []float64{math.NaN(), math.Inf(1), 2}},
			{label: "base", ratio: []float64{1, 1, 1}},
		},
	}
	doc := parseChart(t, renderChart(testInfo, []table{tab}))
	p := doc.Panels[0]
	if n := len(p.rects("bar")); n != 4 {
		t.Errorf("%d bars, want 4 (none for NaN and +Inf)", n)
	}
	var got []string
	for _, tx := range p.texts("ratio") {
		got = append(got, tx.Text)
	}
	if want := []string{"n/a", "n/a", "2.00x", "1.00x", "1.00x", "1.00x"}; !slices.Equal(got, want) {
		t.Errorf("ratio labels %q, want %q", got, want)
	}
}

func TestChartAxis(t *testing.T) {
	for _, tc := range []struct {
		max, top, step float64
	}{
		{0.5, 1, 0.2},
		{1, 1, 0.2},
		{1.18, 1.25, 0.25},
		{3.92, 4, 1},
		{6.30, 8, 2},
		{36.31, 40, 10},
	} {
		tab := table{rows: []tableRow{{ratio: []float64{1, tc.max, math.NaN()}}}}
		top, step := axis(tab)
		if math.Abs(top-tc.top) > 1e-9 || math.Abs(step-tc.step) > 1e-9 {
			t.Errorf("axis of a largest ratio %v: %v in steps of %v, want %v in steps of %v", tc.max, top, step, tc.top, tc.step)
		}
	}
}

func TestSlug(t *testing.T) {
	for name, want := range map[string]string{
		"counter":                          "counter",
		"pool Get+Put, []byte":             "pool-get-put-byte",
		"rwmutex RLock+RUnlock, read-only": "rwmutex-rlock-runlock-read-only",
		"rwmutex, 1% writers":              "rwmutex-1pct-writers",
		"values Update":                    "values-update",
		"--":                               "group",
	} {
		if got := slug(name); got != want {
			t.Errorf("slug(%q) = %q, want %q", name, got, want)
		}
	}
	seen := map[string]bool{}
	for _, g := range bench.Groups() {
		s := slug(g.Name)
		if seen[s] {
			t.Errorf("two groups have the file name %s.svg", s)
		}
		seen[s] = true
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// noBench makes measuring fail the test, and restores measuring after it.
func noBench(t *testing.T) {
	m, f := measureCase, fallbackRound
	t.Cleanup(func() { measureCase, fallbackRound = m, f })
	measureCase = func(bench.Case, column) float64 {
		t.Fatal("measured despite a bad flag")
		return 0
	}
	fallbackRound = func() (map[string]float64, error) {
		t.Fatal("ran the fallback child despite a bad flag")
		return nil, nil
	}
}

// fakeBench makes every measurement take ns(case) without measuring.
func fakeBench(t *testing.T, fallback func() (map[string]float64, error)) {
	m, f := measureCase, fallbackRound
	t.Cleanup(func() { measureCase, fallbackRound = m, f })
	measureCase = func(c bench.Case, col column) float64 { return float64(len(c.Name)) }
	fallbackRound = fallback
}

// quiet sends stdout and stderr to files for the test, and returns a
// function that returns what was written to stderr.
func quiet(t *testing.T) func() string {
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	so, se := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = out, errf
	t.Cleanup(func() {
		os.Stdout, os.Stderr = so, se
		out.Close()
		errf.Close()
	})
	return func() string {
		b, _ := os.ReadFile(errf.Name())
		return string(b)
	}
}

func TestBenchBadSVGPath(t *testing.T) {
	noBench(t)
	quiet(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing", "bench.svg")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-svg", missing}, "-svg: cannot create " + missing + ": no such file or directory"},
		{[]string{"-svg", dir}, "-svg: cannot create " + dir + ": it is a directory"},
		{[]string{"-svg-groups", filepath.Join(dir, "missing", "bench")}, "-svg-groups: cannot create " + filepath.Join(dir, "missing", "bench-counter.svg") + ": no such file or directory"},
		{[]string{"-svg-groups", filepath.Join(dir, "missing") + "/"}, "-svg-groups: cannot create " + filepath.Join(dir, "missing", "counter.svg") + ": no such file or directory"},
		{[]string{"-svg", filepath.Join(dir, "counter.svg"), "-svg-groups", dir}, "would be written twice"},
		{[]string{"-svg"}, "flag needs an argument: -svg"},
		{[]string{"-svg", "x.svg", "extra"}, `unexpected argument "extra"`},
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"-svg", filepath.Join(ro, "bench.svg")}, "-svg: cannot create " + filepath.Join(ro, "bench.svg") + ": permission denied"})
	}
	for _, tc := range cases {
		args := append([]string{"-count", "1", "-benchtime", "1ns"}, tc.args...)
		err := runBench(args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("percpu bench %q: error %v, want one with %q", args, err, tc.want)
		}
	}
	for _, e := range must(os.ReadDir(dir)) {
		if e.Name() != "ro" {
			t.Errorf("a bad path left %s in %s", e.Name(), dir)
		}
	}
}

func TestBenchHelpListsSVG(t *testing.T) {
	noBench(t)
	stderr := quiet(t)
	if err := runBench([]string{"-h"}); err != nil {
		t.Fatalf("percpu bench -h: %v", err)
	}
	help := stderr()
	for _, want := range []string{"-svg file", "-svg-groups prefix", "-count", "-group"} {
		if !strings.Contains(help, want) {
			t.Errorf("percpu bench -h lacks %q:\n%s", want, help)
		}
	}
}

func TestBenchWritesSVG(t *testing.T) {
	fakeBench(t, func() (map[string]float64, error) { return map[string]float64{}, nil })
	quiet(t)
	dir := t.TempDir()
	all := filepath.Join(dir, "all.svg")
	if err := os.WriteFile(all, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runBench([]string{"-count", "1", "-group", "pool", "-svg", all, "-svg-groups", filepath.Join(dir, "bench")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"all.svg", "bench-pool-get-put-byte.svg", "bench-pool-get-put.svg"}; !slices.Equal(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		doc := parseChart(t, data)
		if want := map[bool]int{true: 2, false: 1}[n == "all.svg"]; len(doc.Panels) != want {
			t.Errorf("%s: %d panels, want %d", n, len(doc.Panels), want)
		}
	}
}

// TestBenchFailureLeavesNoFile checks that a chart that cannot be written
// at the end, or a run that fails, leaves no partial or temporary file.
func TestBenchFailureLeavesNoFile(t *testing.T) {
	quiet(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "bench.svg")
	fakeBench(t, func() (map[string]float64, error) { return map[string]float64{}, nil })
	measureCase = func(c bench.Case, col column) float64 {
		os.Mkdir(target, 0o755) // after the check: the rename will fail
		return 1
	}
	err := runBench([]string{"-count", "1", "-group", "counter", "-svg", target})
	if err == nil || !strings.Contains(err.Error(), "-svg: writing "+target) {
		t.Errorf("error %v, want one about writing %s", err, target)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != "bench.svg" || !entries[0].IsDir() {
		t.Errorf("left %v in %s, want only the directory bench.svg", entries, dir)
	}

	os.Remove(target)
	fakeBench(t, func() (map[string]float64, error) { return nil, errors.New("child failed") })
	measureCase = func(c bench.Case, col column) float64 { return 1 }
	err = runBench([]string{"-count", "1", "-group", "counter", "-svg", target})
	if err == nil {
		// Without rseq there is no fallback child to fail.
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("without rseq: %v in %s, want bench.svg", entries, dir)
		}
		return
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed run left %v in %s", entries, dir)
	}
}
