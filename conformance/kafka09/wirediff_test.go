package kafka09

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/conformance/harness"
)

// wireTarget is one broker the differential test talks to, with what it learned from earlier answers.
type wireTarget struct {
	name       string
	chroot     string
	port       int
	log        string
	conn       *wireConn
	member     string // the member id JoinGroup gave wd-g's consumer
	generation int32
}

// wireStep is one request sent to every broker in turn; their answers are normalized and compared with Apache's.
type wireStep struct {
	name string
	// zk, when set, is a ZooKeeper write done under each broker's chroot instead of a request.
	zk func(conn *zk.Conn, chroot string) error
	// req builds the request and its version for one broker.
	req func(t *wireTarget) (kmsg.Request, int16)
	// noResponse: acks=0 produce; the broker answers nothing.
	noResponse bool
	// wait is how long an answer may take (20 s when zero).
	wait time.Duration
	// until, when set, repeats the request (for up to 30 s) until the answer satisfies it: for state a broker
	// reaches in its own time, such as a leader for an auto-created topic.
	until func(r kmsg.Response) bool
	// view turns an answer into what is compared; nil compares the whole answer.
	view func(t *wireTarget, r kmsg.Response) any
	// after records what later steps need (member ids, generations).
	after func(t *wireTarget, r kmsg.Response)
	// exchange, when set, replaces req: a conversation of its own (several connections) whose summary is compared.
	exchange func(t *wireTarget) (any, error)
	// parallel runs the step on every broker at once (for exchanges that mostly wait, such as a session expiring).
	parallel bool
	// znode, when set, replaces req: what the broker wrote at this path under its chroot (data and children).
	znode string
	// only, when set, names the one broker besides Apache's the step runs on.
	only string
}

func str(s string) *string { return &s }

func metadataReq(topics ...string) func(*wireTarget) (kmsg.Request, int16) {
	return func(*wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrMetadataRequest()
		r.Topics = []kmsg.MetadataRequestTopic{}
		for _, tp := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = str(tp)
			r.Topics = append(r.Topics, rt)
		}
		return r, 0
	}
}

// metadataView sorts what Kafka 0.9 keeps in hash maps and drops the port (each broker has its own).
func metadataView(_ *wireTarget, r kmsg.Response) any {
	m := r.(*kmsg.MetadataResponse)
	for i := range m.Brokers {
		m.Brokers[i].Port = 0
	}
	sort.Slice(m.Topics, func(i, j int) bool { return *m.Topics[i].Topic < *m.Topics[j].Topic })
	for _, tp := range m.Topics {
		sort.Slice(tp.Partitions, func(i, j int) bool { return tp.Partitions[i].Partition < tp.Partitions[j].Partition })
	}
	return m
}

// topicReady: every asked topic known, without error, and every partition has a leader.
func topicReady(r kmsg.Response) bool {
	m := r.(*kmsg.MetadataResponse)
	for _, tp := range m.Topics {
		if tp.ErrorCode != 0 || len(tp.Partitions) == 0 {
			return false
		}
		for _, p := range tp.Partitions {
			if p.ErrorCode != 0 || p.Leader < 0 {
				return false
			}
		}
	}
	return len(m.Topics) > 0
}

// produceReq sends records to each of partitions (a partition may repeat) of one topic in one request.
func produceReq(v int16, acks int16, topic string, records []byte, partitions ...int32) func(*wireTarget) (kmsg.Request, int16) {
	return func(*wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrProduceRequest()
		r.Acks = acks
		r.TimeoutMillis = 10000
		tp := kmsg.NewProduceRequestTopic()
		tp.Topic = topic
		for _, part := range partitions {
			p := kmsg.NewProduceRequestTopicPartition()
			p.Partition = part
			p.Records = records
			tp.Partitions = append(tp.Partitions, p)
		}
		r.Topics = append(r.Topics, tp)
		return r, v
	}
}

// fetchManyReq fetches from offset 0 of several topic partitions ("topic/partition") in one request.
func fetchManyReq(maxBytes int32, tps ...string) func(*wireTarget) (kmsg.Request, int16) {
	return func(*wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrFetchRequest()
		r.MaxWaitMillis = 100
		r.MinBytes = 1
		for _, s := range tps {
			topic, part, _ := strings.Cut(s, "/")
			n, _ := strconv.Atoi(part)
			tp := kmsg.NewFetchRequestTopic()
			tp.Topic = topic
			p := kmsg.NewFetchRequestTopicPartition()
			p.Partition = int32(n)
			p.PartitionMaxBytes = maxBytes
			tp.Partitions = append(tp.Partitions, p)
			r.Topics = append(r.Topics, tp)
		}
		return r, 1
	}
}

func fetchReq(v int16, topic string, partition int32, offset int64, maxBytes int32) func(*wireTarget) (kmsg.Request, int16) {
	return func(*wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrFetchRequest()
		r.MaxWaitMillis = 100
		r.MinBytes = 1
		tp := kmsg.NewFetchRequestTopic()
		tp.Topic = topic
		p := kmsg.NewFetchRequestTopicPartition()
		p.Partition = partition
		p.FetchOffset = offset
		p.PartitionMaxBytes = maxBytes
		tp.Partitions = append(tp.Partitions, p)
		r.Topics = append(r.Topics, tp)
		return r, v
	}
}

// fetchView is a Fetch v0/v1 answer with each partition's records decoded into messages, and the bytes of a
// partial message after them: Kafka (0.9 and 2.8) sends its segment's bytes up to the size limit.
func fetchView(_ *wireTarget, r kmsg.Response) any {
	f := r.(*kmsg.FetchResponse)
	type part struct {
		Topic         string
		Partition     int32
		ErrorCode     int16
		HighWatermark int64
		Records       recordsView
	}
	var out []part
	for _, tp := range f.Topics {
		for _, p := range tp.Partitions {
			rv := viewRecords(p.RecordBatches)
			out = append(out, part{tp.Topic, p.Partition, p.ErrorCode, p.HighWatermark, rv})
		}
	}
	sortPartitions(out, func(p part) (string, int32) { return p.Topic, p.Partition })
	return map[string]any{"ThrottleMillis": f.ThrottleMillis, "Partitions": out}
}

// produceView lists a Produce answer's partitions in topic and partition order.
func produceView(_ *wireTarget, r kmsg.Response) any {
	p := r.(*kmsg.ProduceResponse)
	type part struct {
		Topic      string
		Partition  int32
		ErrorCode  int16
		BaseOffset int64
	}
	var out []part
	for _, t := range p.Topics {
		for _, pp := range t.Partitions {
			out = append(out, part{t.Topic, pp.Partition, pp.ErrorCode, pp.BaseOffset})
		}
	}
	sortPartitions(out, func(p part) (string, int32) { return p.Topic, p.Partition })
	return map[string]any{"ThrottleMillis": p.ThrottleMillis, "Partitions": out}
}

