package storage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/jute"
)

const zkServerSh = "/usr/share/zookeeper/bin/zkServer.sh"

// startApache runs Apache ZooKeeper 3.8 standalone on dataDir and returns its
// client address. It is stopped (SIGTERM to the process we started) by stop
// or at test cleanup; its log is printed if the test failed.
func startApache(t *testing.T, dataDir, extraCfg string) (addr string, stop func(), logPath string) {
	t.Helper()
	if _, err := os.Stat(zkServerSh); err != nil {
		t.Skip("Apache ZooKeeper not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	addr = fmt.Sprintf("127.0.0.1:%d", port)

	conf := t.TempDir()
	cfg := filepath.Join(conf, "zoo.cfg")
	body := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"admin.enableServer=false\n4lw.commands.whitelist=ruok,mntr,srvr\n%s", dataDir, port, extraCfg)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath = filepath.Join(conf, "out.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(zkServerSh, "start-foreground", cfg)
	// A later -cp wins: add slf4j-simple so Apache's log reaches out.log.
	jvm := "-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar " +
		"-Dzookeeper.extendedTypesEnabled=true -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m"
	cmd.Env = append(os.Environ(), "ZOOCFGDIR="+conf, "ZOO_LOG_DIR="+conf, "SERVER_JVMFLAGS="+jvm)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		out.Close()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(conf, "out.log"))
			t.Logf("Apache output:\n%s", b)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		// srvr, not ruok: Apache answers imok while still loading its data, and a handshake it accepts then
		// may never be answered.
		if r, _ := fourLetter(addr, "srvr"); strings.HasPrefix(r, "Zookeeper version:") {
			return addr, stop, logPath
		}
		select {
		case <-done:
			t.Fatal("Apache exited during startup")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("Apache did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fourLetter(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

func mntrValue(t *testing.T, addr, key string) string {
	t.Helper()
	out, err := fourLetter(addr, "mntr")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) == 2 && f[0] == key {
			return f[1]
		}
	}
	return ""
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...interface{}) {}

func connect(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, ev, err := zk.Connect([]string{addr}, 30*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatal("no session")
		}
	}
}

// walk lists every znode under root (excluding /zookeeper) with its data.
func walk(t *testing.T, c *zk.Conn) map[string]string {
	t.Helper()
	out := map[string]string{}
	var rec func(p string)
	rec = func(p string) {
		kids, _, err := c.Children(p)
		if err != nil {
			t.Fatalf("children %s: %v", p, err)
		}
		for _, k := range kids {
			cp := strings.TrimSuffix(p, "/") + "/" + k
			if cp == "/zookeeper" {
				continue
			}
			d, _, err := c.Get(cp)
			if err != nil {
				t.Fatalf("get %s: %v", cp, err)
			}
			out[cp] = string(d)
			rec(cp)
		}
	}
	rec("/")
	return out
}

// applyPaths replays a txn onto a path->data map with Apache's tolerance of
// fuzzy snapshots (create over an existing node, delete of a missing one).
func applyPaths(t *testing.T, m map[string]string, typ int32, txn jute.Record) {
	t.Helper()
	switch r := txn.(type) {
	case *jute.CreateTxn:
		m[r.Path] = string(r.Data)
	case *jute.CreateContainerTxn:
		m[r.Path] = string(r.Data)
	case *jute.CreateTTLTxn:
		m[r.Path] = string(r.Data)
	case *jute.DeleteTxn:
		delete(m, r.Path)
	case *jute.SetDataTxn:
		m[r.Path] = string(r.Data)
	case *jute.CloseSessionTxn:
		for _, p := range r.Paths2Delete {
			delete(m, p)
		}
	case *jute.MultiTxn:
		for _, sub := range r.Txns {
			rec, err := txnRecord(sub.Type)
			if err != nil {
				t.Fatal(err)
			}
			if err := jute.Unmarshal(sub.Data, rec); err != nil {
				t.Fatalf("multi sub-txn %d: %v", sub.Type, err)
			}
			applyPaths(t, m, sub.Type, rec)
		}
	}
}

// TestApacheFilesReadable has Apache 3.8 write a log and snapshots, then
// reads every file back and rebuilds the tree from snapshot + log.
func TestApacheFilesReadable(t *testing.T) {
	dataDir := t.TempDir()
	addr, stop, _ := startApache(t, dataDir, "snapCount=8\n")
	c := connect(t, addr)
	acl := zk.WorldACL(zk.PermAll)
	must := func(_ interface{}, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var created []string
	create := func(p, d string, flags int32) {
		t.Helper()
		must(c.Create(p, []byte(d), flags, acl))
		created = append(created, p)
	}
	create("/a", "A", 0)
	for i := 0; i < 25; i++ {
		create(fmt.Sprintf("/a/n%02d", i), fmt.Sprintf("data %d", i), 0)
	}
	must(c.Set("/a/n00", []byte("new"), 0))
	if err := c.Delete("/a/n01", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/a", nil, 0, acl); err != zk.ErrNodeExists {
		t.Fatalf("want NodeExists, got %v", err)
	}
	must(c.Multi(&zk.CreateRequest{Path: "/m1", Data: []byte("m1"), Acl: acl}, &zk.CreateRequest{Path: "/m2", Data: []byte("m2"), Acl: acl}))
	create("/eph", "e", zk.FlagEphemeral)
	must(c.CreateContainer("/cont", []byte("c"), zk.FlagContainer, acl))
	create("/cont/x", "x", 0)
	must(c.CreateTTL("/ttl", []byte("t"), zk.FlagTTL, acl, time.Hour))
	must(c.SetACL("/a/n02", zk.WorldACL(zk.PermRead), -1))
	want := walk(t, c)
	delete(want, "/eph") // goes with the session
	c.Close()
	// Close waits for the reply, which Apache sends after logging; make sure.
	dir := filepath.Join(dataDir, "version-2")
	closed := func() bool {
		found := false
		ReadLog(dir, 0, func(e *Entry) error {
			found = found || e.Hdr.Type == jute.OpCloseSession
			return nil
		})
		return found
	}
	for deadline := time.Now().Add(10 * time.Second); !closed() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	stop()

	logs, _ := listByZxid(dir, logPrefix, true)
	snaps, _ := Snapshots(dir)
	if len(logs) < 2 || len(snaps) < 2 {
		t.Fatalf("expected several files: logs %v snaps %v", logs, snaps)
	}

	// Every txn in every log.
	var ents []*Entry
	last, err := ReadLog(dir, 0, func(e *Entry) error { ents = append(ents, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if last != ents[len(ents)-1].Hdr.Zxid || ents[0].Hdr.Zxid != 1 {
		t.Fatalf("zxids: first %d last %d", ents[0].Hdr.Zxid, last)
	}
	var gotCreated []string
	seen := map[int32]int{}
	digests := map[int32]int{}
	for i, e := range ents {
		if e.Hdr.Zxid != int64(i+1) {
			t.Fatalf("zxid gap at %d: %d", i, e.Hdr.Zxid)
		}
		seen[e.Hdr.Type]++
		if e.Digest != nil {
			digests[e.Hdr.Type]++
			if e.Digest.Version != 2 {
				t.Fatalf("digest version %d", e.Digest.Version)
			}
		}
		if !bytes.Equal(EncodeEntry(&e.Hdr, e.Txn, e.Digest), e.Raw) {
			t.Fatalf("re-encoding zxid %d differs", e.Hdr.Zxid)
		}
		switch r := e.Txn.(type) {
		case *jute.CreateTxn:
			gotCreated = append(gotCreated, r.Path)
		case *jute.ErrorTxn:
			if r.Err != int32(jute.ErrNodeExists) {
				t.Fatalf("error txn %d", r.Err)
			}
		case *jute.CreateTTLTxn:
			if r.Path != "/ttl" || r.TTL != 3600000 {
				t.Fatalf("ttl txn %+v", r)
			}
		case *jute.CloseSessionTxn:
			if !reflect.DeepEqual(r.Paths2Delete, []string{"/eph"}) {
				t.Fatalf("closeSession %+v", r)
			}
		}
	}
	if !reflect.DeepEqual(gotCreated, created) {
		t.Fatalf("created paths:\n got %v\nwant %v", gotCreated, created)
	}
	for _, typ := range []int32{jute.OpCreateSession, jute.OpCreate, jute.OpSetData, jute.OpDelete, jute.OpError,
		jute.OpMulti, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpSetACL, jute.OpCloseSession} {
		if seen[typ] == 0 {
			t.Errorf("no txn of type %d in Apache's log", typ)
		}
	}
	t.Logf("txn types seen %v; with TxnDigest %v", seen, digests)

	// Every snapshot reads, and re-serializes to the same bytes.
	for _, p := range snaps {
		tr := newTestTree()
		info, err := ReadSnapshot(p, tr)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if info.Digest == nil {
			t.Fatalf("%s: Apache wrote no digest", p)
		}
		t.Logf("%s: %d sessions, %d nodes, %d acls, digest %+v", filepath.Base(p), len(info.Sessions), len(tr.nodes), len(tr.acls), *info.Digest)
		if len(info.Sessions) > 1 {
			continue // Apache writes HashMap order, we write sorted ids
		}
		out := t.TempDir()
		q, err := WriteSnapshotWith(out, info.Zxid, info.Sessions, tr, info.Digest, SnapshotOptions{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(p)
		b, _ := os.ReadFile(q)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s re-serialized differently (%d vs %d bytes)", p, len(a), len(b))
		}
	}

	// Recovery: newest snapshot + log after it gives the tree the client saw.
	tr, info, err := LoadLatest(dir, func() TreeReader { return newTestTree() })
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, n := range tr.(*testTree).nodes {
		if n.path != "" && n.path != "/zookeeper" && !strings.HasPrefix(n.path, "/zookeeper/") {
			state[n.path] = string(n.node.Data)
		}
	}
	if _, err := ReadLog(dir, info.Zxid, func(e *Entry) error {
		applyPaths(t, state, e.Hdr.Type, e.Txn)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(state, want) {
		t.Fatalf("recovered tree:\n got %v\nwant %v", state, want)
	}
}

// digestModel tracks what Apache's DataTree digest needs: per-node data and
// StatPersisted, summed CRC32s (DigestCalculator v2, AdHash).
type digestModel struct {
	nodes map[string]*jute.DataNode
	sum   uint64
}

func nodeDigest(path string, n *jute.DataNode) uint64 {
	if strings.HasPrefix(path, "/zookeeper/") {
		return 0
	}
	if path == "/" {
		path = ""
	}
	var b [60]byte
	s := n.Stat
	binary.BigEndian.PutUint64(b[0:], uint64(s.Czxid))
	binary.BigEndian.PutUint64(b[8:], uint64(s.Mzxid))
	binary.BigEndian.PutUint64(b[16:], uint64(s.Pzxid))
	binary.BigEndian.PutUint64(b[24:], uint64(s.Ctime))
	binary.BigEndian.PutUint64(b[32:], uint64(s.Mtime))
	binary.BigEndian.PutUint32(b[40:], uint32(s.Version))
	binary.BigEndian.PutUint32(b[44:], uint32(s.Cversion))
	binary.BigEndian.PutUint32(b[48:], uint32(s.Aversion))
	binary.BigEndian.PutUint64(b[52:], uint64(s.EphemeralOwner))
	h := crc32.NewIEEE()
	h.Write([]byte(path))
	h.Write(n.Data)
	h.Write(b[:])
	return uint64(h.Sum32())
}

func newDigestModel(t *testTree) *digestModel {
	m := &digestModel{nodes: map[string]*jute.DataNode{}}
	for i := range t.nodes {
		n := t.nodes[i].node
		m.nodes[t.nodes[i].path] = &n
		m.sum += nodeDigest(t.nodes[i].path, &n)
	}
	return m
}

func (m *digestModel) change(path string, f func(n *jute.DataNode)) {
	n := m.nodes[path]
	m.sum -= nodeDigest(path, n)
	f(n)
	m.sum += nodeDigest(path, n)
}

// aclIndex maps the two ACLs the test uses to the indexes Apache's ACL cache
// gives them: -1 is OPEN_ACL_UNSAFE, 1 is READ_ACL_UNSAFE (/zookeeper/config's).
func aclIndex(acl []jute.ACL) int64 {
	if reflect.DeepEqual(acl, jute.ReadACLUnsafe) {
		return 1
	}
	return -1
}

// tree renders the model as a snapshot tree (parents sort before children).
func (m *digestModel) tree() *testTree {
	t := newTestTree()
	t.acls = []testACL{{id: 1, acls: jute.ReadACLUnsafe}}
	paths := make([]string, 0, len(m.nodes))
	for p := range m.nodes {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		n := m.nodes[p]
		t.add(p, n.Data, n.ACL, n.Stat)
	}
	return t
}

func parentOf(p string) string { return p[:strings.LastIndexByte(p, '/')] }

func (m *digestModel) apply(hdr *jute.TxnHeader, txn jute.Record) {
	z, tm := hdr.Zxid, hdr.Time
	switch r := txn.(type) {
	case *jute.CreateTxn:
		owner := int64(0)
		if r.Ephemeral {
			owner = hdr.ClientID
		}
		n := &jute.DataNode{Data: r.Data, ACL: aclIndex(r.ACL), Stat: jute.StatPersisted{Czxid: z, Mzxid: z, Ctime: tm, Mtime: tm, Pzxid: z, EphemeralOwner: owner}}
		m.nodes[r.Path] = n
		m.sum += nodeDigest(r.Path, n)
		m.change(parentOf(r.Path), func(p *jute.DataNode) {
			if r.ParentCVersion > p.Stat.Cversion {
				p.Stat.Cversion = r.ParentCVersion
				p.Stat.Pzxid = z
			}
		})
	case *jute.SetDataTxn:
		m.change(r.Path, func(n *jute.DataNode) {
			n.Data, n.Stat.Mzxid, n.Stat.Mtime, n.Stat.Version = r.Data, z, tm, r.Version
		})
	case *jute.DeleteTxn:
		m.sum -= nodeDigest(r.Path, m.nodes[r.Path])
		delete(m.nodes, r.Path)
		m.change(parentOf(r.Path), func(p *jute.DataNode) {
			if z > p.Stat.Pzxid {
				p.Stat.Pzxid = z
			}
		})
	case *jute.CloseSessionTxn:
		for _, p := range r.Paths2Delete {
			m.apply(hdr, &jute.DeleteTxn{Path: p})
		}
	case *jute.MultiTxn:
		for _, sub := range r.Txns {
			rec, _ := txnRecord(sub.Type)
			jute.Unmarshal(sub.Data, rec)
			m.apply(hdr, rec)
		}
	}
}

// TestApacheReadsOurFiles writes snapshot.0, a log, a snapshot.4 (plain, gzip
// or snappy) and a second log in our code, starts Apache on them and checks the
// znodes through a client, and that Apache found no digest mismatch while
// loading the snapshot and replaying the log.
func TestApacheReadsOurFiles(t *testing.T) {
	if _, err := os.Stat(zkServerSh); err != nil {
		t.Skip("Apache ZooKeeper not installed")
	}
	for _, comp := range []string{"", "gz", "snappy"} {
		t.Run("snapshot"+comp, func(t *testing.T) { apacheReadsOurFiles(t, comp) })
	}
}

func apacheReadsOurFiles(t *testing.T, comp string) {
	dataDir := t.TempDir()
	dir := filepath.Join(dataDir, "version-2")
	tree := stdTestTree()
	if _, err := WriteSnapshot(dir, 0, map[int64]int32{}, tree, &jute.ZxidDigest{DigestVersion: 2}); err != nil {
		t.Fatal(err)
	}
	model := newDigestModel(tree)
	l, err := OpenTxnLog(dir, LogOptions{ForceSync: true})
	if err != nil {
		t.Fatal(err)
	}
	const sess = int64(0x1000abcd0000)
	now := time.Now().UnixMilli()
	zxid := int64(0)
	cvers := map[string]int32{}
	add := func(typ int32, txn jute.Record) {
		zxid++
		hdr := jute.TxnHeader{ClientID: sess, Cxid: int32(zxid), Zxid: zxid, Time: now + zxid, Type: typ}
		model.apply(&hdr, txn)
		dg := &jute.TxnDigest{Version: 2, TreeDigest: int64(model.sum)}
		if err := l.AppendTxn(&hdr, txn, dg); err != nil {
			t.Fatal(err)
		}
	}
	mkCreate := func(p, d string, acl []jute.ACL, eph bool) *jute.CreateTxn {
		cvers[parentOf(p)]++
		return &jute.CreateTxn{Path: p, Data: []byte(d), ACL: acl, Ephemeral: eph, ParentCVersion: cvers[parentOf(p)]}
	}
	add(jute.OpCreateSession, &jute.CreateSessionTxn{TimeOut: 30000})
	add(jute.OpCreate, mkCreate("/us", "", jute.OpenACLUnsafe, false))
	add(jute.OpCreate2, mkCreate("/us/a", "hello", jute.OpenACLUnsafe, false))
	add(jute.OpCreate, mkCreate("/us/b", "b", jute.ReadACLUnsafe, false))
	if err := l.Commit(); err != nil {
		t.Fatal(err)
	}
	// A snapshot after zxid 4 with the session and the tree digest, then a
	// new log file, as a server does after snapCount txns.
	snap, err := WriteSnapshotWith(dir, 4, map[int64]int32{sess: 30000}, model.tree(),
		&jute.ZxidDigest{Zxid: 4, DigestVersion: 2, Digest: int64(model.sum)}, SnapshotOptions{Compression: comp})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	add(jute.OpSetData, &jute.SetDataTxn{Path: "/us/a", Data: []byte("hello2"), Version: 1})
	add(jute.OpCreate, mkCreate("/us/eph", "e", jute.OpenACLUnsafe, true))
	mc := mkCreate("/us/m", "m", jute.OpenACLUnsafe, false)
	add(jute.OpMulti, &jute.MultiTxn{Txns: []jute.Txn{
		{Type: jute.OpCreate, Data: jute.Marshal(mc)},
		{Type: jute.OpSetData, Data: jute.Marshal(&jute.SetDataTxn{Path: "/us/a", Data: []byte("hello3"), Version: 2})},
	}})
	add(jute.OpCreate, mkCreate("/us/gone", "g", jute.OpenACLUnsafe, false))
	add(jute.OpDelete, &jute.DeleteTxn{Path: "/us/gone"})
	add(jute.OpCloseSession, &jute.CloseSessionTxn{Paths2Delete: []string{"/us/eph"}})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "log.5")); err != nil {
		t.Fatal(err)
	}

	addr, stop, logPath := startApache(t, dataDir, "")
	c := connect(t, addr)
	kids, _, err := c.Children("/us")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(kids)
	if !reflect.DeepEqual(kids, []string{"a", "b", "m"}) {
		t.Fatalf("children of /us: %v", kids)
	}
	d, st, err := c.Get("/us/a")
	if err != nil || string(d) != "hello3" || st.Version != 2 || st.Czxid != 3 || st.Mzxid != 7 || st.Ctime != now+3 {
		t.Fatalf("/us/a: %q %+v %v", d, st, err)
	}
	acls, _, err := c.GetACL("/us/b")
	if err != nil || len(acls) != 1 || acls[0].Perms != zk.PermRead || acls[0].Scheme != "world" {
		t.Fatalf("/us/b acl %+v %v", acls, err)
	}
	// Stored cversion counts creates (5); clients see creates+deletes: 2*5-3.
	_, st, err = c.Get("/us")
	if err != nil || st.Cversion != 7 || st.Pzxid != 10 || st.NumChildren != 3 {
		t.Fatalf("/us stat %+v %v", st, err)
	}
	if v := mntrValue(t, addr, "zk_digest_mismatches_count"); v != "0" {
		t.Fatalf("Apache counted %s digest mismatches", v)
	}
	// Apache appends to its own new log after ours.
	if _, err := c.Create("/apache", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	stop()
	// Apache must have used our snapshot.4, not fallen back to snapshot.0.
	alog, _ := os.ReadFile(logPath)
	if !bytes.Contains(alog, []byte("Reading snapshot "+snap)) || bytes.Contains(alog, []byte("problem reading snap file")) {
		t.Fatalf("Apache did not load %s", snap)
	}
	if !bytes.Contains(alog, []byte("6 txns loaded")) {
		t.Fatal("Apache did not replay txns 5..10 after the snapshot")
	}

	// Apache snapshotted the replayed tree at startup; read that and all logs.
	tr, info, err := LoadLatest(dir, func() TreeReader { return newTestTree() })
	if err != nil || info.Zxid != 10 {
		t.Fatalf("LoadLatest: %+v %v", info, err)
	}
	if n, ok := tr.(*testTree).get("/us/a"); !ok || string(n.Data) != "hello3" {
		t.Fatal("/us/a missing from Apache's snapshot")
	}
	if info.Digest == nil || info.Digest.Zxid != 10 || uint64(info.Digest.Digest) != model.sum {
		t.Fatalf("Apache's snapshot digest %+v, our model 0x%x", info.Digest, model.sum)
	}
	var paths []string
	if _, err := ReadLog(dir, 10, func(e *Entry) error {
		if cr, ok := e.Txn.(*jute.CreateTxn); ok {
			paths = append(paths, cr.Path)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(paths, []string{"/apache"}) {
		t.Fatalf("Apache's appended txns: %v", paths)
	}
}
