package replica

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// batch builds one uncompressed v2 record batch with n records.
func batch(n int) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		r := kmsg.Record{OffsetDelta: int32(i), Value: []byte("v")}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the zero length prefix took one byte
		body := r.AppendTo(nil)
		recs = append(recs, body...)
	}
	b := kmsg.RecordBatch{
		Magic: 2, LastOffsetDelta: int32(n - 1), FirstTimestamp: time.Now().UnixMilli(), MaxTimestamp: time.Now().UnixMilli(),
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(n), Records: recs,
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:12], uint32(len(raw)-12))
	crc := crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli))
	binary.BigEndian.PutUint32(raw[17:21], crc)
	return raw
}

func newTestManager(t *testing.T, minISR int32) *Manager {
	t.Helper()
	logs, err := klog.OpenManager([]string{t.TempDir()}, 1, "cluster", klog.DefaultConfig(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logs.Close() })
	return NewManager(Config{BrokerID: 1, Logs: logs,
		TopicConfig:       func(string) (klog.Config, error) { return klog.DefaultConfig(), nil },
		MinInsyncReplicas: func(string) int32 { return minISR }})
}

func leaderAndIsr(ctrlEpoch, leader, leaderEpoch int32, isr, replicas []int32) *kmsg.LeaderAndISRRequest {
	req := kmsg.NewPtrLeaderAndISRRequest()
	req.Version, req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 5, 1, ctrlEpoch, -1
	ts := kmsg.NewLeaderAndISRRequestTopicState()
	ts.Topic, ts.TopicID = "t", [16]byte{1}
	ps := kmsg.NewLeaderAndISRRequestTopicPartition()
	ps.Topic, ps.Leader, ps.LeaderEpoch, ps.ISR, ps.Replicas, ps.IsNew = "t", leader, leaderEpoch, isr, replicas, true
	ts.PartitionStates = append(ts.PartitionStates, ps)
	req.TopicStates = append(req.TopicStates, ts)
	return req
}

func TestLeaderAndIsrFencing(t *testing.T) {
	m := newTestManager(t, 1)
	resp := m.BecomeLeaderOrFollower(leaderAndIsr(3, 1, 0, []int32{1}, []int32{1}))
	if resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != 0 || resp.Topics[0].TopicID != [16]byte{1} {
		t.Fatalf("leader: %+v", resp)
	}
	// Same leader epoch again: ignored with STALE_CONTROLLER_EPOCH, as Kafka 2.8.
	resp = m.BecomeLeaderOrFollower(leaderAndIsr(3, 1, 0, []int32{1}, []int32{1}))
	if ec := resp.Topics[0].Partitions[0].ErrorCode; ec != kerr.StaleControllerEpoch.Code {
		t.Fatalf("same epoch: %d", ec)
	}
	// An older controller is fenced as a whole.
	resp = m.BecomeLeaderOrFollower(leaderAndIsr(2, 1, 5, []int32{1}, []int32{1}))
	if resp.ErrorCode != kerr.StaleControllerEpoch.Code {
		t.Fatalf("old controller: %+v", resp)
	}
	// Not a replica here.
	resp = m.BecomeLeaderOrFollower(leaderAndIsr(3, 2, 1, []int32{2}, []int32{2}))
	if ec := resp.Topics[0].Partitions[0].ErrorCode; ec != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("not a replica: %d", ec)
	}
	if _, err := m.Append("t", 0, batch(2), 1); err != nil {
		t.Fatal(err)
	}
	// Client epochs are checked against the leader epoch.
	if _, err := m.Read("t", 0, ReadParams{Offset: 0, MaxBytes: 1 << 20, ReplicaID: -1, CurrentLeaderEpoch: 1}); err != kerr.UnknownLeaderEpoch {
		t.Fatalf("newer client epoch: %v", err)
	}
	// Becoming follower: produce and consumer reads are refused.
	m.BecomeLeaderOrFollower(leaderAndIsr(3, 2, 1, []int32{2, 1}, []int32{2, 1}))
	if _, err := m.Append("t", 0, batch(1), 1); err != kerr.NotLeaderForPartition {
		t.Fatalf("append on follower: %v", err)
	}
	if _, err := m.Read("t", 0, ReadParams{Offset: 0, MaxBytes: 1 << 20, ReplicaID: -1, CurrentLeaderEpoch: 0}); err != kerr.FencedLeaderEpoch {
		t.Fatalf("older client epoch: %v", err)
	}
	if _, err := m.Append("u", 0, batch(1), 1); err != kerr.UnknownTopicOrPartition {
		t.Fatalf("unknown: %v", err)
	}
}

