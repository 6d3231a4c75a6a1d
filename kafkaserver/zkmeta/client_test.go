package zkmeta

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func connect(t *testing.T, s *zkServer, chroot string, opts ...Option) *Client {
	t.Helper()
	c, err := Connect(s.addr+chroot, 10*time.Second, quiet(), opts...)
	if err != nil {
		t.Fatalf("connect %s%s: %v\n%s", s.addr, chroot, err, s.logTail())
	}
	t.Cleanup(c.Close)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestChroot(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *zkServer, chroot string) {
		c := connect(t, s, chroot+"/kafka")
		must(t, c.CreateTopLevelPaths())
		raw := connect(t, s, "")
		for _, p := range PersistentPaths() {
			ok, err := raw.PathExists(chroot + "/kafka" + p)
			must(t, err)
			if !ok {
				t.Errorf("%s not created under the chroot", p)
			}
			if ok, _ := raw.PathExists(p); ok && !strings.HasPrefix(p, "/config") && p != "/consumers" {
				// Other tests share the server, but nothing writes outside a chroot.
				t.Errorf("%s created outside the chroot", p)
			}
		}
		// Sequential names come back chroot-relative.
		p, err := c.CreateConfigChangeNotification("topics/foo")
		must(t, err)
		if p != "/config/changes/config_change_0000000000" {
			t.Errorf("sequential path %q", p)
		}
		b, _, err := raw.Get(chroot + "/kafka" + p)
		must(t, err)
		if string(b) != `{"version":2,"entity_path":"topics/foo"}` {
			t.Errorf("notification %s", b)
		}
		// Multi results are chroot-relative too.
		res, err := c.Multi(&zk.CreateRequest{Path: "/admin/x", Flags: zk.FlagSequence})
		must(t, err)
		if !strings.HasPrefix(res[0].String, "/admin/x") {
			t.Errorf("multi create path %q", res[0].String)
		}
		// A watch sees paths relative to the chroot.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w, err := c.WatchChildren(ctx, "/config/changes")
		must(t, err)
		ev := <-w
		if ev.Type != WatchInitial || ev.Path != "/config/changes" || !reflect.DeepEqual(ev.Children, []string{"config_change_0000000000"}) {
			t.Errorf("initial %+v", ev)
		}
		_, err = raw.Create(chroot+"/kafka/config/changes/config_change_0000000001", nil, 0)
		must(t, err)
		ev = <-w
		if ev.Type != WatchChildrenChanged || len(ev.Children) != 2 {
			t.Errorf("change %+v", ev)
		}
	})
}

func TestBrokerRegistrationAndIDs(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *zkServer, chroot string) {
		c := connect(t, s, chroot)
		must(t, c.CreateTopLevelPaths())
		bi := BrokerInfo{ID: 1, Version: 5, JMXPort: -1, Timestamp: 1620000000000,
			Endpoints: []EndPoint{{"PLAINTEXT", "127.0.0.1", 9092, "PLAINTEXT"}}}
		epoch, err := c.RegisterBroker(bi)
		must(t, err)
		data, st, err := c.Get(BrokerIDPath(1))
		must(t, err)
		if string(data) != string(bi.Encode()) || st.Czxid != epoch || st.Version != 1 || st.EphemeralOwner != c.SessionID() {
			t.Errorf("registration %s stat %+v epoch %d", data, st, epoch)
		}
		// Registering again in the same session returns the existing node.
		again, err := c.RegisterBroker(bi)
		must(t, err)
		if again != epoch {
			t.Errorf("re-register epoch %d != %d", again, epoch)
		}
		// Another session cannot take the id.
		other := connect(t, s, chroot)
		if _, err := other.RegisterBroker(bi); !errors.Is(err, zk.ErrNodeExists) {
			t.Errorf("duplicate id: %v", err)
		}
		got, ok, err := other.GetBroker(1)
		must(t, err)
		bi.Epoch, bi.Features = epoch, map[string]VersionRange{}
		if !ok || !reflect.DeepEqual(got, bi) {
			t.Errorf("GetBroker %+v", got)
		}
		all, err := other.GetAllBrokers()
		must(t, err)
		if len(all) != 1 || all[0].ID != 1 {
			t.Errorf("all brokers %+v", all)
		}
		// Broker id generation: seqid version + reserved.broker.max.id.
		id1, err := c.GenerateBrokerID(1000)
		must(t, err)
		id2, err := other.GenerateBrokerID(1000)
		must(t, err)
		if id1 != 1001 || id2 != 1002 {
			t.Errorf("generated ids %d %d", id1, id2)
		}
		// Cluster id: the first creator wins.
		cid, err := c.GetOrCreateClusterID()
		must(t, err)
		cid2, err := other.GetOrCreateClusterID()
		must(t, err)
		if cid != cid2 || len(cid) != 22 {
			t.Errorf("cluster ids %q %q", cid, cid2)
		}
	})
}

