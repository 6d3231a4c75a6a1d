package harness

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NeedOrSkip skips a test whose dependency (a client, a tool) is missing,
// but fails it in CI, where .ci/deps installs everything.
func NeedOrSkip(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("missing in CI (.ci/deps installs it): %v", err)
	}
	t.Skipf("skipping (run .ci/deps): %v", err)
}

// EnsureZKServer builds cmd/zkserver into a temporary directory and points
// $ZKSERVER_BIN at it when neither $ZKSERVER_BIN nor <repo>/bin/zkserver
// exists.
func EnsureZKServer(t testing.TB) {
	t.Helper()
	if _, err := ZKServerBin(); err == nil {
		return
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("repo root: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "zkserver")
	build := exec.Command("go", "build", "-o", bin, "./cmd/zkserver")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/zkserver: %v\n%s", err, out)
	}
	t.Setenv("ZKSERVER_BIN", bin)
}

// KnownMismatches reads a known-mismatches file: '#' starts a comment, the
// first word of a line names a scenario, and the value says whether the rest
// of the line calls it "intermittent" (it sometimes matches). A missing file
// lists nothing. A scenario is known when it is a key of the map.
func KnownMismatches(path string) (map[string]bool, error) {
	known := map[string]bool{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return known, nil
	}
	if err != nil {
		return nil, fmt.Errorf("known mismatches: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		known[strings.Fields(line)[0]] = strings.Contains(line, "intermittent")
	}
	return known, sc.Err()
}
