package broker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// logBytes reads a partition's whole log from a broker's log manager.
func logBytes(t *testing.T, b *Broker, topic string, partition int32) []byte {
	t.Helper()
	l, ok := b.logs.Get(topic, partition)
	if !ok {
		return nil
	}
	var out []byte
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		res, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatalf("read %s-%d at %d: %v", topic, partition, off, err)
		}
		if len(res.Records) == 0 {
			break
		}
		out = append(out, res.Records...)
		recs, err := klog.DecodeRecords(res.Records)
		if err != nil || len(recs) == 0 {
			t.Fatalf("decode %s-%d at %d: %v", topic, partition, off, err)
		}
		off = recs[len(recs)-1].Offset + 1
	}
	return out
}

// createAssigned creates topic with partition i on the brokers replicas[i], the first its preferred leader.
func createAssigned(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, replicas ...[]int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	for i, r := range replicas {
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, kmsg.CreateTopicsRequestTopicReplicaAssignment{Partition: int32(i), Replicas: r})
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create %s: %v %+v", topic, err, resp)
	}
}

func isrOf(t *testing.T, b *Broker, topic string, partition int32) []int32 {
	t.Helper()
	st, ok, err := b.ZK().GetPartitionState(zkmeta.TopicPartition{Topic: topic, Partition: partition})
	if err != nil || !ok {
		t.Fatalf("state of %s-%d: %v %v", topic, partition, ok, err)
	}
	isr := slices.Clone(st.ISR)
	slices.Sort(isr)
	return isr
}

// fastShutdown makes a test's brokers retry controlled shutdown quickly.
const fastShutdown = "controlled.shutdown.retry.backoff.ms=100"

