package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/zkserver/storage"
)

// znodeDump is what must survive a change of server on the same dataDir.
type znodeDump struct {
	Data    string
	ACL     []zk.ACL
	Version int32
	Cver    int32
	Aver    int32
	Owner   int64
	Czxid   int64
	Mzxid   int64
	Pzxid   int64
	Ctime   int64
	Mtime   int64
}

func dumpTree(t *testing.T, c *zk.Conn, path string, out map[string]znodeDump) {
	t.Helper()
	data, st, err := c.Get(path)
	if err != nil {
		t.Fatalf("get %s: %v", path, err)
	}
	acl, _, err := c.GetACL(path)
	if err != nil {
		t.Fatalf("getACL %s: %v", path, err)
	}
	out[path] = znodeDump{string(data), acl, st.Version, st.Cversion, st.Aversion, st.EphemeralOwner,
		st.Czxid, st.Mzxid, st.Pzxid, st.Ctime, st.Mtime}
	children, _, err := c.Children(path)
	if err != nil {
		t.Fatalf("children %s: %v", path, err)
	}
	sort.Strings(children)
	for _, ch := range children {
		p := path + "/" + ch
		if path == "/" {
			p = "/" + ch
		}
		if strings.HasPrefix(p, "/zookeeper") {
			continue
		}
		dumpTree(t, c, p, out)
	}
}

