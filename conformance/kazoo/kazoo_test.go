package kazoo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
)

// Environment knobs:
//
//	KAZOO_RUN=regexp   only scenarios whose name matches
//	KAZOO_PRINT=1      log every scenario's Apache output
//	ZKSERVER_BIN=path  zkserver binary (default <repo>/bin/zkserver, else built)

// parallel bounds concurrent scripts per server: each is a Python process
// with several kazoo clients, and the machine has two cores.
const parallel = 4

func selectScripts(t *testing.T) []string {
	t.Helper()
	all, err := Scripts("testdata")
	if err != nil {
		t.Fatal(err)
	}
	abs := make([]string, 0, len(all))
	var re *regexp.Regexp
	if pat := os.Getenv("KAZOO_RUN"); pat != "" {
		if re, err = regexp.Compile(pat); err != nil {
			t.Fatalf("KAZOO_RUN: %v", err)
		}
	}
	for _, s := range all {
		if re != nil && !re.MatchString(Name(s)) {
			continue
		}
		p, err := filepath.Abs(s)
		if err != nil {
			t.Fatal(err)
		}
		abs = append(abs, p)
	}
	return abs
}

// runAll runs every script against srv, at most parallel at a time.
func runAll(ctx context.Context, python string, srv *harness.Server, scripts []string) []*Result {
	results := make([]*Result, len(scripts))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, s := range scripts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = Run(ctx, python, s, srv.Addr(), "/kazoo-"+Name(s))
		}()
	}
	wg.Wait()
	return results
}

func describe(r *Result) string {
	return fmt.Sprintf("%v (%v)\n--- stdout ---\n%s\n--- stderr ---\n%s",
		r.Err, r.Duration.Round(time.Millisecond), strings.Join(r.Lines, "\n"), r.Stderr)
}

func TestKazooScenarios(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	python, err := FindPython(ctx)
	harness.NeedOrSkip(t, err)
	_, err = harness.ApacheBin()
	harness.NeedOrSkip(t, err)
	harness.EnsureZKServer(t)
	scripts := selectScripts(t)
	if len(scripts) == 0 {
		t.Skip("no scenario selected")
	}

	results := make([][]*Result, 2)
	harness.OnApacheAndZKServer(t, ctx, harness.Config{}, func(i int, srv *harness.Server) {
		results[i] = runAll(ctx, python, srv, scripts)
	})

	known, err := harness.KnownMismatches(filepath.Join("testdata", "zkserver-known-mismatches.txt"))
	if err != nil {
		t.Fatal(err)
	}
	mismatches, knownCount := 0, 0
	for i, s := range scripts {
		ref, got := results[0][i], results[1][i]
		t.Run(Name(s), func(t *testing.T) {
			// Against Apache every script must pass: a failure there is a bug
			// in the script (or the environment), not in zkserver.
			if !ref.OK() {
				t.Fatalf("against Apache: %s", describe(ref))
			}
			if os.Getenv("KAZOO_PRINT") != "" {
				t.Logf("apache output:\n%s", strings.Join(ref.Lines, "\n"))
			}
			d := Diff("apache", ref.Lines, "zkserver", got.Lines)
			if !got.OK() {
				d += fmt.Sprintf("against zkserver: %s\n", describe(got))
			}
			intermittent, isKnown := known[Name(s)]
			switch {
			case d == "" && intermittent:
				t.Logf("intermittent known mismatch matched this time")
			case d == "" && isKnown:
				t.Logf("now matches: remove %s from testdata/zkserver-known-mismatches.txt", Name(s))
			case d == "":
			case isKnown:
				knownCount++
				t.Logf("known mismatch (not failing):\n%s", d)
			default:
				mismatches++
				t.Errorf("zkserver differs from Apache:\n%s", d)
			}
		})
	}
	t.Logf("kazoo: %d scenarios; zkserver mismatches: %d (known, not failing: %d)", len(scripts), mismatches, knownCount)
}

func TestDiff(t *testing.T) {
	if d := Diff("a", []string{"x", "y"}, "b", []string{"x", "y"}); d != "" {
		t.Errorf("equal inputs: got diff %q", d)
	}
	got := Diff("a", []string{"x", "y", "z"}, "b", []string{"x", "q", "z"})
	want := "--- a\n+++ b\n  x\n- y\n+ q\n  z\n"
	if got != want {
		t.Errorf("Diff = %q, want %q", got, want)
	}
}

func TestName(t *testing.T) {
	if got := Name("/x/testdata/kz_lock_order.py"); got != "lock_order" {
		t.Errorf("Name = %q", got)
	}
}