func TestAcksAllWaitsForFollower(t *testing.T) {
	m := newTestManager(t, 2)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 0, []int32{1, 2}, []int32{1, 2}))
	info, err := m.Append("t", 0, batch(3), -1)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Partition("t", 0)
	if hw := p.Info().HighWatermark; hw != 0 {
		t.Fatalf("hw before follower fetch: %d", hw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.WaitReplicated(ctx, "t", 0, info.LastOffset+1) }()
	// Consumers see nothing above the high watermark.
	res, err := m.Read("t", 0, ReadParams{Offset: 0, MaxBytes: 1 << 20, ReplicaID: -1, CurrentLeaderEpoch: -1})
	if err != nil || len(res.Records) != 0 {
		t.Fatalf("consumer read below hw: %v %d bytes", err, len(res.Records))
	}
	// The follower reads to the log end, then fetches again at 3: the high watermark moves and acks=all completes.
	res, err = m.Read("t", 0, ReadParams{Offset: 0, MaxBytes: 1 << 20, ReplicaID: 2, CurrentLeaderEpoch: 0})
	if err != nil || len(res.Records) == 0 {
		t.Fatalf("follower read: %v", err)
	}
	if _, err := m.Read("t", 0, ReadParams{Offset: 3, MaxBytes: 1 << 20, ReplicaID: 2, CurrentLeaderEpoch: 0}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("wait: %v", err)
	}
	if hw := p.Info().HighWatermark; hw != 3 {
		t.Fatalf("hw after follower fetch: %d", hw)
	}
	// Fewer in-sync replicas than min.insync.replicas: refused before append.
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 1, []int32{1}, []int32{1, 2}))
	if _, err := m.Append("t", 0, batch(1), -1); err != kerr.NotEnoughReplicas {
		t.Fatalf("min isr: %v", err)
	}
	// acks=1 does not care.
	if _, err := m.Append("t", 0, batch(1), 1); err != nil {
		t.Fatal(err)
	}
	// A wait that cannot complete times out as REQUEST_TIMED_OUT.
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 2, []int32{1, 2}, []int32{1, 2}))
	info, _ = m.Append("t", 0, batch(1), -1)
	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if err := m.WaitReplicated(short, "t", 0, info.LastOffset+1); !errors.Is(err, kerr.RequestTimedOut) {
		t.Fatalf("timeout: %v", err)
	}
}

func TestStopReplicaAndCache(t *testing.T) {
	m := newTestManager(t, 1)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 0, []int32{1}, []int32{1}))
	um := kmsg.NewPtrUpdateMetadataRequest()
	um.Version, um.ControllerID, um.ControllerEpoch, um.BrokerEpoch = 7, 1, 1, -1
	lb := kmsg.NewUpdateMetadataRequestLiveBroker()
	lb.ID = 1
	ep := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
	ep.Host, ep.Port, ep.ListenerName = "h", 9092, "PLAINTEXT"
	lb.Endpoints = append(lb.Endpoints, ep)
	um.LiveBrokers = append(um.LiveBrokers, lb)
	ts := kmsg.NewUpdateMetadataRequestTopicState()
	ts.Topic = "t"
	ps := kmsg.NewUpdateMetadataRequestTopicPartition()
	ps.Leader, ps.ISR, ps.Replicas = 1, []int32{1}, []int32{1}
	ts.PartitionStates = append(ts.PartitionStates, ps)
	um.TopicStates = append(um.TopicStates, ts)
	if r := m.UpdateMetadata(um); r.ErrorCode != 0 {
		t.Fatalf("update metadata: %+v", r)
	}
	if !m.Cache().HasPartition("t", 0) || m.Cache().ControllerID() != 1 {
		t.Fatal("cache not updated")
	}
	sr := kmsg.NewPtrStopReplicaRequest()
	sr.Version, sr.ControllerID, sr.ControllerEpoch, sr.BrokerEpoch = 3, 1, 1, -1
	st := kmsg.NewStopReplicaRequestTopic()
	st.Topic = "t"
	sps := kmsg.NewStopReplicaRequestTopicPartitionState()
	sps.LeaderEpoch, sps.Delete = -2, true
	st.PartitionStates = append(st.PartitionStates, sps)
	sr.Topics = append(sr.Topics, st)
	if r := m.StopReplicas(sr); r.ErrorCode != 0 || r.Partitions[0].ErrorCode != 0 {
		t.Fatalf("stop replica: %+v", r)
	}
	if _, ok := m.cfg.Logs.Get("t", 0); ok {
		t.Fatal("log not deleted")
	}
	// Known to the cluster but not hosted here: NOT_LEADER_OR_FOLLOWER.
	if _, err := m.Append("t", 0, batch(1), 1); err != kerr.NotLeaderForPartition {
		t.Fatalf("after stop: %v", err)
	}
	um.TopicStates[0].PartitionStates[0].Leader = LeaderDuringDelete
	m.UpdateMetadata(um)
	if _, ok := m.Cache().Topic("t"); ok {
		t.Fatal("deleted topic still cached")
	}
	if _, err := m.Append("t", 0, batch(1), 1); err != kerr.UnknownTopicOrPartition {
		t.Fatalf("after delete: %v", err)
	}
}

