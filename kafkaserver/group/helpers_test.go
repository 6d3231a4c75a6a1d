package group

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// memLog is an in-memory __consumer_offsets: it assigns offsets to appended batches like a leader.
type memLog struct {
	parts map[int32][][]byte
	next  map[int32]int64
	fail  error
}

func newMemLog() *memLog { return &memLog{parts: map[int32][][]byte{}, next: map[int32]int64{}} }

func (l *memLog) Append(p int32, records []byte) (int64, error) {
	if l.fail != nil {
		return 0, l.fail
	}
	b := append([]byte(nil), records...)
	base := l.next[p]
	for i := 0; i < 8; i++ {
		b[i] = byte(base >> (56 - 8*i))
	}
	n := int64(b[57])<<24 | int64(b[58])<<16 | int64(b[59])<<8 | int64(b[60])
	l.next[p] = base + n
	l.parts[p] = append(l.parts[p], b)
	return base, nil
}

func (l *memLog) ReadAll(p int32, fn func([]byte) error) error {
	for _, b := range l.parts[p] {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

type fakeZK map[string]int64

func (z fakeZK) GetConsumerOffset(g string, tp zkmeta.TopicPartition) (int64, bool, error) {
	v, ok := z[zkmeta.ConsumerOffsetPath(g, tp.Topic, tp.Partition)]
	return v, ok, nil
}

func (z fakeZK) SetOrCreateConsumerOffset(g string, tp zkmeta.TopicPartition, off int64) error {
	z[zkmeta.ConsumerOffsetPath(g, tp.Topic, tp.Partition)] = off
	return nil
}

type env struct {
	t   *testing.T
	c   *Coordinator
	log *memLog
	zk  fakeZK
	now int64
}

func newEnv(t *testing.T, log *memLog) *env {
	t.Helper()
	if log == nil {
		log = newMemLog()
	}
	n := 0
	cfg := DefaultConfig()
	cfg.NumPartitions = 1
	e := &env{t: t, log: log, zk: fakeZK{}, now: 1_000_000}
	e.c = New(cfg, log, e.zk, func() string { n++; return "id" + strconv.Itoa(n) },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.c.Tick(e.now)
	if err := e.c.BecomeCoordinator(0); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) advance(ms int64) {
	e.now += ms
	e.c.Tick(e.now)
}

// joinResult collects an async JoinGroup answer.
type joinResult struct{ r *kmsg.JoinGroupResponse }

func (e *env) join(ver int16, group, memberID string, instance *string, protos ...string) *joinResult {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = ver
	req.Group = group
	req.MemberID = memberID
	req.InstanceID = instance
	req.SessionTimeoutMillis = 10000
	req.RebalanceTimeoutMillis = 60000
	req.ProtocolType = "consumer"
	if len(protos) == 0 {
		protos = []string{"range"}
	}
	for _, p := range protos {
		md := kmsg.ConsumerMemberMetadata{Topics: []string{"t"}}
		req.Protocols = append(req.Protocols, kmsg.JoinGroupRequestProtocol{Name: p, Metadata: md.AppendTo(nil)})
	}
	res := &joinResult{}
	e.c.JoinGroup(req, "client", "/127.0.0.1", func(r *kmsg.JoinGroupResponse) {
		if res.r != nil {
			e.t.Fatalf("join answered twice")
		}
		res.r = r
	})
	return res
}

type syncResult struct{ r *kmsg.SyncGroupResponse }

func (e *env) sync(group, memberID string, gen int32, instance *string, assign map[string]string) *syncResult {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 3
	req.Group, req.MemberID, req.Generation, req.InstanceID = group, memberID, gen, instance
	for m, a := range assign {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: m, MemberAssignment: []byte(a)})
	}
	res := &syncResult{}
	e.c.SyncGroup(req, func(r *kmsg.SyncGroupResponse) { res.r = r })
	return res
}

func (e *env) heartbeat(group, memberID string, gen int32, instance *string) int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 3
	req.Group, req.MemberID, req.Generation, req.InstanceID = group, memberID, gen, instance
	return e.c.Heartbeat(req).ErrorCode
}

func (e *env) commit(ver int16, group, memberID string, gen int32, offsets map[string]int64) map[string]int16 {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = ver
	req.Group, req.MemberID, req.Generation = group, memberID, gen
	req.RetentionTimeMillis = -1
	for tp, o := range offsets {
		var topic string
		var p int32
		fmt.Sscanf(tp, "%s %d", &topic, &p)
		md := "md-" + tp
		req.Topics = append(req.Topics, kmsg.OffsetCommitRequestTopic{Topic: topic,
			Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: p, Offset: o, Timestamp: -1, LeaderEpoch: 7, Metadata: &md}}})
	}
	out := map[string]int16{}
	for _, t := range e.c.OffsetCommit(req).Topics {
		for _, p := range t.Partitions {
			out[fmt.Sprintf("%s %d", t.Topic, p.Partition)] = p.ErrorCode
		}
	}
	return out
}

// fetchAll returns "topic p" -> offset of an OffsetFetch v6 for all partitions.
func (e *env) fetchAll(group string) map[string]int64 {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 6
	req.Group = group
	out := map[string]int64{}
	for _, t := range e.c.OffsetFetch(req).Topics {
		for _, p := range t.Partitions {
			out[fmt.Sprintf("%s %d", t.Topic, p.Partition)] = p.Offset
		}
	}
	return out
}

func (e *env) describe(group string) kmsg.DescribeGroupsResponseGroup {
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version = 4
	req.Groups = []string{group}
	return e.c.DescribeGroups(req).Groups[0]
}

func str(s string) *string { return &s }
