package diff

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/conformance/internal/zkwire"
	"github.com/zkafka/zkafka/jute"
)

// TestEnsembleAuthAndDropsAsApache compares EnsembleAuthenticationProvider (the "ensemble" auth scheme, with
// zoo.cfg's ensembleAuthName and without names) and connection_drop_count with Apache: the answers to ensemble
// names that match, are empty or are wrong (the connection closed unanswered, the session kept), an ACL of the
// scheme, and the counters after clients that close their sessions, drop their connections or never connect.
func TestEnsembleAuthAndDropsAsApache(t *testing.T) {
	const provider = "org.apache.zookeeper.server.auth.EnsembleAuthenticationProvider"
	runs := []struct {
		name  string
		props map[string]string
	}{
		{"names", map[string]string{"authProvider.1": provider, "ensembleAuthName": "prod, prod-alias"}},
		{"no-names", map[string]string{"authProvider.1": provider}},
	}
	harness.SameAsApache(t, func(t *testing.T, kind harness.Kind) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var lines []string
		for _, run := range runs {
			s, err := harness.Start(ctx, kind, harness.Config{Props: run.props})
			harness.NeedOrSkip(t, err)
			say := func(f string, a ...any) { lines = append(lines, run.name+": "+fmt.Sprintf(f, a...)) }
			dial := func(o zkwire.Options) *zkwire.Conn {
				c, err := zkwire.Dial(ctx, s.Addr(), o)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			auth := func(c *zkwire.Conn, name string) string {
				r, err := c.DoXid(ctx, jute.XidAuth, jute.OpAuth, &jute.AuthPacket{Scheme: "ensemble", Auth: []byte(name)})
				if errors.Is(err, zkwire.ErrClosed) {
					return "closed unanswered"
				} else if err != nil {
					t.Fatal(err)
				}
				if r.Hdr.Err != 0 {
					return fmt.Sprintf("error %d", r.Hdr.Err)
				}
				if r, err := c.Do(ctx, jute.OpExists, &jute.ExistsRequest{Path: "/"}, nil); err != nil || r.Hdr.Err != 0 {
					return fmt.Sprintf("ok, then exists: %v %d", err, r.Hdr.Err)
				}
				return "ok"
			}
			var kept []*zkwire.Conn
			for _, name := range []string{"prod", "prod-alias", "", " prod", "staging"} {
				c := dial(zkwire.Options{})
				say("auth ensemble %q: %s", name, auth(c, name))
				if c.Cause() != nil {
					// The session outlives the connection: the client takes it to another server.
					again, err := zkwire.Dial(ctx, s.Addr(), zkwire.Options{SessionID: c.SessionID(), Passwd: c.Passwd()})
					say("  the session resumed: %v", err == nil)
					if err == nil {
						kept = append(kept, again)
					}
					continue
				}
				kept = append(kept, c)
			}
			r, err := kept[0].Do(ctx, jute.OpCreate, &jute.CreateRequest{Path: "/e",
				ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "ensemble", ID: "prod"}}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			say("create with an ensemble ACL: error %d", r.Hdr.Err)
			// A connection closed before its connect request, one closed with its session open, and sessions
			// closed by closeSession: the first two are drops.
			if nc, err := net.Dial("tcp", s.Addr()); err == nil {
				nc.Close()
			}
			dial(zkwire.Options{}).CloseNoSession()
			for _, c := range kept {
				// The server closes the connection after answering closeSession; closing ours only then keeps
				// the close from racing with the server's (a drop when the server reads our end first).
				if _, err := c.DoXid(ctx, 0, jute.OpCloseSession, nil); err != nil {
					t.Fatal(err)
				}
				select {
				case <-c.Done():
				case <-ctx.Done():
					t.Fatal(ctx.Err())
				}
				c.CloseNoSession()
			}
			// The server sees the closes on its own time: read the counters once the drops stand still for a second
			// (at least the two above; the refused ensemble names may add theirs).
			var kv map[string]string
			last, since := "", time.Now()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				kv = mntrValues(t, ctx, s)
				if d := kv["zk_connection_drop_count"]; d != last {
					last, since = d, time.Now()
				} else if n, _ := strconv.Atoi(d); n >= 2 && time.Since(since) >= time.Second {
					break
				}
			}
			for _, k := range []string{"ensemble_auth_success", "ensemble_auth_skip", "ensemble_auth_fail",
				"connection_drop_count"} {
				say("%s %s", k, kv["zk_"+k])
			}
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			_ = s.Cleanup(false)
		}
		return lines
	})
}
