package ensemble

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// TestQuorumMetricsAsApache compares the quorum's ServerMetrics on a three-server ensemble of Apache's and one of
// ours: what the start leaves (each member's elections, looking, unavailability, the leader's syncs of its two
// followers, the followers' sync times) and what a client's session with five creates adds (the leader's proposals
// and commits, each follower's proposals and commits received).
func TestQuorumMetricsAsApache(t *testing.T) {
	harness.SameAsApache(t, quorumMetrics)
}

func quorumMetrics(t *testing.T, kind harness.Kind) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	en := newEnsemble(t)
	servers := startKinds(kind, kind, kind)(t, ctx, en)
	addrs := quorumAddrs(t, ctx, servers) // the followers', then the leader's
	byAddr := map[string]*harness.Server{}
	for _, s := range servers {
		byAddr[s.Addr()] = s
	}
	read := func(addr string) map[string]int64 {
		out, err := harness.FourLetter(ctx, addr, "mntr")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for line := range strings.SplitSeq(out, "\n") {
			if k, v, ok := strings.Cut(line, "\t"); ok {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					m[strings.TrimPrefix(k, "zk_")] = n
				}
			}
		}
		return m
	}
	roles := []string{"follower", "follower", "leader"}
	var lines []string
	before := make([]map[string]int64, 3)
	for i, addr := range addrs {
		m := read(addr)
		before[i] = m
		lines = append(lines, fmt.Sprintf("%s: looking_count>=1 %v, cnt_election_time=1 %v, cnt_unavailable_time>=1 %v, "+
			"cnt_leader_unavailable_time>=1 %v", roles[i], m["looking_count"] >= 1, m["cnt_election_time"] == 1,
			m["cnt_unavailable_time"] >= 1, m["cnt_leader_unavailable_time"] >= 1))
		if roles[i] == "leader" {
			lines = append(lines, fmt.Sprintf("leader: learners synced by diff or snap %d",
				m["diff_count"]+m["snap_count"]))
		} else {
			lines = append(lines, fmt.Sprintf("follower: cnt_follower_sync_time %d", m["cnt_follower_sync_time"]))
		}
	}
	c, _, err := zk.Connect([]string{addrs[0]}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := c.Create(fmt.Sprintf("/m%d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	c.Close() // createSession, five creates, closeSession: seven txns
	keys := map[string][]string{"leader": {"proposal_count", "commit_count"},
		"follower": {"learner_proposal_received_count", "learner_commit_received_count"}}
	var deltas []string
	eventually(t, "every member counted the seven txns", func() error {
		deltas = nil
		for i, addr := range addrs {
			m := read(addr)
			for _, k := range keys[roles[i]] {
				deltas = append(deltas, fmt.Sprintf("%s: %s +%d", roles[i], k, m[k]-before[i][k]))
			}
		}
		for _, d := range deltas {
			if !strings.HasSuffix(d, " +7") {
				return fmt.Errorf("%v", deltas)
			}
		}
		return nil
	})
	return append(lines, deltas...)
}
