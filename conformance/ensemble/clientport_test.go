package ensemble

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// A reconfig that gives a member a new client address moves its client port (QuorumPeer.processReconfig's
// cnxnFactory.reconfigure): ours and Apache's member each get a new port in one reconfig, after which each serves
// on the new port and not on the old one, and a session connected before goes on over its open connection. Ours
// leading and following.
func TestReconfigMovesClientPort(t *testing.T) {
	harness.EnsureZKServer(t)
	for _, oursLead := range []bool{true, false} {
		t.Run(map[bool]string{true: "ours leads", false: "Apache leads"}[oursLead], func(t *testing.T) {
			en := reconfigEnsemble(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			servers, oursID := en.mixedQuorum(t, ctx, oursLead)
			apacheID := 4 - oursID // a follower, as ours is, or not
			moved := map[int64]int{oursID: en.freePort(t), apacheID: en.freePort(t)}

			before := map[int64]*zk.Conn{}
			for id := range moved {
				c, _ := connect(t, servers[id].Addr())
				if _, err := c.Create(fmt.Sprintf("/before-%d", id), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
					t.Fatal(err)
				}
				before[id] = c
			}
			admin, _ := connect(t, servers[oursID].Addr())
			if err := admin.AddAuth("digest", []byte("super:"+harness.SuperPassword)); err != nil {
				t.Fatal(err)
			}
			var lines []string
			for id, port := range moved {
				lines = append(lines, fmt.Sprintf("server.%d=%s:participant;127.0.0.1:%d", id, en.members[id].line(), port))
			}
			if _, err := admin.IncrementalReconfig(lines, nil, -1); err != nil {
				t.Fatalf("reconfig %v: %v", lines, err)
			}
			for id, port := range moved {
				who := fmt.Sprintf("server %d (%s)", id, servers[id].Kind())
				newAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
				eventually(t, who+" on its new client port", func() error {
					out, err := harness.FourLetter(ctx, newAddr, "conf")
					if err != nil {
						return err
					}
					if !strings.Contains(out, "clientPort="+strconv.Itoa(port)+"\n") {
						return fmt.Errorf("conf:\n%s", out)
					}
					return nil
				})
				if nc, err := net.DialTimeout("tcp", servers[id].Addr(), time.Second); err == nil {
					nc.Close()
					t.Errorf("%s still accepts on its old client port %s", who, servers[id].Addr())
				}
				// The session from before, on its connection to the old port, works on.
				c := before[id]
				if _, err := c.Create(fmt.Sprintf("/after-%d", id), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
					t.Errorf("%s: the session from before: %v", who, err)
				}
				if st := c.State(); st != zk.StateHasSession {
					t.Errorf("%s: the session from before is %v", who, st)
				}
				nc, _ := connect(t, newAddr)
				if ok, _, err := nc.Exists(fmt.Sprintf("/after-%d", id)); err != nil || !ok {
					t.Errorf("%s: a new session on the new port: %v %v", who, ok, err)
				}
			}
		})
	}
}
