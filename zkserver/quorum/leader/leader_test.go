package leader

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/pipeline"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/follower"
	"github.com/zkafka/zkafka/zkserver/session"
	"github.com/zkafka/zkafka/zkserver/storage"
	"github.com/zkafka/zkafka/zkserver/tree"
	"github.com/zkafka/zkafka/zkserver/watch"
)

func processor(t *testing.T, dir string, id int64) *pipeline.Processor {
	t.Helper()
	p, err := pipeline.New(pipeline.Config{ServerID: id, TickTime: 200, MinSessionTimeout: 400, MaxSessionTimeout: 4000,
		SnapDir: filepath.Join(dir, "version-2"), LogDir: filepath.Join(dir, "version-2"), Quorum: true},
		func(err error) { t.Errorf("fatal: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(func() { p.Close() })
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func hasNode(p *pipeline.Processor, path string) bool {
	found := false
	p.Do(func(tr *tree.Tree, _ *watch.Manager, _ *session.Tracker) { found = tr.Node(path) != nil })
	return found
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !f(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
	}
}

// A leader whose history starts at a snapshot (its older txn logs gone, as after a purge) syncs an empty follower
// by SNAP: the snapshot streamed by the leader runtime is loaded by the follower runtime; a write made on the
// leader afterwards is proposed, logged by both, committed and applied by the follower.
func TestLeaderSyncsFollowerBySnapshot(t *testing.T) {
	leaderDir, followerDir := t.TempDir(), t.TempDir()
	snapDir := filepath.Join(leaderDir, "version-2")
	if err := os.MkdirAll(snapDir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := tree.New(nil)
	acl := []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	src.Apply(&jute.TxnHeader{Zxid: 0x100000005, Type: jute.OpCreate}, &jute.CreateTxn{Path: "/old", Data: []byte("x"), ACL: acl, ParentCVersion: 1})
	if _, err := storage.WriteSnapshot(snapDir, 0x100000005, map[int64]int32{}, src, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{storage.AcceptedEpochFile, storage.CurrentEpochFile} {
		if err := storage.WriteEpoch(snapDir, f, 1); err != nil {
			t.Fatal(err)
		}
	}
	lp, fp := processor(t, leaderDir, 1), processor(t, followerDir, 2)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stats := &Stats{}
	leading := make(chan error, 1)
	go func() {
		leading <- Lead(ctx, Config{MyID: 1, Listen: addr, Quorum: election.NewMajority([]int64{1, 2}), TickTime: 200,
			InitLimit: 10, SyncLimit: 5, EpochDir: snapDir, AcceptedEpoch: 1, CurrentEpoch: 1, LogDir: snapDir,
			ConfigData: []byte("version=0"), Stats: stats}, lp)
	}()
	following := make(chan error, 1)
	go func() {
		following <- follower.Follow(ctx, follower.Config{MyID: 2, LeaderAddr: addr, TickTime: 200, InitLimit: 10,
			SyncLimit: 5, EpochDir: filepath.Join(followerDir, "version-2")}, fp)
	}()
	waitFor(t, "both serve", func() bool { return lp.Serving() && fp.Serving() })
	if !hasNode(fp, "/old") || fp.LastZxid() != 0x100000005 {
		t.Fatalf("the follower after the snapshot: /old %v, zxid %#x", hasNode(fp, "/old"), fp.LastZxid())
	}
	if g := stats.Gauges(); g["synced_followers"] != int64(1) || g["learners"] != int64(1) {
		t.Fatalf("leader gauges %v", g)
	}

	out := make(chan []byte, 8)
	c := lp.NewClient(senderFunc(func(b []byte) { out <- b }), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, jute.Id{Scheme: "ip", ID: "127.0.0.1"})
	lp.Connect(c, &pipeline.ConnectRequest{Req: jute.ConnectRequest{TimeOut: 4000}})
	<-out
	lp.Submit(&pipeline.Request{Client: c, Xid: 1, Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/new", ACL: acl}, Start: time.Now()})
	select {
	case <-out:
	case <-time.After(10 * time.Second):
		t.Fatal("the create was never committed")
	}
	waitFor(t, "the follower applies the commit", func() bool { return hasNode(fp, "/new") })
	if z := fp.LastZxid(); z != 2<<32|2 {
		t.Fatalf("follower at %#x, want 0x200000002 (createSession, create)", z)
	}
	// ServerMetrics: the leader synced one follower by snapshot, proposed and committed two txns; the follower
	// received both pairs after its sync, which it timed once.
	lq, fq := &lp.Stats.Quorum, &fp.Stats.Quorum
	if lq.SnapCount.Load() != 1 || lq.DiffCount.Load() != 0 || lq.ProposalCount.Load() != 2 || lq.CommitCount.Load() != 2 {
		t.Fatalf("leader: snap %d diff %d proposals %d commits %d", lq.SnapCount.Load(), lq.DiffCount.Load(),
			lq.ProposalCount.Load(), lq.CommitCount.Load())
	}
	if fq.LearnerProposalReceived.Load() != 2 || fq.LearnerCommitReceived.Load() != 2 || fq.FollowerSync.Snapshot().Count != 1 {
		t.Fatalf("follower: proposals %d commits %d syncs %d", fq.LearnerProposalReceived.Load(),
			fq.LearnerCommitReceived.Load(), fq.FollowerSync.Snapshot().Count)
	}
	cancel()
	<-leading
	<-following
}

type senderFunc func([]byte)

func (f senderFunc) Send(b []byte)    { f(b) }
func (f senderFunc) CloseAfterFlush() {}
