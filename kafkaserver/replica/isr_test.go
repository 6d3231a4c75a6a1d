package replica

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/metrics"
)

// A leader adds a follower to the ISR once it fetches at the high watermark, drops one that has not caught up
// within replica.lag.time.max.ms, and applies only what the controller answers to AlterIsr.
func TestIsrExpandAndShrink(t *testing.T) {
	m := newTestManager(t, 1)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 0, []int32{1}, []int32{1, 2}))
	var sent []*kmsg.AlterPartitionRequest
	answer := int16(0)
	m.fetchCfg.AlterIsr = func(_ context.Context, req *kmsg.AlterPartitionRequest) (*kmsg.AlterPartitionResponse, error) {
		sent = append(sent, req)
		resp := kmsg.NewPtrAlterPartitionResponse()
		for _, rt := range req.Topics {
			t := kmsg.NewAlterPartitionResponseTopic()
			t.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				p := kmsg.NewAlterPartitionResponseTopicPartition()
				p.Partition, p.ErrorCode, p.LeaderID, p.LeaderEpoch = rp.Partition, answer, 1, rp.LeaderEpoch
				p.ISR, p.PartitionEpoch = rp.NewISR, rp.PartitionEpoch+1
				t.Partitions = append(t.Partitions, p)
			}
			resp.Topics = append(resp.Topics, t)
		}
		return resp, nil
	}
	ctx := context.Background()
	if _, err := m.Append("t", 0, batch(3), 1); err != nil {
		t.Fatal(err)
	}
	read := func(offset int64) {
		t.Helper()
		if _, err := m.Read("t", 0, ReadParams{Offset: offset, MaxBytes: 1 << 20, ReplicaID: 2, CurrentLeaderEpoch: 0}); err != nil {
			t.Fatal(err)
		}
	}
	// Behind the high watermark (3): not yet.
	read(0)
	m.sendIsrChanges(ctx)
	if len(sent) != 0 {
		t.Fatalf("proposed for a follower behind: %+v", sent)
	}
	read(3)
	m.sendIsrChanges(ctx)
	if len(sent) != 1 {
		t.Fatalf("no AlterIsr after the follower caught up")
	}
	rp := sent[0].Topics[0].Partitions[0]
	if sent[0].BrokerID != 1 || !slices.Equal(rp.NewISR, []int32{1, 2}) || rp.LeaderEpoch != 0 || rp.PartitionEpoch != 0 {
		t.Fatalf("AlterIsr request: %+v", sent[0])
	}
	p, _ := m.Partition("t", 0)
	if info := p.Info(); !slices.Equal(info.ISR, []int32{1, 2}) || info.PartitionEpoch != 1 {
		t.Fatalf("after expansion: %+v", info)
	}
	// Applied: nothing left to send.
	m.sendIsrChanges(ctx)
	if len(sent) != 1 {
		t.Fatalf("sent again: %d", len(sent))
	}
	if r := m.Metrics(); r.IsrExpands != 1 || r.IsrShrinks != 0 || r.LeaderCount != 1 || r.UnderReplicatedPartitions != 0 {
		t.Fatalf("metrics after expansion: %+v", r)
	}

	// More records; the follower fetches at its previous leader end (3): caught up as of that fetch, not now.
	if _, err := m.Append("t", 0, batch(2), 1); err != nil {
		t.Fatal(err)
	}
	read(3)
	p.mu.Lock()
	caught := p.followers[2].caughtUp
	shrunk := p.maybeShrinkIsrLocked(1, caught.Add(29*time.Second), 30*time.Second)
	p.mu.Unlock()
	if shrunk {
		t.Fatal("dropped a follower within the lag time")
	}
	// Refused by the controller (stale partition epoch): nothing changes and the proposal is dropped.
	p.mu.Lock()
	shrunk = p.maybeShrinkIsrLocked(1, caught.Add(31*time.Second), 30*time.Second)
	p.mu.Unlock()
	if !shrunk {
		t.Fatal("a follower past the lag time stayed")
	}
	answer = kerr.InvalidUpdateVersion.Code
	m.sendIsrChanges(ctx)
	if len(sent) != 2 || !slices.Equal(sent[1].Topics[0].Partitions[0].NewISR, []int32{1}) {
		t.Fatalf("shrink request: %+v", sent)
	}
	if info := p.Info(); !slices.Equal(info.ISR, []int32{1, 2}) {
		t.Fatalf("ISR changed by a refused AlterIsr: %v", info.ISR)
	}
	m.sendIsrChanges(ctx)
	if len(sent) != 2 {
		t.Fatal("a refused proposal was sent again")
	}
	if r := m.Metrics(); r.IsrShrinks != 0 {
		t.Fatalf("a refused shrink counted: %+v", r)
	}
	// Accepted: the ISR shrinks and the high watermark no longer waits for the follower.
	answer = 0
	p.mu.Lock()
	p.maybeShrinkIsrLocked(1, caught.Add(31*time.Second), 30*time.Second)
	p.mu.Unlock()
	m.sendIsrChanges(ctx)
	if info := p.Info(); !slices.Equal(info.ISR, []int32{1}) || info.HighWatermark != 5 {
		t.Fatalf("after shrink: %+v", info)
	}
	// One partition led here, its ISR of one below its two replicas, at the default min.insync.replicas (1).
	want := metrics.Replicas{PartitionCount: 1, LeaderCount: 1, UnderReplicatedPartitions: 1, AtMinIsrPartitionCount: 1,
		IsrShrinks: 1, IsrExpands: 1}
	if r := m.Metrics(); r != want {
		t.Fatalf("metrics after shrink: %+v, want %+v", r, want)
	}
}

// TestFetcherID checks Kafka's spread of partitions over num.replica.fetchers fetchers (values worked out with
// Java's String.hashCode and int arithmetic).
func TestFetcherID(t *testing.T) {
	for _, tc := range []struct {
		topic     string
		partition int32
		n, want   int32
	}{{"t", 0, 3, 2}, {"topic", 0, 5, 3}, {"replicated", 1, 3, 0}, {"__consumer_offsets", 7, 4, 0}, {"topic", 0, 1, 0}} {
		if got := fetcherID(klog.TopicPartition{Topic: tc.topic, Partition: tc.partition}, tc.n); got != tc.want {
			t.Errorf("fetcher of %s-%d among %d: %d, want %d", tc.topic, tc.partition, tc.n, got, tc.want)
		}
	}
}