// sortPartitions orders answers by topic and partition: Kafka 0.9 answers in its hash maps' order.
func sortPartitions[T any](s []T, key func(T) (string, int32)) {
	sort.SliceStable(s, func(i, j int) bool {
		ti, pi := key(s[i])
		tj, pj := key(s[j])
		return ti < tj || ti == tj && pi < pj
	})
}

func listOffsetsReq(topic string, partition int32, ts int64, max int32) func(*wireTarget) (kmsg.Request, int16) {
	return func(*wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrListOffsetsRequest()
		tp := kmsg.NewListOffsetsRequestTopic()
		tp.Topic = topic
		p := kmsg.NewListOffsetsRequestTopicPartition()
		p.Partition = partition
		p.Timestamp = ts
		p.MaxNumOffsets = max
		tp.Partitions = append(tp.Partitions, p)
		r.Topics = append(r.Topics, tp)
		return r, 0
	}
}

func coordinatorReq(group string) func(*wireTarget) (kmsg.Request, int16) {
	return func(*wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrFindCoordinatorRequest()
		r.CoordinatorKey = group
		return r, 0
	}
}

func coordinatorView(_ *wireTarget, r kmsg.Response) any {
	c := r.(*kmsg.FindCoordinatorResponse)
	c.Port = 0
	return c
}

// consumerProtocol is a 0.9 consumer's subscription to wd-t (ConsumerProtocol v0).
var consumerProtocol = func() []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = []string{"wd-t"}
	return m.AppendTo(nil)
}()

func joinReq(group string, sessionMs int32, member func(*wireTarget) string, protoType string) func(*wireTarget) (kmsg.Request, int16) {
	return func(t *wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrJoinGroupRequest()
		r.Group = group
		r.SessionTimeoutMillis = sessionMs
		r.MemberID = member(t)
		r.ProtocolType = protoType
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name = "range"
		p.Metadata = consumerProtocol
		r.Protocols = append(r.Protocols, p)
		return r, 0
	}
}

func newMember(*wireTarget) string   { return "" }
func ownMember(t *wireTarget) string { return t.member }
func fixedMember(id string) func(*wireTarget) string {
	return func(*wireTarget) string { return id }
}

