// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorseq/gorseq/internal/bench"
)

// chartInfo is what a chart's caption says about the run.
type chartInfo struct {
	goVersion string // runtime.Version()
	platform  string // GOOS/GOARCH
	cpus      int    // runtime.NumCPU()
	maxprocs  int    // GOMAXPROCS when bench started
	mode      string // percpu's mode
	count     int    // rounds; the figures are medians
	benchtime time.Duration
}

// The chart's geometry, in SVG user units (pixels).
const (
	chartWidth  = 760.0 // at least; wider if the labels need it
	chartMargin = 16.0
	minPlotW    = 300.0
	valueRoom   = 52.0 // right of the plot, for the ratio after the longest bar
	barH        = 11.0
	barGap      = 2.0
	rowGap      = 12.0
	fontSize    = 12.0
)

// ratioStyle sets the ratios in small type with a white halo, legible
// over the reference and grid lines.
const ratioStyle = ` font-size="10" stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"`

// columnColors colour the bars of each column: blues for serial, oranges
// for parallel, light for P=1 and dark for P=2.
var columnColors = []string{"#9ecae1", "#3182bd", "#fdae6b", "#e6550d"}

// renderChart draws tables as one SVG document: a panel per table, in
// which each row (candidate) is a cluster of horizontal bars, one per
// column, each as long as the row's ratio to the baseline in that column
// and labelled with it. Each panel has its own linear scale from 0, and a
// dashed line at 1.0x, the baseline. A ratio that is not a finite
// non-negative number gets no bar, and "n/a" for a label.
func renderChart(info chartInfo, tables []table) []byte {
	labelW := 0.0
	for _, t := range tables {
		for _, r := range t.rows {
			labelW = max(labelW, textWidth(r.label, fontSize))
		}
	}
	plotX := chartMargin + labelW + 10
	width := math.Ceil(max(chartWidth, plotX+minPlotW+valueRoom+chartMargin))
	plotW := width - chartMargin - valueRoom - plotX

	var b bytes.Buffer
	y := chartMargin
	for _, t := range tables {
		y = drawPanel(&b, t, y, plotX, plotW)
	}
	y += 4
	for _, line := range captionLines(info) {
		y += 15
		fmt.Fprintf(&b, "<text class=\"caption\" x=\"%s\" y=\"%s\" font-size=\"11\" fill=\"#555\">%s</text>\n",
			num(chartMargin), num(y), esc(line))
	}
	height := math.Ceil(y + chartMargin)

	var names []string
	for _, t := range tables {
		names = append(names, t.group)
	}
	var doc bytes.Buffer
	doc.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	fmt.Fprintf(&doc, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%s\" height=\"%s\" viewBox=\"0 0 %s %s\" font-family=\"sans-serif\" font-size=\"%s\" role=\"img\">\n",
		num(width), num(height), num(width), num(height), num(fontSize))
	fmt.Fprintf(&doc, "<title>percpu bench: %s</title>\n", esc(strings.Join(names, "; ")))
	doc.WriteString("<rect class=\"background\" width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n")
	doc.Write(b.Bytes())
	doc.WriteString("</svg>\n")
	return doc.Bytes()
}

