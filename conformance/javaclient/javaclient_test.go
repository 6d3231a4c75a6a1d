package javaclient

import (
	"context"
	"errors"
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
//	ZKJC_RUN=regexp   only scenarios whose "java/NAME" or "cli/NAME" matches
//	ZKJC_DUMP=dir     write both servers' normalized outputs to dir
//	ZKSERVER_BIN=path zkserver binary (default: <repo>/bin/zkserver, built if missing)

const knownFile = "testdata/known-mismatches.txt"

// result is one scenario's normalized output on one server.
type result struct {
	name  string
	lines []string
}

func filter(t *testing.T) func(string) bool {
	pat := os.Getenv("ZKJC_RUN")
	if pat == "" {
		return func(string) bool { return true }
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		t.Fatalf("ZKJC_RUN: %v", err)
	}
	return re.MatchString
}

func startBoth(ctx context.Context, t *testing.T) (apache, zk *harness.Server) {
	var wg sync.WaitGroup
	var aerr, zerr error
	wg.Add(2)
	go func() { defer wg.Done(); apache, aerr = harness.Start(ctx, harness.Apache, harness.Config{}) }()
	go func() { defer wg.Done(); zk, zerr = harness.Start(ctx, harness.ZKServer, harness.Config{}) }()
	wg.Wait()
	for _, s := range []*harness.Server{apache, zk} {
		if s == nil {
			continue
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s server files kept in %s", s.Kind(), s.Dir())
			}
			if err := s.Cleanup(t.Failed()); err != nil {
				t.Logf("cleanup %s: %v", s.Kind(), err)
			}
		})
	}
	if aerr != nil {
		t.Fatalf("apache: %v", aerr)
	}
	if zerr != nil {
		t.Fatalf("zkserver: %v", zerr)
	}
	return apache, zk
}

// TestJavaClientConformance runs the Java-client scenarios and the zkCli.sh
// scenarios against Apache ZooKeeper 3.8 and zkserver (one server of each per
// half) and compares the normalized outputs line by line.
func TestJavaClientConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers and many JVMs")
	}
	if _, err := harness.ApacheBin(); err != nil {
		t.Skipf("reference server missing (run .ci/deps): %v", err)
	}
	for _, p := range []string{ZooKeeperJar, ZkCliScript} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing (run .ci/deps)", p)
		}
	}
	harness.EnsureZKServer(t)
	known, err := harness.KnownMismatches(knownFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// javac is only in a JDK; without it the zkCli.sh half still runs.
	java, jerr := Compile(ctx, SourcePath("."), t.TempDir())
	if jerr != nil && !errors.Is(jerr, ErrMissing) {
		t.Fatal(jerr)
	}
	match := filter(t)
	seen := map[string]bool{}

	t.Run("java", func(t *testing.T) {
		if jerr != nil {
			t.Skipf("Java scenarios skipped: %v", jerr)
		}
		all, err := java.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range all {
			if match("java/" + n) {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			t.Skip("ZKJC_RUN matches no Java scenario")
		}
		// Each half has its own servers: sessions the Java scenarios leave
		// open expire later, and their txns would shift zkCli's zxids.
		apache, zk := startBoth(ctx, t)
		var ref, got []Section
		var refErr, gotErr error
		var refLog, gotLog string
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); ref, refLog, refErr = java.Run(ctx, apache.Addr(), names...) }()
		go func() { defer wg.Done(); got, gotLog, gotErr = java.Run(ctx, zk.Addr(), names...) }()
		wg.Wait()
		if refErr != nil {
			t.Fatalf("against apache: %v\n%s", refErr, tail(refLog))
		}
		if gotErr != nil {
			t.Errorf("against zkserver: %v\n%s", gotErr, tail(gotLog))
		}
		var a, b []result
		for _, s := range ref {
			a = append(a, result{"java/" + s.Name, s.Lines})
		}
		for _, s := range got {
			b = append(b, result{"java/" + s.Name, s.Lines})
		}
		compare(t, a, b, known, seen)
	})

	t.Run("zkcli", func(t *testing.T) {
		var scs []CliScenario
		for _, sc := range CliScenarios() {
			if match("cli/" + sc.Name) {
				scs = append(scs, sc)
			}
		}
		if len(scs) == 0 {
			t.Skip("ZKJC_RUN matches no zkCli scenario")
		}
		apache, zk := startBoth(ctx, t)
		run := func(srv *harness.Server) ([]result, error) {
			var out []result
			for _, sc := range scs {
				sc.Quit = true // the scenarios share the server and compare zxids
				r, err := RunCli(ctx, srv.Addr(), sc)
				if err != nil {
					return out, err
				}
				out = append(out, result{"cli/" + sc.Name, NormalizeCli(r)})
			}
			return out, nil
		}
		var a, b []result
		var aerr, berr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); a, aerr = run(apache) }()
		go func() { defer wg.Done(); b, berr = run(zk) }()
		wg.Wait()
		if aerr != nil {
			t.Fatalf("against apache: %v", aerr)
		}
		if berr != nil {
			t.Errorf("against zkserver: %v", berr)
		}
		compare(t, a, b, known, seen)
	})

	for name := range known {
		if !seen[name] && match(name) {
			t.Errorf("%s lists %q, which is no scenario", knownFile, name)
		}
	}
}

