package diff

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// TestEmulate353TTLNodesAsApache compares zookeeper.emulate353TTLNodes on a standalone Apache server and ours,
// each started on the same snapshot: nodes whose ephemeralOwner has the sign bit set, as ZooKeeper 3.5.3 encoded
// TTL nodes (owner 0x8000000000000000 | ttl), and a container. Without the emulation those owners are sessions
// the snapshot does not know, so their nodes go when the database loads (dead sessions are killed); with it they
// are TTL nodes: clients see owner 0, they may have children, and the one whose TTL (1 ms) has passed is removed
// by the container manager.
func TestEmulate353TTLNodesAsApache(t *testing.T) {
	harness.SameAsApache(t, func(t *testing.T, kind harness.Kind) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var lines []string
		for _, emulate := range []bool{false, true} {
			dir := t.TempDir()
			writeSnapshot353(t, filepath.Join(dir, "data", "version-2"))
			var flags []string
			if emulate {
				flags = []string{"-Dzookeeper.emulate353TTLNodes=true"}
			}
			s, err := harness.Start(ctx, kind, harness.Config{Dir: dir, JVMFlags: flags})
			harness.NeedOrSkip(t, err)
			if emulate {
				// The container manager's first pass (100 ms after the start) removes the expired node as txn
				// 0x4; a client connecting before it would take that zxid for its session. Wait for it, as Apache's
				// slower start always does.
				for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
					if out, err := harness.FourLetter(ctx, s.Addr(), "srvr"); err == nil && strings.Contains(out, "Zxid: 0x4") {
						break
					}
				}
			}
			c, _, err := zk.Connect([]string{s.Addr()}, 10*time.Second, zk.WithLogInfo(false))
			if err != nil {
				t.Fatal(err)
			}
			say := func(f string, a ...any) {
				lines = append(lines, fmt.Sprintf("emulate=%v: ", emulate)+fmt.Sprintf(f, a...))
			}
			for _, p := range []string{"/long353", "/short353", "/box"} {
				ok, st, err := c.Exists(p)
				if ok {
					say("exists %s: owner 0x%x numChildren %d", p, st.EphemeralOwner, st.NumChildren)
				} else {
					say("exists %s: %v %v", p, ok, err)
				}
			}
			if _, st, err := c.Exists("/"); err == nil {
				say("root: cversion %d pzxid 0x%x numChildren %d", st.Cversion, st.Pzxid, st.NumChildren)
			}
			_, err = c.Create("/long353/child", nil, 0, zk.WorldACL(zk.PermAll))
			say("create /long353/child: %v", err)
			// The expired one goes on the container manager's next pass (every 100 ms here).
			deadline := time.Now().Add(15 * time.Second)
			for time.Now().Before(deadline) {
				if ok, _, err := c.Exists("/short353"); err == nil && !ok {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			ok, _, err := c.Exists("/short353")
			say("/short353 later: %v %v", ok, err)
			kv := mntrValues(t, ctx, s)
			say("ephemerals_count %s znode_count %s", kv["zk_ephemerals_count"], kv["zk_znode_count"])
			c.Close()
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		return lines
	})
}

// writeSnapshot353 writes snapshot.3: /long353 (owner 0x80000000ffffffff: under the emulation a TTL of about
// 49 days), /short353 (0x8000000000000001: 1 ms) and a container /box, without sessions.
func writeSnapshot353(t *testing.T, dir string) {
	harness.WriteSnapshot(t, dir, nil, harness.SnapshotNode{Path: "/long353", Owner: -0x7fffffff00000001},
		harness.SnapshotNode{Path: "/short353", Owner: -0x7fffffffffffffff},
		harness.SnapshotNode{Path: "/box", Container: true})
}
