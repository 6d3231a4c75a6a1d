package tree

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/watch"
)

// recorder is a watch.Watcher that keeps what it was sent.
type recorder struct{ evs []string }

func (r *recorder) Process(ev jute.WatcherEvent, acl []jute.ACL) {
	r.evs = append(r.evs, fmt.Sprintf("%d %s", ev.Type, ev.Path))
}

func (r *recorder) take() []string { e := r.evs; r.evs = nil; return e }

// harness applies txns with increasing zxids.
type harness struct {
	t    *testing.T
	tr   *Tree
	zxid int64
}

func newHarness(t *testing.T, opts Options) *harness {
	return &harness{t: t, tr: NewWithOptions(watch.NewManager(), opts), zxid: 0x100000000}
}

func (h *harness) apply(session int64, typ int32, txn jute.Record) Result {
	h.zxid++
	return h.tr.Apply(&jute.TxnHeader{ClientID: session, Cxid: 1, Zxid: h.zxid, Time: 1000 + h.zxid&0xffff, Type: typ}, txn)
}

// create applies a create txn as the pipeline builds it (parentCVersion =
// current+1) and fails the test on error.
func (h *harness) create(session int64, path string, data string, ephemeral bool) Result {
	h.t.Helper()
	parent, _, _ := parentOf(path)
	pc := h.tr.nodes[parent].Stat.Cversion + 1
	r := h.apply(session, jute.OpCreate2, &jute.CreateTxn{Path: path, Data: []byte(data), ACL: jute.OpenACLUnsafe, Ephemeral: ephemeral, ParentCVersion: pc})
	if r.Err != 0 {
		h.t.Fatalf("create %s: %v", path, r.Err)
	}
	return r
}

func (h *harness) del(path string) Result {
	return h.apply(1, jute.OpDelete, &jute.DeleteTxn{Path: path})
}

func (h *harness) stat(path string) jute.Stat {
	h.t.Helper()
	n := h.tr.Node(path)
	if n == nil {
		h.t.Fatalf("%s missing", path)
	}
	return h.tr.ClientStat(n)
}

func TestNewTree(t *testing.T) {
	tr := New(watch.NewManager())
	if s := tr.ClientStat(tr.Node("/")); s.Cversion != -1 || s.NumChildren != 1 {
		t.Fatalf("fresh root stat %+v", s)
	}
	if tr.NodeCount() != 5 || tr.ApproximateDataSize() != 44 {
		t.Fatalf("count %d size %d", tr.NodeCount(), tr.ApproximateDataSize())
	}
	if tr.Node("") != tr.Node("/") || tr.Node("/") == nil {
		t.Fatal("root alias")
	}
	if got := tr.ChildNames(tr.Node("/")); !slices.Equal(got, []string{"zookeeper"}) {
		t.Fatalf("root children %v", got)
	}
	if got := tr.ChildNames(tr.Node("/zookeeper")); !slices.Equal(got, []string{"config", "quota"}) {
		t.Fatalf("/zookeeper children %v", got)
	}
	cfg := tr.Node(ConfigPath)
	if acl := tr.ACL(cfg); len(acl) != 1 || acl[0] != jute.ReadACLUnsafe[0] || cfg.Stat.Aversion != -1 {
		t.Fatalf("config ACL %v aversion %d", acl, cfg.Stat.Aversion)
	}
	if acl := tr.ACL(tr.Node("/")); acl[0] != jute.OpenACLUnsafe[0] {
		t.Fatalf("root ACL %v", acl)
	}
	if tr.CountDescendants("/") != 3 || tr.CountDescendants("/zookeeper") != 2 {
		t.Fatalf("descendants %d %d", tr.CountDescendants("/"), tr.CountDescendants("/zookeeper"))
	}
	// Digest of a fresh tree: root ("") and /zookeeper, both all-zero stats.
	want := int64(nodeDigest("", &Node{})) + int64(nodeDigest("/zookeeper", &Node{}))
	if tr.Digest() != want {
		t.Fatalf("digest %d want %d", tr.Digest(), want)
	}
}