func TestTopicsAndPartitionState(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *zkServer, chroot string) {
		c := connect(t, s, chroot)
		must(t, c.CreateTopLevelPaths())
		assign := map[int32][]int32{0: {1, 2}, 1: {2, 3}, 2: {3, 1}}
		must(t, c.CreateTopic("foo", assign, map[string]string{"cleanup.policy": "compact"}, ZeroUuid))
		b, _, err := c.Get(TopicPath("foo"))
		must(t, err)
		if string(b) != `{"partitions":{"0":[1,2],"1":[2,3],"2":[3,1]},"adding_replicas":{},"removing_replicas":{},"version":3}` {
			t.Errorf("topic znode %s", b)
		}
		b, _, err = c.Get(TopicConfigPath("foo"))
		must(t, err)
		if string(b) != `{"version":1,"config":{"cleanup.policy":"compact"}}` {
			t.Errorf("config znode %s", b)
		}
		if err := c.CreateTopic("foo", assign, nil, ZeroUuid); !errors.Is(err, ErrTopicExists) {
			t.Errorf("duplicate topic: %v", err)
		}
		must(t, c.CreateTopic("a.b", map[int32][]int32{0: {1}}, nil, ZeroUuid))
		if err := c.CreateTopic("a_b", map[int32][]int32{0: {1}}, nil, ZeroUuid); !errors.Is(err, ErrInvalidTopic) {
			t.Errorf("colliding topic: %v", err)
		}
		for _, bad := range []map[int32][]int32{{0: {1, 2}, 1: {1}}, {0: {1, 1}}, {1: {1}}} {
			if err := c.CreateTopic("bad", bad, nil, ZeroUuid); !errors.Is(err, ErrInvalidReplicaAssignment) {
				t.Errorf("assignment %v: %v", bad, err)
			}
		}
		if err := c.CreateTopic("b@d", assign, nil, ZeroUuid); !errors.Is(err, ErrInvalidTopic) {
			t.Errorf("bad name: %v", err)
		}
		topics, err := c.GetTopics()
		must(t, err)
		if !reflect.DeepEqual(topics, []string{"a.b", "foo"}) {
			t.Errorf("topics %v", topics)
		}
		ta, ok, err := c.GetTopicAssignment("foo")
		must(t, err)
		if !ok || len(ta.Partitions) != 3 || !reflect.DeepEqual(ta.Partitions[2].Replicas, []int32{3, 1}) || !ta.TopicID.IsZero() {
			t.Errorf("assignment %+v", ta)
		}
		// The controller adds a topic id.
		ta.TopicID, _ = NewUuid()
		must(t, c.SetTopicAssignment("foo", ta, MatchAnyVersion))
		ta2, _, err := c.GetTopicAssignment("foo")
		must(t, err)
		if ta2.TopicID != ta.TopicID {
			t.Errorf("topic id not stored")
		}

		tp := TopicPartition{"foo", 0}
		_, err = c.CreatePartitionState(tp, PartitionState{Leader: 1, ISR: []int32{1, 2}, ControllerEpoch: 1}, MatchAnyVersion)
		must(t, err)
		st, ok, err := c.GetPartitionState(tp)
		must(t, err)
		if !ok || st.Leader != 1 || st.ZkVersion != 0 {
			t.Errorf("state %+v", st)
		}
		b, _, err = c.Get(PartitionStatePath("foo", 0))
		must(t, err)
		if string(b) != `{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2]}` {
			t.Errorf("state znode %s", b)
		}
		// Conditional on zkVersion: the first writer wins, a stale version is BadVersion.
		st.ISR, st.LeaderEpoch = []int32{1}, 1
		v, err := c.SetPartitionState(tp, st, MatchAnyVersion)
		must(t, err)
		if v != 1 {
			t.Errorf("new zkVersion %d", v)
		}
		if _, err := c.SetPartitionState(tp, st, MatchAnyVersion); !errors.Is(err, zk.ErrBadVersion) {
			t.Errorf("stale state write: %v", err)
		}
		states, err := c.GetPartitionStates([]TopicPartition{tp, {"foo", 1}})
		must(t, err)
		if len(states) != 1 || states[tp].ZkVersion != 1 || !reflect.DeepEqual(states[tp].ISR, []int32{1}) {
			t.Errorf("states %+v", states)
		}

		// Deletion markers, then the controller's cleanup.
		must(t, c.CreateDeleteTopicPath("foo"))
		if err := c.CreateDeleteTopicPath("foo"); !errors.Is(err, zk.ErrNodeExists) {
			t.Errorf("double delete mark: %v", err)
		}
		marked, err := c.IsTopicMarkedForDeletion("foo")
		must(t, err)
		dels, err := c.GetTopicDeletions()
		must(t, err)
		if !marked || !reflect.DeepEqual(dels, []string{"foo"}) {
			t.Errorf("deletions %v %v", marked, dels)
		}
		must(t, c.DeleteTopicZNode("foo", MatchAnyVersion))
		must(t, c.DeleteTopicConfigs([]string{"foo"}, MatchAnyVersion))
		must(t, c.DeleteTopicDeletions([]string{"foo"}, MatchAnyVersion))
		for _, p := range []string{TopicPath("foo"), TopicConfigPath("foo"), DeleteTopicPath("foo")} {
			if ok, _ := c.PathExists(p); ok {
				t.Errorf("%s survived deletion", p)
			}
		}
	})
}

