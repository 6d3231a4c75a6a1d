package ensemble

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/diff"
	"github.com/zkafka/zkafka/conformance/harness"
)

// qtarget is one three-server ensemble the quorum random scenarios run on.
type qtarget struct {
	name string
	// start starts the ensemble's servers 1-3.
	start func(t *testing.T, ctx context.Context, en *ensemble) map[int64]*harness.Server
	logs  []*diff.Log
}

// startKinds starts servers 1-3 of the given kinds and waits until all serve.
func startKinds(kinds ...harness.Kind) func(t *testing.T, ctx context.Context, en *ensemble) map[int64]*harness.Server {
	return func(t *testing.T, ctx context.Context, en *ensemble) map[int64]*harness.Server {
		servers := map[int64]*harness.Server{}
		for i, k := range kinds {
			servers[int64(i+1)] = en.start(t, k, int64(i+1), "")
		}
		return servers
	}
}

// quorumAddrs waits for servers 1-3 to serve, one leading, and returns their client addresses, the followers' first
// (in id order) and the leader's last: three empty Apache servers started together elect whichever two meet first,
// and the transcripts must not depend on which.
func quorumAddrs(t *testing.T, ctx context.Context, servers map[int64]*harness.Server) []string {
	t.Helper()
	for id := int64(1); id <= 3; id++ {
		waitServing(t, ctx, servers[id])
	}
	var followers, leaders []string
	eventually(t, "one leader and two followers", func() error {
		followers, leaders = nil, nil
		var modes []string
		for id := int64(1); id <= 3; id++ {
			m := mode(t, servers[id])
			modes = append(modes, m)
			switch m {
			case "leader":
				leaders = append(leaders, servers[id].Addr())
			case "follower":
				followers = append(followers, servers[id].Addr())
			}
		}
		if len(leaders) != 1 || len(followers) != 2 {
			return fmt.Errorf("modes %v", modes)
		}
		return nil
	})
	return append(followers, leaders[0])
}

// mixed starts ours with two of Apache's servers, ours leading (server 3) or following (server 1).
func mixed(oursLead bool) func(t *testing.T, ctx context.Context, en *ensemble) map[int64]*harness.Server {
	return func(t *testing.T, ctx context.Context, en *ensemble) map[int64]*harness.Server {
		servers, _ := en.mixedQuorum(t, ctx, oursLead)
		return servers
	}
}

// TestQuorumRandomDiff runs the seeded random scenarios (diff.QuorumRandomScenarios, ZKCONF_QUORUM_SEEDS) on
// three-server ensembles, clients spread over the servers, and compares the transcripts with Apache's: three
// bin/zkservers and, with ZKCONF_QUORUM_MIXED=1, ours following and ours leading two Apache servers must each
// match one of two Apache ensembles, scenario by scenario.
func TestQuorumRandomDiff(t *testing.T) {
	scs := diff.QuorumRandomScenarios()
	if len(scs) == 0 {
		t.Skip("ZKCONF_QUORUM_SEEDS selects no seed")
	}
	_, err := harness.ApacheBin()
	harness.NeedOrSkip(t, err)
	harness.EnsureZKServer(t)
	targets := []*qtarget{
		{name: "apache", start: startKinds(harness.Apache, harness.Apache, harness.Apache)},
		{name: "apache2", start: startKinds(harness.Apache, harness.Apache, harness.Apache)},
		{name: "zkserver", start: startKinds(harness.ZKServer, harness.ZKServer, harness.ZKServer)},
	}
	if os.Getenv("ZKCONF_QUORUM_MIXED") == "1" {
		targets = append(targets, &qtarget{name: "mixed-ours-follows", start: mixed(false)},
			&qtarget{name: "mixed-ours-leads", start: mixed(true)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+time.Duration(len(scs))*20*time.Second)
	defer cancel()
	// Each ensemble runs in a parallel subtest (-parallel: GOMAXPROCS at a time), whose cleanup stops its servers.
	t.Run("run", func(t *testing.T) {
		for _, tg := range targets {
			t.Run(tg.name, func(t *testing.T) {
				t.Parallel()
				tg.logs = runQuorumTarget(t, ctx, tg, scs)
			})
		}
	})
	ref, ref2 := targets[0], targets[1]
	for _, tg := range targets[:2] {
		if tg.logs == nil {
			t.Fatalf("the %s ensemble did not run", tg.name)
		}
		for _, lg := range tg.logs {
			if lg.Err != nil {
				t.Errorf("scenario %s: harness error against %s: %v", lg.Scenario, tg.name, lg.Err)
			}
		}
	}
	// Apache's two ensembles can disagree where its own timing decides (a read served before or after a
	// follower applied a txn): that is logged, and a transcript matching either of them matches Apache.
	for i, lg := range ref.logs {
		if d := diff.Compare("apache", lg, "apache2", ref2.logs[i]); d != "" {
			t.Logf("Apache's two ensembles differ (its own timing; either one is accepted):\n%s", d)
		}
	}
	for _, tg := range targets[2:] {
		t.Run(tg.name, func(t *testing.T) {
			if tg.logs == nil {
				t.Fatalf("the %s ensemble did not run", tg.name)
			}
			for i, lg := range ref.logs {
				d := diff.Compare("apache", lg, tg.name, tg.logs[i])
				if d != "" && diff.Compare("apache2", ref2.logs[i], tg.name, tg.logs[i]) == "" {
					d = ""
				}
				if tg.logs[i].Err != nil {
					d += fmt.Sprintf("harness error: %v\n", tg.logs[i].Err)
				}
				if d != "" {
					t.Errorf("%s differs from both Apache ensembles (against the first):\n%s", tg.name, d)
				}
			}
		})
	}
}

// runQuorumTarget starts one ensemble and runs the scenarios on it one at a time (roots /s1, /s2, ...).
// ZKCONF_DUMP=dir writes the transcripts to dir/quorum-<name>.log.
func runQuorumTarget(t *testing.T, ctx context.Context, tg *qtarget, scs []diff.Scenario) []*diff.Log {
	en := newEnsemble(t)
	for id := int64(1); id <= 3; id++ {
		en.extra[id] = diff.ServerProps()
	}
	servers := tg.start(t, ctx, en)
	addrs := quorumAddrs(t, ctx, servers)
	var logs []*diff.Log
	for i, sc := range scs {
		logs = append(logs, diff.RunQuorum(ctx, addrs, fmt.Sprintf("/s%d", i+1), sc))
	}
	dumpQuorumLogs(t, tg.name, logs, servers)
	return logs
}

// dumpQuorumLogs writes the transcripts and each server's own log.
func dumpQuorumLogs(t *testing.T, name string, logs []*diff.Log, servers map[int64]*harness.Server) {
	dir := os.Getenv("ZKCONF_DUMP")
	if dir == "" {
		return
	}
	var b strings.Builder
	for _, lg := range logs {
		fmt.Fprintf(&b, "=== %s (%s, %v)\n%s\n", lg.Scenario, lg.Root, lg.Duration.Round(time.Millisecond), strings.Join(lg.Lines, "\n"))
		if lg.Err != nil {
			fmt.Fprintf(&b, "HARNESS ERROR: %v\n", lg.Err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("dump: %v", err)
		return
	}
	if err := os.WriteFile(dir+"/quorum-"+name+".log", []byte(b.String()), 0o644); err != nil {
		t.Logf("dump: %v", err)
	}
	for id, s := range servers {
		if data, err := os.ReadFile(s.LogPath()); err == nil {
			_ = os.WriteFile(fmt.Sprintf("%s/quorum-%s-server%d.log", dir, name, id), data, 0o644)
		}
	}
}
