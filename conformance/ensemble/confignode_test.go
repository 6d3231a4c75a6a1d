package ensemble

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// Without reconfigEnabled, every member of a quorum holds its static config in /zookeeper/config
// (initConfigInZKDatabase at start and after each sync with the leader): the same text and stat on ours as on
// Apache's, ours leading Apache's followers and Apache's leader with ours following.
func TestConfigNodeInQuorumMode(t *testing.T) {
	harness.EnsureZKServer(t)
	for _, oursLead := range []bool{true, false} {
		t.Run(fmt.Sprintf("ours leads %v", oursLead), func(t *testing.T) {
			en := newEnsemble(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			servers := map[int64]*harness.Server{}
			if oursLead {
				servers[3], servers[1], servers[2] = en.oursLeadingApache(t, ctx)
			} else {
				servers[2], servers[3] = en.apacheQuorum(t, ctx)
				servers[1] = en.start(t, harness.ZKServer, 1, "")
				if err := servers[1].WaitServing(ctx); err != nil {
					t.Fatal(err)
				}
			}
			type node struct {
				data                       string
				mzxid, czxid, pzxid        int64
				version, cversion, aclVers int32
			}
			eventually(t, "the same /zookeeper/config everywhere", func() error {
				got := map[node][]string{}
				for id, s := range servers {
					c, _, err := zk.Connect([]string{s.Addr()}, 5*time.Second, zk.WithLogInfo(false))
					if err != nil {
						return err
					}
					data, st, err := c.Get("/zookeeper/config")
					c.Close()
					if err != nil {
						return fmt.Errorf("server %d: %w", id, err)
					}
					n := node{string(data), st.Mzxid, st.Czxid, st.Pzxid, st.Version, st.Cversion, st.Aversion}
					got[n] = append(got[n], fmt.Sprintf("%d (%s)", id, s.Kind()))
				}
				if len(got) != 1 {
					return fmt.Errorf("differ: %+v", got)
				}
				t.Logf("%+v", got)
				return nil
			})
		})
	}
}