func TestNotificationsAndAdminZnodes(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *zkServer, chroot string) {
		c := connect(t, s, chroot)
		must(t, c.CreateTopLevelPaths())
		// Config entity + change notification.
		must(t, c.SetOrCreateEntityConfigs(ConfigTypeBroker, "<default>", map[string]string{"log.cleaner.threads": "2"}))
		must(t, c.SetOrCreateEntityConfigs(ConfigTypeBroker, "<default>", map[string]string{"log.cleaner.threads": "3"}))
		cfg, err := c.GetEntityConfigs(ConfigTypeBroker, "<default>")
		must(t, err)
		if cfg["log.cleaner.threads"] != "3" {
			t.Errorf("config %v", cfg)
		}
		if cfg, _ := c.GetEntityConfigs(ConfigTypeUser, "nobody"); len(cfg) != 0 {
			t.Errorf("absent config %v", cfg)
		}
		// ISR change notifications.
		_, err = c.PropagateIsrChanges([]TopicPartition{{"t", 0}})
		must(t, err)
		_, err = c.PropagateIsrChanges([]TopicPartition{{"t", 1}, {"u", 0}})
		must(t, err)
		seqs, err := c.GetAllIsrChangeNotifications()
		must(t, err)
		if !reflect.DeepEqual(seqs, []string{"0000000000", "0000000001"}) {
			t.Errorf("isr seqs %v", seqs)
		}
		ps, err := c.GetPartitionsFromIsrChangeNotifications(seqs)
		must(t, err)
		if len(ps) != 3 {
			t.Errorf("isr partitions %v", ps)
		}
		must(t, c.DeleteIsrChangeNotifications(seqs, MatchAnyVersion))
		if seqs, _ := c.GetAllIsrChangeNotifications(); len(seqs) != 0 {
			t.Errorf("isr left %v", seqs)
		}
		// Log dir events.
		_, err = c.PropagateLogDirEvent(3)
		must(t, err)
		ls, err := c.GetAllLogDirEventNotifications()
		must(t, err)
		ids, err := c.GetBrokerIDsFromLogDirEvents(ls)
		must(t, err)
		if !reflect.DeepEqual(ids, []int32{3}) {
			t.Errorf("log dir brokers %v", ids)
		}
		must(t, c.DeleteLogDirEventNotifications(ls, MatchAnyVersion))
		// Reassignment and preferred election.
		rs := []PartitionReassignment{{"t", 0, []int32{1, 2}}}
		must(t, c.CreatePartitionReassignment(rs))
		if err := c.CreatePartitionReassignment(rs); !errors.Is(err, zk.ErrNodeExists) {
			t.Errorf("second reassignment: %v", err)
		}
		got, err := c.GetPartitionReassignment()
		must(t, err)
		if !reflect.DeepEqual(got, rs) {
			t.Errorf("reassignment %v", got)
		}
		must(t, c.SetOrCreatePartitionReassignment(nil, MatchAnyVersion))
		must(t, c.DeletePartitionReassignment(MatchAnyVersion))
		must(t, c.CreatePreferredReplicaElection([]TopicPartition{{"t", 0}}))
		pe, err := c.GetPreferredReplicaElection()
		must(t, err)
		if !reflect.DeepEqual(pe, []TopicPartition{{"t", 0}}) {
			t.Errorf("preferred %v", pe)
		}
		must(t, c.DeletePreferredReplicaElection(MatchAnyVersion))
		// Producer id blocks from two brokers never overlap.
		b1, err := c.AllocateProducerIDBlock(1)
		must(t, err)
		b2, err := c.AllocateProducerIDBlock(2)
		must(t, err)
		if b1 != (ProducerIDBlock{1, 0, 999}) || b2 != (ProducerIDBlock{2, 1000, 1999}) {
			t.Errorf("blocks %+v %+v", b1, b2)
		}
		raw, _, err := c.Get(ProducerIDBlockPath)
		must(t, err)
		if string(raw) != `{"version":1,"broker":2,"block_start":"1000","block_end":"1999"}` {
			t.Errorf("producer id block znode %s", raw)
		}
		// Consumer offsets.
		tp := TopicPartition{"t", 4}
		must(t, c.SetOrCreateConsumerOffset("g", tp, 42))
		must(t, c.SetOrCreateConsumerOffset("g", tp, 43))
		off, ok, err := c.GetConsumerOffset("g", tp)
		must(t, err)
		if !ok || off != 43 {
			t.Errorf("offset %d %v", off, ok)
		}
		raw, _, _ = c.Get(ConsumerOffsetPath("g", "t", 4))
		if string(raw) != "43" {
			t.Errorf("offset znode %q", raw)
		}
		// Feature znode.
		must(t, c.CreateFeatureZNode(FeatureZNode{Status: FeatureEnabled}))
		f, _, ok, err := c.GetFeatureZNode()
		must(t, err)
		if !ok || f.Status != FeatureEnabled {
			t.Errorf("feature %+v", f)
		}
	})
}