// twoBrokers starts broker 0, which becomes the controller, and broker 1 beside it, each with a listener of its own
// unless its settings name one, and waits until both know both; c.b is broker 1. It returns a client of both that
// produces to the partitions records name.
func twoBrokers(t *testing.T, c *cluster, extra0, extra1 []string, opts ...kgo.Opt) (*Broker, *Broker, *kgo.Client) {
	t.Helper()
	settings := func(extra []string) []string {
		out := append([]string{fastShutdown}, extra...)
		if !slices.ContainsFunc(extra, func(s string) bool { return strings.HasPrefix(s, "listeners=") }) {
			out = append(out, fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", freePort(t)))
		}
		return out
	}
	b0 := startBrokerN(c, 0, nil, settings(extra0)...)
	c.waitFor("broker 0 controller", func() bool { return b0.Controller() != nil && isActive(b0) })
	b1 := startBrokerN(c, 1, nil, settings(extra1)...)
	c.b = b1
	c.waitFor("both brokers known", func() bool {
		return len(b0.Replicas().Cache().AliveBrokers()) == 2 && len(b1.Replicas().Cache().AliveBrokers()) == 2
	})
	cl := c.client(append([]kgo.Opt{kgo.SeedBrokers(b0.Addr("PLAINTEXT").String(), b1.Addr("PLAINTEXT").String()),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	return b0, b1, cl
}

// Two brokers, a topic with two replicas per partition: followers fetch what the leaders append (acks=all answers
// once both have it) and hold the same bytes at the same offsets. The first broker stops (controlled shutdown); the
// other, in the ISR, leads on with every acknowledged record. Records its log got that its successor never had
// (appended to its files while it was down, in its old leader epoch) are truncated away when it comes back as
// follower (on the leader's DivergingEpoch at IBP 2.8, after OffsetForLeaderEpoch at 2.6); it catches up and the
// leader adds it back to the ISR with AlterIsr.
func TestReplicationBetweenBrokers(t *testing.T) {
	c := newCluster(t)
	l0 := fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", freePort(t))
	dir0 := t.TempDir()
	b0, b1, cl := twoBrokers(t, c, []string{l0, "log.dirs=" + dir0}, []string{"num.replica.fetchers=3"})
	ctx := ctxT(t)
	// Partition 0 led by broker 0, partition 1 by broker 1; both on both brokers.
	createAssigned(t, ctx, cl, "replicated", []int32{0, 1}, []int32{1, 0})
	leader := func(b *Broker, p int32) int32 {
		tm, ok := b.Replicas().Cache().Topic("replicated")
		if pm, pok := tm.Partitions[p]; ok && pok {
			return pm.Leader
		}
		return -2
	}
	c.waitFor("leaders", func() bool {
		return leader(b0, 0) == 0 && leader(b1, 0) == 0 && leader(b0, 1) == 1 && leader(b1, 1) == 1
	})
	produceN(t, cl, "replicated", 0, 0, 200)
	produceN(t, cl, "replicated", 1, 0, 150)
	same := func(p int32) func() bool {
		return func() bool {
			a, b := logBytes(t, b0, "replicated", p), logBytes(t, b1, "replicated", p)
			return len(a) > 0 && bytes.Equal(a, b)
		}
	}
	c.waitFor("partition 0 replicated", same(0))
	c.waitFor("partition 1 replicated", same(1))
	// Each follower fetches in an incremental fetch session: the leader holds one with the follower's partition.
	for _, b := range []*Broker{b0, b1} {
		if fs := b.handlers.FetchSessions(); fs.Len() != 1 || fs.NumPartitions() != 1 {
			t.Fatalf("broker %d holds %d fetch sessions with %d partitions", b.ID(), fs.Len(), fs.NumPartitions())
		}
	}
	for _, p := range []int32{0, 1} {
		if isr := isrOf(t, b1, "replicated", p); !slices.Equal(isr, []int32{0, 1}) {
			t.Fatalf("partition %d ISR %v", p, isr)
		}
		// A follower learns the high watermark from the leader's next answer.
		for _, b := range []*Broker{b0, b1} {
			l, _ := b.logs.Get("replicated", p)
			want := int64(200 - 50*p)
			c.waitFor(fmt.Sprintf("broker %d partition %d high watermark %d", b.ID(), p, want), func() bool {
				return l.LogEndOffset() == want && l.HighWatermark() == want
			})
		}
	}

	// Broker 0 stops; broker 1 leads both partitions and takes more acks=all records.
	l0before, _ := b0.logs.Get("replicated", 0)
	oldEpoch := l0before.LatestEpoch()
	if err := b0.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitFor("broker 1 leads partition 0", func() bool { return leader(b1, 0) == 1 })
	cl1 := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produceN(t, cl1, "replicated", 0, 200, 100)

	// While broker 0 is down its log of partition 0 gets records of its old epoch that nobody else has. It comes
	// back as follower and truncates them away: with Kafka 2.8's inter-broker protocol on the leader's answer to
	// its fetch (DivergingEpoch), with 2.6's after asking with OffsetForLeaderEpoch.
	offsetForEpoch := func() int64 { return b1.servers["PLAINTEXT"].Metrics().Requests(kmsg.OffsetForLeaderEpoch.Int16()) }
	for round, ibp := range []string{"2.8", "2.6"} {
		if round > 0 {
			l, _ := b0.logs.Get("replicated", 0)
			oldEpoch = l.LatestEpoch()
			if err := b0.Close(); err != nil {
				t.Fatal(err)
			}
			c.waitFor("broker 1 sees broker 0 gone", func() bool { return len(b1.Replicas().Cache().AliveBrokers()) == 1 })
		}
		stray, err := klog.Open(filepath.Join(dir0, "replicated-0"), klog.DefaultConfig(), time.Now, slog.Default())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stray.AppendAsLeader(rawBatch(-1, -1, -1, 7), oldEpoch); err != nil {
			t.Fatal(err)
		}
		if err := stray.Close(); err != nil {
			t.Fatal(err)
		}
		asked := offsetForEpoch()
		b0 = startBrokerN(c, 0, nil, l0, "log.dirs="+dir0, fastShutdown, "inter.broker.protocol.version="+ibp)
		c.waitFor("partition 0 replicated again (IBP "+ibp+")", same(0))
		c.waitFor("broker 0 back in both ISRs", func() bool {
			return slices.Equal(isrOf(t, b1, "replicated", 0), []int32{0, 1}) && slices.Equal(isrOf(t, b1, "replicated", 1), []int32{0, 1})
		})
		if l, _ := b0.logs.Get("replicated", 0); l.LogEndOffset() != 300 {
			t.Fatalf("IBP %s: broker 0 partition 0 log end %d, want 300", ibp, l.LogEndOffset())
		}
		if n := offsetForEpoch() - asked; (ibp == "2.8") != (n == 0) {
			t.Fatalf("IBP %s: the follower sent %d OffsetForLeaderEpoch requests", ibp, n)
		}
	}
	checkRecords := func(topic string, n int) {
		t.Helper()
		got := consumeN(t, c, topic, 0, n)
		for i, r := range got[:n] {
			if r.Offset != int64(i) || string(r.Value) != fmt.Sprintf("value-%d", i) {
				t.Fatalf("%s record %d: offset %d value %q", topic, i, r.Offset, r.Value)
			}
		}
	}
	checkRecords("replicated", 300)

	// A reassignment moves a partition from broker 0 to broker 1: broker 1 copies the log, joins the ISR, and the
	// controller completes the move (KIP-455): broker 1 leads, broker 0's replica and its log are gone.
	createAssigned(t, ctx, cl1, "moved", []int32{0})
	c.waitFor("moved led by broker 0", func() bool {
		tm, ok := b1.Replicas().Cache().Topic("moved")
		return ok && tm.Partitions[0].Leader == 0
	})
	produceN(t, cl1, "moved", 0, 0, 50)
	adm := kadm.NewClient(cl1)
	var ar kadm.AlterPartitionAssignmentsReq
	ar.Assign("moved", 0, []int32{1})
	if res, err := adm.AlterPartitionAssignments(ctx, ar); err != nil || res["moved"][0].Err != nil {
		t.Fatalf("reassign: %+v %v", res, err)
	}
	c.waitFor("reassignment completed", func() bool {
		ta, ok, err := b1.ZK().GetTopicAssignment("moved")
		_, onB0 := b0.logs.Get("moved", 0)
		tm, _ := b1.Replicas().Cache().Topic("moved")
		return err == nil && ok && slices.Equal(ta.Partitions[0].Replicas, []int32{1}) && !onB0 &&
			tm.Partitions[0].Leader == 1
	})
	if lr, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{"moved": {0: {}}}); err != nil || len(lr) != 0 {
		t.Fatalf("reassignments after completion: %+v %v", lr, err)
	}
	checkRecords("moved", 50)
}

// Below IBP 2.7-IV2 a leader changes the ISR itself, as Kafka's ZkIsrManager: it writes the partition's state znode
// and leaves an /isr_change_notification for the controller, which tells the brokers with UpdateMetadata. No AlterIsr
// is sent.
func TestIsrChangesThroughZooKeeper(t *testing.T) {
	c := newCluster(t)
	old := "inter.broker.protocol.version=2.6"
	l0, l1 := fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", freePort(t)), fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", freePort(t))
	dir1 := t.TempDir()
	b0 := startBrokerN(c, 0, nil, l0, old, "controlled.shutdown.retry.backoff.ms=100")
	c.waitFor("broker 0 controller", func() bool { return b0.Controller() != nil && isActive(b0) })
	b1 := startBrokerN(c, 1, nil, l1, "log.dirs="+dir1, old, "controlled.shutdown.retry.backoff.ms=100")
	c.b = b0
	c.waitFor("both brokers known", func() bool { return len(b0.Replicas().Cache().AliveBrokers()) == 2 })
	ctx := ctxT(t)
	cl := c.client(kgo.SeedBrokers(b0.Addr("PLAINTEXT").String()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	createAssigned(t, ctx, cl, "zkisr", []int32{0, 1})
	c.waitFor("broker 0 leads zkisr-0", func() bool { _, err := b0.Replicas().Partition("zkisr", 0); return err == nil })
	produceN(t, cl, "zkisr", 0, 0, 50)

	// Broker 1 stops: the controller takes it out of the ISR. Records go on to broker 0 alone.
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitFor("ISR [0]", func() bool { return slices.Equal(isrOf(t, b0, "zkisr", 0), []int32{0}) })
	produceN(t, cl, "zkisr", 0, 50, 50)
	before, _, err := b0.ZK().GetPartitionState(zkmeta.TopicPartition{Topic: "zkisr", Partition: 0})
	if err != nil {
		t.Fatal(err)
	}

	// It comes back, catches up, and the leader puts it back in the ISR through ZooKeeper.
	b1 = startBrokerN(c, 1, nil, l1, "log.dirs="+dir1, old, "controlled.shutdown.retry.backoff.ms=100")
	c.waitFor("ISR [0 1] in ZooKeeper", func() bool { return slices.Equal(isrOf(t, b0, "zkisr", 0), []int32{0, 1}) })
	after, _, err := b0.ZK().GetPartitionState(zkmeta.TopicPartition{Topic: "zkisr", Partition: 0})
	if err != nil {
		t.Fatal(err)
	}
	if after.Leader != 0 || after.LeaderEpoch != before.LeaderEpoch || after.ControllerEpoch != before.ControllerEpoch ||
		after.ZkVersion != before.ZkVersion+1 {
		t.Fatalf("state written by the leader: %+v, before %+v", after, before)
	}
	// The notification reaches the controller, which tells broker 1; it leaves no notification behind.
	c.waitFor("broker 1's metadata shows ISR [0 1]", func() bool {
		tm, ok := b1.Replicas().Cache().Topic("zkisr")
		if !ok {
			return false
		}
		isr := slices.Clone(tm.Partitions[0].ISR)
		slices.Sort(isr)
		return slices.Equal(isr, []int32{0, 1})
	})
	c.waitFor("notifications processed", func() bool {
		seqs, err := b0.ZK().GetAllIsrChangeNotifications()
		return err == nil && len(seqs) == 0
	})
	for _, b := range []*Broker{b0, b1} {
		if n := b.servers["PLAINTEXT"].Metrics().Requests(kmsg.AlterPartition.Int16()); n != 0 {
			t.Fatalf("broker %d received %d AlterIsr requests", b.ID(), n)
		}
	}
}

// A broker that led an epoch without appending to it has that epoch in its cache, at its log end, when it follows
// again. The new leader never had it and answers the follower's fetch with DivergingEpoch at that same log end; the
// follower drops the epoch (as Kafka's truncateTo does at the log end) and fetches on, where it used to keep the
// epoch and be told the same at once, forever, leaving acks=all waiting for it to leave the ISR.
func TestFollowerDropsEpochWithoutRecords(t *testing.T) {
	c := newCluster(t)
	l0 := fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", freePort(t))
	dir0 := t.TempDir()
	b0, b1, cl := twoBrokers(t, c, []string{l0, "log.dirs=" + dir0}, nil)
	ctx := ctxT(t)
	createAssigned(t, ctx, cl, "flip", []int32{0, 1})
	leaderOn := func(b *Broker) int32 {
		if tm, ok := b.Replicas().Cache().Topic("flip"); ok {
			if pm, ok := tm.Partitions[0]; ok {
				return pm.Leader
			}
		}
		return -2
	}
	c.waitFor("broker 0 leads", func() bool { return leaderOn(b0) == 0 && leaderOn(b1) == 0 })
	produceN(t, cl, "flip", 0, 0, 50)
	same := func() bool {
		a, b := logBytes(t, b0, "flip", 0), logBytes(t, b1, "flip", 0)
		return len(a) > 0 && bytes.Equal(a, b)
	}
	c.waitFor("replicated", same)

	// Broker 1 leads a new epoch while broker 0 is away, and nothing is appended in it.
	if err := b0.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitFor("broker 1 leads", func() bool { return leaderOn(b1) == 1 })
	log1, _ := b1.logs.Get("flip", 0)
	emptyEpoch := log1.LatestEpoch()
	if _, start := log1.EndOffsetForEpoch(emptyEpoch - 1); start != 50 || log1.LogEndOffset() != 50 {
		t.Fatalf("broker 1's epoch %d starts at %d, log end %d: want a new epoch at 50", emptyEpoch, start, log1.LogEndOffset())
	}
	b0 = startBrokerN(c, 0, nil, l0, "log.dirs="+dir0, fastShutdown)
	c.waitFor("broker 0 back in the ISR", func() bool { return slices.Equal(isrOf(t, b1, "flip", 0), []int32{0, 1}) })
	adm := kadm.NewClient(cl)
	if res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"flip": {0: {}}}); err != nil ||
		res["flip"][0].Err != nil {
		t.Fatalf("preferred election: %+v %v", res, err)
	}
	c.waitFor("broker 0 leads again", func() bool { return leaderOn(b0) == 0 && leaderOn(b1) == 0 })

	// Broker 1 follows with its empty epoch as its last: it must drop it, take the new records and stay in the ISR.
	produceN(t, cl, "flip", 0, 50, 50)
	c.waitFor("broker 1 has the new records", func() bool { return log1.LogEndOffset() == 100 && same() })
	if isr := isrOf(t, b0, "flip", 0); !slices.Equal(isr, []int32{0, 1}) {
		t.Fatalf("ISR %v after the new records", isr)
	}
	log0, _ := b0.logs.Get("flip", 0)
	if e0, e1 := log0.LatestEpoch(), log1.LatestEpoch(); e0 != e1 || e1 == emptyEpoch {
		t.Fatalf("latest epochs: leader %d, follower %d (the empty one was %d)", e0, e1, emptyEpoch)
	}
}

// Replication does not need ZooKeeper: with it stopped (SIGSTOP, so that no session expires), a follower still
// fetches from its leader, found in the metadata cache as Kafka's fetchers find it, and acks=all produce succeeds.
func TestReplicationWhileZooKeeperIsAway(t *testing.T) {
	c := newCluster(t)
	b0, b1, cl := twoBrokers(t, c, nil, nil)
	createAssigned(t, ctxT(t), cl, "nozk", []int32{0, 1})
	c.waitFor("broker 1 follows", func() bool {
		tm, ok := b1.Replicas().Cache().Topic("nozk")
		return ok && tm.Partitions[0].Leader == 0 && slices.Equal(isrOf(t, b0, "nozk", 0), []int32{0, 1})
	})
	produceN(t, cl, "nozk", 0, 0, 10)

	if err := syscall.Kill(c.zkPid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(c.zkPid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	produceN(t, cl, "nozk", 0, 10, 100) // acks=all: broker 1 has them
	l1, _ := b1.logs.Get("nozk", 0)
	if end := l1.LogEndOffset(); end != 110 || !bytes.Equal(logBytes(t, b0, "nozk", 0), logBytes(t, b1, "nozk", 0)) {
		t.Fatalf("follower log end %d, or its bytes differ from the leader's", end)
	}
	resume()
	checked := consumeN(t, c, "nozk", 0, 110)
	for i, r := range checked[:110] {
		if r.Offset != int64(i) || string(r.Value) != fmt.Sprintf("value-%d", i) {
			t.Fatalf("record %d: offset %d value %q", i, r.Offset, r.Value)
		}
	}
}

// num.replica.fetchers changes live, as Kafka's DynamicThreadPool resizes the ReplicaFetcherManager: the followed
// partitions are spread again over the new number of fetchers and replication goes on. A change to more than
// double is refused as Kafka refuses it.
func TestResizeReplicaFetchers(t *testing.T) {
	c := newCluster(t)
	b0, b1, cl := twoBrokers(t, c, nil, nil)
	ctx := ctxT(t)
	createAssigned(t, ctx, cl, "resize", []int32{0, 1}, []int32{0, 1}, []int32{0, 1}, []int32{0, 1})
	fetchers := func(want map[replica.FetcherKey]int) func() bool {
		return func() bool { return maps.Equal(b1.Replicas().Fetchers(), want) }
	}
	c.waitFor("one fetcher", fetchers(map[replica.FetcherKey]int{{Leader: 0, ID: 0}: 4}))
	replicated := func(n int) {
		t.Helper()
		for p := range int32(4) {
			produceN(t, cl, "resize", p, n-10, 10)
		}
		for p := range int32(4) {
			l, _ := b1.logs.Get("resize", p)
			c.waitFor(fmt.Sprintf("partition %d replicated", p), func() bool {
				return l.LogEndOffset() == int64(n) && bytes.Equal(logBytes(t, b0, "resize", p), logBytes(t, b1, "resize", p))
			})
		}
	}
	replicated(10)

	adm := kadm.NewClient(cl)
	set := func(v string) (kadm.AlterConfigsResponses, error) {
		return adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "num.replica.fetchers", Value: &v}}, 1)
	}
	rs, err := set("2")
	alterOK(t, rs, err)
	// Java's hash spreads the four partitions of one topic over two fetchers by their parity.
	c.waitFor("two fetchers", fetchers(map[replica.FetcherKey]int{{Leader: 0, ID: 0}: 2, {Leader: 0, ID: 1}: 2}))
	replicated(20)

	rs, err = set("5")
	if msg := alterErr(t, rs, err, kerr.InvalidRequest); msg != "Invalid config value for resource "+
		"ConfigResource(type=BROKER, name='1'): Invalid dynamic configuration" {
		t.Fatalf("message %q", msg)
	}
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "num.replica.fetchers"}}, 1)
	alterOK(t, rs, err)
	c.waitFor("one fetcher again", fetchers(map[replica.FetcherKey]int{{Leader: 0, ID: 0}: 4}))
	replicated(30)
}
