// Package gozkdiff runs scenarios through the github.com/go-zookeeper/zk
// client against Apache ZooKeeper 3.8 and zkserver and compares what the
// client reports: errors, data, children, ACLs, stats and watch events.
package gozkdiff

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

type quiet struct{}

func (quiet) Printf(string, ...interface{}) {}

// rec records one scenario's outcomes with zxids rebased and times dropped.
type rec struct {
	lines []string
	base  int64
}

func (r *rec) z(v int64) string {
	if r.base == 0 || v < r.base {
		return "pre"
	}
	return fmt.Sprintf("+%d", v-r.base)
}

func (r *rec) stat(s *zk.Stat) string {
	if s == nil {
		return "nil"
	}
	owner := "0"
	if s.EphemeralOwner != 0 {
		owner = "session"
	}
	return fmt.Sprintf("cz=%s mz=%s pz=%s v=%d cv=%d av=%d owner=%s len=%d nch=%d c<=m:%v",
		r.z(s.Czxid), r.z(s.Mzxid), r.z(s.Pzxid), s.Version, s.Cversion, s.Aversion, owner, s.DataLength, s.NumChildren, s.Ctime <= s.Mtime)
}

func (r *rec) add(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *rec) err(err error) string {
	if err == nil {
		return "OK"
	}
	return err.Error()
}

func (r *rec) event(ev zk.Event) {
	r.add("event %s %s %s", ev.Type, ev.State, ev.Path)
}

// wait records the watch event every scenario expects; the bound only ends a broken run. Under load a JVM server
// can take seconds to get a close or a write through its pipeline (3 s was tight beside other JVMs), and a
// close whose answer misses go-zookeeper's 1 s wait leaves the delete to the session's expiry.
func (r *rec) wait(ch <-chan zk.Event) {
	select {
	case ev := <-ch:
		r.event(ev)
	case <-time.After(30 * time.Second):
		r.add("event TIMEOUT")
	}
}

type scenario struct {
	name string
	fn   func(r *rec, c *zk.Conn, root string, dial func() *zk.Conn)
}

var open = zk.WorldACL(zk.PermAll)

