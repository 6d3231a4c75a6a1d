package kafkaclients

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFranzGo drives franz-go through our own scenarios on both ZooKeepers: the idempotent producer, a two-member
// consumer group with commits and cooperative rebalances, and kadm's admin calls (their znodes checked in the chroot).
func TestFranzGo(t *testing.T) {
	onBothZooKeepers(t, "franz-go", func(t *testing.T, c *cluster) {
		t.Run("idempotent-producer", func(t *testing.T) { franzIdempotent(t, c) })
		t.Run("group", func(t *testing.T) { franzGroup(t, c) })
		t.Run("admin", func(t *testing.T) { franzAdmin(t, c) })
	})
}

// newKgo is a client closed when t ends. kgo answers metadata requests from a cache younger than MetadataMinAge
// (5s by default), which would hide a deletion from kadm's ListTopics for that long.
func newKgo(t *testing.T, c *cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.addr), kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.MetadataMinAge(50 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func newAdmin(t *testing.T, c *cluster) *kadm.Client {
	t.Helper()
	return kadm.NewClient(newKgo(t, c))
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t *testing.T, ctx context.Context, adm *kadm.Client, topic string, parts int32, configs map[string]*string) {
	t.Helper()
	resp, err := adm.CreateTopic(ctx, parts, 1, configs, topic)
	if err != nil {
		t.Fatalf("create topic %s: %v (%s)", topic, err, resp.ErrMessage)
	}
}

// franzIdempotent produces many small batches through the idempotent producer (five requests in flight per broker)
// and reads them back: every record once, at the offset its produce acknowledged, in order, with the producer id.
func franzIdempotent(t *testing.T, c *cluster) {
	ctx := testCtx(t, 60*time.Second)
	const topic, parts, n = "kgo-idempotent", 3, 30000
	mustCreate(t, ctx, newAdmin(t, c), topic, parts, nil)

	p := newKgo(t, c, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(4<<10), kgo.ProducerLinger(time.Millisecond), kgo.RequiredAcks(kgo.AllISRAcks()))
	var (
		mu      sync.Mutex
		acked   = map[int32][]int64{} // per partition: the offset acknowledged for each sequence number
		prodID  = int64(-1)
		prodErr error
	)
	for i := range n {
		part := int32(i % parts)
		seq := i / parts
		r := &kgo.Record{Partition: part, Key: []byte(fmt.Sprintf("p%d", part)), Value: []byte(fmt.Sprintf("%06d", seq))}
		p.Produce(ctx, r, func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				prodErr = errors.Join(prodErr, err)
				return
			}
			if prodID != -1 && prodID != r.ProducerID {
				prodErr = errors.Join(prodErr, fmt.Errorf("producer id changed from %d to %d", prodID, r.ProducerID))
			}
			prodID = r.ProducerID
			for len(acked[part]) <= seq {
				acked[part] = append(acked[part], -1)
			}
			acked[part][seq] = r.Offset
		})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	mu.Lock()
	if prodErr != nil {
		t.Fatalf("produce: %v", prodErr)
	}
	if prodID < 0 {
		t.Fatalf("records not produced idempotently: producer id %d", prodID)
	}
	for part := range int32(parts) {
		for seq, off := range acked[part] {
			if off != int64(seq) {
				t.Fatalf("partition %d: record %d acknowledged at offset %d", part, seq, off)
			}
		}
	}
	mu.Unlock()

	offsets := map[int32]kgo.Offset{}
	for part := range int32(parts) {
		offsets[part] = kgo.NewOffset().AtStart()
	}
	cons := newKgo(t, c, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	next := map[int32]int{}
	for got := 0; got < n; {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", got, n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			seq := next[r.Partition]
			if r.Offset != int64(seq) || string(r.Value) != fmt.Sprintf("%06d", seq) || r.ProducerID != prodID {
				t.Fatalf("partition %d: want record %d at offset %d from producer %d, got %q at offset %d from producer %d",
					r.Partition, seq, seq, prodID, r.Value, r.Offset, r.ProducerID)
			}
			next[r.Partition]++
			got++
		})
	}
	ends, err := newAdmin(t, c).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Offset != int64(n/parts) {
			t.Errorf("partition %d: end offset %d (%v), want %d", o.Partition, o.Offset, o.Err, n/parts)
		}
	})
}

// groupMember is one kgo group consumer polling in the background; it commits what it processed before allowing
// a rebalance, so no record is read twice.
type groupMember struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	owned map[int32]bool
}

func (m *groupMember) ownedCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.owned)
}

// leave stops polling and leaves the group.
func (m *groupMember) leave() {
	m.cancel()
	<-m.done
	m.cl.Close()
}

