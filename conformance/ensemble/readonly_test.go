package ensemble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/conformance/internal/zkwire"
	"github.com/zkafka/zkafka/conformance/javaclient"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/session"
)

// Read-only mode (-Dreadonlymode.enabled=true) in an ensemble of Apache's servers 1 and 2 and ours, server 3, with
// localSessionsEnabled as Apache's own read-only tests run it (and localSessionsUpgradingEnabled, so that a session
// becomes global when it creates an ephemeral: each phase resumes one on the read-only server). Ours is left alone
// (1 and 2 stopped), then Apache's server 1 (2 and 3 stopped); each in turn serves read-only clients from its tree, and the two are compared: the
// connect handshakes (read-write, legacy and global-session clients turned away; read-only clients given local
// sessions and a response flagged read-only), every read and write answered as Apache answers it (NotReadOnly for
// state changes), isro, srvr and mntr, a local session resumed and closed. Restarted without local sessions, each
// answers a new session's connect with NotReadOnly, as Apache 3.8 does. When the others return, the server serves
// read-write again and its read-only connections have closed.
func TestReadOnlyMode(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	for id := range en.members {
		en.jvmFlags[id] = []string{"-Dreadonlymode.enabled=true"}
		// Upgrading: the global session each phase needs is a local one upgraded by an ephemeral create.
		en.extra[id] = map[string]string{"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	kinds := map[int64]harness.Kind{1: harness.Apache, 2: harness.Apache, 3: harness.ZKServer}
	servers := map[int64]*harness.Server{}
	for _, id := range []int64{1, 2, 3} {
		servers[id] = en.start(t, kinds[id], id, "")
	}
	for _, s := range servers {
		waitServing(t, ctx, s)
	}
	// The data the read-only servers serve, written through ours.
	rw := dialRW(t, ctx, servers[3].Addr())
	for _, p := range []string{"/ro", "/ro/c"} {
		mustDo(t, ctx, rw, jute.OpCreate, &jute.CreateRequest{Path: p, Data: []byte("data of " + p),
			ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}})
	}
	rw.CloseNoSession()

	phase := func(id int64) []string {
		others := []int64{}
		for o := range servers {
			if o != id {
				others = append(others, o)
			}
		}
		out := readOnlyPhase(t, ctx, en, servers, kinds, id, others)
		t.Logf("server %d (%s) read-only:\n%s", id, kinds[id], strings.Join(out, "\n"))
		return out
	}
	ours := phase(3)
	apache := phase(1)
	// What Apache's read-only server was seen to do, and ours must too.
	for _, want := range []string{
		"srvr: Mode: read-only",
		"read-write client: closed without an answer",
		"global session resumed: closed without an answer",
		"read-only client: 37 bytes, protocol 0, timeout 30000, session of this server true, readOnly 1",
		"getData missing: err -101 zxid last body ",
		"create: err -119 zxid last body ",
		"sync: err -119 zxid last body ",
		"closeSession: err 0 zxid last",
		"read-only client without local sessions: xid 0 zxid last err -119",
		"read-only connection after the quorum came back: closed",
		"create after the quorum came back: err 0",
	} {
		for side, lines := range map[string][]string{"Apache's": apache, "our": ours} {
			if !slices.Contains(lines, want) {
				t.Errorf("%s read-only server: no %q", side, want)
			}
		}
	}
	if strings.Join(ours, "\n") != strings.Join(apache, "\n") {
		var b strings.Builder
		for _, e := range harness.LineEdits(apache, ours, true) {
			fmt.Fprintf(&b, "%c %s\n", e.Op, e.Line)
		}
		t.Errorf("read-only service differs (- Apache, + ours):\n%s", b.String())
	}
}

// readOnlyPhase leaves server id alone in the ensemble and records what it does as a read-only server, then brings
// the others back and checks that it serves read-write again.
func readOnlyPhase(t *testing.T, ctx context.Context, en *ensemble, servers map[int64]*harness.Server,
	kinds map[int64]harness.Kind, id int64, others []int64) []string {
	t.Helper()
	s := servers[id]
	// A global session, made through ours (a local session, upgraded by its ephemeral create) and known to server
	// id.
	g := dialRW(t, ctx, servers[3].Addr())
	mark := fmt.Sprintf("/global-%d", id)
	mustDo(t, ctx, g, jute.OpCreate, &jute.CreateRequest{Path: mark + "-e", Flags: jute.ModeEphemeral,
		ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}})
	mustDo(t, ctx, g, jute.OpCreate, &jute.CreateRequest{Path: mark,
		ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}})
	g.CloseNoSession()
	probe := dialRW(t, ctx, s.Addr())
	eventually(t, mark+" on server "+strconv.FormatInt(id, 10), func() error {
		if _, err := probe.Do(ctx, jute.OpSync, &jute.SyncRequest{Path: mark}, nil); err != nil {
			return err
		}
		r, err := probe.Do(ctx, jute.OpExists, &jute.ExistsRequest{Path: mark}, nil)
		if err == nil && r.Hdr.Err != 0 {
			err = fmt.Errorf("exists: %d", r.Hdr.Err)
		}
		return err
	})
	probe.CloseNoSession()

	for _, o := range others {
		if err := servers[o].Stop(); err != nil {
			t.Fatal(err)
		}
	}
	eventually2(t, ctx, fmt.Sprintf("server %d read-only", id), func() error {
		out, err := harness.FourLetter(ctx, s.Addr(), "isro")
		if err == nil && out != "ro" {
			err = fmt.Errorf("isro %q", out)
		}
		return err
	})
	last := lastZxid(t, ctx, s)
	var out []string
	log := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	norm := func(zxid int64) string {
		if zxid == last {
			return "last"
		}
		return fmt.Sprintf("0x%x (last 0x%x)", zxid, last)
	}

	// The operations surface.
	srvr, err := harness.FourLetter(ctx, s.Addr(), "srvr")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(srvr, "\n") {
		if strings.HasPrefix(l, "READ-ONLY") || strings.HasPrefix(l, "Mode:") {
			log("srvr: %s", l)
		}
	}
	stat, err := harness.FourLetter(ctx, s.Addr(), "stat")
	if err != nil {
		t.Fatal(err)
	}
	log("stat line 2: %s", strings.Split(stat, "\n")[1])
	mntr, err := harness.FourLetter(ctx, s.Addr(), "mntr")
	if err != nil {
		t.Fatal(err)
	}
	log("mntr keys: %s", strings.Join(mntrKeys(mntr), " "))
	for _, l := range strings.Split(mntr, "\n") {
		if strings.HasPrefix(l, "zk_server_state") || strings.HasPrefix(l, "zk_peer_state") {
			log("mntr: %s", l)
		}
	}

	// Connections the read-only server turns away: no read-only flag, the legacy 44-byte form, a global session.
	no, yes := false, true
	log("read-write client: %s", rawConnect(t, ctx, s.Addr(), 0, nil, &no))
	log("legacy client: %s", rawConnect(t, ctx, s.Addr(), 0, nil, nil))
	log("client seen a newer zxid: %s", rawConnectZxid(t, ctx, s.Addr(), last+1))
	gid := g.SessionID()
	log("global session resumed: %s", rawConnect(t, ctx, s.Addr(), gid, session.Password(gid), &yes))
	// A read-only client gets a local session of this server's, flagged read-only.
	frame := rawConnectFrame(t, ctx, s.Addr(), 0, nil, &yes)
	if len(frame) != 37 {
		t.Fatalf("read-only connect response %x", frame)
	}
	sid := int64(binary.BigEndian.Uint64(frame[8:16]))
	log("read-only client: %d bytes, protocol %d, timeout %d, session of this server %v, readOnly %d", len(frame),
		binary.BigEndian.Uint32(frame[0:4]), binary.BigEndian.Uint32(frame[4:8]), sid>>56 == id, frame[36])

	ro, err := zkwire.Dial(ctx, s.Addr(), zkwire.Options{ReadOnly: &yes, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.CloseNoSession()
	acl := []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	ops := []struct {
		name string
		op   int32
		req  jute.Record
	}{
		{"getData", jute.OpGetData, &jute.GetDataRequest{Path: "/ro"}},
		{"getData missing", jute.OpGetData, &jute.GetDataRequest{Path: "/missing"}},
		{"exists", jute.OpExists, &jute.ExistsRequest{Path: "/ro/c", Watch: true}},
		{"getChildren", jute.OpGetChildren, &jute.GetChildrenRequest{Path: "/ro"}},
		{"getChildren2", jute.OpGetChildren2, &jute.GetChildren2Request{Path: "/ro"}},
		{"getACL", jute.OpGetACL, &jute.GetACLRequest{Path: "/ro"}},
		{"getAllChildrenNumber", jute.OpGetAllChildrenNumber, &jute.GetAllChildrenNumberRequest{Path: "/ro"}},
		{"getEphemerals", jute.OpGetEphemerals, &jute.GetEphemeralsRequest{PrefixPath: "/"}},
		{"multiRead", jute.OpMultiRead, &jute.MultiRequest{Ops: []jute.Op{
			{Type: jute.OpGetData, Rec: &jute.GetDataRequest{Path: "/ro/c"}},
			{Type: jute.OpGetChildren, Rec: &jute.GetChildrenRequest{Path: "/missing"}}}}},
		{"addWatch", jute.OpAddWatch, &jute.AddWatchRequest{Path: "/ro", Mode: jute.AddWatchPersistentRecursive}},
		{"removeWatches", jute.OpRemoveWatches, &jute.RemoveWatchesRequest{Path: "/ro", Type: jute.WatcherAny}},
		{"whoAmI", jute.OpWhoAmI, nil},
		{"create", jute.OpCreate, &jute.CreateRequest{Path: "/ro/new", ACL: acl}},
		{"create existing", jute.OpCreate, &jute.CreateRequest{Path: "/ro", ACL: acl}},
		{"create2", jute.OpCreate2, &jute.CreateRequest{Path: "/ro/new", ACL: acl}},
		{"createContainer", jute.OpCreateContainer, &jute.CreateRequest{Path: "/ro/new", ACL: acl, Flags: 4}},
		{"createTTL", jute.OpCreateTTL, &jute.CreateTTLRequest{Path: "/ro/new", ACL: acl, Flags: 5, TTL: 1000}},
		{"delete", jute.OpDelete, &jute.DeleteRequest{Path: "/ro/c", Version: -1}},
		{"deleteContainer", jute.OpDeleteContainer, &jute.DeleteRequest{Path: "/ro/c", Version: -1}},
		{"setData", jute.OpSetData, &jute.SetDataRequest{Path: "/ro", Data: []byte("x"), Version: -1}},
		{"setACL", jute.OpSetACL, &jute.SetACLRequest{Path: "/ro", ACL: acl, Version: -1}},
		{"check", jute.OpCheck, &jute.CheckVersionRequest{Path: "/ro", Version: 0}},
		{"multi", jute.OpMulti, &jute.MultiRequest{Ops: []jute.Op{
			{Type: jute.OpCheck, Rec: &jute.CheckVersionRequest{Path: "/ro", Version: 0}}}}},
		{"sync", jute.OpSync, &jute.SyncRequest{Path: "/ro"}},
		{"reconfig", jute.OpReconfig, &jute.ReconfigRequest{JoiningServers: "", LeavingServers: "2", CurConfigID: -1}},
		{"getData after the writes", jute.OpGetData, &jute.GetDataRequest{Path: "/ro/c"}},
	}
	before := latencyCounts(t, ctx, s)
	for _, o := range ops {
		r, err := ro.Do(ctx, o.op, o.req, nil)
		if err != nil {
			t.Fatalf("%s on the read-only server %d: %v", o.name, id, err)
		}
		log("%s: err %d zxid %s body %x", o.name, r.Hdr.Err, norm(r.Hdr.Zxid), r.Body)
	}
	// What ReadOnlyRequestProcessor passes on goes through prep (and no sync processor).
	log("request processor counts of these requests: %s", countDeltas(before, latencyCounts(t, ctx, s)))
	// Apache's Java client (zkCli.sh -r): connected read-only, it reads, and a write fails with NotReadOnly.
	for _, args := range [][]string{{"get", "/ro/c"}, {"set", "/ro", "x"}} {
		log("zkCli.sh -r %s: %s", strings.Join(args, " "), zkCliReadOnly(t, ctx, s.Addr(), args...))
	}

	// The local session resumes on a new connection (its old one closes) and closes.
	again, err := zkwire.Dial(ctx, s.Addr(), zkwire.Options{ReadOnly: &yes, SessionID: ro.SessionID(), Passwd: ro.Passwd()})
	if err != nil {
		t.Fatalf("resuming the local session: %v", err)
	}
	log("local session resumed: same id %v, timeout %d", again.SessionID() == ro.SessionID(), again.Timeout())
	select {
	case <-ro.Done():
		log("its old connection: closed")
	case <-time.After(10 * time.Second):
		log("its old connection: open")
	}
	r, err := again.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	log("closeSession: err %d zxid %s", r.Hdr.Err, norm(r.Hdr.Zxid))
	log("closed session resumed: %s", rawConnect(t, ctx, s.Addr(), ro.SessionID(), ro.Passwd(), &yes))
	log("bad password: %s", rawConnect(t, ctx, s.Addr(), sid, make([]byte, 16), &yes))

	// Without local sessions (restarted alone), a new read-only session is refused with NotReadOnly.
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	en.extra[id]["localSessionsEnabled"] = "false"
	s = en.start(t, kinds[id], id, s.Dir())
	servers[id] = s
	eventually2(t, ctx, fmt.Sprintf("server %d read-only again", id), func() error {
		out, err := harness.FourLetter(ctx, s.Addr(), "isro")
		if err == nil && out != "ro" {
			err = fmt.Errorf("isro %q", out)
		}
		return err
	})
	if mntr, err = harness.FourLetter(ctx, s.Addr(), "mntr"); err != nil {
		t.Fatal(err)
	}
	log("mntr keys, read-only since the start: %s", strings.Join(mntrKeys(mntr), " "))
	log("request processor counts, read-only since the start: %s", countDeltas(nil, latencyCounts(t, ctx, s)))
	frame = rawConnectFrame(t, ctx, s.Addr(), 0, nil, &yes)
	if len(frame) == 16 {
		log("read-only client without local sessions: xid %d zxid %s err %d", int32(binary.BigEndian.Uint32(frame[0:4])),
			norm(int64(binary.BigEndian.Uint64(frame[4:12]))), int32(binary.BigEndian.Uint32(frame[12:16])))
	} else {
		log("read-only client without local sessions: %x", frame)
	}
	held, err := zkwire.Dial(ctx, s.Addr(), zkwire.Options{ReadOnly: &yes, SessionID: 0x3300000000000001,
		Passwd: session.Password(0x3300000000000001)})
	if err != nil {
		t.Fatalf("resuming a session nobody knows without local sessions: %v", err)
	}
	hr, err := held.Do(ctx, jute.OpGetData, &jute.GetDataRequest{Path: "/ro"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	log("a session nobody knows, without local sessions: resumed, getData err %d", hr.Hdr.Err)

	// The others return: the server leaves read-only service, closing its read-only connections, and serves
	// read-write clients.
	for _, o := range others {
		servers[o] = en.start(t, kinds[o], o, servers[o].Dir())
	}
	eventually2(t, ctx, fmt.Sprintf("server %d read-write", id), func() error {
		out, err := harness.FourLetter(ctx, s.Addr(), "isro")
		if err == nil && out != "rw" {
			err = fmt.Errorf("isro %q", out)
		}
		return err
	})
	select {
	case <-held.Done():
		log("read-only connection after the quorum came back: closed")
	case <-time.After(10 * time.Second):
		log("read-only connection after the quorum came back: open")
	}
	for _, o := range others {
		waitServing(t, ctx, servers[o])
	}
	back := dialRW(t, ctx, s.Addr())
	r, err = back.Do(ctx, jute.OpCreate, &jute.CreateRequest{Path: fmt.Sprintf("/rw-%d", id), ACL: acl}, nil)
	if err != nil {
		t.Fatal(err)
	}
	log("create after the quorum came back: err %d", r.Hdr.Err)

	back.CloseNoSession()
	return out
}

// zkCliReadOnly runs one zkCli.sh command as a client that accepts a read-only server (-r) and returns its
// output without the logging noise, on one line.
func zkCliReadOnly(t *testing.T, ctx context.Context, addr string, args ...string) string {
	t.Helper()
	if _, err := os.Stat(javaclient.ZkCliScript); err != nil {
		t.Skipf("zkCli.sh: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// Without -waitforconnection: it waits for SyncConnected, which a read-only connection never is.
	cmd := exec.CommandContext(ctx, javaclient.ZkCliScript, append([]string{"-server", addr, "-r"}, args...)...)
	cmd.Env = append(os.Environ(), "ZOO_LOG_DIR="+t.TempDir(), "CLIENT_JVMFLAGS=-XX:TieredStopAtLevel=1 -Xshare:auto -XX:-UsePerfData")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("zkCli.sh %v: %v\n%s", args, err, out)
	}
	// The watcher's events print on the client's event thread, racing with the command's output and with the exit
	// after it: they are logged, not compared.
	var keep, events []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || l == "WATCHER::" || strings.HasPrefix(l, "SLF4J:") || strings.HasPrefix(l, "Connecting to") ||
			strings.HasPrefix(l, "at "):
		case strings.HasPrefix(l, "WatchedEvent "):
			events = append(events, l)
		default:
			keep = append(keep, l)
		}
	}
	t.Logf("zkCli.sh -r %v on %s: events %q", args, addr, events)
	return fmt.Sprintf("%q", keep)
}

// dialRW opens a read-write session on addr, waiting for a server that serves one.
func dialRW(t *testing.T, ctx context.Context, addr string) *zkwire.Conn {
	t.Helper()
	no := false
	var c *zkwire.Conn
	eventually2(t, ctx, "a session on "+addr, func() error {
		var err error
		c, err = zkwire.Dial(ctx, addr, zkwire.Options{ReadOnly: &no, Timeout: 60 * time.Second})
		return err
	})
	return c
}

func mustDo(t *testing.T, ctx context.Context, c *zkwire.Conn, op int32, req jute.Record) {
	t.Helper()
	r, err := c.Do(ctx, op, req, nil)
	if err == nil && r.Hdr.Err != 0 {
		err = fmt.Errorf("error %d", r.Hdr.Err)
	}
	if err != nil {
		t.Fatalf("op %d: %v", op, err)
	}
}

// lastZxid is the server's last zxid as srvr prints it.
func lastZxid(t *testing.T, ctx context.Context, s *harness.Server) int64 {
	t.Helper()
	out, err := harness.FourLetter(ctx, s.Addr(), "srvr")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(out, "\n") {
		if h, ok := strings.CutPrefix(l, "Zxid: 0x"); ok {
			z, err := strconv.ParseUint(h, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int64(z)
		}
	}
	t.Fatalf("no Zxid in srvr: %q", out)
	return 0
}

// rawConnect sends a connect request (with the readOnly byte when ro is set) and tells what came back: the
// connection closed without an answer, or the connect response.
func rawConnect(t *testing.T, ctx context.Context, addr string, sid int64, passwd []byte, ro *bool) string {
	t.Helper()
	f := rawConnectFrame(t, ctx, addr, sid, passwd, ro)
	if f == nil {
		return "closed without an answer"
	}
	return fmt.Sprintf("answered %x", f)
}

func rawConnectZxid(t *testing.T, ctx context.Context, addr string, seen int64) string {
	t.Helper()
	yes := true
	f := connectFrame(t, ctx, addr, jute.ConnectRequest{LastZxidSeen: seen, TimeOut: 30000, Passwd: make([]byte, 16)}, &yes)
	if f == nil {
		return "closed without an answer"
	}
	return fmt.Sprintf("answered %x", f)
}

// rawConnectFrame returns the frame the server answers a connect request with, nil when it closes the connection
// without one.
func rawConnectFrame(t *testing.T, ctx context.Context, addr string, sid int64, passwd []byte, ro *bool) []byte {
	t.Helper()
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	return connectFrame(t, ctx, addr, jute.ConnectRequest{TimeOut: 30000, SessionID: sid, Passwd: passwd}, ro)
}

func connectFrame(t *testing.T, ctx context.Context, addr string, req jute.ConnectRequest, ro *bool) []byte {
	t.Helper()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	e := jute.Encoder{Buf: make([]byte, 4, 64)}
	req.Encode(&e)
	if ro != nil {
		e.Bool(*ro)
	}
	binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(e.Buf); err != nil {
		t.Fatal(err)
	}
	f, err := jute.ReadFrame(nc, 1<<20)
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	return f
}

// countDeltas lists the counts that grew from before to after, by name.
func countDeltas(before, after map[string]int64) string {
	var out []string
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out = append(out, fmt.Sprintf("%s +%d", k, d))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
