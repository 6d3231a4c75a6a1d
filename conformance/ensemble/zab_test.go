package ensemble

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// memLearner runs a zab.Learner against a leader's quorum port, keeping its log and tree in memory: the parts
// of a follower this test needs.
type memLearner struct {
	mu      sync.Mutex
	logged  []zab.Txn
	applied []zab.Txn
	serving bool
	err     error
	epochs  [2]int64   // accepted, current
	tree    *tree.Tree // loaded from the leader's snapshot
}

func (m *memLearner) run(ctx context.Context, addr string, cfg zab.LearnerConfig) {
	err := m.follow(ctx, addr, cfg)
	m.mu.Lock()
	m.err = err
	m.mu.Unlock()
}

func (m *memLearner) follow(ctx context.Context, addr string, cfg zab.LearnerConfig) error {
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	r := bufio.NewReader(conn)
	l := zab.NewLearner(cfg)
	if err := m.ready(conn, l.Start()); err != nil {
		return err
	}
	for {
		p, err := zab.ReadPacket(r, jute.DefaultMaxBuffer)
		if err != nil {
			return err
		}
		rd, err := l.Step(p)
		if errors.Is(err, zab.ErrNeedSnapshot) {
			body, err := zab.ReadSnapshotStream(r, jute.DefaultMaxBuffer)
			if err != nil {
				return err
			}
			t := tree.New(nil)
			if _, err := zab.LoadSnapshot(body, t); err != nil {
				return err
			}
			m.mu.Lock()
			m.tree = t
			m.mu.Unlock()
			l.SnapshotLoaded(p.Zxid)
			continue
		}
		if err != nil {
			return fmt.Errorf("step %s: %w", p, err)
		}
		if err := m.ready(conn, rd); err != nil {
			return err
		}
	}
}

// ready carries out a step's Ready in its order: epochs, log, apply, then send.
func (m *memLearner) ready(conn net.Conn, rd zab.Ready) error {
	m.mu.Lock()
	if rd.AcceptedEpoch > 0 {
		m.epochs[0] = rd.AcceptedEpoch
	}
	if rd.CurrentEpoch > 0 {
		m.epochs[1] = rd.CurrentEpoch
	}
	m.logged = append(m.logged, rd.Log...)
	m.applied = append(m.applied, rd.Apply...)
	m.serving = m.serving || rd.Serving
	m.mu.Unlock()
	var out []byte
	for _, p := range rd.Send {
		out = append(out, p.Marshal()...)
	}
	if len(out) > 0 {
		_, err := conn.Write(out)
		return err
	}
	return nil
}

func (m *memLearner) state() (serving bool, err error, applied []zab.Txn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.serving, m.err, slices.Clone(m.applied)
}

// createdPaths decodes the paths of the create txns among txns.
func createdPaths(t *testing.T, txns []zab.Txn) []string {
	t.Helper()
	var paths []string
	for _, txn := range txns {
		d := jute.NewDecoder(txn.Data)
		var h jute.TxnHeader
		h.Decode(d)
		if h.Type != 1 { // OpCode.create
			continue
		}
		var c jute.CreateTxn
		c.Decode(d)
		if err := d.Err(); err != nil {
			t.Fatalf("txn %#x: %v", txn.Zxid, err)
		}
		paths = append(paths, c.Path)
	}
	return paths
}

// Ours, server 1, elects with Apache's servers 2 and 3, then follows Apache's leader over ZAB: discovery, sync,
// broadcast. With Apache's other follower stopped, the leader has a quorum only with us: the writes a client
// makes succeed because we log and acknowledge them, and we apply what the leader commits.
func TestFollowApacheLeader(t *testing.T) {
	en := newEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	a2, a3 := en.apacheQuorum(t, ctx)
	node := en.startOurs(t, ctx, 1)
	v, err := node.Look(ctx, 0, 0)
	if err != nil || v.Leader != 3 || v.State != election.Following {
		t.Fatalf("election: %+v %v", v, err)
	}
	ml := &memLearner{}
	go ml.run(ctx, fmt.Sprintf("127.0.0.1:%d", en.members[3].quorumPort), zab.LearnerConfig{MyID: 1})
	for {
		serving, err, _ := ml.state()
		if err != nil {
			t.Fatalf("learner: %v", err)
		}
		if serving {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("learner never synced")
		case <-time.After(50 * time.Millisecond):
		}
	}
	ml.mu.Lock()
	epochs, snap := ml.epochs, ml.tree
	ml.mu.Unlock()
	if epochs != [2]int64{1, 1} {
		t.Fatalf("accepted/current epochs %v, want the leader's epoch 1", epochs)
	}
	// A fresh server is behind the leader's new epoch: it gets the leader's tree by SNAP.
	if snap == nil || snap.Node("/zookeeper/config") == nil {
		t.Fatalf("no snapshot with /zookeeper/config from the leader: %v", snap)
	}
	mntr, err := harness.FourLetter(ctx, a3.Addr(), "mntr")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mntr, "zk_synced_followers\t2") {
		t.Fatalf("Apache's leader does not count us as a synced follower:\n%s", mntr)
	}

	if err := a2.Stop(); err != nil {
		t.Fatal(err)
	}
	conn, _ := connect(t, a3.Addr())
	var want []string
	for i := range 20 {
		p := fmt.Sprintf("/zab-%02d", i)
		if _, err := conn.Create(p, []byte("v"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %s with the leader's quorum being us: %v", p, err)
		}
		want = append(want, p)
	}
	// The leader commits a write to us after answering its client; wait for the last commit.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err, applied := ml.state()
		if err != nil {
			t.Fatalf("learner: %v", err)
		}
		got := createdPaths(t, applied)
		if slices.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("applied creates %v, want %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
