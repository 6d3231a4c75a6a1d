package diff

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
//	ZKCONF_RUN=regexp   only scenarios whose name matches
//	ZKCONF_RANDOM_SEEDS=N or A-B  seeds of the random-<seed> scenarios (default 1-12; 0: none)
//	ZKCONF_SELFCHECK=0  skip the Apache-vs-Apache self-check when zkserver exists
//	ZKCONF_DUMP=dir     write every server's full scenario logs to dir
//	ZKCONF_PRINT=1      print the Apache log of every scenario
//	ZKSERVER_BIN=path   zkserver binary (default: <repo>/bin/zkserver)

type target struct {
	name string
	srv  *harness.Server
	logs []*Log
	err  error
}

func selectScenarios(t *testing.T) []Scenario {
	all := Scenarios()
	seen := map[string]bool{}
	for _, sc := range all {
		if seen[sc.Name] {
			t.Fatalf("duplicate scenario name %q", sc.Name)
		}
		seen[sc.Name] = true
	}
	pat := os.Getenv("ZKCONF_RUN")
	if pat == "" {
		return all
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		t.Fatalf("ZKCONF_RUN: %v", err)
	}
	var out []Scenario
	for _, sc := range all {
		if re.MatchString(sc.Name) {
			out = append(out, sc)
		}
	}
	return out
}

// runTarget runs all scenarios in order on one server, restarting it if it
// died (a crash shows up as a mismatch of the scenario it happened in).
func runTarget(ctx context.Context, tg *target, scs []Scenario) {
	tg.logs = make([]*Log, len(scs))
	for i, sc := range scs {
		if !tg.srv.Running() {
			if err := tg.srv.Restart(ctx); err != nil {
				tg.err = fmt.Errorf("restart after crash before scenario %s: %w", sc.Name, err)
				for j := i; j < len(scs); j++ {
					tg.logs[j] = &Log{Scenario: scs[j].Name, Lines: []string{"SERVER DOWN"}}
				}
				return
			}
		}
		lg := Run(ctx, tg.srv.Addr(), fmt.Sprintf("/s%d", i+1), sc)
		if !tg.srv.Running() {
			lg.Lines = append(lg.Lines, "SERVER PROCESS EXITED")
		}
		tg.logs[i] = lg
	}
}

func dumpLogs(t *testing.T, tg *target) {
	dir := os.Getenv("ZKCONF_DUMP")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("dump: %v", err)
		return
	}
	var b strings.Builder
	for _, lg := range tg.logs {
		fmt.Fprintf(&b, "=== %s (%s, %v)\n", lg.Scenario, lg.Root, lg.Duration.Round(time.Millisecond))
		for _, l := range lg.Lines {
			b.WriteString(l + "\n")
		}
		if lg.Err != nil {
			fmt.Fprintf(&b, "HARNESS ERROR: %v\n", lg.Err)
		}
	}
	p := filepath.Join(dir, tg.name+".log")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Logf("dump: %v", err)
	}
}

// serverConfig is the zoo.cfg of every server of a run (ServerProps).
var serverConfig = harness.Config{Props: ServerProps()}

