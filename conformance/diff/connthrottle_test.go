package diff

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/conformance/internal/zkwire"
)

// TestConnectionThrottleAsApache compares the connection throttle (zookeeper.connection_throttle_*, Apache's
// BlueThrottle) of a standalone Apache server and ours: which connect requests it lets through and which
// connections it closes, and the counts mntr gives (connection_request_count, connection_rejected,
// connection_token_deficit, connection_drop_probability). The bucket never refills during a run (fill_time of
// 1000 s), so each outcome is fixed: a plain bucket (a connect whose zxid is ahead still draws a token and is
// counted), weighted sessions (3 tokens a new global session, 2 a resumed one) and BLUE's random drop, whose
// probability reaches 1 while the bucket stays empty.
func TestConnectionThrottleAsApache(t *testing.T) {
	const prefix = "-Dzookeeper.connection_throttle_"
	runs := []struct {
		name  string
		flags []string
		plan  []string // per connect: "new", "ahead" (lastZxidSeen past the server's) or "renew" (the first session)
	}{
		{"bucket", []string{prefix + "tokens=3", prefix + "fill_time=1000000"},
			[]string{"new", "ahead", "new", "new", "new"}},
		{"weighted", []string{prefix + "tokens=2", prefix + "fill_time=1000000", prefix + "weight_enabled=true"},
			[]string{"new", "renew", "new", "renew"}},
		{"blue", []string{prefix + "tokens=1", prefix + "fill_time=1000000", prefix + "freeze_time=0",
			prefix + "drop_increase=0.5"},
			[]string{"new", "new", "new", "new"}},
	}
	harness.SameAsApache(t, func(t *testing.T, kind harness.Kind) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var lines []string
		for _, run := range runs {
			s, err := harness.Start(ctx, kind, harness.Config{JVMFlags: run.flags})
			harness.NeedOrSkip(t, err)
			var first *zkwire.Conn
			for i, what := range run.plan {
				// BLUE moves its probability only once a millisecond has passed (freeze_time 0).
				time.Sleep(20 * time.Millisecond)
				o := zkwire.Options{}
				switch what {
				case "ahead":
					o.LastZxid = 1 << 40
				case "renew":
					o.SessionID, o.Passwd = first.SessionID(), first.Passwd()
				}
				c, err := zkwire.Dial(ctx, s.Addr(), o)
				outcome := "answered"
				if err != nil {
					outcome = "closed"
				} else {
					defer c.CloseNoSession()
					if first == nil {
						first = c
					}
				}
				lines = append(lines, fmt.Sprintf("%s: connect %d (%s): %s", run.name, i, what, outcome))
			}
			kv := mntrValues(t, ctx, s)
			for _, k := range []string{"connection_request_count", "connection_rejected",
				"cnt_connection_token_deficit", "sum_connection_token_deficit", "max_connection_token_deficit",
				"connection_drop_probability"} {
				lines = append(lines, fmt.Sprintf("%s: %s %s", run.name, k, kv["zk_"+k]))
			}
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			_ = s.Cleanup(false)
		}
		return lines
	})
}