func TestControllerElectionAndFencing(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *zkServer, chroot string) {
		a := connect(t, s, chroot)
		b := connect(t, s, chroot)
		type result struct {
			id             int32
			epoch, version int32
			err            error
		}
		results := make([]result, 2)
		var wg sync.WaitGroup
		for i, c := range []*Client{a, b} {
			wg.Add(1)
			go func(i int, c *Client) {
				defer wg.Done()
				e, v, err := c.ElectController(int32(i + 1))
				results[i] = result{int32(i + 1), e, v, err}
			}(i, c)
		}
		wg.Wait()
		var winner, loser result
		var wc, lc *Client
		switch {
		case results[0].err == nil && results[1].err != nil:
			winner, loser, wc, lc = results[0], results[1], a, b
		case results[1].err == nil && results[0].err != nil:
			winner, loser, wc, lc = results[1], results[0], b, a
		default:
			t.Fatalf("want exactly one winner: %+v", results)
		}
		if !errors.Is(loser.err, ErrControllerMoved) || !(errors.Is(loser.err, zk.ErrNodeExists) || errors.Is(loser.err, zk.ErrBadVersion)) {
			t.Errorf("loser error %v", loser.err)
		}
		if winner.epoch != 1 || winner.version != 1 {
			t.Errorf("winner epoch %d zkVersion %d", winner.epoch, winner.version)
		}
		id, err := lc.GetControllerID()
		must(t, err)
		if id != winner.id {
			t.Errorf("controller %d, winner %d", id, winner.id)
		}
		raw, _, err := lc.Get(ControllerEpochPath)
		must(t, err)
		if string(raw) != "1" {
			t.Errorf("controller_epoch %q", raw)
		}
		// The winner's fenced writes go through.
		must(t, wc.MakeSurePersistentPathExists(TopicsPath))
		_, err = wc.FencedCreate(TopicsPath+"/x", []byte("{}"), 0, winner.version)
		must(t, err)

		// The controller znode goes (e.g. the winner's session is partitioned away); the other broker takes over.
		must(t, lc.Delete(ControllerPath, MatchAnyVersion))
		e2, v2, err := lc.ElectController(loser.id)
		must(t, err)
		if e2 != 2 || v2 != 2 {
			t.Errorf("second election epoch %d zkVersion %d", e2, v2)
		}
		// The stale controller is fenced: its write fails on the epoch check and changes nothing.
		_, err = wc.FencedSet(TopicsPath+"/x", []byte("stale"), MatchAnyVersion, winner.version)
		if !errors.Is(err, ErrControllerMoved) || !errors.Is(err, zk.ErrBadVersion) {
			t.Errorf("stale fenced write: %v", err)
		}
		if err := wc.DeleteTopicDeletions([]string{"x"}, winner.version); !errors.Is(err, ErrControllerMoved) {
			t.Errorf("stale fenced delete: %v", err)
		}
		raw, _, _ = lc.Get(TopicsPath + "/x")
		if string(raw) != "{}" {
			t.Errorf("stale write landed: %q", raw)
		}
		// The new controller's write (and a partition-level BadVersion under a good fence) behave as in Kafka.
		_, err = lc.FencedSet(TopicsPath+"/x", []byte("new"), 0, v2)
		must(t, err)
		_, err = lc.FencedSet(TopicsPath+"/x", []byte("new"), 0, v2)
		if !errors.Is(err, zk.ErrBadVersion) || errors.Is(err, ErrControllerMoved) {
			t.Errorf("op BadVersion under a valid fence: %v", err)
		}
		// The stale controller cannot be re-elected while /controller exists.
		if _, _, err := wc.ElectController(winner.id); !errors.Is(err, ErrControllerMoved) {
			t.Errorf("re-election while a controller exists: %v", err)
		}
	})
}

