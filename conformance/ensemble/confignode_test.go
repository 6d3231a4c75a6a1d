package ensemble

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
)

// Without reconfigEnabled, every member of a quorum holds its static config in /zookeeper/config
// (initConfigInZKDatabase at start and after each sync with the leader): the same text and stat on ours as on
// Apache's, ours leading Apache's followers and Apache's leader with ours following. conf prints a member's peer
// keys and the membership as Apache's members do.
func TestConfigNodeInQuorumMode(t *testing.T) {
	harness.EnsureZKServer(t)
	for _, oursLead := range []bool{true, false} {
		t.Run(fmt.Sprintf("ours leads %v", oursLead), func(t *testing.T) {
			en := newEnsemble(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			servers, _ := en.mixedQuorum(t, ctx, oursLead)
			eventually(t, "the same /zookeeper/config everywhere", func() error {
				nodes, err := configNodes(servers)
				if err != nil {
					return err
				}
				got := map[configNode][]string{}
				for id, n := range nodes {
					got[n] = append(got[n], fmt.Sprintf("%d (%s)", id, servers[id].Kind()))
				}
				if len(got) != 1 {
					return fmt.Errorf("differ: %+v", got)
				}
				t.Logf("%+v", got)
				return nil
			})
			sameConf(t, ctx, servers)
		})
	}
}

// sameConf checks every member's conf: the same keys in the same order, its own serverId, the same peer keys
// (initLimit, syncLimit, electionAlg, peerType) and the same "membership:" part.
func sameConf(t *testing.T, ctx context.Context, servers map[int64]*harness.Server) {
	t.Helper()
	var keys0, membership0 string
	peer0 := map[string]string{}
	for id, s := range servers {
		out, err := harness.FourLetter(ctx, s.Addr(), "conf")
		if err != nil {
			t.Fatal(err)
		}
		head, membership, ok := strings.Cut(out, "membership: \n")
		if !ok {
			t.Fatalf("server %d (%s) conf has no membership:\n%s", id, s.Kind(), out)
		}
		var keys []string
		values := map[string]string{}
		for line := range strings.SplitSeq(strings.TrimSpace(head), "\n") {
			k, v, _ := strings.Cut(line, "=")
			keys = append(keys, k)
			values[k] = v
		}
		if values["serverId"] != strconv.FormatInt(id, 10) {
			t.Errorf("server %d (%s) serverId=%s", id, s.Kind(), values["serverId"])
		}
		peer := map[string]string{}
		for _, k := range []string{"initLimit", "syncLimit", "electionAlg", "peerType"} {
			peer[k] = values[k]
		}
		if keys0 == "" {
			keys0, membership0, peer0 = strings.Join(keys, ","), membership, peer
			continue
		}
		if strings.Join(keys, ",") != keys0 || membership != membership0 || !maps.Equal(peer, peer0) {
			t.Errorf("server %d (%s) conf differs:\n%s\nanother has keys %s, peer keys %v, membership %q", id, s.Kind(),
				out, keys0, peer0, membership0)
		}
	}
}