// drawPanel draws t's panel from y down and returns the y below it.
func drawPanel(b *bytes.Buffer, t table, y, plotX, plotW float64) float64 {
	b.WriteString("<g class=\"panel\">\n")
	y += 16
	fmt.Fprintf(b, "<text class=\"group\" x=\"%s\" y=\"%s\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
		num(chartMargin), num(y), esc(t.group))
	y += 18
	fmt.Fprintf(b, "<text class=\"subtitle\" x=\"%s\" y=\"%s\" fill=\"#555\">%s</text>\n",
		num(chartMargin), num(y), esc("ns/op as a ratio to "+t.baseline+" (dashed line: 1.0x); shorter is faster"))

	// The legend: a swatch and the name of each column.
	y += 10
	x := chartMargin
	for j, col := range t.columns {
		fmt.Fprintf(b, "<rect class=\"swatch\" x=\"%s\" y=\"%s\" width=\"10\" height=\"10\" fill=\"%s\"/>\n",
			num(x), num(y), columnColor(j))
		fmt.Fprintf(b, "<text x=\"%s\" y=\"%s\">%s</text>\n", num(x+14), num(y+9.5), esc(col))
		x += 14 + textWidth(col, fontSize) + 18
	}
	y += 10 + 12

	top, step := axis(t)
	scale := plotW / top // units per 1.0x
	refX := plotX + scale
	n := len(t.columns)
	clusterH := float64(n)*barH + float64(max(n-1, 0))*barGap
	plotTop := y
	plotBottom := plotTop + float64(len(t.rows))*(clusterH+rowGap)

	// Grid lines and their labels; the label at 1x is the reference
	// line's, so labels too close to it are left out.
	for i := 0; ; i++ {
		v := float64(i) * step
		if v > top*(1+1e-9) {
			break
		}
		gx := plotX + v*scale
		fmt.Fprintf(b, "<line class=\"grid\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#e4e4e4\"/>\n",
			num(gx), num(plotTop), num(gx), num(plotBottom))
		if math.Abs(gx-refX) >= 24 {
			fmt.Fprintf(b, "<text class=\"tick\" x=\"%s\" y=\"%s\" font-size=\"10\" fill=\"#555\" text-anchor=\"middle\">%sx</text>\n",
				num(gx), num(plotBottom+13), strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64))
		}
	}

	// A cluster of bars per row, labelled on the left. The ratios are
	// written after the reference line, over it, with a white halo.
	var ratios bytes.Buffer
	y = plotTop + rowGap/2
	for i, r := range t.rows {
		weight := ""
		if i == 0 {
			weight = " font-weight=\"bold\""
		}
		fmt.Fprintf(b, "<text class=\"label\" x=\"%s\" y=\"%s\" text-anchor=\"end\"%s>%s</text>\n",
			num(plotX-8), num(y+clusterH/2+4), weight, esc(r.label))
		for j := range t.columns {
			by := y + float64(j)*(barH+barGap)
			ratio := math.NaN()
			if j < len(r.ratio) {
				ratio = r.ratio[j]
			}
			if !(ratio >= 0) || math.IsInf(ratio, 0) {
				fmt.Fprintf(&ratios, "<text class=\"ratio\" x=\"%s\" y=\"%s\""+ratioStyle+" fill=\"#555\">n/a</text>\n",
					num(plotX+4), num(by+barH-2))
				continue
			}
			w := ratio * scale
			tip := fmt.Sprintf("%s, %s: %.2fx", r.label, t.columns[j], ratio)
			if j < len(r.ns) {
				tip = fmt.Sprintf("%s, %s: %.2f ns/op (%.2fx)", r.label, t.columns[j], r.ns[j], ratio)
			}
			fmt.Fprintf(b, "<rect class=\"bar\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"><title>%s</title></rect>\n",
				num(plotX), num(by), num(w), num(barH), columnColor(j), esc(tip))
			fmt.Fprintf(&ratios, "<text class=\"ratio\" x=\"%s\" y=\"%s\""+ratioStyle+">%.2fx</text>\n",
				num(plotX+w+4), num(by+barH-2), ratio)
		}
		y += clusterH + rowGap
	}

	// The axis, the reference line over the bars, and the ratios.
	fmt.Fprintf(b, "<line class=\"axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#888\"/>\n",
		num(plotX), num(plotTop), num(plotX), num(plotBottom))
	fmt.Fprintf(b, "<line class=\"ref\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#222\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"><title>1.0x = %s</title></line>\n",
		num(refX), num(plotTop-4), num(refX), num(plotBottom+2), esc(t.baseline))
	fmt.Fprintf(b, "<text class=\"tick\" x=\"%s\" y=\"%s\" font-size=\"10\" font-weight=\"bold\" text-anchor=\"middle\">1x</text>\n",
		num(refX), num(plotBottom+13))
	b.Write(ratios.Bytes())
	b.WriteString("</g>\n")
	return plotBottom + 13 + 22
}

// axis returns the end of t's scale and the step between its grid lines:
// a round number of steps of 1, 2, 2.5 or 5 times a power of ten, about
// five of them, covering 1.0x and every finite ratio.
func axis(t table) (top, step float64) {
	m := 1.0
	for _, r := range t.rows {
		for _, v := range r.ratio {
			if v > m && !math.IsInf(v, 0) {
				m = v
			}
		}
	}
	raw := m / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, k := range []float64{1, 2, 2.5, 5} {
		if k*mag >= raw*(1-1e-9) {
			step = k * mag
			break
		}
	}
	return math.Ceil(m/step*(1-1e-9)) * step, step
}