func TestWatchData(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *zkServer, chroot string) {
		c := connect(t, s, chroot)
		other := connect(t, s, chroot)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w, err := c.WatchData(ctx, ControllerPath)
		must(t, err)
		if ev := <-w; ev.Type != WatchInitial || ev.Exists {
			t.Errorf("initial %+v", ev)
		}
		_, _, err = other.ElectController(7)
		must(t, err)
		ev := <-w
		ci, derr := DecodeControllerInfo(ev.Data)
		if ev.Type != WatchCreated || !ev.Exists || derr != nil || ci.BrokerID != 7 {
			t.Errorf("created %+v %v", ev, derr)
		}
		_, err = other.Set(ControllerPath, ControllerInfo{BrokerID: 8, Timestamp: 1}.Encode(), MatchAnyVersion)
		must(t, err)
		ev = <-w
		if ev.Type != WatchDataChanged || ev.Stat.Version != 1 {
			t.Errorf("data changed %+v", ev)
		}
		other.Close() // the ephemeral /controller goes with the session
		ev = <-w
		if ev.Type != WatchDeleted || ev.Exists {
			t.Errorf("deleted %+v", ev)
		}
		cancel()
		for range w {
		}
	})
}

// cutter is a dialer whose connections a test can cut, and refuse, to drive a session into expiry.
type cutter struct {
	mu      sync.Mutex
	blocked bool
	conns   []net.Conn
}

