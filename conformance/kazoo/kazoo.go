// Package kazoo runs Python scenarios built on kazoo (Debian's python3-kazoo)
// against ZooKeeper servers, so that Apache ZooKeeper and zkserver can be
// compared through a real third-party client and its recipes.
//
// A scenario is a script testdata/kz_*.py run as
//
//	/usr/bin/python3 kz_NAME.py HOST:PORT ROOT
//
// that prints deterministic lines on stdout, ends with "OK" and exits 0.
package kazoo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
)

// DebianPython is the interpreter python3-kazoo installs into; the python3
// first on PATH may be another installation without kazoo.
const DebianPython = "/usr/bin/python3"

// ErrNoKazoo reports that Debian's python3 or its kazoo module is missing.
var ErrNoKazoo = errors.New("kazoo: /usr/bin/python3 with python3-kazoo not available")

// FindPython returns DebianPython if it can import kazoo.
func FindPython(ctx context.Context) (string, error) {
	if _, err := os.Stat(DebianPython); err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoKazoo, err)
	}
	out, err := exec.CommandContext(ctx, DebianPython, "-c", "import kazoo.client, kazoo.recipe.lock").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: import kazoo: %v: %s", ErrNoKazoo, err, bytes.TrimSpace(out))
	}
	return DebianPython, nil
}

// Scripts lists the scenario scripts (kz_*.py) in dir, sorted.
func Scripts(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "kz_*.py"))
	if err != nil {
		return nil, fmt.Errorf("kazoo: list scripts: %w", err)
	}
	sort.Strings(paths)
	return paths, nil
}

// Name is a script's scenario name: kz_lock_order.py -> lock_order.
func Name(script string) string {
	return strings.TrimSuffix(strings.TrimPrefix(filepath.Base(script), "kz_"), ".py")
}

// Result is one script run against one server.
type Result struct {
	Script   string
	Lines    []string // stdout, one entry per line
	Stderr   string
	Err      error // non-nil when the script failed or did not end with OK
	Duration time.Duration
}

// OK reports whether the script succeeded.
func (r *Result) OK() bool { return r.Err == nil }

// Run runs script with python against the server at addr, using root as
// the scenario's znode (created by the script).
func Run(ctx context.Context, python, script, addr, root string) *Result {
	res := &Result{Script: script}
	start := time.Now()
	cmd := exec.CommandContext(ctx, python, script, addr, root)
	cmd.Dir = filepath.Dir(script)
	// Bytecode caches would be written into testdata.
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Kill the interpreter if the context ends; daemon threads never block it.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	res.Duration = time.Since(start)
	res.Stderr = stderr.String()
	res.Lines = splitLines(stdout.String())
	switch {
	case err != nil:
		res.Err = fmt.Errorf("kazoo: %s: %w", filepath.Base(script), err)
	case len(res.Lines) == 0 || res.Lines[len(res.Lines)-1] != "OK":
		res.Err = fmt.Errorf("kazoo: %s: exited 0 without a final OK line", filepath.Base(script))
	}
	return res
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Diff returns a line diff of b against a ("-" only in a, "+" only in b),
// or "" when they are equal.
func Diff(aName string, a []string, bName string, b []string) string {
	if equal(a, b) {
		return ""
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, e := range harness.LineEdits(a, b, true) {
		fmt.Fprintf(&out, "%c %s\n", e.Op, e.Line)
	}
	return out.String()
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