func TestCreateStats(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.create(0, "/a", "hello", false)
	z := h.zxid
	want := jute.Stat{Czxid: z, Mzxid: z, Pzxid: z, Ctime: 1000 + z&0xffff, Mtime: 1000 + z&0xffff, DataLength: 5}
	if r.Stat != want || r.Path != "/a" || r.Type != jute.OpCreate2 {
		t.Fatalf("create2 result %+v", r)
	}
	root := h.stat("/")
	// The built-ins were added without counting: internal cversion 1 after
	// one create, visible 1*2-2 = 0 (a fresh server's "/" shows -1).
	if root.Cversion != 0 || root.NumChildren != 2 || root.Pzxid != z {
		t.Fatalf("root after create %+v", root)
	}
	if h.tr.NodeCount() != 6 || h.tr.ApproximateDataSize() != 44+2+5 {
		t.Fatalf("count %d size %d", h.tr.NodeCount(), h.tr.ApproximateDataSize())
	}
}

// The visible cversion counts creates and deletes; the internal one (which
// names sequential nodes) counts creates only.
func TestCversionFacts(t *testing.T) {
	h := newHarness(t, Options{})
	h.create(0, "/p", "", false)
	h.create(0, "/p/c", "", false)
	if s := h.stat("/p"); s.Cversion != 1 || s.NumChildren != 1 {
		t.Fatalf("after create %+v", s)
	}
	if r := h.del("/p/c"); r.Err != 0 {
		t.Fatal(r.Err)
	}
	s := h.stat("/p")
	if s.Cversion != 2 || s.NumChildren != 0 || s.Pzxid != h.zxid {
		t.Fatalf("after delete %+v", s)
	}
	if h.tr.Node("/p").Stat.Cversion != 1 {
		t.Fatalf("internal cversion %d", h.tr.Node("/p").Stat.Cversion)
	}
	// A stale parentCVersion (replay) must not move cversion back, nor pzxid.
	before := h.tr.Node("/p").Stat
	r := h.apply(0, jute.OpCreate, &jute.CreateTxn{Path: "/p/old", ParentCVersion: 1})
	if r.Err != 0 || h.tr.Node("/p").Stat.Cversion != 1 || h.tr.Node("/p").Stat.Pzxid != before.Pzxid {
		t.Fatalf("stale cversion applied: %+v %v", h.tr.Node("/p").Stat, r.Err)
	}
	// -1 means current+1 (V0 txns).
	h.apply(0, jute.OpCreate, &jute.CreateTxn{Path: "/p/v0", ParentCVersion: -1})
	if st := h.tr.Node("/p").Stat; st.Cversion != 2 || st.Pzxid != h.zxid {
		t.Fatalf("-1 cversion %+v", st)
	}
}

func TestReplayTolerance(t *testing.T) {
	h := newHarness(t, Options{})
	h.create(0, "/p", "", false)
	h.create(0, "/p/c", "", false)
	// NodeExists on a plain create still advances the parent.
	r := h.apply(0, jute.OpCreate, &jute.CreateTxn{Path: "/p/c", ParentCVersion: 5})
	if r.Err != jute.ErrNodeExists {
		t.Fatalf("err %v", r.Err)
	}
	if st := h.tr.Node("/p").Stat; st.Cversion != 5 || st.Pzxid != h.zxid {
		t.Fatalf("parent after NodeExists %+v", st)
	}
	// ... but not on create2.
	r = h.apply(0, jute.OpCreate2, &jute.CreateTxn{Path: "/p/c", ParentCVersion: 9})
	if r.Err != jute.ErrNodeExists || h.tr.Node("/p").Stat.Cversion != 5 {
		t.Fatalf("create2 NodeExists %v %+v", r.Err, h.tr.Node("/p").Stat)
	}
	// NoNode on delete still moves the parent's pzxid.
	r = h.del("/p/gone")
	if r.Err != jute.ErrNoNode || h.tr.Node("/p").Stat.Pzxid != h.zxid {
		t.Fatalf("delete missing %v %+v", r.Err, h.tr.Node("/p").Stat)
	}
	// Missing parent.
	if r := h.apply(0, jute.OpCreate, &jute.CreateTxn{Path: "/x/y"}); r.Err != jute.ErrNoNode {
		t.Fatalf("no parent %v", r.Err)
	}
	// Wrong record types and bad TTLs never panic.
	if r := h.apply(0, jute.OpSetData, &jute.DeleteTxn{Path: "/p"}); r.Err != jute.ErrMarshallingError {
		t.Fatalf("bad record %v", r.Err)
	}
	if r := h.apply(0, jute.OpCreateTTL, &jute.CreateTTLTxn{Path: "/t", TTL: 0}); r.Err != jute.ErrBadArguments {
		t.Fatalf("bad ttl %v", r.Err)
	}
	if r := h.apply(0, jute.OpCreate, (*jute.CreateTxn)(nil)); r.Err != jute.ErrMarshallingError {
		t.Fatalf("nil txn %v", r.Err)
	}
	if h.tr.LastZxid() != h.zxid {
		t.Fatalf("lastZxid %x", h.tr.LastZxid())
	}
}