func (d *cutter) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.blocked {
		return nil, errors.New("blocked by test")
	}
	c, err := net.DialTimeout(network, addr, timeout)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *cutter) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.blocked = true
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}

func (d *cutter) restore() {
	d.mu.Lock()
	d.blocked = false
	d.mu.Unlock()
}

func nextSession(t *testing.T, c *Client, want SessionEventKind) SessionEvent {
	t.Helper()
	for ev := range c.SessionEvents() {
		if ev.Kind == want {
			return ev
		}
	}
	t.Fatalf("session events closed before %v", want)
	return SessionEvent{}
}

func TestSessionExpiryReregister(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *zkServer, chroot string) {
		d := &cutter{}
		// tickTime=500 lets the server grant a 1s session.
		c, err := Connect(s.addr+chroot, time.Second, quiet(), WithDialer(d.dial))
		must(t, err)
		defer c.Close()
		first := nextSession(t, c, SessionConnected)
		observer := connect(t, s, chroot)
		must(t, c.CreateTopLevelPaths())
		bi := BrokerInfo{ID: 5, Version: 5, JMXPort: -1, Endpoints: []EndPoint{{"PLAINTEXT", "127.0.0.1", 9092, "PLAINTEXT"}}}
		epoch1, err := c.RegisterBroker(bi)
		must(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w, err := observer.WatchData(ctx, BrokerIDPath(5))
		must(t, err)
		if ev := <-w; !ev.Exists {
			t.Fatalf("broker not registered: %+v", ev)
		}
		// Watch held by the client that will expire: it must come back as a resync.
		cw, err := c.WatchChildren(ctx, BrokerIDsPath)
		must(t, err)
		<-cw

		d.cut()
		nextSession(t, c, SessionDisconnected)
		// The server expires the session: its ephemeral goes.
		if ev := <-w; ev.Type != WatchDeleted {
			t.Fatalf("want deletion, got %+v", ev)
		}
		d.restore()
		nextSession(t, c, SessionExpired)
		ns := nextSession(t, c, SessionNewSession)
		if ns.SessionID == first.SessionID || ns.SessionID != c.SessionID() {
			t.Errorf("new session 0x%x (old 0x%x)", ns.SessionID, first.SessionID)
		}
		if ev := <-cw; ev.Type != WatchResync || len(ev.Children) != 0 {
			t.Errorf("children watch after expiry: %+v", ev)
		}
		epoch2, err := c.RegisterBroker(bi)
		must(t, err)
		if epoch2 <= epoch1 {
			t.Errorf("broker epoch did not advance: %d -> %d", epoch1, epoch2)
		}
		if ev := <-w; ev.Type != WatchCreated {
			t.Errorf("want re-creation, got %+v", ev)
		}
		if ev := <-cw; ev.Type != WatchChildrenChanged || !reflect.DeepEqual(ev.Children, []string{"5"}) {
			t.Errorf("children after re-register: %+v", ev)
		}
		got, ok, err := observer.GetBroker(5)
		must(t, err)
		if !ok || got.Epoch != epoch2 {
			t.Errorf("broker after re-register %+v", got)
		}
	})
}

func (s *zkServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	lines := strings.Split(string(b), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