// memberID matches the ids both brokers give (client id, a dash, a UUID).
var memberID = regexp.MustCompile(`wirediff-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func syncReq(generation func(*wireTarget) int32) func(*wireTarget) (kmsg.Request, int16) {
	return func(t *wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrSyncGroupRequest()
		r.Group = "wd-g"
		r.Generation = generation(t)
		r.MemberID = t.member
		a := kmsg.NewSyncGroupRequestGroupAssignment()
		a.MemberID = t.member
		ma := kmsg.NewConsumerMemberAssignment()
		ta := kmsg.NewConsumerMemberAssignmentTopic()
		ta.Topic = "wd-t"
		ta.Partitions = []int32{0, 1, 2}
		ma.Topics = append(ma.Topics, ta)
		a.MemberAssignment = ma.AppendTo(nil)
		r.GroupAssignment = append(r.GroupAssignment, a)
		return r, 0
	}
}

func ownGeneration(t *wireTarget) int32 { return t.generation }

func heartbeatReq(group string, generation func(*wireTarget) int32, member func(*wireTarget) string) func(*wireTarget) (kmsg.Request, int16) {
	return func(t *wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrHeartbeatRequest()
		r.Group = group
		r.Generation = generation(t)
		r.MemberID = member(t)
		return r, 0
	}
}

type commit struct {
	topic     string
	partition int32
	offset    int64
}

func commitReq(v int16, group string, commits ...commit) func(*wireTarget) (kmsg.Request, int16) {
	return func(t *wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrOffsetCommitRequest()
		r.Group = group
		if v > 0 && group == "wd-g" {
			r.Generation = t.generation
			r.MemberID = t.member
		}
		for _, c := range commits {
			tp := kmsg.NewOffsetCommitRequestTopic()
			tp.Topic = c.topic
			p := kmsg.NewOffsetCommitRequestTopicPartition()
			p.Partition = c.partition
			p.Offset = c.offset
			p.Metadata = str("m" + strconv.FormatInt(c.offset, 10))
			tp.Partitions = append(tp.Partitions, p)
			r.Topics = append(r.Topics, tp)
		}
		return r, v
	}
}

// commitAsReq commits for wd-g with the given generation and member, and metadata of mdLen bytes.
func commitAsReq(generation func(*wireTarget) int32, member func(*wireTarget) string, mdLen int) func(*wireTarget) (kmsg.Request, int16) {
	return func(t *wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrOffsetCommitRequest()
		r.Group, r.Generation, r.MemberID = "wd-g", generation(t), member(t)
		tp := kmsg.NewOffsetCommitRequestTopic()
		tp.Topic = "wd-t"
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset, p.Metadata = 2, 1, str(strings.Repeat("m", mdLen))
		tp.Partitions = append(tp.Partitions, p)
		r.Topics = append(r.Topics, tp)
		return r, 2
	}
}

func offsetFetchReq(v int16, group string, parts ...commit) func(*wireTarget) (kmsg.Request, int16) {
	return func(*wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrOffsetFetchRequest()
		r.Group = group
		for _, c := range parts {
			tp := kmsg.NewOffsetFetchRequestTopic()
			tp.Topic = c.topic
			tp.Partitions = []int32{c.partition}
			r.Topics = append(r.Topics, tp)
		}
		return r, v
	}
}

func describeGroupsReq(groups ...string) func(*wireTarget) (kmsg.Request, int16) {
	return func(*wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrDescribeGroupsRequest()
		r.Groups = groups
		return r, 0
	}
}

// unknownKey is a request for an API key neither broker has.
type unknownKey struct{ kmsg.ApiVersionsRequest }

func (*unknownKey) Key() int16 { return 77 }

func createTopicZK(topic string, partitions int) func(*zk.Conn, string) error {
	return createTopicOnZK(topic, partitions, 0)
}

// createTopicOnZK writes a topic's assignment as kafka-topics.sh does, every partition on one broker.
func createTopicOnZK(topic string, partitions, broker int) func(*zk.Conn, string) error {
	return func(conn *zk.Conn, chroot string) error {
		parts := map[string][]int{}
		for p := range partitions {
			parts[strconv.Itoa(p)] = []int{broker}
		}
		b, _ := json.Marshal(map[string]any{"version": 1, "partitions": parts})
		_, err := conn.Create(chroot+"/brokers/topics/"+topic, b, 0, zk.WorldACL(zk.PermAll))
		return err
	}
}

// deleteTopicZK asks for a topic's deletion as kafka-topics.sh --delete does.
func deleteTopicZK(topic string) func(*zk.Conn, string) error {
	return func(conn *zk.Conn, chroot string) error {
		for _, p := range []string{"/admin", "/admin/delete_topics"} {
			if _, err := conn.Create(chroot+p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
				return err
			}
		}
		_, err := conn.Create(chroot+"/admin/delete_topics/"+topic, nil, 0, zk.WorldACL(zk.PermAll))
		return err
	}
}

func setTopicConfigZK(topic string, config map[string]string) func(*zk.Conn, string) error {
	return func(conn *zk.Conn, chroot string) error {
		b, _ := json.Marshal(map[string]any{"version": 1, "config": config})
		for _, p := range []string{"/config", "/config/topics"} {
			if _, err := conn.Create(chroot+p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
				return err
			}
		}
		_, err := conn.Create(chroot+"/config/topics/"+topic, b, 0, zk.WorldACL(zk.PermAll))
		return err
	}
}

func msg(key, value string) legacyMsg {
	m := legacyMsg{value: []byte(value)}
	if key != "" {
		m.key = []byte(key)
	}
	return m
}

// joinOn sends a consumer's JoinGroup v0 (the range protocol, subscribed to wd-t) for member ("" for a new one) on c.
func joinOn(c *wireConn, group, member string, sessionMs int32) (*kmsg.JoinGroupResponse, error) {
	r, _ := joinReq(group, sessionMs, fixedMember(member), "consumer")(nil)
	resp, err := c.send(r, 0, false)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.JoinGroupResponse), nil
}

// secondMemberRebalance has a second consumer join a stable one-member group: the first member's heartbeats turn to
// REBALANCE_IN_PROGRESS, it rejoins, and both get the next generation (the leader with both members' metadata).
func secondMemberRebalance(t *wireTarget) (any, error) {
	a := &wireConn{addr: t.conn.addr, clientID: "wirediff", wait: 20 * time.Second}
	b := &wireConn{addr: t.conn.addr, clientID: "wirediff", wait: 20 * time.Second}
	defer a.close()
	defer b.close()
	join := func(c *wireConn, member string) (*kmsg.JoinGroupResponse, error) {
		return joinOn(c, "wd-r", member, 10000)
	}
	first, err := join(a, "")
	if err != nil {
		return nil, fmt.Errorf("first join: %w", err)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.Generation, sync.MemberID = "wd-r", first.Generation, first.MemberID
	if _, err := a.send(sync, 0, false); err != nil {
		return nil, fmt.Errorf("first sync: %w", err)
	}
	type joined struct {
		resp *kmsg.JoinGroupResponse
		err  error
	}
	second := make(chan joined, 1)
	go func() {
		r, err := join(b, "")
		second <- joined{r, err}
	}()
	// The first member learns of the rebalance from its heartbeat, once the second join has reached the broker (the
	// bound only ends a broken run: under load Kafka 0.9's JVM can take seconds to take the join).
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.Generation, hb.MemberID = "wd-r", first.Generation, first.MemberID
	var hbCode int16
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := a.send(hb, 0, false)
		if err != nil {
			return nil, fmt.Errorf("heartbeat: %w", err)
		}
		if hbCode = resp.(*kmsg.HeartbeatResponse).ErrorCode; hbCode != 0 {
			break
		}
	}
	rejoin, err := join(a, first.MemberID)
	if err != nil {
		return nil, fmt.Errorf("rejoin: %w", err)
	}
	j := <-second
	if j.err != nil {
		return nil, fmt.Errorf("second join: %w", j.err)
	}
	summary := func(r *kmsg.JoinGroupResponse) map[string]any {
		return map[string]any{"ErrorCode": r.ErrorCode, "Generation": r.Generation, "Protocol": r.Protocol,
			"LeaderIsFirst": r.LeaderID == first.MemberID, "IsLeader": r.LeaderID == r.MemberID, "Members": len(r.Members)}
	}
	return map[string]any{"FirstJoin": summary(first), "HeartbeatDuringRebalance": hbCode,
		"Rejoin": summary(rejoin), "SecondJoin": summary(j.resp)}, nil
}

// lateRecord has a Fetch wait (up to 25 s, for one byte) on an empty partition while another connection produces
// to it: the fetch must be answered with the record (a broker that does not wake it answers nothing in the 20 s
// the step waits).
func lateRecord(t *wireTarget) (any, error) {
	f := &wireConn{addr: t.conn.addr, clientID: "wirediff", wait: 20 * time.Second}
	p := &wireConn{addr: t.conn.addr, clientID: "wirediff", wait: 20 * time.Second}
	defer f.close()
	defer p.close()
	type answer struct {
		resp kmsg.Response
		err  error
	}
	fetched := make(chan answer, 1)
	go func() {
		r, v := fetchReq(1, "wd-l", 0, 0, 1<<20)(t)
		r.(*kmsg.FetchRequest).MaxWaitMillis = 25000
		resp, err := f.send(r, v, false)
		fetched <- answer{resp, err}
	}()
	time.Sleep(500 * time.Millisecond) // most likely parked by then; if not, the answer is the same
	r, v := produceReq(0, 1, "wd-l", appendMessageSet(nil, msg("late", "record")), 0)(t)
	presp, err := p.send(r, v, false)
	if err != nil {
		return nil, fmt.Errorf("produce: %w", err)
	}
	a := <-fetched
	if errors.Is(a.err, errNoAnswer) {
		return map[string]any{"Produce": produceView(t, presp), "Fetch": "no answer in time"}, nil
	}
	if a.err != nil {
		return nil, fmt.Errorf("fetch: %w", a.err)
	}
	return map[string]any{"Produce": produceView(t, presp), "Fetch": fetchView(t, a.resp)}, nil
}

// memberExpires has a member of a stable group stop heartbeating while a second member joins: the join waits for
// the rebalance, which ends when the first member's session (6 s, 0.9's minimum) expires; the second becomes the
// group's leader alone in the next generation, and the expired member's id is no longer known.
func memberExpires(t *wireTarget) (any, error) {
	a := &wireConn{addr: t.conn.addr, clientID: "wirediff", wait: 20 * time.Second}
	b := &wireConn{addr: t.conn.addr, clientID: "wirediff", wait: 20 * time.Second}
	defer a.close()
	defer b.close()
	join := func(c *wireConn, member string, sessionMs int32) (*kmsg.JoinGroupResponse, error) {
		return joinOn(c, "wd-x", member, sessionMs)
	}
	syncGroup := func(c *wireConn, j *kmsg.JoinGroupResponse) (int16, error) {
		s := kmsg.NewPtrSyncGroupRequest()
		s.Group, s.Generation, s.MemberID = "wd-x", j.Generation, j.MemberID
		resp, err := c.send(s, 0, false)
		if err != nil {
			return 0, err
		}
		return resp.(*kmsg.SyncGroupResponse).ErrorCode, nil
	}
	first, err := join(a, "", 6000)
	if err != nil {
		return nil, fmt.Errorf("first join: %w", err)
	}
	if _, err := syncGroup(a, first); err != nil {
		return nil, fmt.Errorf("first sync: %w", err)
	}
	second, err := join(b, "", 10000) // answered once the first member's session has expired
	if err != nil {
		return nil, fmt.Errorf("second join: %w", err)
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.Generation, hb.MemberID = "wd-x", first.Generation, first.MemberID
	hresp, err := a.send(hb, 0, false)
	if err != nil {
		return nil, fmt.Errorf("expired member's heartbeat: %w", err)
	}
	syncCode, err := syncGroup(b, second)
	if err != nil {
		return nil, fmt.Errorf("second sync: %w", err)
	}
	rejoin, err := join(a, first.MemberID, 6000)
	if err != nil {
		return nil, fmt.Errorf("expired member's rejoin: %w", err)
	}
	return map[string]any{
		"FirstGeneration": first.Generation,
		"Second": map[string]any{"ErrorCode": second.ErrorCode, "Generation": second.Generation,
			"IsLeader": second.LeaderID == second.MemberID, "Members": len(second.Members)},
		"ExpiredHeartbeat": hresp.(*kmsg.HeartbeatResponse).ErrorCode, "SecondSync": syncCode,
		"ExpiredRejoin": rejoin.ErrorCode,
	}, nil
}

// wireSteps is the conversation: the 0.9 APIs at 0.9's versions, as its clients and tools use them, and the error
// cases those clients meet. Each step runs on every broker before the next starts.
func wireSteps() []wireStep {
	badCRC := appendMessageSet(nil, msg("k", "bad crc"))
	badCRC[16] ^= 0xff
	// Larger than message.max.bytes by either default (0.9: 1000012, 2.8: 1048588).
	big := make([]byte, 1100000)
	now := time.Now().UnixMilli()
	return []wireStep{
		// A 0.9 broker registers before its own metadata cache lists it.
		{name: "metadata/all-topics-none", req: metadataReq(), view: metadataView, until: func(r kmsg.Response) bool {
			return len(r.(*kmsg.MetadataResponse).Brokers) > 0
		}},
		{name: "metadata/auto-create", req: metadataReq("wd-auto"), view: metadataView},
		{name: "metadata/auto-created", req: metadataReq("wd-auto"), until: topicReady, view: metadataView},
		{name: "metadata/invalid-name", req: metadataReq("wd bad!"), view: metadataView},
		{name: "metadata/name-too-long", req: metadataReq(strings.Repeat("x", 256)), view: metadataView},
		{name: "metadata/internal-name", req: metadataReq("__consumer_offsets"), view: metadataView},
		{name: "metadata/empty-name", req: metadataReq(""), view: metadataView},
		{name: "zk/create-wd-t", zk: createTopicZK("wd-t", 3)},
		// A topic whose only replica is a broker that is not there: asked about much later, when the controller
		// has long given up on electing a leader.
		{name: "zk/create-wd-away", zk: createTopicOnZK("wd-away", 2, 5)},
		{name: "metadata/zk-created", req: metadataReq("wd-t"), until: topicReady, view: metadataView},

		{name: "produce/v0-acks1", req: produceReq(0, 1, "wd-t", appendMessageSet(nil, msg("a", "one"), msg("", "two"), msg("c", "three")), 0)},
		{name: "produce/v0-gzip", req: produceReq(0, 1, "wd-t", appendMessageSet(nil, gzipWrapper(msg("a", "g1"), msg("b", "g2"), msg("", "g3"))), 1)},
		{name: "produce/v1-acks-all", req: produceReq(1, -1, "wd-t", appendMessageSet(nil, msg("d", "four"), msg("e", "five")), 0)},
		{name: "produce/v0-acks0", req: produceReq(0, 0, "wd-t", appendMessageSet(nil, msg("z", "unacked")), 2), noResponse: true},
		{name: "produce/null-value", req: produceReq(0, 1, "wd-t", appendMessageSet(nil, legacyMsg{key: []byte("tomb")}), 2)},
		{name: "produce/bad-crc", req: produceReq(0, 1, "wd-t", badCRC, 0)},
		{name: "produce/unknown-topic", req: produceReq(0, 1, "wd-none", appendMessageSet(nil, msg("", "x")), 0)},
		{name: "produce/unknown-partition", req: produceReq(0, 1, "wd-t", appendMessageSet(nil, msg("", "x")), 7)},
		{name: "produce/acks-2", req: produceReq(0, 2, "wd-t", appendMessageSet(nil, msg("", "x")), 0)},
		{name: "produce/too-large", req: produceReq(0, 1, "wd-t", appendMessageSet(nil, legacyMsg{value: big}), 0)},
		{name: "produce/empty-set", req: produceReq(0, 1, "wd-t", []byte{}, 0)},
		{name: "produce/trailing-partial", req: produceReq(0, 1, "wd-t", func() []byte {
			set := appendMessageSet(nil, msg("p", "whole"))
			return append(set, set[:20]...)
		}(), 2)},
		{name: "produce/magic1", req: produceReq(1, 1, "wd-t", appendMessageSet(nil, legacyMsg{magic: 1, ts: now, value: []byte("m1")}), 2)},
		{name: "produce/many-partitions", req: produceReq(0, 1, "wd-t", appendMessageSet(nil, msg("m", "many")), 1, 2, 1, 9), view: produceView},
		{name: "produce/bad-gzip", req: produceReq(0, 1, "wd-t", appendMessageSet(nil, legacyMsg{codec: 1, value: []byte("not gzip")}), 1)},
		{name: "produce/codec-7", req: produceReq(0, 1, "wd-t", appendMessageSet(nil, legacyMsg{codec: 7, value: []byte("x")}), 1)},
		{name: "produce/acks-all-timeout-0", req: func(t *wireTarget) (kmsg.Request, int16) {
			r, v := produceReq(0, -1, "wd-t", appendMessageSet(nil, msg("t0", "x")), 2)(t)
			r.(*kmsg.ProduceRequest).TimeoutMillis = 0
			return r, v
		}},
		{name: "zk/compacted-config", zk: setTopicConfigZK("wd-c", map[string]string{"cleanup.policy": "compact"})},
		{name: "zk/create-wd-c", zk: createTopicZK("wd-c", 1)},
		{name: "metadata/compacted-ready", req: metadataReq("wd-c"), until: topicReady, view: metadataView},
		{name: "produce/compacted-keyed", req: produceReq(0, 1, "wd-c", appendMessageSet(nil, msg("k1", "v1"), msg("k1", "v2")), 0)},
		{name: "produce/compacted-keyless", req: produceReq(0, 1, "wd-c", appendMessageSet(nil, msg("", "nokey")), 0)},
		// min.insync.replicas above the replication factor: acks=all is refused before the append, acks=1 is not.
		{name: "zk/min-isr-config", zk: setTopicConfigZK("wd-m", map[string]string{"min.insync.replicas": "2"})},
		{name: "zk/create-wd-m", zk: createTopicZK("wd-m", 1)},
		{name: "metadata/min-isr-ready", req: metadataReq("wd-m"), until: topicReady, view: metadataView},
		{name: "produce/min-isr-acks-all", req: produceReq(0, -1, "wd-m", appendMessageSet(nil, msg("", "refused")), 0)},
		{name: "produce/min-isr-acks1", req: produceReq(0, 1, "wd-m", appendMessageSet(nil, msg("", "taken")), 0)},
		{name: "fetch/min-isr", req: fetchReq(1, "wd-m", 0, 0, 1<<20), view: fetchView},
		// Deleted through ZooKeeper (the controller removes it and its data), then auto-created afresh by Metadata.
		{name: "zk/create-wd-d", zk: createTopicZK("wd-d", 1)},
		{name: "metadata/wd-d-ready", req: metadataReq("wd-d"), until: topicReady, view: metadataView},
		{name: "produce/before-delete", req: produceReq(0, 1, "wd-d", appendMessageSet(nil, msg("", "old")), 0)},
		{name: "zk/delete-wd-d", zk: deleteTopicZK("wd-d")},
		{name: "produce/deleted", req: produceReq(0, 1, "wd-d", appendMessageSet(nil, msg("", "gone")), 0),
			until: func(r kmsg.Response) bool { return r.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode != 0 }},
		{name: "fetch/deleted", req: fetchReq(1, "wd-d", 0, 0, 1<<20), view: fetchView},
		{name: "list-offsets/deleted", req: listOffsetsReq("wd-d", 0, -1, 1)},
		{name: "metadata/recreate-deleted", req: metadataReq("wd-d"), view: metadataView},
		{name: "metadata/recreated", req: metadataReq("wd-d"), until: topicReady, view: metadataView},
		{name: "fetch/recreated-empty", req: fetchReq(1, "wd-d", 0, 0, 1<<20), view: fetchView},
		{name: "list-offsets/recreated", req: listOffsetsReq("wd-d", 0, -2, 1)},
		{name: "metadata/duplicate-topic", req: metadataReq("wd-t", "wd-t"), view: metadataView},
		{name: "metadata/produce-no-create", req: metadataReq("wd-t", "wd-none"), view: metadataView},

		{name: "fetch/v0-all", req: fetchReq(0, "wd-t", 0, 0, 1<<20), view: fetchView},
		{name: "fetch/v1-gzip", req: fetchReq(1, "wd-t", 1, 0, 1<<20), view: fetchView},
		{name: "fetch/v1-inside-wrapper", req: fetchReq(1, "wd-t", 1, 1, 1<<20), view: fetchView},
		{name: "fetch/v0-acks0-and-null", req: fetchReq(0, "wd-t", 2, 0, 1<<20), view: fetchView},
		{name: "fetch/v0-from-middle", req: fetchReq(0, "wd-t", 0, 2, 1<<20), view: fetchView},
		{name: "fetch/v0-partial", req: fetchReq(0, "wd-t", 0, 0, 20), view: fetchView},
		{name: "fetch/v0-whole-then-partial", req: fetchReq(0, "wd-t", 0, 0, 60), view: fetchView},
		{name: "fetch/v1-whole-then-partial", req: fetchReq(1, "wd-t", 0, 1, 45), view: fetchView},
		{name: "fetch/v1-at-end", req: fetchReq(1, "wd-t", 0, 5, 1<<20), view: fetchView},
		{name: "fetch/v1-out-of-range", req: fetchReq(1, "wd-t", 0, 100, 1<<20), view: fetchView},
		{name: "fetch/v1-negative-offset", req: fetchReq(1, "wd-t", 0, -1, 1<<20), view: fetchView},
		{name: "fetch/v1-unknown-topic", req: fetchReq(1, "wd-none", 0, 0, 1<<20), view: fetchView},
		{name: "fetch/v1-many", req: fetchManyReq(1<<20, "wd-t/1", "wd-t/2", "wd-c/0", "wd-none/0", "wd-t/1"), view: fetchView},
		{name: "fetch/v0-max-bytes-0", req: fetchReq(0, "wd-t", 0, 0, 0), view: fetchView},
		// Fewer bytes than min bytes: answered when the wait ends, with what there is.
		{name: "fetch/min-bytes-not-reached", req: func(t *wireTarget) (kmsg.Request, int16) {
			r, v := fetchReq(1, "wd-t", 0, 0, 1<<20)(t)
			r.(*kmsg.FetchRequest).MinBytes, r.(*kmsg.FetchRequest).MaxWaitMillis = 1<<20, 300
			return r, v
		}, view: fetchView},
		{name: "zk/create-wd-l", zk: createTopicZK("wd-l", 1)},
		{name: "metadata/wd-l-ready", req: metadataReq("wd-l"), until: topicReady, view: metadataView},
		{name: "fetch/woken-by-produce", exchange: lateRecord},
		{name: "fetch/v1-unknown-partition", req: fetchReq(1, "wd-t", 9, 0, 1<<20), view: fetchView},

		{name: "metadata/leader-away", req: metadataReq("wd-away"), view: metadataView},
		{name: "produce/leader-away", req: produceReq(0, 1, "wd-away", appendMessageSet(nil, msg("", "x")), 0)},
		{name: "fetch/leader-away", req: fetchReq(1, "wd-away", 1, 0, 1<<20), view: fetchView},
		{name: "list-offsets/leader-away", req: listOffsetsReq("wd-away", 0, -1, 1)},
		{name: "offset-commit/v0-leader-away", req: commitReq(0, "wd-zk", commit{"wd-away", 0, 1})},
		{name: "list-offsets/latest", req: listOffsetsReq("wd-t", 0, -1, 1)},
		{name: "list-offsets/earliest", req: listOffsetsReq("wd-t", 0, -2, 1)},
		{name: "list-offsets/latest-10", req: listOffsetsReq("wd-t", 0, -1, 10)},
		{name: "list-offsets/future", req: listOffsetsReq("wd-t", 0, now+3600_000, 10)},
		{name: "list-offsets/past", req: listOffsetsReq("wd-t", 0, now-3600_000, 10)},
		{name: "list-offsets/zero-max", req: listOffsetsReq("wd-t", 0, -1, 0)},
		{name: "list-offsets/unknown-partition", req: listOffsetsReq("wd-t", 5, -1, 1)},
		{name: "list-offsets/debug-replica", req: func(t *wireTarget) (kmsg.Request, int16) {
			r, v := listOffsetsReq("wd-t", 0, -1, 3)(t)
			r.(*kmsg.ListOffsetsRequest).ReplicaID = -2
			return r, v
		}},
		{name: "list-offsets/unknown-topic", req: listOffsetsReq("wd-none", 0, -1, 1)},

		{name: "coordinator/ready", req: coordinatorReq("wd-g"), until: func(r kmsg.Response) bool {
			return r.(*kmsg.FindCoordinatorResponse).ErrorCode == 0
		}, view: coordinatorView},
		{name: "coordinator/empty-group", req: coordinatorReq(""), view: coordinatorView},
		{name: "produce/internal-topic", req: produceReq(0, 1, "__consumer_offsets", appendMessageSet(nil, msg("k", "x")), 0)},
		{name: "list-offsets/internal-topic", req: listOffsetsReq("__consumer_offsets", 0, -2, 1)},
		{name: "heartbeat/empty-group", req: heartbeatReq("", ownGeneration, newMember)},
		{name: "offset-commit/v2-empty-group", req: commitReq(2, "", commit{"wd-t", 0, 1})},
		{name: "offset-fetch/v1-empty-group", req: offsetFetchReq(1, "", commit{"wd-t", 0, 0})},
		{name: "join/session-too-short", req: joinReq("wd-g", 5999, newMember, "consumer")},
		{name: "join/session-too-long", req: joinReq("wd-g2", 30001, newMember, "consumer")},
		{name: "join/no-protocol-type", req: joinReq("wd-g3", 10000, newMember, "")},
		{name: "join/unknown-member", req: joinReq("wd-g", 10000, fixedMember("wirediff-nobody"), "consumer")},
		{name: "join/new-member", req: joinReq("wd-g", 10000, newMember, "consumer"), after: func(t *wireTarget, r kmsg.Response) {
			j := r.(*kmsg.JoinGroupResponse)
			t.member, t.generation = j.MemberID, j.Generation
		}},
		{name: "join/other-protocol-type", req: joinReq("wd-g", 10000, newMember, "connect")},
		{name: "heartbeat/awaiting-sync", req: heartbeatReq("wd-g", ownGeneration, ownMember)},
		{name: "offset-commit/awaiting-sync", req: commitAsReq(ownGeneration, ownMember, 1)},
		{name: "sync/wrong-generation", req: syncReq(func(t *wireTarget) int32 { return t.generation + 5 })},
		{name: "sync/leader", req: syncReq(ownGeneration)},
		{name: "heartbeat/ok", req: heartbeatReq("wd-g", ownGeneration, ownMember)},
		{name: "heartbeat/wrong-generation", req: heartbeatReq("wd-g", func(t *wireTarget) int32 { return t.generation + 1 }, ownMember)},
		{name: "heartbeat/unknown-member", req: heartbeatReq("wd-g", ownGeneration, fixedMember("wirediff-nobody"))},
		{name: "heartbeat/unknown-group", req: heartbeatReq("wd-nogroup", ownGeneration, ownMember)},
		{name: "join/inconsistent-protocol", req: func(t *wireTarget) (kmsg.Request, int16) {
			r, v := joinReq("wd-g", 10000, newMember, "consumer")(t)
			r.(*kmsg.JoinGroupRequest).Protocols[0].Name = "roundrobin"
			return r, v
		}},
		{name: "sync/unknown-member", req: func(t *wireTarget) (kmsg.Request, int16) {
			r, v := syncReq(ownGeneration)(t)
			r.(*kmsg.SyncGroupRequest).MemberID = "wirediff-nobody"
			return r, v
		}},
		{name: "sync/unknown-group", req: func(t *wireTarget) (kmsg.Request, int16) {
			r, v := syncReq(ownGeneration)(t)
			r.(*kmsg.SyncGroupRequest).Group = "wd-nogroup"
			return r, v
		}},
		{name: "sync/stable-again", req: syncReq(ownGeneration)},
		{name: "leave/unknown-group", req: func(t *wireTarget) (kmsg.Request, int16) {
			r := kmsg.NewPtrLeaveGroupRequest()
			r.Group, r.MemberID = "wd-nogroup", t.member
			return r, 0
		}},
		{name: "offset-commit/v2", req: commitReq(2, "wd-g", commit{"wd-t", 0, 3}, commit{"wd-t", 1, 2})},
		{name: "offset-commit/v2-unknown-topic", req: commitReq(2, "wd-g", commit{"wd-none", 0, 1})},
		{name: "offset-commit/v2-repeated", req: commitReq(2, "wd-g", commit{"wd-t", 1, 1}, commit{"wd-t", 1, 2})},
		{name: "offset-commit/v2-metadata-too-large", req: commitAsReq(ownGeneration, ownMember, 4097)},
		{name: "offset-commit/v2-wrong-generation", req: commitAsReq(func(t *wireTarget) int32 { return t.generation + 1 }, ownMember, 1)},
		{name: "offset-commit/v2-unknown-member", req: commitAsReq(ownGeneration, fixedMember("wirediff-nobody"), 1)},
		{name: "offset-fetch/v1", req: offsetFetchReq(1, "wd-g", commit{"wd-t", 0, 0}, commit{"wd-t", 1, 0}, commit{"wd-t", 2, 0})},
		{name: "offset-fetch/v1-unknown", req: offsetFetchReq(1, "wd-g", commit{"wd-none", 0, 0}, commit{"wd-t", 8, 0})},
		{name: "offset-commit/v0-zk", req: commitReq(0, "wd-zk", commit{"wd-t", 0, 4})},
		{name: "offset-fetch/v0-zk", req: offsetFetchReq(0, "wd-zk", commit{"wd-t", 0, 0}, commit{"wd-t", 1, 0})},
		{name: "offset-fetch/v0-other-storage", req: offsetFetchReq(0, "wd-g", commit{"wd-t", 0, 0})},
		{name: "offset-fetch/v1-other-storage", req: offsetFetchReq(1, "wd-zk", commit{"wd-t", 0, 0})},
		{name: "offset-commit/v1-simple", req: commitReq(1, "wd-simple", commit{"wd-t", 2, 1})},
		{name: "group/second-member-rebalance", exchange: secondMemberRebalance},
		{name: "group/member-expires", exchange: memberExpires, parallel: true},
		{name: "describe-groups", req: describeGroupsReq("wd-g", "wd-simple", "wd-nogroup")},
		{name: "list-groups", req: func(*wireTarget) (kmsg.Request, int16) { return kmsg.NewPtrListGroupsRequest(), 0 },
			view: func(_ *wireTarget, r kmsg.Response) any {
				l := r.(*kmsg.ListGroupsResponse)
				sort.Slice(l.Groups, func(i, j int) bool { return l.Groups[i].Group < l.Groups[j].Group })
				return l
			}},
		{name: "leave/unknown-member", req: func(*wireTarget) (kmsg.Request, int16) {
			r := kmsg.NewPtrLeaveGroupRequest()
			r.Group, r.MemberID = "wd-g", "wirediff-nobody"
			return r, 0
		}},
		{name: "leave/member", req: func(t *wireTarget) (kmsg.Request, int16) {
			r := kmsg.NewPtrLeaveGroupRequest()
			r.Group, r.MemberID = "wd-g", t.member
			return r, 0
		}},
		{name: "describe-groups/after-leave", req: describeGroupsReq("wd-g")},
		{name: "offset-fetch/v1-after-leave", req: offsetFetchReq(1, "wd-g", commit{"wd-t", 0, 0})},
		// What each broker wrote in ZooKeeper by now, at Kafka's paths.
		{name: "znode/controller", znode: "/controller"},
		{name: "znode/controller-epoch", znode: "/controller_epoch"},
		{name: "znode/broker", znode: "/brokers/ids/0"},
		{name: "znode/topics", znode: "/brokers/topics"},
		{name: "znode/auto-created-topic", znode: "/brokers/topics/wd-auto"},
		{name: "znode/auto-created-partitions", znode: "/brokers/topics/wd-auto/partitions"},
		{name: "znode/auto-created-state", znode: "/brokers/topics/wd-auto/partitions/1/state"},
		{name: "znode/auto-created-config", znode: "/config/topics/wd-auto"},
		{name: "znode/zk-created-state", znode: "/brokers/topics/wd-t/partitions/2/state"},
		{name: "znode/away-partitions", znode: "/brokers/topics/wd-away/partitions"},
		{name: "znode/recreated-topic", znode: "/brokers/topics/wd-d"},
		{name: "znode/recreated-state", znode: "/brokers/topics/wd-d/partitions/0/state"},
		{name: "znode/delete-requests", znode: "/admin/delete_topics"},
		{name: "znode/config-changes", znode: "/config/changes"},
		{name: "znode/offsets-topic", znode: "/brokers/topics/__consumer_offsets"},
		{name: "znode/offsets-topic-config", znode: "/config/topics/__consumer_offsets"},
		{name: "znode/zk-offsets", znode: "/consumers/wd-zk/offsets/wd-t"},
		{name: "znode/zk-offset", znode: "/consumers/wd-zk/offsets/wd-t/0"},
		{name: "znode/isr-changes", znode: "/isr_change_notification"},
		{name: "metadata/all-topics-end", req: metadataReq(), view: metadataView},
		// Last: 0.9 creates the topic (its limit is 255), which would show in every later topic list.
		{name: "metadata/name-of-250", req: metadataReq(strings.Repeat("y", 250)), view: metadataView},
		{name: "unknown-api-key", req: func(*wireTarget) (kmsg.Request, int16) { return &unknownKey{}, 0 }, wait: 3 * time.Second},
	}
}

// TestWireAgainstKafka09 sends the same requests to Apache Kafka 0.9.0.1 and to our broker (in Kafka 2.8's default
// message format and in the 0.9.0 format), all on one zkserver, and compares the answers. Where Kafka 2.8 answers
// differently from 0.9 by design, testdata/wire-differences.txt names the step and the reason: those differences
// are logged, any other fails.
func TestWireAgainstKafka09(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Apache Kafka 0.9.0.1's broker")
	}
	home := harness.Kafka09Home(t)
	known, err := harness.KnownMismatches(filepath.Join("testdata", "wire-differences.txt"))
	if err != nil {
		t.Fatal(err)
	}
	targets, zkConn, _ := startWireTargets(t, home)
	for _, st := range append(wireSteps(), randomWireSteps(t)...) {
		var apacheView string
		answers := make([]string, len(targets))
		errs := make([]error, len(targets))
		skip := func(i int, tg *wireTarget) bool { return i > 0 && st.only != "" && tg.name != st.only }
		if st.parallel {
			var wg sync.WaitGroup
			for i, tg := range targets {
				if !skip(i, tg) {
					wg.Go(func() { answers[i], errs[i] = runWireStep(zkConn, tg, st) })
				}
			}
			wg.Wait()
		}
		for i, tg := range targets {
			if skip(i, tg) {
				continue
			}
			if !st.parallel {
				answers[i], errs[i] = runWireStep(zkConn, tg, st)
			}
			got, err := answers[i], errs[i]
			if err != nil {
				t.Fatalf("%s on %s: %v\nbroker log:\n%s", st.name, tg.name, err, logProblems(tg.log))
			}
			if show := os.Getenv("WIREDIFF_SHOW"); show != "" && strings.Contains(st.name, show) {
				t.Logf("%s on %s: %s", st.name, tg.name, got)
			}
			if i == 0 {
				apacheView = got
				continue
			}
			key := st.name + "@" + tg.name
			same := got == apacheView
			switch {
			case same && known.Has(key):
				t.Errorf("%s: now answers as Apache: remove it from testdata/wire-differences.txt", key)
			case same:
			case known.Has(key):
				t.Logf("%s: known difference\n%s", key, jsonDiff(apacheView, got))
			default:
				t.Errorf("%s: answers differently (apache, then ours)\n%s", key, jsonDiff(apacheView, got))
				if os.Getenv("WIREDIFF_LOGS") != "" {
					t.Logf("apache's log:\n%s", logProblems(targets[0].log))
				}
			}
		}
	}
	for _, tg := range targets {
		if err := perIPLimit(tg); err != nil {
			t.Errorf("max.connections.per.ip.overrides on %s: %v", tg.name, err)
		}
	}
}

// limitedIP is the loopback address every wire target allows two connections from.
const limitedIP = "127.0.0.2"

// perIPLimit checks a broker's per-IP limit as Kafka's acceptor applies it: two connections from limitedIP are
// served, the third is closed before any answer, with Kafka's log line, and a freed slot is taken again.
func perIPLimit(tg *wireTarget) error {
	dial := func() (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(limitedIP)}, Timeout: 5 * time.Second}
		return d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tg.port))
	}
	// served sends Metadata v0 (0.9 has no ApiVersions) and reads the answer: nil when it came, errClosed when the
	// broker closed the connection instead.
	served := func(c net.Conn) error {
		req := kmsg.NewPtrMetadataRequest()
		frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("perip")).AppendRequest(nil, req, 1)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(frame); err != nil {
			return errClosed
		}
		var sz [4]byte
		if _, err := io.ReadFull(c, sz[:]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return errNoAnswer
			}
			return errClosed
		}
		_, err := io.ReadFull(c, make([]byte, binary.BigEndian.Uint32(sz[:])))
		return err
	}
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for i := range 3 {
		c, err := dial()
		if err != nil {
			return err
		}
		open = append(open, c)
		err = served(c)
		switch {
		case i < 2 && err != nil:
			return fmt.Errorf("connection %d: %w", i+1, err)
		case i == 2 && !errors.Is(err, errClosed):
			return fmt.Errorf("third connection: %v, want it closed", err)
		}
	}
	const line = "Rejected connection from /" + limitedIP + ", address already has the configured maximum of 2 connections."
	if err := waitFor("the rejection logged", 10*time.Second, nil, func() bool {
		b, _ := os.ReadFile(tg.log)
		return strings.Contains(string(b), line)
	}); err != nil {
		return err
	}
	open[0].Close()
	open = open[1:]
	// The broker notices the close on its own time: retry until the slot is free.
	return waitFor("a freed slot taken again", 10*time.Second, nil, func() bool {
		c, err := dial()
		if err != nil {
			return false
		}
		if served(c) != nil {
			c.Close()
			return false
		}
		open = append(open, c)
		return true
	})
}

// znodeView is a znode's data (JSON decoded, with its timestamps and ports blanked: each broker has its own) and
// its children, sorted.
func znodeView(conn *zk.Conn, path string) (any, error) {
	data, _, err := conn.Get(path)
	if err == zk.ErrNoNode {
		return "no node", nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, err)
	}
	children, _, err := conn.Children(path)
	if err != nil {
		return nil, fmt.Errorf("children of %s: %w", path, err)
	}
	sort.Strings(children)
	var doc any = string(data)
	var v any
	if json.Unmarshal(data, &v) == nil {
		doc = blankVarying(v)
	}
	return map[string]any{"Data": doc, "Children": children}, nil
}

// blankVarying replaces the values of timestamp and port fields, and the port in endpoint URLs.
func blankVarying(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "timestamp", "port":
				x[k] = "*"
			default:
				x[k] = blankVarying(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = blankVarying(e)
		}
	case string:
		return endpointPort.ReplaceAllString(x, ":*")
	}
	return v
}

var endpointPort = regexp.MustCompile(`:[0-9]+$`)

// runWireStep runs one step on one broker and returns its normalized answer as JSON.
func runWireStep(zkConn *zk.Conn, tg *wireTarget, st wireStep) (string, error) {
	if st.zk != nil {
		return "", st.zk(zkConn, tg.chroot)
	}
	if st.znode != "" {
		v, err := znodeView(zkConn, tg.chroot+st.znode)
		if err != nil {
			return "", err
		}
		return memberID.ReplaceAllString(mustJSON(v), "wirediff-UUID"), nil
	}
	if st.exchange != nil {
		v, err := st.exchange(tg)
		if err != nil {
			return "", err
		}
		return memberID.ReplaceAllString(mustJSON(v), "wirediff-UUID"), nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, v := st.req(tg)
		tg.conn.wait = cmp.Or(st.wait, 20*time.Second)
		resp, err := tg.conn.send(req, v, st.noResponse)
		if err == errClosed {
			return `"connection closed"`, nil
		}
		if err == errNoAnswer {
			return `"no answer in time"`, nil
		}
		if err != nil {
			return "", err
		}
		if st.noResponse {
			return `"no response"`, nil
		}
		if st.until != nil && !st.until(resp) {
			if time.Now().After(deadline) {
				return "", fmt.Errorf("condition not reached in 30 s; last answer %s", mustJSON(resp))
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if st.after != nil {
			st.after(tg, resp)
		}
		var view any = resp
		if st.view != nil {
			view = st.view(tg, resp)
		}
		return memberID.ReplaceAllString(mustJSON(view), "wirediff-UUID"), nil
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("unmarshalable %T: %v", v, err)
	}
	return string(b)
}

// startWireTargets starts one zkserver, Apache Kafka 0.9.0.1's broker and two of ours (Kafka 2.8's default
// message format and the 0.9.0 format), each broker id 0 under its own chroot, and waits for all three. It returns
// them, a ZooKeeper connection and zkserver's address.
func startWireTargets(t *testing.T, home string) ([]*wireTarget, *zk.Conn, string) {
	dir := t.TempDir()
	zkAddr, kBin := startZKServer(t, dir)
	conn, _, err := zk.Connect([]string{zkAddr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)

	var targets []*wireTarget
	for _, name := range []string{"apache", "ours", "ours-0.9.0-format"} {
		tg := &wireTarget{name: name, chroot: "/wd-" + name, port: freePort(t)}
		bdir := filepath.Join(dir, name)
		if err := os.MkdirAll(bdir, 0o755); err != nil {
			t.Fatal(err)
		}
		// The chroot must exist before a 0.9 broker connects (0.9 does not create it).
		if _, err := conn.Create(tg.chroot, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		props := filepath.Join(bdir, "server.properties")
		lines := []string{
			"broker.id=0",
			"zookeeper.connect=" + zkAddr + tg.chroot,
			fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", tg.port),
			"log.dirs=" + filepath.Join(bdir, "logs"),
			"num.partitions=2",
			"offsets.topic.replication.factor=1",
			"offsets.topic.num.partitions=3",
			// Connections from 127.0.0.2 are limited (perIPLimit); the steps connect from 127.0.0.1.
			"max.connections.per.ip.overrides=" + limitedIP + ":2",
		}
		tg.log = filepath.Join(bdir, "broker.log")
		switch name {
		case "apache":
			// delete.topic.enable is true by default from Kafka 1.0.
			writeFile(t, props, append(lines, "delete.topic.enable=true")...)
			startJava(t, tg.log, home, bdir, "kafka-server-start.sh", props)
		case "ours":
			writeFile(t, props, append(lines, "group.initial.rebalance.delay.ms=0")...)
			startDaemon(t, tg.log, kBin, props)
		default:
			writeFile(t, props, append(lines, "group.initial.rebalance.delay.ms=0", "log.message.format.version=0.9.0")...)
			startDaemon(t, tg.log, kBin, props)
		}
		targets = append(targets, tg)
	}
	for _, tg := range targets {
		addr := fmt.Sprintf("127.0.0.1:%d", tg.port)
		waitListening(t, addr, tg.log)
		if err := waitFor(tg.name+" registration", 60*time.Second, nil, func() bool {
			ok, _, err := conn.Exists(tg.chroot + "/brokers/ids/0")
			return err == nil && ok
		}); err != nil {
			b, _ := os.ReadFile(tg.log)
			t.Fatalf("%v\n%s", err, b)
		}
		tg.conn = &wireConn{addr: addr, clientID: "wirediff"}
		t.Cleanup(tg.conn.close)
	}
	return targets, conn, zkAddr
}

// startJava runs one of Kafka 0.9's bin scripts as a daemon, with the JVM options the tools run with.
func startJava(t *testing.T, logf, home, logDir, script string, args ...string) {
	t.Helper()
	t.Setenv("KAFKA_GC_LOG_OPTS", " ")
	t.Setenv("LOG_DIR", logDir)
	t.Setenv("KAFKA_HEAP_OPTS", "-Xmx512M")
	startDaemon(t, logf, "bash", append([]string{filepath.Join(home, "bin", script)}, args...)...)
}

// logProblems is a broker log's warning and error lines (Java's and ours), the last 40.
func logProblems(path string) string {
	b, _ := os.ReadFile(path)
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "WARN") || strings.Contains(l, "ERROR") || strings.Contains(l, "Exception") || strings.HasPrefix(l, "\tat ") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 40 {
		keep = keep[len(keep)-40:]
	}
	return strings.Join(keep, "\n")
}

// jsonDiff lists where two JSON documents differ, one line per differing value (at most 12).
func jsonDiff(a, b string) string {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return "  " + a + "\n  " + b
	}
	var out []string
	var walk func(path string, x, y any)
	walk = func(path string, x, y any) {
		if len(out) >= 12 {
			return
		}
		switch xv := x.(type) {
		case map[string]any:
			if yv, ok := y.(map[string]any); ok {
				keys := map[string]bool{}
				for k := range xv {
					keys[k] = true
				}
				for k := range yv {
					keys[k] = true
				}
				sorted := make([]string, 0, len(keys))
				for k := range keys {
					sorted = append(sorted, k)
				}
				sort.Strings(sorted)
				for _, k := range sorted {
					walk(path+"."+k, xv[k], yv[k])
				}
				return
			}
		case []any:
			if yv, ok := y.([]any); ok && len(yv) == len(xv) {
				for i := range xv {
					walk(fmt.Sprintf("%s[%d]", path, i), xv[i], yv[i])
				}
				return
			}
		}
		if mustJSON(x) != mustJSON(y) {
			out = append(out, fmt.Sprintf("  %s: %s | %s", path, clip(mustJSON(x)), clip(mustJSON(y))))
		}
	}
	walk("", va, vb)
	return strings.Join(out, "\n")
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