func TestSetDataSetACL(t *testing.T) {
	h := newHarness(t, Options{})
	h.create(0, "/a", "x", false)
	cz := h.zxid
	r := h.apply(0, jute.OpSetData, &jute.SetDataTxn{Path: "/a", Data: []byte("hello"), Version: 1})
	if r.Err != 0 || r.Stat.Version != 1 || r.Stat.Mzxid != h.zxid || r.Stat.Czxid != cz || r.Stat.DataLength != 5 {
		t.Fatalf("setData %+v", r)
	}
	if h.tr.ApproximateDataSize() != 44+2+5 {
		t.Fatalf("size %d", h.tr.ApproximateDataSize())
	}
	acl := []jute.ACL{{Perms: jute.PermRead, ID: jute.Id{Scheme: "digest", ID: "u:h"}}}
	r = h.apply(0, jute.OpSetACL, &jute.SetACLTxn{Path: "/a", ACL: acl, Version: 1})
	if r.Err != 0 || r.Stat.Aversion != 1 || r.Stat.Mzxid != h.zxid-1 {
		t.Fatalf("setACL %+v", r)
	}
	if got := h.tr.ACL(h.tr.Node("/a")); !slices.Equal(got, acl) {
		t.Fatalf("acl %v", got)
	}
	// setData on "/" reaches the root.
	if r := h.apply(0, jute.OpSetData, &jute.SetDataTxn{Path: "/", Data: []byte("r"), Version: 1}); r.Err != 0 || string(h.tr.Node("").Data) != "r" {
		t.Fatalf("root setData %+v", r)
	}
	// reconfig is a SetDataTxn on /zookeeper/config.
	if r := h.apply(0, jute.OpReconfig, &jute.SetDataTxn{Path: ConfigPath, Data: []byte("server.1=x"), Version: 1}); r.Err != 0 || r.Stat.Version != 1 {
		t.Fatalf("reconfig %+v", r)
	}
	if r := h.apply(0, jute.OpSetData, &jute.SetDataTxn{Path: "/nope"}); r.Err != jute.ErrNoNode {
		t.Fatalf("setData missing %v", r.Err)
	}
	assertDigestConsistent(t, h.tr)
}