// compare reports every scenario whose zkserver output differs from
// Apache's, logging (not failing) the ones listed as known mismatches.
func compare(t *testing.T, ref, got []result, known harness.Known, seen map[string]bool) {
	t.Helper()
	dump(t, "apache", ref)
	dump(t, "zkserver", got)
	byName := map[string][]string{}
	for _, r := range got {
		byName[r.name] = r.lines
	}
	mis, knownMis := 0, 0
	for _, r := range ref {
		seen[r.name] = true
		if l := r.lines; len(l) > 0 && (strings.Contains(l[len(l)-1], "SCENARIO EXCEPTION") || strings.Contains(strings.Join(l, "\n"), "TIMEOUT")) {
			t.Errorf("%s is not deterministic against Apache itself:\n%s", r.name, strings.Join(l, "\n"))
		}
		other, ok := byName[r.name]
		if !ok {
			other = []string{"(scenario did not run)"}
		}
		d := Diff(r.name, "apache", r.lines, "zkserver", other)
		switch {
		case d == "" && known.Has(r.name):
			t.Logf("%s now matches: remove it from %s", r.name, knownFile)
		case d == "":
		case known.Has(r.name):
			knownMis++
			t.Logf("known mismatch (not failing):\n%s", d)
		default:
			mis++
			t.Errorf("zkserver differs from Apache:\n%s", d)
		}
	}
	t.Logf("%d scenarios; %d mismatches; %d known mismatches", len(ref), mis, knownMis)
}

func dump(t *testing.T, side string, rs []result) {
	dir := os.Getenv("ZKJC_DUMP")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("dump: %v", err)
		return
	}
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "=== %s\n%s\n", r.name, strings.Join(r.lines, "\n"))
	}
	name := strings.ReplaceAll(t.Name(), "/", "_") + "-" + side + ".txt"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Logf("dump: %v", err)
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		s = s[len(s)-3000:]
	}
	return s
}

func TestNormalizeCli(t *testing.T) {
	out := strings.Join([]string{
		"SLF4J: Failed to load class",
		"Connecting to 127.0.0.1:2181",
		"",
		"WATCHER::",
		"",
		"WatchedEvent state:SyncConnected type:None path:null",
		"Welcome to ZooKeeper!",
		"JLine support is disabled",
		"Created /x",
		"cZxid = 0x10",
		"ctime = Sun Nov 22 03:43:11 UTC 2026",
		"mZxid = 0x12",
		"mtime = Sun Nov 22 03:43:12 UTC 2026",
		"pZxid = 0x4",
		"ephemeralOwner = 0x100002bcdc80001",
		"",
		"WATCHER::",
		"",
		"WatchedEvent state:SyncConnected type:NodeDataChanged path:/x",
		"cZxid = 0x0",
		"ephemeralOwner = 0x0",
		"",
		"WATCHER::",
		"",
		"WatchedEvent state:Closed type:None path:null",
	}, "\n")
	got := NormalizeCli(CliResult{Output: out, ExitCode: 1})
	want := []string{
		"Created /x",
		"cZxid = +0",
		"ctime = T",
		"mZxid = +2",
		"mtime = T",
		"pZxid = pre",
		"ephemeralOwner = SESSION",
		"cZxid = 0",
		"ephemeralOwner = 0x0",
		"events:",
		"WatchedEvent state:SyncConnected type:NodeDataChanged path:/x",
		"WatchedEvent state:SyncConnected type:None path:null",
		"exit 1",
	}
	if d := Diff("normalize", "want", want, "got", got); d != "" {
		t.Fatal(d)
	}
}

// TestNormalizeCliAuthFailed: after an AuthFailed event, both forms of a refused command (and a whoami that got
// only its header out) are one line and the exit status is left out; a served whoami is kept.
func TestNormalizeCliAuthFailed(t *testing.T) {
	got := NormalizeCli(CliResult{Output: strings.Join([]string{
		"Auth scheme: User", "ip: 127.0.0.1",
		"KeeperErrorCode = AuthFailed for /x", "Not connected", "Auth scheme: User",
		"WatchedEvent state:AuthFailed type:None path:null",
	}, "\n"), ExitCode: 1})
	refused := "<command refused: authentication failed>"
	want := []string{"Auth scheme: User", "ip: 127.0.0.1", refused, refused, refused,
		"events:", "WatchedEvent state:AuthFailed type:None path:null"}
	if d := Diff("normalize", "want", want, "got", got); d != "" {
		t.Fatal(d)
	}
}

func TestDiff(t *testing.T) {
	a := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
	if d := Diff("s", "a", a, "b", a); d != "" {
		t.Fatalf("equal inputs differ:\n%s", d)
	}
	b := []string{"1", "2", "3", "4", "X", "6", "7", "8", "9", "10", "11"}
	want := "--- s (a)\n+++ s (b)\n@@\n  2\n  3\n  4\n+ X\n- 5\n  6\n  7\n  8\n@@\n  8\n  9\n  10\n+ 11\n"
	// Context windows of nearby changes may overlap; compare the essentials.
	d := Diff("s", "a", a, "b", b)
	for _, l := range []string{"+ X", "- 5", "+ 11", "--- s (a)", "+++ s (b)"} {
		if !strings.Contains(d, l+"\n") {
			t.Fatalf("diff lacks %q:\n%s\nwant something like:\n%s", l, d, want)
		}
	}
	if strings.Contains(d, "  1\n") {
		t.Fatalf("diff shows context beyond 3 lines:\n%s", d)
	}
}

func TestSplitSections(t *testing.T) {
	secs := SplitSections("noise\n=== a\nx\n\ny\n=== b\n=== c\nz\n")
	got := fmt.Sprint(secs)
	want := "[{a [x y]} {b []} {c [z]}]"
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestCliScenarioNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range CliScenarios() {
		if seen[sc.Name] {
			t.Fatalf("duplicate zkCli scenario %q", sc.Name)
		}
		seen[sc.Name] = true
		if (len(sc.Args) == 0) == (len(sc.Script) == 0) {
			t.Fatalf("scenario %q needs exactly one of Args and Script", sc.Name)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("only %d zkCli scenarios", len(seen))
	}
}