var scenarios = []scenario{
	{"create-modes", func(r *rec, c *zk.Conn, root string, _ func() *zk.Conn) {
		for _, f := range []int32{0, zk.FlagEphemeral, zk.FlagSequence, zk.FlagEphemeralSequential} {
			p, err := c.Create(root+"/n", []byte("d"), f, open)
			r.add("create flags=%d -> %q %s", f, strings.TrimPrefix(p, root), r.err(err))
		}
		p, err := c.CreateContainer(root+"/box", nil, zk.FlagContainer, open)
		r.add("container -> %q %s", strings.TrimPrefix(p, root), r.err(err))
		p, err = c.CreateTTL(root+"/ttl", nil, zk.FlagTTL, open, time.Hour)
		r.add("ttl -> %q %s", strings.TrimPrefix(p, root), r.err(err))
		for _, ch := range []string{"/n", "/box", "/ttl"} {
			_, st, err := c.Get(root + ch)
			r.add("get %s -> %s %s", ch, r.stat(st), r.err(err))
		}
	}},
	{"errors", func(r *rec, c *zk.Conn, root string, _ func() *zk.Conn) {
		_, err := c.Create(root+"/a", nil, 0, open)
		r.add("create -> %s", r.err(err))
		_, err = c.Create(root+"/a", nil, 0, open)
		r.add("create again -> %s", r.err(err))
		_, err = c.Create(root+"/missing/x", nil, 0, open)
		r.add("create orphan -> %s", r.err(err))
		_, err = c.Set(root+"/a", []byte("x"), 7)
		r.add("set bad version -> %s", r.err(err))
		_, err = c.Create(root+"/a/b", nil, 0, open)
		r.add("create child -> %s", r.err(err))
		r.add("delete parent -> %s", r.err(c.Delete(root+"/a", -1)))
		_, err = c.Create(root+"/e", nil, zk.FlagEphemeral, open)
		r.add("create eph -> %s", r.err(err))
		_, err = c.Create(root+"/e/c", nil, 0, open)
		r.add("create under eph -> %s", r.err(err))
		r.add("delete missing -> %s", r.err(c.Delete(root+"/zz", -1)))
	}},
	{"sequential-after-deletes", func(r *rec, c *zk.Conn, root string, _ func() *zk.Conn) {
		for i := 0; i < 3; i++ {
			p, _ := c.Create(root+"/s-", nil, zk.FlagSequence, open)
			r.add("seq %q", strings.TrimPrefix(p, root))
			r.add("delete -> %s", r.err(c.Delete(p, -1)))
			_, st, _ := c.Exists(root)
			r.add("parent %s", r.stat(st))
		}
	}},
	{"data-versions", func(r *rec, c *zk.Conn, root string, _ func() *zk.Conn) {
		c.Create(root+"/d", nil, 0, open)
		for i := 0; i < 3; i++ {
			st, err := c.Set(root+"/d", []byte(strings.Repeat("x", i)), int32(i))
			r.add("set v%d -> %s %s", i, r.stat(st), r.err(err))
		}
		data, st, err := c.Get(root + "/d")
		r.add("get -> %q %s %s", data, r.stat(st), r.err(err))
		data, _, _ = c.Get(root)
		r.add("root data %q", data)
	}},
	{"children-and-watch", func(r *rec, c *zk.Conn, root string, dial func() *zk.Conn) {
		other := dial()
		defer other.Close()
		kids, st, ch, err := c.ChildrenW(root)
		r.add("children %v %s %s", kids, r.stat(st), r.err(err))
		other.Create(root+"/k1", nil, 0, open)
		r.wait(ch)
		_, _, dw, _ := c.GetW(root + "/k1")
		other.Set(root+"/k1", []byte("v"), -1)
		r.wait(dw)
		_, _, ew, _ := c.ExistsW(root + "/later")
		other.Create(root+"/later", nil, 0, open)
		r.wait(ew)
		_, _, dw, _ = c.GetW(root + "/later")
		other.Delete(root+"/later", -1)
		r.wait(dw)
		kids, st, _ = c.Children(root)
		sort.Strings(kids)
		r.add("children %v %s", kids, r.stat(st))
	}},
	{"ephemeral-cleanup", func(r *rec, c *zk.Conn, root string, dial func() *zk.Conn) {
		other := dial()
		other.Create(root+"/eph", []byte("x"), zk.FlagEphemeral, open)
		_, _, w, err := c.ExistsW(root + "/eph")
		r.add("exists watch %s", r.err(err))
		other.Close()
		r.wait(w)
		ok, _, _ := c.Exists(root + "/eph")
		r.add("exists after close %v", ok)
	}},
	{"acl-digest", func(r *rec, c *zk.Conn, root string, dial func() *zk.Conn) {
		_, err := c.Create(root+"/sec", []byte("s"), 0, zk.DigestACL(zk.PermAll, "alice", "pw"))
		r.add("create digest -> %s", r.err(err))
		acl, st, err := c.GetACL(root + "/sec")
		r.add("getACL owner-less -> %v %s %s", acl, r.stat(st), r.err(err))
		_, _, err = c.Get(root + "/sec")
		r.add("get unauth -> %s", r.err(err))
		r.add("addauth -> %s", r.err(c.AddAuth("digest", []byte("alice:pw"))))
		data, _, err := c.Get(root + "/sec")
		r.add("get auth -> %q %s", data, r.err(err))
		acl, _, err = c.GetACL(root + "/sec")
		r.add("getACL auth -> %v %s", acl, r.err(err))
		_, err = c.SetACL(root+"/sec", zk.WorldACL(zk.PermRead), 0)
		r.add("setACL -> %s", r.err(err))
		_, err = c.Set(root+"/sec", []byte("w"), -1)
		r.add("set read-only -> %s", r.err(err))
		_, err = c.Create(root+"/auth", nil, 0, zk.AuthACL(zk.PermAll))
		r.add("create auth acl -> %s", r.err(err))
		acl, _, _ = c.GetACL(root + "/auth")
		r.add("auth acl expanded %v", acl)
		anon := dial()
		defer anon.Close()
		_, err = anon.Create(root+"/auth2", nil, 0, zk.AuthACL(zk.PermAll))
		r.add("auth acl without ids -> %s", r.err(err))
	}},
	{"multi", func(r *rec, c *zk.Conn, root string, _ func() *zk.Conn) {
		res, err := c.Multi(&zk.CreateRequest{Path: root + "/m", Data: []byte("1"), Acl: open},
			&zk.SetDataRequest{Path: root + "/m", Data: []byte("2"), Version: 0},
			&zk.CheckVersionRequest{Path: root + "/m", Version: 1})
		r.add("multi ok -> %s", r.err(err))
		for _, x := range res {
			r.add("  %q %s %s", strings.TrimPrefix(x.String, root), r.stat(x.Stat), r.err(x.Error))
		}
		res, err = c.Multi(&zk.CreateRequest{Path: root + "/m2", Acl: open},
			&zk.DeleteRequest{Path: root + "/nope", Version: -1},
			&zk.SetDataRequest{Path: root + "/m", Data: []byte("3"), Version: -1})
		r.add("multi fail -> %s", r.err(err))
		for _, x := range res {
			r.add("  %q %s", strings.TrimPrefix(x.String, root), r.err(x.Error))
		}
		ok, _, _ := c.Exists(root + "/m2")
		r.add("rolled back: m2 exists %v", ok)
	}},
	{"sync-and-lock", func(r *rec, c *zk.Conn, root string, dial func() *zk.Conn) {
		p, err := c.Sync(root)
		r.add("sync %q %s", strings.TrimPrefix(p, root), r.err(err))
		l := zk.NewLock(c, root+"/lock", open)
		r.add("lock -> %s", r.err(l.Lock()))
		other := dial()
		defer other.Close()
		l2 := zk.NewLock(other, root+"/lock", open)
		got := make(chan error, 1)
		go func() { got <- l2.Lock() }()
		time.Sleep(300 * time.Millisecond)
		select {
		case <-got:
			r.add("second lock acquired early")
		default:
			r.add("second lock waits")
		}
		r.add("unlock -> %s", r.err(l.Unlock()))
		r.add("second lock -> %s", r.err(<-got))
		l2.Unlock()
	}},
}