func TestACLCacheRefcounts(t *testing.T) {
	h := newHarness(t, Options{})
	a1 := []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: "a:1"}}}
	a2 := []jute.ACL{{Perms: jute.PermRead, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	mk := func(p string, acl []jute.ACL) {
		if r := h.apply(0, jute.OpCreate, &jute.CreateTxn{Path: p, ACL: acl, ParentCVersion: -1}); r.Err != 0 {
			t.Fatal(r.Err)
		}
	}
	mk("/x", a1)
	mk("/y", a1)
	mk("/z", jute.OpenACLUnsafe)
	ix := h.tr.Node("/x").ACL
	if h.tr.Node("/y").ACL != ix || h.tr.ACLRefs(ix) != 2 {
		t.Fatalf("shared index %d refs %d", ix, h.tr.ACLRefs(ix))
	}
	// OPEN_ACL_UNSAFE given explicitly gets a cached index of its own, not -1.
	if iz := h.tr.Node("/z").ACL; iz == -1 || h.tr.ACLRefs(iz) != 1 {
		t.Fatalf("open acl index %d", iz)
	}
	// READ_ACL_UNSAFE is already cached by /zookeeper/config (index 1).
	h.apply(0, jute.OpSetACL, &jute.SetACLTxn{Path: "/y", ACL: a2, Version: 1})
	if h.tr.Node("/y").ACL != 1 || h.tr.ACLRefs(1) != 2 || h.tr.ACLRefs(ix) != 1 {
		t.Fatalf("after setACL: y=%d refs1=%d refsx=%d", h.tr.Node("/y").ACL, h.tr.ACLRefs(1), h.tr.ACLRefs(ix))
	}
	h.del("/x")
	if h.tr.ACLRefs(ix) != 0 || h.tr.ACLCacheSize() != 2 {
		t.Fatalf("entry kept: refs %d size %d", h.tr.ACLRefs(ix), h.tr.ACLCacheSize())
	}
	// A re-added list gets a fresh index: indexes only grow.
	mk("/w", a1)
	if nx := h.tr.Node("/w").ACL; nx <= ix {
		t.Fatalf("index reused %d <= %d", nx, ix)
	}
	// An existing node hit by a replayed create takes the txn's ACL.
	r := h.apply(0, jute.OpCreate, &jute.CreateTxn{Path: "/w", ACL: a2, ParentCVersion: -1})
	if r.Err != jute.ErrNodeExists || h.tr.Node("/w").ACL != 1 || h.tr.ACLRefs(1) != 3 {
		t.Fatalf("NodeExists ACL: %v %d refs %d", r.Err, h.tr.Node("/w").ACL, h.tr.ACLRefs(1))
	}
}

func TestEphemeralsAndCloseSession(t *testing.T) {
	h := newHarness(t, Options{})
	rec := &recorder{}
	w := h.tr.Watches()
	h.create(0, "/app", "", false)
	h.create(0x11, "/app/e1", "", true)
	h.create(0x11, "/app/e2", "", true)
	h.create(0x22, "/e3", "", true)
	if st := h.stat("/app/e1"); st.EphemeralOwner != 0x11 {
		t.Fatalf("owner %x", st.EphemeralOwner)
	}
	if got := h.tr.EphemeralPaths(0x11); !slices.Equal(got, []string{"/app/e1", "/app/e2"}) || h.tr.EphemeralCount() != 3 {
		t.Fatalf("ephemerals %v count %d", got, h.tr.EphemeralCount())
	}
	w.AddData("/app/e1", rec)
	w.AddChild("/app", rec)
	// Deleting one ephemeral leaves the session listed (as Apache's map).
	h.del("/e3")
	if s := h.tr.SessionsWithEphemerals(); len(s) != 2 || len(s[0x22]) != 0 {
		t.Fatalf("sessions %v", s)
	}
	// closeSession with a CloseSessionTxn listing only e2: e1 is deleted too
	// (left over locally), after the txn's paths.
	h.apply(0x11, jute.OpCloseSession, &jute.CloseSessionTxn{Paths2Delete: []string{"/app/e2"}})
	if h.tr.Node("/app/e1") != nil || h.tr.Node("/app/e2") != nil || h.tr.EphemeralCount() != 0 {
		t.Fatal("ephemerals survived closeSession")
	}
	if _, ok := h.tr.SessionsWithEphemerals()[0x11]; ok {
		t.Fatal("closed session still listed")
	}
	got := rec.take()
	want := []string{"4 /app", "2 /app/e1"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v want %v", got, want)
	}
	if s := h.stat("/app"); s.Pzxid != h.zxid || s.NumChildren != 0 || s.Cversion != 4 {
		t.Fatalf("parent after close %+v", s)
	}
	// Old-style closeSession (no txn record) kills by the session's list.
	h.create(0x33, "/e4", "", true)
	h.apply(0x33, jute.OpCloseSession, nil)
	if h.tr.Node("/e4") != nil {
		t.Fatal("/e4 survived")
	}
	h.create(0x44, "/e5", "", true)
	if got := h.tr.KillSession(0x44, h.zxid+1); !slices.Equal(got, []string{"/e5"}) {
		t.Fatalf("KillSession %v", got)
	}
	assertDigestConsistent(t, h.tr)
}

func TestContainersAndTTLs(t *testing.T) {
	for _, ext := range []bool{false, true} {
		h := newHarness(t, Options{ExtendedTypes: ext})
		r := h.apply(0x55, jute.OpCreateContainer, &jute.CreateContainerTxn{Path: "/c", ACL: jute.OpenACLUnsafe, ParentCVersion: -1})
		if r.Err != 0 || r.Stat.EphemeralOwner != 0 || h.tr.Node("/c").Stat.EphemeralOwner != ContainerOwner {
			t.Fatalf("container %+v", r)
		}
		r = h.apply(0x55, jute.OpCreateTTL, &jute.CreateTTLTxn{Path: "/t", ACL: jute.OpenACLUnsafe, ParentCVersion: -1, TTL: 5000})
		owner := h.tr.Node("/t").Stat.EphemeralOwner
		if r.Err != 0 || uint64(owner) != 0xff00000000001388 {
			t.Fatalf("ttl %+v owner %x", r, owner)
		}
		if !slices.Equal(h.tr.Containers(), []string{"/c"}) {
			t.Fatalf("containers %v", h.tr.Containers())
		}
		if ext {
			if !slices.Equal(h.tr.TTLs(), []string{"/t"}) || r.Stat.EphemeralOwner != 0 || h.tr.TTLOf(h.tr.Node("/t")) != 5000 {
				t.Fatalf("ttls %v stat owner %x", h.tr.TTLs(), r.Stat.EphemeralOwner)
			}
		} else if len(h.tr.TTLs()) != 0 || h.tr.EphemeralCount() != 1 || r.Stat.EphemeralOwner != owner {
			// Without extendedTypesEnabled Apache sees a plain ephemeral.
			t.Fatalf("ttl without extended types: ttls %v", h.tr.TTLs())
		}
		h.apply(0, jute.OpDeleteContainer, &jute.DeleteTxn{Path: "/c"})
		h.del("/t")
		if len(h.tr.Containers()) != 0 || len(h.tr.TTLs()) != 0 || h.tr.EphemeralCount() != 0 {
			t.Fatal("sets not emptied")
		}
	}
}

func TestMultiWithFailure(t *testing.T) {
	h := newHarness(t, Options{})
	h.create(0, "/a", "", false)
	before := h.tr.Digest()
	sub := func(typ int32, r jute.Record) jute.Txn { return jute.Txn{Type: typ, Data: jute.Marshal(r)} }
	m := &jute.MultiTxn{Txns: []jute.Txn{
		sub(jute.OpCreate, &jute.CreateTxn{Path: "/m", ParentCVersion: -1}),
		sub(jute.OpSetData, &jute.SetDataTxn{Path: "/a", Data: []byte("x"), Version: 1}),
		sub(jute.OpError, &jute.ErrorTxn{Err: int32(jute.ErrBadVersion)}),
		sub(jute.OpDelete, &jute.DeleteTxn{Path: "/a"}),
	}}
	r := h.apply(1, jute.OpMulti, m)
	if r.Err != jute.ErrBadVersion || len(r.Multi) != 4 {
		t.Fatalf("multi %+v", r)
	}
	wantErr := []jute.Err{0, 0, jute.ErrBadVersion, jute.ErrRuntimeInconsistency}
	for i, sr := range r.Multi {
		if sr.Type != jute.OpError || sr.Err != wantErr[i] {
			t.Errorf("op %d: %+v", i, sr)
		}
	}
	if h.tr.Node("/m") != nil || h.tr.Digest() != before || h.tr.LastZxid() != h.zxid {
		t.Fatal("failed multi changed the tree")
	}
	// A successful multi: per-op results in order, shared zxid.
	m = &jute.MultiTxn{Txns: []jute.Txn{
		sub(jute.OpCreate2, &jute.CreateTxn{Path: "/m", Data: []byte("d"), ParentCVersion: -1}),
		sub(jute.OpCreate, &jute.CreateTxn{Path: "/m/x", ParentCVersion: -1}),
		sub(jute.OpDelete, &jute.DeleteTxn{Path: "/m/x"}),
		sub(jute.OpSetData, &jute.SetDataTxn{Path: "/m", Data: []byte("e"), Version: 1}),
		sub(jute.OpCheck, &jute.CheckVersionTxn{Path: "/m", Version: 1}),
	}}
	r = h.apply(1, jute.OpMulti, m)
	if r.Err != 0 || len(r.Multi) != 5 {
		t.Fatalf("multi %+v", r)
	}
	if r.Multi[0].Type != jute.OpCreate2 || r.Multi[0].Stat.Czxid != h.zxid || r.Multi[0].Path != "/m" ||
		r.Multi[3].Stat.Version != 1 || r.Multi[4].Path != "/m" || r.Multi[4].Type != jute.OpCheck {
		t.Fatalf("results %+v", r.Multi)
	}
	if s := h.stat("/m"); s.Cversion != 2 || s.Pzxid != h.zxid || string(h.tr.Node("/m").Data) != "e" {
		t.Fatalf("/m %+v", s)
	}
	// Plain ErrorTxn.
	if r := h.apply(1, jute.OpError, &jute.ErrorTxn{Err: int32(jute.ErrNoNode)}); r.Err != jute.ErrNoNode {
		t.Fatalf("error txn %+v", r)
	}
	assertDigestConsistent(t, h.tr)
}

func TestWatchFiring(t *testing.T) {
	h := newHarness(t, Options{})
	w := h.tr.Watches()
	exist, child, pers, rec := &recorder{}, &recorder{}, &recorder{}, &recorder{}
	w.AddData("/a", exist) // exists on a missing node
	w.AddChild("/", child)
	w.AddPersistent("/a", pers, false)
	w.AddPersistent("/", rec, true)
	h.create(0, "/a", "", false)
	if got := exist.take(); !slices.Equal(got, []string{"1 /a"}) {
		t.Fatalf("exist watch %v", got)
	}
	if got := child.take(); !slices.Equal(got, []string{"4 /"}) {
		t.Fatalf("child watch %v", got)
	}
	if got := pers.take(); !slices.Equal(got, []string{"1 /a"}) {
		t.Fatalf("persistent %v", got)
	}
	if got := rec.take(); !slices.Equal(got, []string{"1 /a"}) { // no NodeChildrenChanged
		t.Fatalf("recursive %v", got)
	}
	h.create(0, "/a/b", "", false)
	h.apply(0, jute.OpSetData, &jute.SetDataTxn{Path: "/a/b", Data: []byte("x"), Version: 1})
	if got := pers.take(); !slices.Equal(got, []string{"4 /a"}) {
		t.Fatalf("persistent child %v", got)
	}
	if got := rec.take(); !slices.Equal(got, []string{"1 /a/b", "3 /a/b"}) {
		t.Fatalf("recursive %v", got)
	}
	// setACL fires nothing; delete fires NodeDeleted once per watcher (data
	// and child watch on the same node) and NodeChildrenChanged on the parent.
	h.apply(0, jute.OpSetACL, &jute.SetACLTxn{Path: "/a/b", ACL: jute.OpenACLUnsafe, Version: 1})
	both := &recorder{}
	w.AddData("/a/b", both)
	w.AddChild("/a/b", both)
	w.AddChild("/a", both)
	h.del("/a/b")
	if got := both.take(); !slices.Equal(got, []string{"2 /a/b", "4 /a"}) {
		t.Fatalf("delete events %v", got)
	}
	if got := pers.take(); !slices.Equal(got, []string{"4 /a"}) {
		t.Fatalf("persistent %v", got)
	}
	if got := rec.take(); !slices.Equal(got, []string{"2 /a/b"}) {
		t.Fatalf("recursive %v", got)
	}
	if got := child.take(); len(got) != 0 {
		t.Fatalf("one-shot fired twice %v", got)
	}
}

// The ACL handed to watchers is the node's (the parent's for
// NodeChildrenChanged), so connections can filter by READ.
func TestWatchACL(t *testing.T) {
	h := newHarness(t, Options{})
	var acls [][]jute.ACL
	w := &watchFunc{func(ev jute.WatcherEvent, acl []jute.ACL) { acls = append(acls, acl) }}
	h.tr.Watches().AddData("/s", w)
	h.tr.Watches().AddChild("/", w)
	secret := []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: "u:x"}}}
	h.apply(0, jute.OpCreate, &jute.CreateTxn{Path: "/s", ACL: secret, ParentCVersion: -1})
	if len(acls) != 2 || !slices.Equal(acls[0], secret) || !slices.Equal(acls[1], jute.OpenACLUnsafe) {
		t.Fatalf("acls %v", acls)
	}
}

