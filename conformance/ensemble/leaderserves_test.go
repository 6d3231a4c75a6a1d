package ensemble

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// With leaderServes=no the leader serves only its learners: ours, leading Apache's two followers, closes every
// client connection and answers srvr as not serving, while writes through the followers go on; when ours stops,
// Apache's new leader does the same, and ours, now a follower, serves clients.
func TestLeaderServesNo(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	for id := range en.members {
		en.extra[id] = map[string]string{"leaderServes": "no"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	ours := en.start(t, harness.ZKServer, 3, "")
	a1 := en.startApache(t, 1)
	a2 := en.startApache(t, 2)
	waitServing(t, ctx, a1, a2)
	notServing := func(s *harness.Server) {
		t.Helper()
		out, err := harness.FourLetter(ctx, s.Addr(), "srvr")
		if err != nil || out != "This ZooKeeper instance is not currently serving requests\n" {
			t.Fatalf("srvr on the %s leader: %q %v", s.Kind(), out, err)
		}
		c, _, err := zk.Connect([]string{s.Addr()}, 5*time.Second, zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		time.Sleep(2 * time.Second)
		if st := c.State(); st == zk.StateHasSession {
			t.Fatalf("a client got a session from the %s leader", s.Kind())
		}
	}
	eventually2(t, ctx, "ours leading", func() error {
		if m1, m2 := mode(t, a1), mode(t, a2); m1 != "follower" || m2 != "follower" {
			return fmt.Errorf("modes: 1 %s, 2 %s", m1, m2)
		}
		return nil
	})
	notServing(ours)
	c1, _ := connect(t, a1.Addr())
	c2, _ := connect(t, a2.Addr())
	if _, err := c1.Create("/via-follower", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Sync("/via-follower"); err != nil {
		t.Fatal(err)
	}
	if data, _, err := c2.Get("/via-follower"); err != nil || string(data) != "x" {
		t.Fatalf("/via-follower on Apache's server 2: %q %v", data, err)
	}

	// Ours stops: Apache's server 2 leads and refuses clients the same way; ours, restarted, follows and serves.
	if err := ours.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually2(t, ctx, "Apache's server 2 leading", func() error {
		if m := mode(t, a1); m != "follower" {
			return fmt.Errorf("server 1: %s", m)
		}
		return nil
	})
	notServing(a2)
	ours = en.start(t, harness.ZKServer, 3, ours.Dir())
	waitServing(t, ctx, ours)
	if m := mode(t, ours); !strings.HasPrefix(m, "follower") {
		t.Fatalf("ours after the restart: %s", m)
	}
	c3, _ := connect(t, ours.Addr())
	if data, _, err := c3.Get("/via-follower"); err != nil || string(data) != "x" {
		t.Fatalf("/via-follower on ours: %q %v", data, err)
	}
}
