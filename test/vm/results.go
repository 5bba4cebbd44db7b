// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package vm

import (
	"bufio"
	"io"
	"strings"

	"github.com/gorseq/gorseq/test/vm/internal/manifest"
)

// A guestLog is a guest's serial console, split by /init's markers.
type guestLog struct {
	info     string                // the Info marker's fields, "" if none
	done     bool                  // the Done marker was seen
	commands map[string]*cmdResult // by name, for the commands that began
	boot     []string              // lines outside any command (kernel, /init)
}

// A cmdResult is one command's part of the log.
type cmdResult struct {
	output  []string
	ended   bool   // its End marker was seen
	exit    string // "0", another code, "timeout", "signal:...", "error"
	elapsed string // as /init measured it
}

// parseLog splits a serial console log. Carriage returns are dropped; a
// marker counts wherever it starts in a line (the text before it, output
// without a final newline or a kernel message, stays with the output).
func parseLog(r io.Reader) *guestLog {
	g := &guestLog{commands: map[string]*cmdResult{}}
	var cur *cmdResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.ReplaceAll(sc.Text(), "\r", "")
		marker := ""
		if i := strings.Index(line, "@@vm "); i >= 0 {
			marker = line[i:]
			line = line[:i]
		}
		if line != "" || marker == "" {
			if cur != nil {
				cur.output = append(cur.output, line)
			} else {
				g.boot = append(g.boot, line)
			}
		}
		switch f := strings.Fields(marker); {
		case marker == "":
		case strings.HasPrefix(marker, manifest.Info+" "):
			g.info = strings.TrimPrefix(marker, manifest.Info+" ")
		case strings.HasPrefix(marker, manifest.Begin+" ") && len(f) == 3:
			cur = &cmdResult{}
			g.commands[f[2]] = cur
		case strings.HasPrefix(marker, manifest.End+" ") && len(f) >= 4:
			if c := g.commands[f[2]]; c != nil {
				c.ended = true
				for _, kv := range f[3:] {
					k, v, _ := strings.Cut(kv, "=")
					switch k {
					case "exit":
						c.exit = v
					case "elapsed":
						c.elapsed = v
					}
				}
			}
			cur = nil
		case marker == manifest.Done:
			g.done = true
		default: // not one of ours: output
			if cur != nil {
				cur.output = append(cur.output, marker)
			} else {
				g.boot = append(g.boot, marker)
			}
		}
	}
	return g
}

// infoField returns the value of key in the Info marker.
func (g *guestLog) infoField(key string) string {
	for _, kv := range strings.Fields(g.info) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