// populate makes a tree with every kind of znode, many txns (so the dataDir
// holds snapshots and several logs), and an ephemeral owned by live.
func populate(t *testing.T, admin, live *zk.Conn) {
	t.Helper()
	must := func(_ string, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	open := zk.WorldACL(zk.PermAll)
	must(admin.Create("/m", []byte("root"), 0, open))
	must(admin.Create("/m/seq-", []byte("s"), zk.FlagSequence, open))
	must(admin.Create("/m/seq-", []byte("s"), zk.FlagSequence, open))
	must(admin.CreateContainer("/m/box", nil, zk.FlagContainer, open))
	must(admin.Create("/m/box/in", nil, 0, open))
	must(admin.Create("/m/acl", []byte("secret"), 0, append(zk.DigestACL(zk.PermAll, "user", "pw"), zk.WorldACL(zk.PermRead)...)))
	must(admin.CreateTTL("/m/ttl", []byte("t"), zk.FlagTTL, open, time.Hour))
	for i := 0; i < 120; i++ {
		p := fmt.Sprintf("/m/n%03d", i)
		must(admin.Create(p, []byte(p), 0, open))
		if i%2 == 0 {
			if _, err := admin.Set(p, []byte("v2"), -1); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 0 {
			if err := admin.Delete(p, -1); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := admin.SetACL("/m/n001", zk.WorldACL(zk.PermRead|zk.PermWrite), 0); err != nil {
		t.Fatal(err)
	}
	must(live.Create("/m/eph", []byte("mine"), zk.FlagEphemeral, open))
}

// connectSession opens a session with the server at addr, whose logs are in dir. The bound is waitReady's: on a
// loaded CI machine a JVM that answers ruok may take a while more to set up its first session.
func connectSession(t *testing.T, addr, dir string) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	return connectSessionDialer(t, addr, dir, net.DialTimeout)
}

func connectSessionDialer(t *testing.T, addr, dir string, dial zk.Dialer) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	c, ev, err := zk.Connect([]string{addr}, 20*time.Second, zk.WithLogInfo(false), zk.WithLogger(quietLogger{}), zk.WithDialer(dial))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for c.State() != zk.StateHasSession {
		if time.Now().After(deadline) {
			state := c.State()
			c.Close()
			t.Fatalf("no session with %s (state %v)\n%s", addr, state, tailAll(dir))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c, ev
}

// dialGate refuses dials while closed.
type dialGate struct{ open atomic.Bool }

func (g *dialGate) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	if !g.open.Load() {
		return nil, errors.New("no server up yet")
	}
	return net.DialTimeout(network, addr, timeout)
}

type starter func(t *testing.T, dir, cfg, addr string) *proc

// migrate runs one direction: first writes, stops (SIGTERM), second must see
// the same tree and keep the live session and its ephemeral.
func migrate(t *testing.T, first, second starter) {
	migrateWith(t, first, second, nil, nil)
}

// migrateWith is migrate with more zoo.cfg lines for both servers; loaded, if
// not nil, is called once the second server serves, with the newest snapshot
// the first left in the dataDir.
func migrateWith(t *testing.T, first, second starter, extra []string, loaded func(t *testing.T, dir, snap string)) {
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := writeZooCfg(t, dir, filepath.Join(dir, "data"), port, append([]string{"snapCount=40", "maxSessionTimeout=40000"}, extra...)...)
	p1 := first(t, dir, cfg, addr)
	admin, _ := connectSession(t, addr, dir)
	// The live client may dial only while a server is up and serving: a handshake Apache accepts while it is
	// still starting may never be answered (see waitReady), and go-zookeeper would wait minutes on it.
	var gate dialGate
	gate.open.Store(true)
	live, _ := connectSessionDialer(t, addr, dir, gate.dial)
	defer live.Close()
	populate(t, admin, live)
	before := map[string]znodeDump{}
	dumpTree(t, admin, "/", before)
	liveID := live.SessionID()
	admin.Close()
	gate.open.Store(false)
	p1.term(t)
	snaps, err := storage.Snapshots(filepath.Join(dir, "data", "version-2"))
	if err != nil || len(snaps) == 0 {
		t.Fatalf("no snapshot after the first server: %v", err)
	}

	second(t, dir, cfg, addr)
	if loaded != nil {
		loaded(t, dir, snaps[0])
	}
	gate.open.Store(true)
	// The live client reconnects by itself with its session id and password.
	deadline := time.Now().Add(30 * time.Second)
	for live.State() != zk.StateHasSession {
		if time.Now().After(deadline) {
			t.Fatalf("live session did not resume on the second server (state %v)\n%s", live.State(), tailAll(dir))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if live.SessionID() != liveID {
		t.Fatalf("session changed: 0x%x -> 0x%x", liveID, live.SessionID())
	}
	c, _ := connectSession(t, addr, dir)
	defer c.Close()
	after := map[string]znodeDump{}
	dumpTree(t, c, "/", after)
	if !reflect.DeepEqual(before, after) {
		for p, b := range before {
			if a, ok := after[p]; !ok || !reflect.DeepEqual(a, b) {
				t.Errorf("%s: before %+v after %+v", p, b, a)
			}
		}
		for p := range after {
			if _, ok := before[p]; !ok {
				t.Errorf("%s: appeared after the switch", p)
			}
		}
		t.FailNow()
	}
	if st := before["/m/eph"]; st.Owner != liveID {
		t.Fatalf("ephemeral owner 0x%x, want 0x%x", st.Owner, liveID)
	}
	// The resumed session still owns its ephemeral: closing it removes it.
	live.Close()
	deadline = time.Now().Add(10 * time.Second)
	for {
		ok, _, err := c.Exists("/m/eph")
		if err == nil && !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ephemeral of the closed session still there")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// And the second server keeps writing after the first's history.
	if _, err := c.Create("/m/after", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
}

func apacheStarter(t *testing.T, dir, cfg, addr string) *proc {
	return startApache(t, dir, addr, filepath.Join(dir, "apache.log"))
}

func zkserverStarter(t *testing.T, dir, cfg, addr string) *proc {
	return startZkserver(t, cfg, addr, filepath.Join(dir, "zkserver.log"), "SERVER_JVMFLAGS=-Dzookeeper.extendedTypesEnabled=true")
}

func TestApacheDataDirStartsUnderZkserver(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	migrate(t, apacheStarter, zkserverStarter)
}

func TestZkserverDataDirStartsUnderApache(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	migrate(t, zkserverStarter, apacheStarter)
}

// With zookeeper.snapshot.compression.method=snappy each server writes
// snapshot.<zxid>.snappy (snappy-java's framing), and the other loads it.
func TestSnappySnapshotsMigrate(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	snappy := []string{"snapshot.compression.method=snappy"}
	t.Run("ApacheToZkserver", func(t *testing.T) {
		migrateWith(t, apacheStarter, zkserverStarter, snappy, func(t *testing.T, dir, snap string) {
			checkSnappyLoaded(t, dir, snap, "zkserver.log", "database loaded")
		})
	})
	t.Run("ZkserverToApache", func(t *testing.T) {
		migrateWith(t, zkserverStarter, apacheStarter, snappy, func(t *testing.T, dir, snap string) {
			checkSnappyLoaded(t, dir, snap, "apache.log", "Reading snapshot")
		})
	})
}

// checkSnappyLoaded checks that every snapshot in the dataDir is a .snappy one
// and that the second server's log shows it loaded snap.
func checkSnappyLoaded(t *testing.T, dir, snap, logName, loadMsg string) {
	t.Helper()
	snaps, err := storage.Snapshots(filepath.Join(dir, "data", "version-2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		if !strings.HasSuffix(s, ".snappy") {
			t.Errorf("snapshot %s is not a .snappy one", filepath.Base(s))
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, loadMsg) && strings.Contains(line, filepath.Base(snap)) {
			found = true
		}
	}
	if !found || strings.Contains(string(b), "problem reading snap file") {
		t.Fatalf("%s does not show %s loaded\n%s", logName, filepath.Base(snap), tailAll(dir))
	}
}

func tailAll(dir string) string {
	out := ""
	for _, f := range []string{"apache.log", "zkserver.log"} {
		out += "--- " + f + "\n" + tail(filepath.Join(dir, f)) + "\n"
	}
	return out
}
