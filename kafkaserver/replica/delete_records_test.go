package replica

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// aliveBrokers tells the metadata cache that these brokers are alive and that topic "t" has one partition.
func aliveBrokers(m *Manager, ids ...int32) {
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.Version, req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 7, 1, 1, -1
	for _, id := range ids {
		b := kmsg.NewUpdateMetadataRequestLiveBroker()
		b.ID = id
		e := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
		e.Host, e.Port, e.ListenerName, e.SecurityProtocol = "127.0.0.1", 9092+id, "PLAINTEXT", 0
		b.Endpoints = append(b.Endpoints, e)
		req.LiveBrokers = append(req.LiveBrokers, b)
	}
	ts := kmsg.NewUpdateMetadataRequestTopicState()
	ts.Topic = "t"
	ps := kmsg.NewUpdateMetadataRequestTopicPartition()
	ps.Topic, ps.Leader, ps.LeaderEpoch, ps.ISR, ps.Replicas = "t", 1, 1, ids, ids
	ts.PartitionStates = append(ts.PartitionStates, ps)
	req.TopicStates = append(req.TopicStates, ts)
	m.UpdateMetadata(req)
}

func TestDeleteRecordsSingleReplica(t *testing.T) {
	m := newTestManager(t, 1)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 1, []int32{1}, []int32{1}))
	aliveBrokers(m, 1)
	for i := 0; i < 4; i++ {
		if _, err := m.Append("t", 0, batch(5), -1); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := m.DeleteRecords("t", 0, 21); !errors.Is(err, klog.ErrOffsetOutOfRange) {
		t.Fatalf("past the high watermark: %v", err)
	}
	if _, _, err := m.DeleteRecords("t", 0, -2); !errors.Is(err, klog.ErrOffsetOutOfRange) {
		t.Fatalf("negative offset: %v", err)
	}
	req, lw, err := m.DeleteRecords("t", 0, 12)
	if err != nil || req != 12 || lw != 12 {
		t.Fatalf("delete to 12: %d %d %v", req, lw, err)
	}
	// Lower than the current start: nothing moves, the answer is the current low watermark.
	if req, lw, err := m.DeleteRecords("t", 0, 3); err != nil || req != 3 || lw != 12 {
		t.Fatalf("delete to 3: %d %d %v", req, lw, err)
	}
	if lw, err := m.WaitLowWatermark(context.Background(), "t", 0, 3); err != nil || lw != 12 {
		t.Fatalf("wait: %d %v", lw, err)
	}
	req, lw, err = m.DeleteRecords("t", 0, -1) // the high watermark
	if err != nil || req != 20 || lw != 20 {
		t.Fatalf("delete to hw: %d %d %v", req, lw, err)
	}
	if off, _, _, _, err := m.ListOffset("t", 0, klog.EarliestTimestamp, -1, false, -1); err != nil || off != 20 {
		t.Fatalf("earliest %d %v", off, err)
	}
	if _, err := m.Read("t", 0, ReadParams{Offset: 19, MaxBytes: 1 << 20, ReplicaID: -1, CurrentLeaderEpoch: -1}); !errors.Is(err, klog.ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}

	if _, _, err := m.DeleteRecords("nope", 0, 1); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("unknown: %v", err)
	}
	if _, _, err := m.DeleteRecords(GroupMetadataTopic, 0, 1); !errors.Is(err, kerr.InvalidTopicException) {
		t.Fatalf("internal: %v", err)
	}
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 2, 2, []int32{2, 1}, []int32{2, 1}))
	if _, _, err := m.DeleteRecords("t", 0, 20); !errors.Is(err, kerr.NotLeaderForPartition) {
		t.Fatalf("follower: %v", err)
	}
}

func TestDeleteRecordsPolicy(t *testing.T) {
	m := newTestManager(t, 1)
	m.cfg.TopicConfig = func(string) (klog.Config, error) {
		c := klog.DefaultConfig()
		c.CleanupPolicy = "compact"
		return c, nil
	}
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 1, []int32{1}, []int32{1}))
	if _, _, err := m.DeleteRecords("t", 0, 0); !errors.Is(err, kerr.PolicyViolation) {
		t.Fatalf("compacted topic: %v", err)
	}
}

