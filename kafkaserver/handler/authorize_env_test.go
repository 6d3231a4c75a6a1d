package handler

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kafkaserver/group"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kafkaserver/txn"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/kwire"
	"github.com/zkafka/zkafka/zkserver/zktest"
)

// The authorization tests run the handlers over real parts: ZooKeeper in this process, a replica manager leading
// every test topic on broker 1, group and transaction coordinators over in-memory logs.

const testBroker = int32(1)

// Topics every environment has, each with one partition led here: alice gets ACLs on "t", never on "secret".
var envTopics = []string{"t", "secret", "victim", replica.GroupMetadataTopic}

// authEnv is the parts handlers are built from; each test builds handlers with its own authorizer.
type authEnv struct {
	cfg Config // without an authorizer
	ids map[string][16]byte
}

func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	zc := zktest.Start(t, dir, quiet).Addr().String()
	props, err := serverprops.FromMap(map[string]string{
		"broker.id": "1", "zookeeper.connect": zc, "log.dirs": filepath.Join(dir, "kafka"),
		"offsets.topic.num.partitions": "1", "transaction.state.log.num.partitions": "1",
		"offsets.topic.replication.factor": "1", "transaction.state.log.replication.factor": "1",
		"num.partitions": "1", "default.replication.factor": "1",
	}, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	zk, err := zkmeta.Connect(zc, 10*time.Second, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(zk.Close)
	if err := zk.CreateTopLevelPaths(); err != nil {
		t.Fatal(err)
	}
	logs, err := klog.OpenManager([]string{filepath.Join(dir, "kafka")}, testBroker, "cluster", klog.DefaultConfig(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logs.Close() })
	rm := replica.NewManager(replica.Config{BrokerID: testBroker, Logs: logs, Logger: quiet,
		TopicConfig:       func(string) (klog.Config, error) { return klog.DefaultConfig(), nil },
		MinInsyncReplicas: func(string) int32 { return 1 }})
	e := &authEnv{ids: map[string][16]byte{}}
	for i, name := range envTopics {
		id := [16]byte{byte(i + 1)}
		e.ids[name] = id
		if err := zk.CreateTopic(name, map[int32][]int32{0: {testBroker}}, map[string]string{}, id); err != nil {
			t.Fatal(err)
		}
	}
	if resp := rm.BecomeLeaderOrFollower(e.leaderAndIsr()); resp.ErrorCode != 0 {
		t.Fatalf("LeaderAndIsr: %+v", resp)
	}
	if resp := rm.UpdateMetadata(e.updateMetadata()); resp.ErrorCode != 0 {
		t.Fatalf("UpdateMetadata: %+v", resp)
	}
	gcfg := group.DefaultConfig()
	gcfg.NumPartitions, gcfg.InitialRebalanceDelayMs = 1, 0
	n := 0
	gc := group.New(gcfg, newMemLog(), zk, func() string { n++; return "member-" + strconv.Itoa(n) }, quiet)
	gc.Tick(time.Now().UnixMilli())
	if err := gc.BecomeCoordinator(0); err != nil {
		t.Fatal(err)
	}
	ids := group.NewProducerIDManager(testBroker, zk, quiet)
	if err := ids.Init(); err != nil {
		t.Fatal(err)
	}
	tcfg := txn.DefaultConfig()
	tcfg.NumPartitions = 1
	tc := txn.New(tcfg, newMemLog(), ids, nil, nil, quiet)
	e.cfg = Config{BrokerID: testBroker, ClusterID: "cluster", Props: props, ZK: zk, Replicas: rm, Group: gc,
		ProducerIDs: ids, Txn: tc, Logger: quiet, Seed: 1}
	return e
}

func (e *authEnv) leaderAndIsr() *kmsg.LeaderAndISRRequest {
	req := kmsg.NewPtrLeaderAndISRRequest()
	req.Version, req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 5, testBroker, 1, -1
	for _, name := range envTopics {
		ts := kmsg.NewLeaderAndISRRequestTopicState()
		ts.Topic, ts.TopicID = name, e.ids[name]
		ps := kmsg.NewLeaderAndISRRequestTopicPartition()
		ps.Topic, ps.Leader, ps.IsNew = name, testBroker, true
		ps.ISR, ps.Replicas = []int32{testBroker}, []int32{testBroker}
		ts.PartitionStates = append(ts.PartitionStates, ps)
		req.TopicStates = append(req.TopicStates, ts)
	}
	return req
}

// updateMetadata lists broker 1, the controller, on the listener "" (a test connection's) and the env's topics.
func (e *authEnv) updateMetadata() *kmsg.UpdateMetadataRequest {
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.Version, req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 7, testBroker, 1, -1
	b := kmsg.NewUpdateMetadataRequestLiveBroker()
	b.ID = testBroker
	ep := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
	ep.Host, ep.Port = "127.0.0.1", 9092
	b.Endpoints = append(b.Endpoints, ep)
	req.LiveBrokers = append(req.LiveBrokers, b)
	for _, name := range envTopics {
		ts := kmsg.NewUpdateMetadataRequestTopicState()
		ts.Topic, ts.TopicID = name, e.ids[name]
		ps := kmsg.NewUpdateMetadataRequestTopicPartition()
		ps.Topic, ps.ControllerEpoch, ps.Leader = name, 1, testBroker
		ps.ISR, ps.Replicas = []int32{testBroker}, []int32{testBroker}
		ts.PartitionStates = append(ts.PartitionStates, ps)
		req.TopicStates = append(req.TopicStates, ts)
	}
	return req
}

// Principals of the tests: admin is a super user.
const (
	alice = "User:alice"
	admin = "User:admin"
)

// handlers returns handlers whose authorizer holds bindings (and makes admin a super user); nil bindings with
// noAuthorizer give handlers without one.
func (e *authEnv) handlers(t *testing.T, bindings ...acl.Binding) *Handlers {
	t.Helper()
	a := acl.New(acl.Config{Store: acl.NewMemStore(), SuperUsers: []string{admin}, ExtendedACLs: true,
		Logger: slog.New(slog.DiscardHandler)})
	for i, err := range a.CreateACLs(bindings) {
		if err != nil {
			t.Fatalf("binding %d: %v", i, err)
		}
	}
	cfg := e.cfg
	cfg.Authorizer = a
	return New(cfg)
}

// unauthorized returns handlers without an authorizer, as a broker without authorizer.class.name.
func (e *authEnv) unauthorized() *Handlers { return New(e.cfg) }

// allow is an ALLOW binding for alice from any host on a literal resource.
func allow(rt acl.ResourceType, name string, op acl.Operation) acl.Binding {
	return acl.Binding{Pattern: acl.Literal(rt, name),
		Entry: acl.Entry{Principal: alice, Host: acl.Wildcard, Operation: op, Permission: kmsg.ACLPermissionTypeAllow}}
}

func allowCluster(op acl.Operation) acl.Binding {
	return allow(kmsg.ACLResourceTypeCluster, acl.ClusterName, op)
}

// rcAs is a request context on a connection authenticated as principal ("User:name").
func rcAs(principal string, req kmsg.Request) *kwire.RequestContext {
	c := &kwire.Conn{}
	typ, name, _ := strings.Cut(principal, ":")
	c.SetPrincipal(kwire.Principal{Type: typ, Name: name})
	return &kwire.RequestContext{Conn: c, Header: kwire.RequestHeader{APIKey: req.Key(), APIVersion: req.GetVersion()}}
}

// call runs a handler the way the mux does and fails the test on an error.
func call[R kmsg.Response](t *testing.T, h kwire.Handler, principal string, req kmsg.Request) R {
	t.Helper()
	resp, err := h(context.Background(), rcAs(principal, req), req)
	if err != nil {
		t.Fatalf("%T: %v", req, err)
	}
	out, ok := resp.(R)
	if !ok {
		t.Fatalf("%T: response %T", req, resp)
	}
	return out
}

// memLog is an in-memory coordinator log: it assigns offsets to appended batches as a leader does.
type memLog struct {
	mu    sync.Mutex
	parts map[int32][][]byte
	next  map[int32]int64
}

func newMemLog() *memLog { return &memLog{parts: map[int32][][]byte{}, next: map[int32]int64{}} }

func (l *memLog) Append(p int32, records []byte) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := append([]byte(nil), records...)
	base := l.next[p]
	binary.BigEndian.PutUint64(b, uint64(base))
	l.next[p] = base + int64(binary.BigEndian.Uint32(b[57:61]))
	l.parts[p] = append(l.parts[p], b)
	return base, nil
}

func (l *memLog) ReadAll(p int32, fn func([]byte) error) error {
	l.mu.Lock()
	batches := append([][]byte(nil), l.parts[p]...)
	l.mu.Unlock()
	for _, b := range batches {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

// recordBatch is one uncompressed v2 batch of a record; producer < 0 is a plain producer's, else an idempotent
// (or, with transactional, a transactional) producer's at epoch 0, sequence 0.
func recordBatch(producer int64, transactional bool) []byte {
	r := kmsg.Record{Value: []byte("v")}
	r.Length = int32(len(r.AppendTo(nil)) - 1)
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{Magic: 2, FirstTimestamp: now, MaxTimestamp: now, ProducerID: -1, ProducerEpoch: -1,
		FirstSequence: -1, NumRecords: 1, Records: r.AppendTo(nil)}
	if producer >= 0 {
		b.ProducerID, b.ProducerEpoch, b.FirstSequence = producer, 0, 0
	}
	if transactional {
		b.Attributes |= 0x10
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:12], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:21], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}
