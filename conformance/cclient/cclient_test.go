package cclient

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/conformance/kazoo"
)

// Environment knobs:
//
//	CCLIENT_RUN=regexp  only scenarios whose name matches
//	CCLIENT_PRINT=1     log every scenario's Apache transcript
//	ZKSERVER_BIN=path   zkserver binary (default <repo>/bin/zkserver, else built)

func selectScenarios(t *testing.T) []Scenario {
	t.Helper()
	all := Scenarios()
	seen := map[string]bool{}
	for _, sc := range all {
		if seen[sc.Name] {
			t.Fatalf("duplicate scenario %q", sc.Name)
		}
		seen[sc.Name] = true
	}
	pat := os.Getenv("CCLIENT_RUN")
	if pat == "" {
		return all
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		t.Fatalf("CCLIENT_RUN: %v", err)
	}
	var out []Scenario
	for _, sc := range all {
		if re.MatchString(sc.Name) {
			out = append(out, sc)
		}
	}
	return out
}

func describe(tr *Transcript) string {
	return fmt.Sprintf("%v (%v)\n%s", tr.Err, tr.Duration.Round(time.Millisecond), strings.Join(tr.Lines, "\n"))
}

func TestCliMTScenarios(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := FindCliMT(ctx)
	harness.NeedOrSkip(t, err)
	_, err = harness.ApacheBin()
	harness.NeedOrSkip(t, err)
	harness.EnsureZKServer(t)
	scs := selectScenarios(t)
	if len(scs) == 0 {
		t.Skip("no scenario selected")
	}

	results := make([][]*Transcript, 2)
	harness.OnApacheAndZKServer(t, ctx, harness.Config{}, func(i int, srv *harness.Server) {
		// One scenario at a time: sequential znode names and zxids then
		// depend on the scenario alone.
		for _, sc := range scs {
			results[i] = append(results[i], Run(ctx, bin, srv.Addr(), sc))
		}
	})

	known, err := harness.KnownMismatches(filepath.Join("testdata", "zkserver-known-mismatches.txt"))
	if err != nil {
		t.Fatal(err)
	}
	mismatches, knownCount := 0, 0
	for i, sc := range scs {
		ref, got := results[0][i], results[1][i]
		t.Run(sc.Name, func(t *testing.T) {
			if ref.Err != nil {
				t.Fatalf("against Apache: %s", describe(ref))
			}
			if os.Getenv("CCLIENT_PRINT") != "" {
				t.Logf("apache transcript:\n%s", strings.Join(ref.Lines, "\n"))
			}
			d := kazoo.Diff("apache", ref.Lines, "zkserver", got.Lines)
			if got.Err != nil {
				d += fmt.Sprintf("harness error against zkserver: %v\n", got.Err)
			}
			intermittent, isKnown := known[sc.Name]
			switch {
			case d == "" && intermittent:
				t.Logf("intermittent known mismatch matched this time")
			case d == "" && isKnown:
				t.Logf("now matches: remove %s from testdata/zkserver-known-mismatches.txt", sc.Name)
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
	t.Logf("cli_mt: %d scenarios; zkserver mismatches: %d (known, not failing: %d)", len(scs), mismatches, knownCount)
}

func TestNormalize(t *testing.T) {
	in := []string{
		"A: Got a new session id: 0x100002dd31b00cd",
		"A: time = 6 msec",
		"A: [/cli-x/y]: rc = 0",
		"A: \tctime = Sun Nov 22 03:43:32 2026",
		"A: \tczxid=1f",
		"A: \tmtime=Thu Jan  1 00:00:00 1970",
		"A: \tmzxid=21",
		"A: \tephemeralOwner = 100002dd31b00cd",
		"B: \tephemeralOwner = ff0000000000ea60",
		"B: session Id = 42",
		"A: 2026-11-22 04:01:09,209:4254(0x7ff54b6d16c0):ZOO_ERROR@check_events@3000: Socket 127.0.0.1:21911 zk retcode=-4",
	}
	want := []string{
		"A: Got a new session id: <session A>",
		"A: [$R/y]: rc = 0",
		"A: \tctime = DATE",
		"A: \tczxid=Z+0",
		"A: \tmtime=EPOCH",
		"A: \tmzxid=Z+2",
		"A: \tephemeralOwner = <session A>",
		"B: \tephemeralOwner = ff0000000000ea60",
		"B: session Id = <other session>",
		"A: log ZOO_ERROR@check_events: Socket 127.0.0.1:PORT zk retcode=-4",
	}
	got := Normalize(in, "/cli-x", map[string]string{"100002dd31b00cd": "A"})
	if d := kazoo.Diff("want", want, "got", got); d != "" {
		t.Error(d)
	}
}