func dialer(t *testing.T, addr string) func() *zk.Conn {
	return func() *zk.Conn {
		c, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quiet{}))
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for c.State() != zk.StateHasSession && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		return c
	}
}

func run(t *testing.T, addr string, i int, s scenario) []string {
	dial := dialer(t, addr)
	c := dial()
	defer c.Close()
	root := fmt.Sprintf("/g%d", i)
	r := &rec{}
	if _, err := c.Create(root, []byte("root"), 0, open); err != nil {
		t.Fatalf("%s: create root: %v", s.name, err)
	}
	_, st, _ := c.Exists(root)
	r.base = st.Czxid
	s.fn(r, c, root, dial)
	return r.lines
}

// startPair starts Apache ZooKeeper 3.8 and zkserver with the same config, both stopped when the test ends.
// Without Apache installed the test is skipped, except in CI.
func startPair(t *testing.T, cfg harness.Config) (apache, ours *harness.Server) {
	t.Helper()
	ctx := context.Background()
	apache, err := harness.Start(ctx, harness.Apache, cfg)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("Apache ZooKeeper: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = apache.Cleanup(false) })
	if ours, err = harness.Start(ctx, harness.ZKServer, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ours.Cleanup(false) })
	return apache, ours
}

func TestGoZookeeperDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	apache, ours := startPair(t, harness.Config{JVMFlags: []string{"-Dzookeeper.extendedTypesEnabled=true"}})
	mismatches := 0
	for i, s := range scenarios {
		a := run(t, apache.Addr(), i, s)
		b := run(t, ours.Addr(), i, s)
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			mismatches++
			t.Errorf("scenario %s differs\n--- apache\n%s\n--- zkserver\n%s", s.name, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
	t.Logf("go-zookeeper/zk differential: %d scenarios, %d mismatches", len(scenarios), mismatches)
}
