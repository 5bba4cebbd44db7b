// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package manifest is the contract between test/vm's host side and the
// guest's /init: the list of commands /init runs, where it finds it, and
// the markers it prints on the serial console around each command.
package manifest

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// Path is where /init reads the manifest in the guest.
const Path = "/vm/manifest.json"

// The markers, each at the start of a line of the console. Markers are
// followed by a space and their fields.
const (
	// Info is printed once at the start: "@@vm info kernel=... cpus=N
	// rseq_feature_size=N|absent rseq_align=N|absent".
	Info = "@@vm info"
	// Begin is printed before a command's output: "@@vm begin NAME".
	Begin = "@@vm begin"
	// End is printed after it: "@@vm end NAME exit=N elapsed=D", where N
	// is the exit code, "timeout" (killed after Command.Timeout),
	// "signal:NAME" or "error" (it did not start; the error is printed
	// before the marker).
	End = "@@vm end"
	// Done is printed when every command ran, right before power-off.
	Done = "@@vm done"
)

// A Manifest is what the guest runs, in order.
type Manifest struct {
	Commands []Command
}

// A Command is one program run by /init.
type Command struct {
	// Name identifies the command in the markers: no spaces.
	Name string
	// Argv is the program (an absolute path in the guest) and its
	// arguments.
	Argv []string
	// Env is added to /init's environment (KEY=VALUE).
	Env []string `json:",omitempty"`
	// Dir is the working directory; "" is /tmp.
	Dir string `json:",omitempty"`
	// Timeout kills the command's process group when it runs longer.
	Timeout time.Duration
}

// Validate reports the first problem of m: a command without a name or
// argv, a name with spaces, twice the same name, or no timeout.
func (m *Manifest) Validate() error {
	seen := map[string]bool{}
	for i, c := range m.Commands {
		switch {
		case c.Name == "" || strings.ContainsAny(c.Name, " \t\n"):
			return fmt.Errorf("command %d: bad name %q", i, c.Name)
		case seen[c.Name]:
			return fmt.Errorf("command %s listed twice", c.Name)
		case len(c.Argv) == 0:
			return fmt.Errorf("command %s: no argv", c.Name)
		case c.Timeout <= 0:
			return fmt.Errorf("command %s: no timeout", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// Encode returns m as JSON.
func (m *Manifest) Encode() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.MarshalIndent(m, "", "\t")
}

// Read reads and validates the manifest at path.
func Read(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &m, nil
}