func captionLines(info chartInfo) []string {
	rounds := fmt.Sprintf("median of %d rounds", info.count)
	if info.count == 1 {
		rounds = "1 round"
	}
	return []string{
		fmt.Sprintf("%s %s, %d CPUs, GOMAXPROCS %d, percpu mode %s",
			info.goVersion, info.platform, info.cpus, info.maxprocs, info.mode),
		fmt.Sprintf("%s of %v per measurement; serial: one goroutine, parallel: RunParallel; P: GOMAXPROCS while measuring",
			rounds, info.benchtime),
	}
}

func columnColor(j int) string { return columnColors[j%len(columnColors)] }

// textWidth estimates the width of s in a sans-serif font of the size,
// generously, for a layout that needs no font metrics.
func textWidth(s string, size float64) float64 {
	return float64(utf8.RuneCountInString(s)) * size * 0.6
}

// num formats a coordinate, to a hundredth.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// esc escapes s for XML text or an attribute value.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// chartFile is one SVG to write after measuring: every table (group < 0),
// or the table of one group.
type chartFile struct {
	flag  string // "-svg" or "-svg-groups", for errors
	path  string
	group int
}

// chartFiles are the SVG files that a run of bench writes.
type chartFiles []chartFile

// planCharts returns the files that -svg (all, every group in one file)
// and -svg-groups (prefix, a file per group) ask for, after checking that
// each can be created: a temporary file is created and removed in each
// one's directory, so that a bad path fails before anything is measured
// and an interrupted run leaves nothing behind.
func planCharts(all, prefix string, groups []bench.Group) (chartFiles, error) {
	var files chartFiles
	if all != "" {
		files = append(files, chartFile{"-svg", all, -1})
	}
	if prefix != "" {
		dir := strings.HasSuffix(prefix, "/") || strings.HasSuffix(prefix, string(filepath.Separator))
		if fi, err := os.Stat(prefix); err == nil && fi.IsDir() {
			dir = true
		}
		seen := map[string]string{}
		for i, g := range groups {
			s := slug(g.Name)
			if other, ok := seen[s]; ok {
				return nil, fmt.Errorf("-svg-groups: groups %q and %q would both be written to %s.svg", other, g.Name, s)
			}
			seen[s] = g.Name
			path := prefix + "-" + s + ".svg"
			if dir {
				path = filepath.Join(prefix, s+".svg")
			}
			files = append(files, chartFile{"-svg-groups", path, i})
		}
	}
	paths := map[string]bool{}
	for _, f := range files {
		p := filepath.Clean(f.path)
		if paths[p] {
			return nil, fmt.Errorf("%s: %s would be written twice (by -svg and -svg-groups)", f.flag, f.path)
		}
		paths[p] = true
		if fi, err := os.Stat(f.path); err == nil && fi.IsDir() {
			return nil, fmt.Errorf("%s: cannot create %s: it is a directory", f.flag, f.path)
		}
		tmp, err := createTemp(f.path)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot create %s: %v", f.flag, f.path, err)
		}
		tmp.Close()
		os.Remove(tmp.Name())
	}
	return files, nil
}

// write renders and writes each file: into a temporary file in the same
// directory, renamed over the file when complete, so that a failure
// leaves no partial chart.
func (files chartFiles) write(info chartInfo, tables []table) error {
	for _, f := range files {
		ts := tables
		if f.group >= 0 {
			ts = tables[f.group : f.group+1]
		}
		if err := writeAtomic(f.path, renderChart(info, ts)); err != nil {
			return fmt.Errorf("%s: writing %s: %v", f.flag, f.path, err)
		}
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return unwrapPath(err)
	}
	return nil
}

// createTemp creates a hidden temporary file next to path.
func createTemp(path string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	return f, unwrapPath(err)
}

// unwrapPath drops the name of the temporary file from err: the caller
// names the file it was for.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// slug turns a group's name into a file name: lower-case ASCII letters
// and digits, "%" spelled "pct", anything else a single "-".
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r == '%':
			b.WriteString("pct")
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if s == "" {
		s = "group"
	}
	return s
}