// With a live follower the answer waits until the follower's reported log start reaches the offset; a dead
// follower does not count.
func TestDeleteRecordsWaitsForFollowers(t *testing.T) {
	m := newTestManager(t, 1)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 1, []int32{1, 2}, []int32{1, 2}))
	aliveBrokers(m, 1, 2)
	if _, err := m.Append("t", 0, batch(10), 1); err != nil {
		t.Fatal(err)
	}
	m.Read("t", 0, ReadParams{Offset: 10, MaxBytes: 1 << 20, ReplicaID: 2, CurrentLeaderEpoch: -1}) // HW -> 10
	req, lw, err := m.DeleteRecords("t", 0, 6)
	if err != nil || req != 6 || lw != -1 {
		t.Fatalf("delete: %d %d %v", req, lw, err)
	}
	// Already past its deadline: one look, then REQUEST_TIMED_OUT with the low watermark seen.
	expired, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	if lw, err := m.WaitLowWatermark(expired, "t", 0, 6); !errors.Is(err, kerr.RequestTimedOut) || lw != -1 {
		t.Fatalf("expired wait: %d %v", lw, err)
	}

	done := make(chan error, 1)
	var got int64
	go func() {
		var err error
		got, err = m.WaitLowWatermark(context.Background(), "t", 0, 6)
		done <- err
	}()
	m.UpdateFollowerLogStart("t", 0, 2, 4)
	select {
	case err := <-done:
		t.Fatalf("returned before the follower caught up: %d %v", got, err)
	case <-time.After(50 * time.Millisecond):
	}
	m.UpdateFollowerLogStart("t", 0, 2, 8)
	if err := <-done; err != nil || got != 6 {
		t.Fatalf("after follower: %d %v", got, err)
	}

	aliveBrokers(m, 1) // broker 2 died
	if _, lw, err := m.DeleteRecords("t", 0, 10); err != nil || lw != 10 {
		t.Fatalf("dead follower: %d %v", lw, err)
	}
	// A new leader epoch forgets what followers reported before it.
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 2, []int32{1, 2}, []int32{1, 2}))
	aliveBrokers(m, 1, 2)
	if lw, err := m.LowWatermark("t", 0); err != nil || lw != -1 {
		t.Fatalf("new epoch: %d %v", lw, err)
	}
	// Losing leadership ends a wait with NOT_LEADER_OR_FOLLOWER.
	go func() {
		_, err := m.WaitLowWatermark(context.Background(), "t", 0, 10)
		done <- err
	}()
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 2, 3, []int32{2, 1}, []int32{2, 1}))
	if err := <-done; !errors.Is(err, kerr.NotLeaderForPartition) {
		t.Fatalf("after leader change: %v", err)
	}
}

func TestEndOffsetForEpochFencing(t *testing.T) {
	m := newTestManager(t, 1)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 3, []int32{1}, []int32{1}))
	aliveBrokers(m, 1)
	m.Append("t", 0, batch(4), 1) // epoch 3 starts at 0
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 5, []int32{1}, []int32{1}))
	m.Append("t", 0, batch(2), 1) // epoch 5 starts at 4
	for _, cs := range []struct {
		current, req int32
		e            int32
		off          int64
		err          error
	}{
		{-1, 5, 5, 6, nil}, {5, 3, 3, 4, nil}, {5, 4, 3, 4, nil}, {-1, 1, 1, 0, nil}, {-1, 6, -1, -1, nil},
		{-1, -1, -1, -1, nil}, {4, 3, -1, -1, kerr.FencedLeaderEpoch}, {6, 3, -1, -1, kerr.UnknownLeaderEpoch},
	} {
		e, off, err := m.EndOffsetForEpoch("t", 0, cs.current, cs.req)
		if e != cs.e || off != cs.off || !errors.Is(err, cs.err) {
			t.Errorf("current %d epoch %d: %d %d %v", cs.current, cs.req, e, off, err)
		}
	}
	if _, _, err := m.EndOffsetForEpoch("nope", 0, -1, 1); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("unknown: %v", err)
	}
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 2, 6, []int32{2, 1}, []int32{2, 1}))
	if _, _, err := m.EndOffsetForEpoch("t", 0, -1, 5); !errors.Is(err, kerr.NotLeaderForPartition) {
		t.Fatalf("follower: %v", err)
	}
}

func TestDescribeLogDirsLag(t *testing.T) {
	m := newTestManager(t, 1)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 1, []int32{1}, []int32{1}))
	m.Append("t", 0, batch(3), 1)
	if _, err := m.cfg.Logs.GetOrCreate("other", 0, [16]byte{}, klog.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	dirs := m.DescribeLogDirs()
	if len(dirs) != 1 || len(dirs[0].Logs) != 2 {
		t.Fatalf("%+v", dirs)
	}
	other, tl := dirs[0].Logs[0], dirs[0].Logs[1]
	if other.TP.Topic != "other" || other.OffsetLag != -1 || other.Size != 0 {
		t.Fatalf("unhosted log %+v", other)
	}
	if tl.TP.Topic != "t" || tl.OffsetLag != 0 || tl.Size != int64(len(batch(3))) {
		t.Fatalf("hosted log %+v", tl)
	}
}
