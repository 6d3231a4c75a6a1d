package ensemble

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/zkserver/storage"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// TestLeaderKillsDeadSessionsAsApache starts three servers on the same snapshot, which holds an ephemeral of a
// session it has no timeout for (/dead), one of a session it has (/live) and a persistent node, and compares with
// Apache what each member serves and what its newest snapshot holds: Apache's leader runs loadData when it starts
// to lead, which removes the dead session's ephemerals without a txn and writes a snapshot; a follower synced by
// an empty DIFF keeps them, and counts every txn after as a digest mismatch; one that joins later gets the
// leader's tree by SNAP.
func TestLeaderKillsDeadSessionsAsApache(t *testing.T) {
	harness.SameAsApache(t, func(t *testing.T, kind harness.Kind) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		en := newEnsemble(t)
		servers := map[int64]*harness.Server{}
		startOn := func(id int64) {
			dir := t.TempDir()
			writeDeadSessionSnapshot(t, filepath.Join(dir, "data", "version-2"))
			servers[id] = en.start(t, kind, id, dir)
		}
		// Servers 2 and 3 first: 3 leads and 2 syncs before the leader serves (an empty DIFF). Server 1 joins once
		// they serve, when the leader's tree is at the new epoch's zxid: it gets a SNAP. Started together, which
		// of the two a follower gets depends on when it joins.
		startOn(3)
		startOn(2)
		waitServing(t, ctx, servers[2], servers[3])
		startOn(1)
		addrs := quorumAddrs(t, ctx, servers)
		byAddr := map[string]*harness.Server{}
		for _, s := range servers {
			byAddr[s.Addr()] = s
		}
		// One session on the leader writes: three txns (createSession, create, closeSession) that each follower,
		// its tree still holding /dead, applies with a digest that is not its own.
		c, _, err := zk.Connect([]string{addrs[2]}, 10*time.Second, zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create("/written", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		c.Close()
		leaderZxid := srvrZxid(t, ctx, addrs[2])
		for _, addr := range addrs[:2] {
			eventually(t, "the follower applies the leader's txns", func() error {
				if z := srvrZxid(t, ctx, addr); z != leaderZxid {
					return fmt.Errorf("zxid %s, the leader's %s", z, leaderZxid)
				}
				return nil
			})
		}
		var lines []string
		for i, addr := range addrs {
			role := "follower"
			if i == 2 {
				role = "leader"
			}
			c, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false))
			if err != nil {
				t.Fatal(err)
			}
			var seen []string
			for _, p := range []string{"/dead", "/live", "/keep", "/written"} {
				ok, st, err := c.Exists(p)
				if err != nil {
					t.Fatalf("%s exists %s: %v", role, p, err)
				}
				seen = append(seen, fmt.Sprintf("%s=%v owner 0x%x", p, ok, st.EphemeralOwner))
			}
			c.Close()
			lines = append(lines, fmt.Sprintf("%s: %s; ephemerals_count %d, digest_mismatches_count %d", role,
				strings.Join(seen, ", "), mntrGauge(t, ctx, byAddr[addr], "zk_ephemerals_count"),
				mntrGauge(t, ctx, byAddr[addr], "zk_digest_mismatches_count")))
			lines = append(lines, fmt.Sprintf("%s: %s", role, snapshotSummary(t, filepath.Join(byAddr[addr].DataDir(), "version-2"))))
		}
		return lines
	})
}

// writeDeadSessionSnapshot writes snapshot.3 with /keep, /dead (owner 0xdead, no session) and /live (owner
// 0x11fe, a session of a 10-minute timeout).
func writeDeadSessionSnapshot(t *testing.T, dir string) {
	harness.WriteSnapshot(t, dir, map[int64]int32{0x11fe: 600000}, harness.SnapshotNode{Path: "/keep"},
		harness.SnapshotNode{Path: "/dead", Owner: 0xdead}, harness.SnapshotNode{Path: "/live", Owner: 0x11fe})
}

// snapshotSummary names a dataDir's snapshots and what the newest holds.
func snapshotSummary(t *testing.T, dir string) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "snapshot.*"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	slices.Sort(names)
	rd, info, err := storage.LoadLatest(dir, func() storage.TreeReader { return tree.New(nil) })
	if err != nil || rd == nil {
		t.Fatalf("load snapshot from %s: %v", dir, err)
	}
	tr := rd.(*tree.Tree)
	var has []string
	for _, p := range []string{"/dead", "/live", "/keep"} {
		has = append(has, fmt.Sprintf("%s=%v", p, tr.Node(p) != nil))
	}
	return fmt.Sprintf("snapshots %v, newest (0x%x, %d sessions) holds %s", names, info.Zxid, len(info.Sessions),
		strings.Join(has, " "))
}

// srvrZxid is the Zxid line of a server's srvr.
func srvrZxid(t *testing.T, ctx context.Context, addr string) string {
	t.Helper()
	out, err := harness.FourLetter(ctx, addr, "srvr")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(out, "\n") {
		if z, ok := strings.CutPrefix(line, "Zxid: "); ok {
			return z
		}
	}
	t.Fatalf("no Zxid in srvr:\n%s", out)
	return ""
}