// TestDivergingEpoch checks the leader's answer to a follower's last fetched epoch (Fetch v12+, Partition.readRecords):
// no records and the epoch and end offset to truncate to where the leader's log does not continue the follower's,
// out of range for an epoch it cannot place, a normal read otherwise; a diverging fetch does not count as the
// follower's position.
func TestDivergingEpoch(t *testing.T) {
	m := newTestManager(t, 1)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 1, []int32{1, 2}, []int32{1, 2}))
	if _, err := m.Append("t", 0, batch(3), 1); err != nil { // offsets 0-2 in epoch 1
		t.Fatal(err)
	}
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 3, []int32{1, 2}, []int32{1, 2}))
	if _, err := m.Append("t", 0, batch(2), 1); err != nil { // offsets 3-4 in epoch 3
		t.Fatal(err)
	}
	p, _ := m.Partition("t", 0)
	read := func(offset int64, lastFetched int32) (ReadResult, error) {
		return m.Read("t", 0, ReadParams{Offset: offset, MaxBytes: 1 << 20, ReplicaID: 2, CurrentLeaderEpoch: 3, LastFetchedEpoch: &lastFetched})
	}
	for _, tc := range []struct {
		offset      int64
		lastFetched int32
		want        *EpochEndOffset
	}{
		{4, 2, &EpochEndOffset{1, 3}}, // epoch 2 is not the leader's: epoch 1 ends at 3
		{5, 1, &EpochEndOffset{1, 3}}, // the follower has more of epoch 1 than the leader
		{6, 3, &EpochEndOffset{3, 5}}, // past the leader's end in its latest epoch
	} {
		res, err := read(tc.offset, tc.lastFetched)
		if err != nil || res.Diverging == nil || *res.Diverging != *tc.want || len(res.Records) != 0 {
			t.Fatalf("fetch at %d after epoch %d: %+v, %v; want diverging %+v", tc.offset, tc.lastFetched, res.Diverging, err, tc.want)
		}
		if res.HighWatermark != 0 || res.LogEndOffset != 5 {
			t.Fatalf("diverging answer's offsets: hw %d, end %d", res.HighWatermark, res.LogEndOffset)
		}
	}
	if hw := p.Info().HighWatermark; hw != 0 {
		t.Fatalf("a diverging fetch moved the high watermark to %d", hw)
	}
	if _, err := read(3, 7); !errors.Is(err, klog.ErrOffsetOutOfRange) {
		t.Fatalf("an epoch the leader cannot place: %v", err)
	}
	// Logs that agree: records as usual, and the follower's position counts.
	res, err := read(3, 1)
	if err != nil || res.Diverging != nil || len(res.Records) == 0 {
		t.Fatalf("fetch at 3 after epoch 1: %+v, %v, %d bytes", res.Diverging, err, len(res.Records))
	}
	if _, err := read(5, 3); err != nil {
		t.Fatal(err)
	}
	if hw := p.Info().HighWatermark; hw != 5 {
		t.Fatalf("high watermark after the follower reached 5: %d", hw)
	}
}