func TestConformance(t *testing.T) {
	scs := selectScenarios(t)
	if len(scs) == 0 {
		t.Skip("ZKCONF_RUN matches no scenario")
	}
	if _, err := harness.ApacheBin(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("reference server missing in CI: %v", err)
		}
		t.Skipf("reference server missing (run .ci/deps): %v", err)
	}
	_, zkErr := harness.ZKServerBin()
	selfcheck := zkErr != nil || os.Getenv("ZKCONF_SELFCHECK") != "0"

	// Many random seeds (ZKCONF_RANDOM_SEEDS) take longer than the default set.
	ctx, cancel := context.WithTimeout(context.Background(), max(6*time.Minute, time.Duration(len(scs))*3*time.Second))
	defer cancel()

	kinds := []struct {
		name string
		kind harness.Kind
		want bool
	}{
		{"apache", harness.Apache, true},
		{"apache2", harness.Apache, selfcheck},
		{"zkserver", harness.ZKServer, zkErr == nil},
	}
	var targets []*target
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, k := range kinds {
		if !k.want {
			continue
		}
		tg := &target{name: k.name}
		targets = append(targets, tg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv, err := harness.Start(ctx, k.kind, serverConfig)
			mu.Lock()
			tg.srv, tg.err = srv, err
			mu.Unlock()
			if err != nil {
				return
			}
			runTarget(ctx, tg, scs)
		}()
	}
	wg.Wait()
	byName := map[string]*target{}
	for _, tg := range targets {
		byName[tg.name] = tg
		if tg.srv != nil {
			defer func() {
				if err := tg.srv.Cleanup(t.Failed()); err != nil {
					t.Logf("cleanup %s: %v", tg.name, err)
				}
				if t.Failed() {
					t.Logf("%s server files kept in %s", tg.name, tg.srv.Dir())
				}
			}()
			dumpLogs(t, tg)
		}
	}
	ref := byName["apache"]
	if ref.err != nil {
		t.Fatalf("apache: %v", ref.err)
	}
	for _, lg := range ref.logs {
		if lg.Err != nil {
			t.Errorf("scenario %s: harness error against apache: %v", lg.Scenario, lg.Err)
		}
		if os.Getenv("ZKCONF_PRINT") != "" {
			t.Logf("=== %s\n%s", lg.Scenario, strings.Join(lg.Lines, "\n"))
		}
	}

	selfMis, zkMis, zkKnown := -1, -1, 0
	if tg := byName["apache2"]; tg != nil {
		t.Run("selfcheck", func(t *testing.T) {
			if tg.err != nil {
				t.Fatalf("apache2: %v", tg.err)
			}
			selfMis = 0
			for i, lg := range ref.logs {
				if d := Compare("apache", lg, "apache2", tg.logs[i]); d != "" {
					selfMis++
					t.Errorf("normalisation is not stable (Apache vs Apache differ):\n%s", d)
				}
			}
		})
	}
	t.Run("zkserver", func(t *testing.T) {
		tg := byName["zkserver"]
		if tg == nil {
			t.Skipf("zkserver comparison skipped: %v", zkErr)
		}
		if tg.err != nil {
			t.Fatalf("zkserver: %v\n--- log tail ---\n%s", tg.err, logTail(tg))
		}
		known, err := harness.KnownMismatches(filepath.Join("testdata", "zkserver-known-mismatches.txt"))
		if err != nil {
			t.Fatal(err)
		}
		zkMis = 0
		for i, lg := range ref.logs {
			d := Compare("apache", lg, "zkserver", tg.logs[i])
			if tg.logs[i].Err != nil {
				d += fmt.Sprintf("harness error against zkserver: %v\n", tg.logs[i].Err)
			}
			switch {
			case d == "" && known.Has(lg.Scenario):
				t.Logf("scenario %s now matches: remove it from testdata/zkserver-known-mismatches.txt", lg.Scenario)
			case d == "":
			case known.Has(lg.Scenario):
				zkKnown++
				t.Logf("known mismatch (not failing):\n%s", d)
			default:
				zkMis++
				t.Errorf("zkserver differs from Apache:\n%s", d)
			}
		}
		if zkMis > 0 {
			t.Logf("zkserver log: %s", tg.srv.LogPath())
		}
	})
	t.Logf("conformance: %d scenarios run; self-check mismatches: %s; zkserver mismatches: %s (known, not failing: %d)",
		len(scs), count(selfMis), count(zkMis), zkKnown)
}

func count(n int) string {
	if n < 0 {
		return "not run"
	}
	return fmt.Sprint(n)
}

func logTail(tg *target) string {
	if tg.srv == nil {
		return ""
	}
	return tg.srv.LogTail(4000)
}