type watchFunc struct {
	f func(ev jute.WatcherEvent, acl []jute.ACL)
}

func (w *watchFunc) Process(ev jute.WatcherEvent, acl []jute.ACL) { w.f(ev, acl) }

func TestSetWatches(t *testing.T) {
	h := newHarness(t, Options{})
	h.create(0, "/a", "", false)
	rel := h.zxid
	h.create(0, "/b", "", false)
	h.apply(0, jute.OpSetData, &jute.SetDataTxn{Path: "/b", Version: 1})
	r := &recorder{}
	h.tr.SetWatches(rel, []string{"/a", "/b", "/gone"}, []string{"/a", "/new"}, []string{"/", "/a"}, nil, nil, r)
	want := []string{"3 /b", "2 /gone", "1 /a", "4 /"}
	if got := r.take(); !slices.Equal(got, want) {
		t.Fatalf("events %v want %v", got, want)
	}
	h.create(0, "/new", "", false)
	h.create(0, "/a/c", "", false)
	if got := r.take(); !slices.Equal(got, []string{"1 /new", "4 /a"}) {
		t.Fatalf("re-registered %v", got)
	}
}

func TestQuota(t *testing.T) {
	h := newHarness(t, Options{})
	h.create(0, "/q", "12345", false)
	h.create(0, "/q/a", "1", false)
	h.create(0, "/zookeeper/quota/q", "", false)
	h.create(0, "/zookeeper/quota/q/zookeeper_limits", "count=3,bytes=-1", false)
	h.create(0, "/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0", false)
	stats := func() string { return string(h.tr.Node("/zookeeper/quota/q/zookeeper_stats").Data) }
	if stats() != "count=2,bytes=6" {
		t.Fatalf("initial stats %q", stats())
	}
	h.create(0, "/q/a/b", "abc", false)
	h.apply(0, jute.OpSetData, &jute.SetDataTxn{Path: "/q", Data: []byte("1"), Version: 1})
	if stats() != "count=3,bytes=5" {
		t.Fatalf("stats %q", stats())
	}
	h.del("/q/a/b")
	if stats() != "count=2,bytes=2" {
		t.Fatalf("after delete %q", stats())
	}
	// Outside the quota nothing changes; removing the limits node ends it.
	h.create(0, "/other", "zzz", false)
	h.del("/zookeeper/quota/q/zookeeper_limits")
	h.create(0, "/q/z", "zz", false)
	if stats() != "count=2,bytes=2" {
		t.Fatalf("after unquota %q", stats())
	}
	if p := parseStats([]byte("count=1,bytes=2=;countHardLimit=5")); p.get("countHardLimit") != 5 || string(p.bytes()) != "count=1,bytes=2=;countHardLimit=5" {
		t.Fatalf("stats round trip %v %q", p, p.bytes())
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	h := newHarness(t, Options{ExtendedTypes: true})
	h.create(0, "/a", "hello", false)
	h.create(0, "/a/s", "", false)
	h.create(7, "/a/e", "eph", true)
	h.apply(0, jute.OpCreateContainer, &jute.CreateContainerTxn{Path: "/c", ParentCVersion: -1, ACL: jute.CreatorAllACL})
	h.apply(0, jute.OpCreateTTL, &jute.CreateTTLTxn{Path: "/t", ParentCVersion: -1, TTL: 10, ACL: jute.ReadACLUnsafe})
	h.apply(0, jute.OpCreate, &jute.CreateTxn{Path: "/n", ParentCVersion: -1}) // nil ACL -> -1
	h.apply(0, jute.OpCreate, &jute.CreateTxn{Path: "/empty", Data: []byte{}, ACL: []jute.ACL{}, ParentCVersion: -1})
	h.create(0, "/zookeeper/quota/a", "", false)
	h.create(0, "/zookeeper/quota/a/zookeeper_limits", "count=10,bytes=-1", false)
	h.create(0, "/zookeeper/quota/a/zookeeper_stats", "", false)
	// (Not outside the BMP: jute's decoder keeps Java's CESU-8 bytes.)
	h.create(0, "/a/\u00e9\u4e2d", "", false)
	h.del("/a/s")
	var buf bytes.Buffer
	if err := h.tr.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	got := New(watch.NewManager())
	got.opts.ExtendedTypes = true
	if err := got.ReadSnapshot(jute.NewDecoder(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, h.tr, got)
	if !slices.Equal(got.EphemeralPaths(7), []string{"/a/e"}) || !slices.Equal(got.TTLs(), []string{"/t"}) {
		t.Fatalf("rebuilt sets: %v %v", got.EphemeralPaths(7), got.TTLs())
	}
	if got.Node("/n").ACL != -1 || got.ACLCacheSize() != h.tr.ACLCacheSize() {
		t.Fatalf("acl: %d size %d/%d", got.Node("/n").ACL, got.ACLCacheSize(), h.tr.ACLCacheSize())
	}
	if got.Node("/n").Data != nil || got.Node("/empty").Data == nil {
		t.Fatal("nil/empty data not preserved")
	}
	// Writing the loaded tree gives the same bytes (stable order).
	var buf2 bytes.Buffer
	if err := got.WriteSnapshot(&buf2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		t.Fatal("second snapshot differs")
	}
	// The quota still applies after a load.
	got.Apply(&jute.TxnHeader{Zxid: h.zxid + 1, Type: jute.OpCreate}, &jute.CreateTxn{Path: "/a/new", Data: []byte("1234"), ParentCVersion: -1})
	if s := string(got.Node("/zookeeper/quota/a/zookeeper_stats").Data); s != "count=4,bytes=12" { // /a, /a/e, /a/éx, /a/new
		t.Fatalf("stats after load %q", s)
	}
	// Truncated input fails cleanly.
	if err := New(nil).ReadSnapshot(jute.NewDecoder(buf.Bytes()[:buf.Len()-3])); err == nil {
		t.Fatal("truncated snapshot accepted")
	}
}

func TestApacheSnapshotRewrite(t *testing.T) {
	b, err := readFile("testdata/snapshot.1f")
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := readApacheSnapshot(t, b, Options{ExtendedTypes: true})
	var buf bytes.Buffer
	if err := tr.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	again := NewWithOptions(nil, Options{ExtendedTypes: true})
	if err := again.ReadSnapshot(jute.NewDecoder(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, tr, again)
	// Apache's sequential-name fact, seen in its own snapshot: /a had
	// creates b, s-1..s-4, eseq-5, q (7) and deletes s-2, s-3, eseq-5.
	n := tr.Node("/a")
	if n.Stat.Cversion != 7 || tr.ClientStat(n).Cversion != 7*2-4 {
		t.Fatalf("/a cversion internal %d visible %d", n.Stat.Cversion, tr.ClientStat(n).Cversion)
	}
}

// assertDigestConsistent checks the incremental digest against a recount.
func assertDigestConsistent(t *testing.T, tr *Tree) {
	t.Helper()
	var sum int64
	for p, n := range tr.nodes {
		if digested(p) {
			sum += int64(nodeDigest(p, n))
		}
	}
	if sum != tr.Digest() {
		t.Fatalf("incremental digest %d, recount %d", tr.Digest(), sum)
	}
}

// TestEmulate353Owners: with zookeeper.emulate353TTLNodes (and extended types) every negative owner but the
// container's is a TTL node whose TTL is the low 40 bits; without it such an owner is a session's.
func TestEmulate353Owners(t *testing.T) {
	const old353 = -0x7fffffff00000001 // 0x80000000ffffffff
	cases := []struct {
		opts    Options
		owner   int64
		want    ephemeralType
		wantTTL int64
	}{
		{Options{ExtendedTypes: true, Emulate353TTL: true}, old353, typeTTL, 0xffffffff},
		{Options{ExtendedTypes: true, Emulate353TTL: true}, ContainerOwner, typeContainer, 0},
		{Options{ExtendedTypes: true, Emulate353TTL: true}, 0x100000000000001, typeNormal, 0},
		{Options{ExtendedTypes: true, Emulate353TTL: true}, extendedMask | 5000, typeTTL, 5000},
		{Options{ExtendedTypes: true}, old353, typeNormal, 0},
		{Options{Emulate353TTL: true}, old353, typeNormal, 0}, // only with extended types, as EphemeralType.get
	}
	for _, c := range cases {
		tr := NewWithOptions(nil, c.opts)
		if got := c.opts.ownerType(c.owner); got != c.want {
			t.Errorf("%+v owner 0x%x: type %d, want %d", c.opts, uint64(c.owner), got, c.want)
		}
		n := &Node{Stat: jute.StatPersisted{EphemeralOwner: c.owner}}
		if got := tr.TTLOf(n); got != c.wantTTL {
			t.Errorf("%+v owner 0x%x: TTL %d, want %d", c.opts, uint64(c.owner), got, c.wantTTL)
		}
		if got := c.opts.NormalEphemeral(c.owner); got != (c.want == typeNormal) {
			t.Errorf("%+v owner 0x%x: NormalEphemeral %v", c.opts, uint64(c.owner), got)
		}
	}
}