// franzGroup: member a reads and commits a first batch alone; member b joins and the four partitions are split;
// both read a second batch; a leaves and b takes everything and reads a third. Each record is read exactly once and
// the committed offsets end at the log ends.
func franzGroup(t *testing.T, c *cluster) {
	ctx := testCtx(t, 90*time.Second)
	const topic, group, parts, batch = "kgo-group", "kgo-group", 4, 200
	adm := newAdmin(t, c)
	mustCreate(t, ctx, adm, topic, parts, nil)
	p := newKgo(t, c, kgo.DefaultProduceTopic(topic))
	produced := 0
	produce := func() {
		t.Helper()
		var rs []*kgo.Record
		for range batch {
			rs = append(rs, kgo.StringRecord(fmt.Sprintf("r%04d", produced)))
			produced++
		}
		if err := p.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	var (
		seenMu sync.Mutex
		seen   = map[string]int{}
		errs   = make(chan error, 16)
	)
	report := func(err error) {
		select {
		case errs <- err:
		default: // the first errors are enough
		}
	}
	seenCount := func() int {
		seenMu.Lock()
		defer seenMu.Unlock()
		return len(seen)
	}
	join := func(name string) *groupMember {
		m := &groupMember{owned: map[int32]bool{}, done: make(chan struct{})}
		change := func(add bool) func(context.Context, *kgo.Client, map[string][]int32) {
			return func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
				m.mu.Lock()
				defer m.mu.Unlock()
				for _, p := range ps[topic] {
					if add {
						m.owned[p] = true
					} else {
						delete(m.owned, p)
					}
				}
			}
		}
		var err error
		m.cl, err = kgo.NewClient(kgo.SeedBrokers(c.addr), kgo.ClientID(name), kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
			kgo.FetchMaxWait(500*time.Millisecond), kgo.HeartbeatInterval(250*time.Millisecond),
			kgo.OnPartitionsAssigned(change(true)), kgo.OnPartitionsRevoked(change(false)), kgo.OnPartitionsLost(change(false)))
		if err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithCancel(ctx)
		m.cancel = cancel
		go func() {
			defer close(m.done)
			for {
				fs := m.cl.PollFetches(pctx)
				if pctx.Err() != nil || fs.IsClientClosed() {
					m.cl.AllowRebalance()
					return
				}
				fs.EachError(func(topic string, p int32, err error) {
					report(fmt.Errorf("%s: fetch %s/%d: %w", name, topic, p, err))
				})
				seenMu.Lock()
				fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
				seenMu.Unlock()
				// The test's context, not the poll's: leave must not cut a commit of records already counted.
				if err := m.cl.CommitUncommittedOffsets(ctx); err != nil {
					report(fmt.Errorf("%s: commit: %w", name, err))
				}
				m.cl.AllowRebalance()
			}
		}()
		t.Cleanup(m.leave)
		return m
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case err := <-errs:
				t.Fatal(err)
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %s", what)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}

	produce()
	a := join("member-a")
	waitFor("member a to own every partition", func() bool { return a.ownedCount() == parts })
	waitFor("member a to read the first batch", func() bool { return seenCount() == produced })

	b := join("member-b")
	waitFor("the partitions to be split", func() bool { return a.ownedCount() == parts/2 && b.ownedCount() == parts/2 })
	produce()
	waitFor("both members to read the second batch", func() bool { return seenCount() == produced })

	a.leave()
	waitFor("member b to own every partition", func() bool { return b.ownedCount() == parts })
	produce()
	waitFor("member b to read the third batch", func() bool { return seenCount() == produced })

	seenMu.Lock()
	for v, k := range seen {
		if k != 1 {
			t.Errorf("record %s read %d times", v, k)
		}
	}
	seenMu.Unlock()
	// b commits after each poll; once it has read everything its last commit reaches the log ends.
	waitFor("the commits to reach the log ends", func() bool {
		offs, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return false
		}
		var sum int64
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Topic == topic && o.Err == nil {
				sum += o.At
			}
		})
		return sum == int64(produced)
	})
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Fatalf("describe group: %v", err)
	}
	if d := described[group]; d.Err != nil || d.State != "Stable" || len(d.Members) != 1 || d.Protocol != "cooperative-sticky" {
		t.Fatalf("described group: state %q protocol %q %d members (%v)", d.State, d.Protocol, len(d.Members), d.Err)
	}
}

