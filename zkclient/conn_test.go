package zkclient

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkclient/internal/zktest"
)

// One Apache server for the whole package keeps the run short.
var apache *zktest.Server

func TestMain(m *testing.M) {
	var dir string
	if zktest.Available() {
		var err error
		dir, err = os.MkdirTemp("", "zkclient-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		apache, err = zktest.StartIn(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	if apache != nil {
		apache.Stop()
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

var seq atomic.Int32

// dial connects to the shared server and returns a fresh base path for the test.
func dial(t *testing.T, opt Options) (*Conn, string) {
	t.Helper()
	if apache == nil {
		t.Skip("Apache ZooKeeper not installed")
	}
	c, err := Dial(apache.Addr, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	base := fmt.Sprintf("/t%d", seq.Add(1))
	return c, base
}

// must(f())(t) fails the test on f's error and returns its value.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantErr(t *testing.T, err error, want jute.Err) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func nextEvent(t *testing.T, c *Conn) Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatal("event channel closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	return Event{}
}

// noEvent checks that nothing is queued now. Events that precede a reply are
// queued before the reply returns, so this is exact after a round trip.
func noEvent(t *testing.T, c *Conn) {
	t.Helper()
	if _, _, err := c.Exists("/", false); err != nil { // round trip
		t.Fatal(err)
	}
	select {
	case ev := <-c.Events():
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

func TestHandshake(t *testing.T) {
	for _, ro := range []bool{false, true} {
		c, _ := dial(t, Options{SessionTimeout: 4 * time.Second, SendReadOnlyByte: ro})
		if c.SessionID() == 0 || len(c.Password()) != 16 {
			t.Fatalf("session 0x%x passwd %x", c.SessionID(), c.Password())
		}
		if c.Timeout() != 4*time.Second {
			t.Fatalf("timeout %v", c.Timeout())
		}
		if c.ReadOnlyServer() {
			t.Fatal("standalone server reported read-only")
		}
		if err := c.Ping(); err != nil {
			t.Fatal(err)
		}
		hdr, body, err := c.DoRaw(jute.OpPing, nil)
		if err != nil || hdr.Xid != jute.XidPing || hdr.Err != 0 || len(body) != 0 {
			t.Fatalf("ping reply %+v %x %v", hdr, body, err)
		}
	}
}

func TestCRUD(t *testing.T) {
	c, b := dial(t, Options{})
	acl := jute.OpenACLUnsafe
	if p := must(c.Create(b, []byte("root"), acl, jute.ModePersistent))(t); p != b {
		t.Fatalf("created %q", p)
	}
	_, err := c.Create(b, nil, acl, 0)
	wantErr(t, err, jute.ErrNodeExists)
	_, err = c.Create(b+"/x/y", nil, acl, 0)
	wantErr(t, err, jute.ErrNoNode)

	p, st, err := c.Create2(b+"/a", []byte("hello"), acl, jute.ModePersistent)
	if err != nil || p != b+"/a" || st.DataLength != 5 || st.Czxid == 0 || st.Czxid != st.Mzxid {
		t.Fatalf("create2 %q %+v %v", p, st, err)
	}
	if c.LastZxid() < st.Czxid {
		t.Fatalf("last zxid %x < czxid %x", c.LastZxid(), st.Czxid)
	}
	data, st2, err := c.Get(b+"/a", false)
	if err != nil || string(data) != "hello" || st2 != st {
		t.Fatalf("get %q %+v %v", data, st2, err)
	}
	// nil data is stored as null and comes back as nil
	must(c.Create(b+"/nil", nil, acl, 0))(t)
	if d, _, _ := c.Get(b+"/nil", false); d != nil {
		t.Fatalf("nil data came back as %q", d)
	}
	st3, ok, err := c.Exists(b+"/a", false)
	if err != nil || !ok || st3 != st {
		t.Fatalf("exists %+v %v %v", st3, ok, err)
	}
	if _, ok, err := c.Exists(b+"/none", false); ok || err != nil {
		t.Fatalf("exists missing: %v %v", ok, err)
	}
	_, err = c.Set(b+"/a", []byte("x"), 7)
	wantErr(t, err, jute.ErrBadVersion)
	st4 := must(c.Set(b+"/a", []byte("world"), 0))(t)
	if st4.Version != 1 || st4.Mzxid <= st.Mzxid {
		t.Fatalf("set stat %+v", st4)
	}
	gotACL, _, err := c.GetACL(b + "/a")
	if err != nil || !slices.Equal(gotACL, acl) {
		t.Fatalf("getACL %+v %v", gotACL, err)
	}
	st5 := must(c.SetACL(b+"/a", jute.ReadACLUnsafe, 0))(t)
	if st5.Aversion != 1 {
		t.Fatalf("setACL aversion %d", st5.Aversion)
	}
	_, err = c.Set(b+"/a", nil, -1)
	wantErr(t, err, jute.ErrNoAuth)

	s1 := must(c.Create(b+"/s-", nil, acl, jute.ModePersistentSequential))(t)
	s2 := must(c.Create(b+"/s-", nil, acl, jute.ModePersistentSequential))(t)
	if len(s1) != len(b)+3+10 || s1 >= s2 {
		t.Fatalf("sequential names %q %q", s1, s2)
	}
	kids := must(c.Children(b, false))(t)
	slices.Sort(kids)
	want := []string{"a", "nil", s1[len(b)+1:], s2[len(b)+1:]}
	if !slices.Equal(kids, want) {
		t.Fatalf("children %v want %v", kids, want)
	}
	kids2, pst, err := c.Children2(b, false)
	if err != nil || len(kids2) != 4 || pst.NumChildren != 4 {
		t.Fatalf("children2 %v %+v %v", kids2, pst, err)
	}
	_, err = c.Children(b+"/none", false)
	wantErr(t, err, jute.ErrNoNode)
	if n := must(c.GetAllChildrenNumber(b))(t); n != 4 {
		t.Fatalf("all children %d", n)
	}
	if p := must(c.Sync(b))(t); p != b {
		t.Fatalf("sync path %q", p)
	}

	err = c.Delete(b, -1)
	wantErr(t, err, jute.ErrNotEmpty)
	err = c.Delete(b+"/none", -1)
	wantErr(t, err, jute.ErrNoNode)
	err = c.Delete(b+"/nil", 3)
	wantErr(t, err, jute.ErrBadVersion)
	if err := c.Delete(b+"/nil", 0); err != nil {
		t.Fatal(err)
	}

	// containers and TTL nodes
	cp, cst, err := c.CreateContainer(b+"/cont", nil, acl)
	if err != nil || cp != b+"/cont" || cst.EphemeralOwner != 0 {
		t.Fatalf("container %q %+v %v", cp, cst, err)
	}
	tp, tst, err := c.CreateTTL(b+"/ttl", nil, acl, jute.ModePersistentWithTTL, 60000)
	// Apache hides the container and TTL owner markers from clients
	// (DataNode.getClientEphemeralOwner), so both read as 0.
	if err != nil || tp != b+"/ttl" || tst.EphemeralOwner != 0 {
		t.Fatalf("ttl %q %+v %v", tp, tst, err)
	}
	_, _, err = c.CreateTTL(b+"/ttl2", nil, acl, jute.ModePersistent, 60000)
	wantErr(t, err, jute.ErrBadArguments)

	// ephemerals
	e1 := must(c.Create(b+"/e1", nil, acl, jute.ModeEphemeral))(t)
	_, err = c.Create(e1+"/child", nil, acl, 0)
	wantErr(t, err, jute.ErrNoChildrenForEphemerals)
	eph := must(c.GetEphemerals(b))(t)
	if !slices.Equal(eph, []string{e1}) {
		t.Fatalf("ephemerals %v", eph)
	}
	ci := must(c.WhoAmI())(t)
	if len(ci) != 1 || ci[0].AuthScheme != "ip" || ci[0].User != "127.0.0.1" {
		t.Fatalf("whoami %+v", ci)
	}
}

func TestRawReplies(t *testing.T) {
	c, b := dial(t, Options{})
	hdr, body, err := c.DoRaw(jute.OpGetData, &jute.GetDataRequest{Path: b + "/missing"})
	if err != nil || hdr.Err != int32(jute.ErrNoNode) || len(body) != 0 || hdr.Xid <= 0 || hdr.Zxid == 0 {
		t.Fatalf("getData missing: %+v %x %v", hdr, body, err)
	}
	// a write with a bad path still gets an error, transport stays up
	hdr, err = c.Do(jute.OpCreate, &jute.CreateRequest{Path: "no-slash", ACL: jute.OpenACLUnsafe}, nil)
	if err != nil || hdr.Err != int32(jute.ErrBadArguments) {
		t.Fatalf("bad path: %+v %v", hdr, err)
	}
	var er jute.ErrorResponse
	hdr, err = c.Do(jute.OpAddWatch, &jute.AddWatchRequest{Path: b, Mode: 0}, &er)
	if err != nil || hdr.Err != 0 || er.Err != 0 {
		t.Fatalf("addWatch raw: %+v %+v %v", hdr, er, err)
	}
}

func TestWatches(t *testing.T) {
	c, b := dial(t, Options{})
	o, _ := dial(t, Options{})
	acl := jute.OpenACLUnsafe
	must(c.Create(b, nil, acl, 0))(t)

	// exists on a missing node leaves a watch for its creation
	if _, ok, err := c.Exists(b+"/a", true); ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := c.CheckWatches(b+"/a", jute.WatcherData); err != nil {
		t.Fatalf("checkWatches: %v", err)
	}
	wantErr(t, c.CheckWatches(b+"/a", jute.WatcherChildren), jute.ErrNoWatcher)
	must(o.Create(b+"/a", nil, acl, 0))(t)
	ev := nextEvent(t, c)
	if ev.Type != jute.EventNodeCreated || ev.State != StateSyncConnected || ev.Path != b+"/a" || ev.Zxid != -1 {
		t.Fatalf("event %+v", ev)
	}
	wantErr(t, c.CheckWatches(b+"/a", jute.WatcherData), jute.ErrNoWatcher)

	// an event triggered by our own write is queued before the write returns
	must2(c.Get(b+"/a", true))(t)
	must(c.Set(b+"/a", []byte("x"), -1))(t)
	select {
	case ev := <-c.Events():
		if ev.Type != jute.EventNodeDataChanged || ev.Path != b+"/a" {
			t.Fatalf("event %+v", ev)
		}
	default:
		t.Fatal("data event not queued before the setData reply returned")
	}

	// child watch, removed with removeWatches
	must(c.Children(b, true))(t)
	if err := c.RemoveWatches(b, jute.WatcherChildren); err != nil {
		t.Fatal(err)
	}
	// The server sends nothing for a removed watch (the Java client makes
	// the ChildWatchRemoved event itself).
	noEvent(t, c)
	wantErr(t, c.RemoveWatches(b, jute.WatcherChildren), jute.ErrNoWatcher)
	must(o.Create(b+"/b", nil, acl, 0))(t)
	noEvent(t, c)

	// persistent recursive: fires for descendants, never NodeChildrenChanged, stays
	if err := c.AddWatch(b, jute.AddWatchPersistentRecursive); err != nil {
		t.Fatal(err)
	}
	must(o.Create(b+"/b/c", nil, acl, 0))(t)
	must(o.Set(b+"/b/c", []byte("1"), -1))(t)
	must(o.Set(b+"/b/c", []byte("2"), -1))(t)
	if err := o.Delete(b+"/b/c", -1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int32{jute.EventNodeCreated, jute.EventNodeDataChanged, jute.EventNodeDataChanged, jute.EventNodeDeleted} {
		ev := nextEvent(t, c)
		if ev.Type != want || ev.Path != b+"/b/c" {
			t.Fatalf("recursive event %+v, want type %d", ev, want)
		}
	}
	noEvent(t, c)

	// persistent (non-recursive) on a node: data and children events for that node only
	if err := c.AddWatch(b+"/b", jute.AddWatchPersistent); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveWatches(b, jute.WatcherAny); err != nil { // drop the recursive one
		t.Fatal(err)
	}
	must(o.Create(b+"/b/d", nil, acl, 0))(t)
	must(o.Set(b+"/b", []byte("z"), -1))(t)
	for _, want := range []int32{jute.EventNodeChildrenChanged, jute.EventNodeDataChanged} {
		ev := nextEvent(t, c)
		if ev.Type != want || ev.Path != b+"/b" {
			t.Fatalf("persistent event %+v, want type %d", ev, want)
		}
	}
}

func TestAuthACL(t *testing.T) {
	c, b := dial(t, Options{})
	o, _ := dial(t, Options{})
	if err := c.AddAuth("digest", []byte("alice:secret")); err != nil {
		t.Fatal(err)
	}
	ci := must(c.WhoAmI())(t)
	if !slices.Contains(ci, jute.ClientInfo{AuthScheme: "digest", User: "alice"}) {
		t.Fatalf("whoami %+v", ci)
	}
	must(c.Create(b, []byte("s"), jute.CreatorAllACL, 0))(t)
	acl, _, err := c.GetACL(b)
	if err != nil || len(acl) != 1 || acl[0].ID.Scheme != "digest" || acl[0].ID.ID != "alice:9gNDb06MD6bVeSg6D/hAXvlvsPk=" && acl[0].Perms != jute.PermAll {
		t.Fatalf("acl %+v %v", acl, err)
	}
	_, _, err = o.Get(b, false)
	wantErr(t, err, jute.ErrNoAuth)
	_, err = c.Create(b+"/x", nil, []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "nosuch", ID: "x"}}}, 0)
	wantErr(t, err, jute.ErrInvalidACL)
	if err := o.AddAuth("digest", []byte("alice:secret")); err != nil {
		t.Fatal(err)
	}
	if d, _, err := o.Get(b, false); err != nil || string(d) != "s" {
		t.Fatalf("get after auth: %q %v", d, err)
	}

	// an unknown scheme is refused and the server drops the connection
	bad, _ := dial(t, Options{})
	wantErr(t, bad.AddAuth("nosuch", []byte("x")), jute.ErrAuthFailed)
	<-bad.Done()
	_, _, err = bad.Get("/", false)
	if !errors.Is(err, jute.ErrConnectionLoss) {
		t.Fatalf("after auth failure: %v", err)
	}
}

func TestMulti(t *testing.T) {
	c, b := dial(t, Options{})
	acl := jute.OpenACLUnsafe
	must(c.Create(b, nil, acl, 0))(t)
	res, err := c.Multi(
		CreateOp(b+"/a", []byte("1"), acl, 0),
		Create2Op(b+"/b", nil, acl, 0),
		SetDataOp(b+"/a", []byte("2"), 0),
		CheckOp(b+"/a", 1),
		DeleteOp(b+"/b", -1),
	)
	if err != nil || len(res) != 5 {
		t.Fatalf("multi: %+v %v", res, err)
	}
	if r := res[0].Rec.(*jute.CreateResponse); res[0].Type != jute.OpCreate || r.Path != b+"/a" {
		t.Fatalf("res0 %+v", res[0])
	}
	// Apache 3.8 answers a create2 inside a multi with a plain create result.
	if r, ok := res[1].Rec.(*jute.CreateResponse); !ok || res[1].Type != jute.OpCreate || r.Path != b+"/b" {
		t.Fatalf("res1 %+v", res[1])
	}
	if res[2].Type != jute.OpSetData || res[3].Type != jute.OpCheck || res[4].Type != jute.OpDelete {
		t.Fatalf("types %+v", res)
	}

	// a failing op: earlier ops report 0, the failing one its code, later ones -2
	res, err = c.Multi(
		CreateOp(b+"/c", nil, acl, 0),
		DeleteOp(b+"/missing", -1),
		SetDataOp(b+"/a", nil, -1),
	)
	wantErr(t, err, jute.ErrNoNode)
	want := []int32{0, int32(jute.ErrNoNode), int32(jute.ErrRuntimeInconsistency)}
	if len(res) != 3 {
		t.Fatalf("failed multi results %+v", res)
	}
	for i, r := range res {
		if r.Type != jute.OpError || r.Err != want[i] {
			t.Fatalf("result %d = %+v, want error %d", i, r, want[i])
		}
	}
	if _, ok, _ := c.Exists(b+"/c", false); ok {
		t.Fatal("failed multi was not rolled back")
	}

	// multiRead: independent results
	res, err = c.MultiRead(GetDataOp(b+"/a"), GetChildrenOp(b), GetDataOp(b+"/missing"))
	if err != nil || len(res) != 3 {
		t.Fatalf("multiRead %+v %v", res, err)
	}
	if r := res[0].Rec.(*jute.GetDataResponse); string(r.Data) != "2" {
		t.Fatalf("multiRead data %q", r.Data)
	}
	if r := res[1].Rec.(*jute.GetChildrenResponse); !slices.Equal(r.Children, []string{"a"}) {
		t.Fatalf("multiRead children %v", r.Children)
	}
	if res[2].Type != jute.OpError || res[2].Err != int32(jute.ErrNoNode) {
		t.Fatalf("multiRead missing %+v", res[2])
	}
}

func TestChroot(t *testing.T) {
	c, b := dial(t, Options{})
	must(c.Create(b, nil, jute.OpenACLUnsafe, 0))(t)
	r, err := Dial(apache.Addr+b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if p := must(r.Create("/x", nil, jute.OpenACLUnsafe, jute.ModeEphemeral))(t); p != "/x" {
		t.Fatalf("chroot create %q", p)
	}
	if _, ok, _ := c.Exists(b+"/x", false); !ok {
		t.Fatal("chrooted node not under the chroot")
	}
	if kids := must(r.Children("/", true))(t); !slices.Equal(kids, []string{"x"}) {
		t.Fatalf("chroot children %v", kids)
	}
	if eph := must(r.GetEphemerals("/"))(t); !slices.Equal(eph, []string{"/x"}) {
		t.Fatalf("chroot ephemerals %v", eph)
	}
	must(c.Create(b+"/y", nil, jute.OpenACLUnsafe, 0))(t)
	if ev := nextEvent(t, r); ev.Path != "/" || ev.Type != jute.EventNodeChildrenChanged {
		t.Fatalf("chroot event %+v", ev)
	}
	res, err := r.Multi(CreateOp("/z", nil, jute.OpenACLUnsafe, 0))
	if err != nil || res[0].Rec.(*jute.CreateResponse).Path != "/z" {
		t.Fatalf("chroot multi %+v %v", res, err)
	}
}

func TestResumeAndSetWatches(t *testing.T) {
	c, b := dial(t, Options{SessionTimeout: 10 * time.Second})
	o, _ := dial(t, Options{})
	must(c.Create(b, nil, jute.OpenACLUnsafe, 0))(t)
	must(c.Create(b+"/e", nil, jute.OpenACLUnsafe, jute.ModeEphemeral))(t)
	sid, pw, zxid := c.SessionID(), c.Password(), c.LastZxid()
	c.CloseNoSession()
	if _, _, err := c.Exists("/", false); !errors.Is(err, ErrClosed) {
		t.Fatalf("request after CloseNoSession: %v", err)
	}
	must(o.Set(b, []byte("changed"), -1))(t)

	r, err := DialSession(apache.Addr, sid, pw, Options{SessionTimeout: 10 * time.Second, LastZxidSeen: zxid})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.SessionID() != sid {
		t.Fatalf("resumed session 0x%x, want 0x%x", r.SessionID(), sid)
	}
	if _, ok, _ := o.Exists(b+"/e", false); !ok {
		t.Fatal("ephemeral gone after resume")
	}
	// a data watch set before the change fires at once; a child watch is re-registered
	if err := r.SetWatches(zxid, []string{b}, []string{b + "/new"}, []string{b}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, r); ev.Type != jute.EventNodeDataChanged || ev.Path != b {
		t.Fatalf("setWatches event %+v", ev)
	}
	if err := r.CheckWatches(b, jute.WatcherChildren); err != nil {
		t.Fatalf("child watch not re-registered: %v", err)
	}
	// with persistent watches the Java client switches to setWatches2
	if err := r.SetWatches(r.LastZxid(), nil, nil, nil, []string{b}, nil); err != nil {
		t.Fatal(err)
	}
	must(o.Create(b+"/new", nil, jute.OpenACLUnsafe, 0))(t)
	got := map[int32]bool{}
	for range 2 {
		ev := nextEvent(t, r)
		got[ev.Type] = true
	}
	if !got[jute.EventNodeCreated] || !got[jute.EventNodeChildrenChanged] {
		t.Fatalf("events after re-registration %v", got)
	}

	// a wrong password is refused like an expired session
	_, err = DialSession(apache.Addr, sid, make([]byte, 16), Options{})
	wantErr(t, err, jute.ErrSessionExpired)
}

func TestExpiry(t *testing.T) {
	c, b := dial(t, Options{SessionTimeout: time.Second})
	o, _ := dial(t, Options{})
	must(o.Create(b, nil, jute.OpenACLUnsafe, 0))(t)
	must(c.Create(b+"/e", nil, jute.OpenACLUnsafe, jute.ModeEphemeral))(t)
	if _, ok, _ := o.Exists(b+"/e", true); !ok {
		t.Fatal("ephemeral missing")
	}
	sid, pw := c.SessionID(), c.Password()
	c.CloseNoSession()
	ev := nextEvent(t, o)
	if ev.Type != jute.EventNodeDeleted || ev.Path != b+"/e" {
		t.Fatalf("expiry event %+v", ev)
	}
	// While the close is still in progress the server may drop the
	// connection without an answer; after that it answers timeout 0.
	var err error
	for range 50 {
		_, err = DialSession(apache.Addr, sid, pw, Options{})
		if !errors.Is(err, io.EOF) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	wantErr(t, err, jute.ErrSessionExpired)
}

func TestCloseFailsPending(t *testing.T) {
	// A fake server that completes the handshake, reads one request and hangs up.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		if _, err := jute.ReadFrame(nc, jute.DefaultMaxBuffer); err != nil {
			return
		}
		resp := jute.Marshal(&jute.ConnectResponse{TimeOut: 3000, SessionID: 42, Passwd: make([]byte, 16)})
		nc.Write(binary.BigEndian.AppendUint32(nil, uint32(len(resp))))
		nc.Write(resp)
		jute.ReadFrame(nc, jute.DefaultMaxBuffer)
	}()
	c, err := Dial(ln.Addr().String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionID() != 42 || c.Timeout() != 3*time.Second {
		t.Fatalf("session %d timeout %v", c.SessionID(), c.Timeout())
	}
	_, _, err = c.Get("/", false)
	if !errors.Is(err, jute.ErrConnectionLoss) || !errors.Is(err, ErrConnectionLoss) {
		t.Fatalf("pending request got %v", err)
	}
	if _, ok := <-c.Events(); ok {
		t.Fatal("events channel not closed")
	}
	c.Close()
}

func TestFrameLimit(t *testing.T) {
	c, b := dial(t, Options{})
	must(c.Create(b, make([]byte, 4000), jute.OpenACLUnsafe, 0))(t)
	small, err := Dial(apache.Addr, Options{MaxFrame: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	_, _, err = small.Get(b, false)
	if !errors.Is(err, jute.ErrConnectionLoss) {
		t.Fatalf("oversized reply: %v", err)
	}
}

// must2 is must for three-result calls.
func must2[A, B any](a A, b B, err error) func(*testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}
