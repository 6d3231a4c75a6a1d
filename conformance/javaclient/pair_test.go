package javaclient

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/zkafka/zkafka/conformance/harness"
)

// startPair starts Apache 3.8 and zkserver side by side, each with its own configuration, and stops them when
// the test ends (their log tails printed if it failed). It skips when Apache is missing outside CI.
func startPair(ctx context.Context, t *testing.T, cfgs [2]harness.Config) [2]*harness.Server {
	t.Helper()
	var servers [2]*harness.Server
	var errs [2]error
	var wg sync.WaitGroup
	for i, kind := range []harness.Kind{harness.Apache, harness.ZKServer} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = harness.Start(ctx, kind, cfgs[i])
		}()
	}
	wg.Wait()
	for i, s := range servers {
		if s != nil {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("--- %s log ---\n%s", s.Kind(), s.LogTail(4000))
				}
				s.Cleanup(false)
			})
		}
		if s == nil && servers[0] != nil {
			t.Fatalf("zkserver: %v", errs[i]) // Apache runs: ours must too
		}
		harness.NeedOrSkip(t, errs[i])
	}
	return servers
}

// compareCli runs sc with zkCli.sh against both servers (at addrs) and reports where their normalized outputs
// differ.
func compareCli(ctx context.Context, t *testing.T, servers [2]*harness.Server, addrs [2]string, sc CliScenario) {
	t.Helper()
	var outs [2][]string
	for i, s := range servers {
		r, err := RunCli(ctx, addrs[i], sc)
		if err != nil {
			t.Fatalf("%s on %s: %v\n%s", sc.Name, s.Kind(), err, r.Output)
		}
		outs[i] = slices.DeleteFunc(NormalizeCli(r), func(l string) bool { return slices.Contains(sc.ExitRaces, l) })
	}
	if !slices.Equal(outs[0], outs[1]) {
		t.Errorf("%s:\nApache:\n%s\nzkserver:\n%s", sc.Name, strings.Join(outs[0], "\n"), strings.Join(outs[1], "\n"))
	}
	t.Logf("%s:\n%s", sc.Name, strings.Join(outs[1], "\n"))
}

// addrsOf are the plain client addresses of a pair.
func addrsOf(servers [2]*harness.Server) [2]string {
	return [2]string{servers[0].Addr(), servers[1].Addr()}
}