// franzAdmin: kadm's create (with a config), list/describe, describe and incrementally alter configs, create
// partitions, list groups and their offsets, delete topics; the znodes are checked where Kafka puts them, under the
// chroot.
func franzAdmin(t *testing.T, c *cluster) {
	ctx := testCtx(t, 60*time.Second)
	adm := newAdmin(t, c)
	const topic, group = "kgo-admin", "kgo-admin-group"
	retention := "3600000"
	mustCreate(t, ctx, adm, topic, 2, map[string]*string{"retention.ms": &retention})
	mustCreate(t, ctx, adm, topic+"-2", 1, nil)

	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	if td := topics[topic]; td.Err != nil || len(td.Partitions) != 2 || !topics.Has(topic+"-2") {
		t.Fatalf("list topics: %v", topics.Names())
	}
	for _, p := range topics[topic].Partitions {
		if p.Leader != 0 || !slices.Equal(p.Replicas, []int32{0}) || !slices.Equal(p.ISR, []int32{0}) {
			t.Fatalf("partition %d: leader %d replicas %v isr %v", p.Partition, p.Leader, p.Replicas, p.ISR)
		}
	}

	configValue := func(key string) (string, string) {
		t.Helper()
		rcs, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			t.Fatalf("describe configs: %v", err)
		}
		rc, err := rcs.On(topic, nil)
		if err != nil || rc.Err != nil {
			t.Fatalf("describe configs: %v %v", err, rc.Err)
		}
		for _, cfg := range rc.Configs {
			if cfg.Key == key {
				return cfg.MaybeValue(), cfg.Source.String()
			}
		}
		t.Fatalf("config %s not described", key)
		return "", ""
	}
	if v, src := configValue("retention.ms"); v != retention || src != "DYNAMIC_TOPIC_CONFIG" {
		t.Fatalf("retention.ms = %s (%s)", v, src)
	}
	if v, src := configValue("cleanup.policy"); v != "delete" || src != "DEFAULT_CONFIG" {
		t.Fatalf("cleanup.policy = %s (%s)", v, src)
	}
	compact := "compact,delete"
	alters, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "cleanup.policy", Value: &compact},
		{Op: kadm.DeleteConfig, Name: "retention.ms"},
	}, topic)
	if err == nil {
		_, err = alters.On(topic, func(r *kadm.AlterConfigsResponse) error { return r.Err })
	}
	if err != nil {
		t.Fatalf("alter configs: %v", err)
	}
	if v, src := configValue("cleanup.policy"); v != compact || src != "DYNAMIC_TOPIC_CONFIG" {
		t.Fatalf("altered cleanup.policy = %s (%s)", v, src)
	}
	if _, src := configValue("retention.ms"); src != "DEFAULT_CONFIG" {
		t.Fatalf("deleted retention.ms still %s", src)
	}
	var zkConfig struct {
		Version int               `json:"version"`
		Config  map[string]string `json:"config"`
	}
	if err := json.Unmarshal(c.znode(t, "/config/topics/"+topic), &zkConfig); err != nil ||
		zkConfig.Version != 1 || len(zkConfig.Config) != 1 || zkConfig.Config["cleanup.policy"] != compact {
		t.Fatalf("/config/topics/%s: %+v (%v)", topic, zkConfig, err)
	}

	cps, err := adm.CreatePartitions(ctx, 2, topic)
	if err == nil {
		_, err = cps.On(topic, func(r *kadm.CreatePartitionsResponse) error { return r.Err })
	}
	if err != nil {
		t.Fatalf("create partitions: %v", err)
	}
	var assignment struct {
		Partitions map[string][]int32 `json:"partitions"`
	}
	if err := json.Unmarshal(c.znode(t, "/brokers/topics/"+topic), &assignment); err != nil || len(assignment.Partitions) != 4 {
		t.Fatalf("/brokers/topics/%s after create partitions: %+v (%v)", topic, assignment, err)
	}
	// The new partitions get leaders: a produce to the last one succeeds (with a key: the topic is compacted now).
	p := newKgo(t, c, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := p.ProduceSync(ctx, &kgo.Record{Partition: 3, Key: []byte("k"), Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce to a new partition: %v", err)
	}

	// A group with commits but no members: listed, and its offsets fetched.
	offsets := kadm.Offsets{}
	offsets.AddOffset(topic, 3, 1, -1)
	if err := adm.CommitAllOffsets(ctx, group, offsets); err != nil {
		t.Fatalf("commit offsets: %v", err)
	}
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatalf("list groups: %v", err)
	}
	if !slices.Contains(groups.Groups(), group) {
		t.Fatalf("list groups: %v", groups.Groups())
	}
	fetched, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	if o, ok := fetched.Lookup(topic, 3); !ok || o.Err != nil || o.At != 1 {
		t.Fatalf("fetched offsets: %+v", fetched)
	}

	deleted, err := adm.DeleteTopics(ctx, topic, topic+"-2")
	if err == nil {
		err = deleted.Error()
	}
	if err != nil {
		t.Fatalf("delete topics: %v", err)
	}
	for {
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatalf("list topics: %v", err)
		}
		if !topics.Has(topic) && !topics.Has(topic+"-2") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("deleted topics still listed: %v", topics.Names())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// znode reads path under the broker's chroot from its ZooKeeper.
func (c *cluster) znode(t *testing.T, path string) []byte {
	t.Helper()
	server, chroot, _ := strings.Cut(c.zkAddr, "/")
	conn, _, err := zk.Connect([]string{server}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatalf("zookeeper %s: %v", server, err)
	}
	defer conn.Close()
	b, _, err := conn.Get("/" + chroot + path)
	if err != nil {
		t.Fatalf("get %s in chroot /%s: %v", path, chroot, err)
	}
	return b
}
