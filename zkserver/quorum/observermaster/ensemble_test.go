package observermaster_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver"
	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/observermaster"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
)

// Two of three zkservers form the ensemble, each with an observer master address; an observer (our Learner over
// TCP) syncs from the follower's, and the session and node it creates through it are committed by the leader
// and come back to it as INFORMs.
func TestObserverThroughFollower(t *testing.T) {
	members := map[int64]zkserver.Member{}
	omAddrs := map[int64]string{}
	for id := int64(1); id <= 3; id++ {
		members[id] = zkserver.Member{QuorumAddr: freeOn(t, "127.0.0.1"), ElectionAddr: freeOn(t, "127.0.0.1")}
		omAddrs[id] = freeOn(t, "127.0.0.1")
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, id := range []int64{1, 2} {
		dir := t.TempDir()
		s, err := zkserver.Start(zkserver.Config{
			ClientAddr: "127.0.0.1:0", TickTime: 200, MinSessionTimeout: 400, MaxSessionTimeout: 40000,
			DataDir: dir, DataLogDir: filepath.Join(dir, "log"), SnapCount: 100000, PreAllocSize: 1 << 20,
			ForceSync: true, JuteMaxBuffer: 0xfffff, ACL: acl.DefaultConfig(),
			Quorum: &zkserver.QuorumConfig{MyID: id, Members: members, ElectionListen: members[id].ElectionAddr,
				QuorumListen: members[id].QuorumAddr, ObserverMasterListen: omAddrs[id], InitLimit: 10,
				SyncLimit: 5, ConnectLimit: 10, ConnectRetryDelay: 100 * time.Millisecond,
				Verifier: election.NewMajority([]int64{1, 2, 3}), Voters: map[int64]bool{1: true, 2: true, 3: true}},
			Logger: logger,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}
	// The leader does not listen on its observer master address; the follower does once synced.
	var nc net.Conn
	deadline := time.Now().Add(30 * time.Second)
	for nc == nil {
		for _, id := range []int64{1, 2} {
			if c, err := net.DialTimeout("tcp", omAddrs[id], time.Second); err == nil {
				nc = c
				break
			}
		}
		if nc == nil {
			if time.Now().After(deadline) {
				t.Fatal("no observer master listens")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	o := observermaster.NewRawObserver(t, nc, zab.LearnerConfig{MyID: 3, Observer: true}, nil)
	// applied are the types of the txns applied since the sync.
	applied := func() []int32 {
		var types []int32
		for _, tx := range o.Applied {
			var h jute.TxnHeader
			h.Decode(jute.NewDecoder(tx.Data))
			types = append(types, h.Type)
		}
		return types
	}
	o.Next("the sync", func() bool { return o.Serving })
	o.Applied = nil
	const session = 0x0300000000000001
	o.Send(zab.RequestPacket(session, 0, jute.OpCreateSession, binary.BigEndian.AppendUint32(nil, 10000), nil))
	o.Next("the session", func() bool { return len(o.Applied) > 0 })
	if types := applied(); types[0] != jute.OpCreateSession {
		t.Fatalf("applied txn types %v", types)
	}
	body := jute.Marshal(&jute.CreateRequest{Path: "/om", Data: []byte("x"), ACL: jute.OpenACLUnsafe})
	o.Send(zab.RequestPacket(session, 1, jute.OpCreate, body, nil))
	o.Next("the create", func() bool { return len(o.Applied) > 1 })
	if types := applied(); types[1] != jute.OpCreate {
		t.Fatalf("applied txn types %v", types)
	}
	// A sync is answered once the leader answered the follower; a revalidation comes back from the leader too.
	o.Send(zab.RequestPacket(session, 2, jute.OpSync, jute.Marshal(&jute.SyncRequest{Path: "/om"}), nil))
	o.Next("the SYNC", func() bool { return o.Synced == 1 })
	o.Send(zab.RevalidatePacket(session, 10000), zab.RevalidatePacket(0x0300000000000002, 10000))
	o.Next("the revalidations", func() bool { return len(o.Revalidated) == 2 })
	if rv := o.Revalidated; !rv[0].Valid || rv[0].Session != session || rv[1].Valid {
		t.Fatalf("revalidated %+v", rv)
	}
}

// Our observer with observerMasterPort learns from a voting member's observer master: each server has its own
// loopback IP and the same port, as in Apache's deployments; the leader, tried in the round robin, does not serve
// there, the follower does.
func TestOurObserverThroughObserverMaster(t *testing.T) {
	port := freeOn(t, "127.0.0.1")[len("127.0.0.1:"):]
	members := map[int64]zkserver.Member{}
	for id := int64(1); id <= 3; id++ {
		ip := "127.0.0." + string(rune('0'+id))
		members[id] = zkserver.Member{QuorumAddr: freeOn(t, ip), ElectionAddr: freeOn(t, ip)}
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var observerLog lockedBuffer
	servers := map[int64]*zkserver.Server{}
	for id := int64(1); id <= 3; id++ {
		dir := t.TempDir()
		host, _, _ := net.SplitHostPort(members[id].QuorumAddr)
		portN, _ := strconv.Atoi(port)
		lg := logger
		if id == 3 {
			lg = slog.New(slog.NewTextHandler(&observerLog, nil))
		}
		s, err := zkserver.Start(zkserver.Config{
			ClientAddr: "127.0.0.1:0", TickTime: 200, MinSessionTimeout: 400, MaxSessionTimeout: 40000,
			DataDir: dir, DataLogDir: filepath.Join(dir, "log"), SnapCount: 100000, PreAllocSize: 1 << 20,
			ForceSync: true, JuteMaxBuffer: 0xfffff, ACL: acl.DefaultConfig(),
			Quorum: &zkserver.QuorumConfig{MyID: id, Members: members, ElectionListen: members[id].ElectionAddr,
				QuorumListen: members[id].QuorumAddr, ObserverMasterListen: net.JoinHostPort(host, port),
				ObserverMasterPort: portN, Observer: id == 3, InitLimit: 10, SyncLimit: 5, ConnectLimit: 10,
				ConnectRetryDelay: 100 * time.Millisecond, Verifier: election.NewMajority([]int64{1, 2}),
				Voters: map[int64]bool{1: true, 2: true}},
			Logger: lg,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		servers[id] = s
	}
	deadline := time.Now().Add(60 * time.Second)
	for !servers[3].Processor().Serving() {
		if time.Now().After(deadline) {
			t.Fatal("the observer does not serve")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// It synced with a voter's observer master, at the shared port, not with the leader's quorum port.
	if log := observerLog.String(); !strings.Contains(log, "synced with the leader") ||
		!regexp.MustCompile(`synced with the leader: serving clients" leader=127\.0\.0\.[12]:`+port+` `).MatchString(log) {
		t.Fatalf("observer's log:\n%s", log)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeOn is a free port's address on the loopback address ip (the test skips without it).
func freeOn(t *testing.T, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("no loopback address %s: %v", ip, err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
