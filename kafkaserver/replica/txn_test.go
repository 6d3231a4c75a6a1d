package replica

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// txnBatch builds a transactional producer's batch of n records (sequence 0, epoch 0), as a client sends it.
func txnBatch(pid int64, n int) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		r := kmsg.Record{OffsetDelta: int32(i), Value: []byte("t")}
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		recs = r.AppendTo(recs)
	}
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{Magic: 2, Attributes: 0x10, LastOffsetDelta: int32(n - 1), FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: pid, ProducerEpoch: 0, FirstSequence: 0, NumRecords: int32(n), Records: recs}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:12], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:21], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

func TestTxnMarkersAndReadCommitted(t *testing.T) {
	m := newTestManager(t, 1)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 0, []int32{1}, []int32{1}))
	mustAppend := func(b []byte) {
		t.Helper()
		if _, err := m.Append("t", 0, b, -1); err != nil {
			t.Fatal(err)
		}
	}
	mustAppend(batch(2))       // 0-1
	mustAppend(txnBatch(7, 2)) // 2-3
	mustAppend(txnBatch(8, 1)) // 4
	mustAppend(batch(1))       // 5

	committed := ReadParams{Offset: 0, MaxBytes: 1 << 20, MinOneMessage: true, ReplicaID: -1, CurrentLeaderEpoch: -1,
		ReadCommitted: true}
	uncommitted := committed
	uncommitted.ReadCommitted = false
	res, err := m.Read("t", 0, committed)
	if err != nil {
		t.Fatal(err)
	}
	if res.HighWatermark != 6 || res.LastStableOffset != 2 || res.AbortedTxns == nil || len(res.AbortedTxns) != 0 {
		t.Fatalf("open transactions: hw %d lso %d aborted %v", res.HighWatermark, res.LastStableOffset, res.AbortedTxns)
	}
	if n := countBatches(t, res.Records); n != 1 {
		t.Fatalf("read_committed got %d batches, want the one below the lso", n)
	}
	if res, err := m.Read("t", 0, uncommitted); err != nil || countBatches(t, res.Records) != 4 || res.AbortedTxns != nil {
		t.Fatalf("read_uncommitted: %v, aborted %v", err, res.AbortedTxns)
	}
	// A follower reads to the log end whatever it asks.
	follower := committed
	follower.ReplicaID = 2
	if res, err := m.Read("t", 0, follower); err != nil || res.AbortedTxns != nil {
		t.Fatalf("follower: %v, aborted %v", err, res.AbortedTxns)
	}
	if off, _, _, found, err := m.ListOffset("t", 0, klog.LatestTimestamp, -1, true, -1); err != nil || !found || off != 2 {
		t.Fatalf("latest read_committed: %d %v %v", off, found, err)
	}
	if off, _, _, _, err := m.ListOffset("t", 0, klog.LatestTimestamp, -1, false, -1); err != nil || off != 6 {
		t.Fatalf("latest read_uncommitted: %d %v", off, err)
	}
	// The debugging consumer (-2) has no isolation level: the log end, as for a follower.
	if off, _, _, _, err := m.ListOffset("t", 0, klog.LatestTimestamp, -2, true, -1); err != nil || off != 6 {
		t.Fatalf("latest for the debugging consumer: %d %v", off, err)
	}
	// A timestamp lookup finds nothing at or past the lso for read_committed.
	if _, _, _, found, err := m.ListOffset("t", 0, time.Now().Add(-time.Hour).UnixMilli(), -1, true, -1); err != nil || !found {
		t.Fatalf("old timestamp: %v %v", found, err)
	}

	// Abort 7, commit 8: with one replica the high watermark passes each marker at once.
	info, err := m.AppendTxnMarker("t", 0, 7, 0, 1, false)
	if err != nil || info.FirstOffset != 6 {
		t.Fatalf("abort marker %+v %v", info, err)
	}
	if res, _ := m.Read("t", 0, committed); res.LastStableOffset != 4 || res.HighWatermark != 7 {
		t.Fatalf("after the abort: lso %d hw %d", res.LastStableOffset, res.HighWatermark)
	}
	if _, err := m.AppendTxnMarker("t", 0, 8, 0, 1, true); err != nil {
		t.Fatal(err)
	}
	res, err = m.Read("t", 0, committed)
	if err != nil {
		t.Fatal(err)
	}
	if res.LastStableOffset != 8 || !slices.Equal(res.AbortedTxns, []klog.AbortedTxn{{ProducerID: 7, FirstOffset: 2}}) {
		t.Fatalf("after both markers: lso %d aborted %v", res.LastStableOffset, res.AbortedTxns)
	}
	if n := countBatches(t, res.Records); n != 6 {
		t.Fatalf("%d batches after the markers", n)
	}
	rres, r, err := m.ReadRegion("t", 0, committed, 2, 0)
	if err != nil || !slices.Equal(rres.AbortedTxns, res.AbortedTxns) {
		t.Fatalf("region read: aborted %v, %v", rres.AbortedTxns, err)
	}
	if r != nil {
		r.File.Close()
	}
	if off, _, _, _, err := m.ListOffset("t", 0, klog.LatestTimestamp, -1, true, -1); err != nil || off != 8 {
		t.Fatalf("latest read_committed after the markers: %d %v", off, err)
	}

	// Fencing: an older coordinator epoch, an older producer epoch.
	mustAppend(txnBatch(9, 1))
	if _, err := m.AppendTxnMarker("t", 0, 8, 0, 0, false); !errors.Is(err, klog.ErrTransactionCoordinatorFenced) {
		t.Fatalf("old coordinator epoch: %v", err)
	}
	if _, err := m.AppendTxnMarker("t", 0, 9, -1, 1, false); !errors.Is(err, klog.ErrInvalidProducerEpoch) {
		t.Fatalf("old producer epoch: %v", err)
	}
	if _, err := m.AppendTxnMarker("u", 0, 9, 0, 1, false); err != kerr.UnknownTopicOrPartition {
		t.Fatalf("unknown partition: %v", err)
	}
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 2, 1, []int32{2, 1}, []int32{2, 1}))
	if _, err := m.AppendTxnMarker("t", 0, 9, 0, 1, false); err != kerr.NotLeaderForPartition {
		t.Fatalf("follower: %v", err)
	}
}

// TestTxnMarkerWaitsForISR: a marker is an acks=all append: refused below min.insync.replicas, and the last stable
// offset moves only once the followers have it.
func TestTxnMarkerWaitsForISR(t *testing.T) {
	m := newTestManager(t, 2)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 0, []int32{1, 2}, []int32{1, 2}))
	if _, err := m.Append("t", 0, txnBatch(7, 2), 1); err != nil {
		t.Fatal(err)
	}
	follower := ReadParams{Offset: 2, MaxBytes: 1 << 20, ReplicaID: 2, CurrentLeaderEpoch: -1}
	if _, err := m.Read("t", 0, follower); err != nil {
		t.Fatal(err)
	}
	info, err := m.AppendTxnMarker("t", 0, 7, 0, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Partition("t", 0)
	if lso := p.Log().LastStableOffset(); lso != 0 {
		t.Fatalf("lso before the follower has the marker: %d", lso)
	}
	changed := m.Changed()
	follower.Offset = info.LastOffset + 1
	if _, err := m.Read("t", 0, follower); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed: // the long poll of a read_committed consumer wakes
	default:
		t.Fatal("no wake-up when the high watermark passed the marker")
	}
	if lso := p.Log().LastStableOffset(); lso != 3 {
		t.Fatalf("lso after replication: %d", lso)
	}
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 1, []int32{1}, []int32{1, 2}))
	if _, err := m.AppendTxnMarker("t", 0, 7, 0, 0, false); err != kerr.NotEnoughReplicas {
		t.Fatalf("below min.insync.replicas: %v", err)
	}
}

func countBatches(t *testing.T, p []byte) int {
	t.Helper()
	n := 0
	for len(p) > 0 {
		var b kmsg.RecordBatch
		if err := b.ReadFrom(p); err != nil {
			t.Fatal(err)
		}
		n++
		p = p[12+b.Length:]
	}
	return n
}

func TestAppendAsCoordinator(t *testing.T) {
	m := newTestManager(t, 1)
	if _, err := m.AppendAsCoordinator("t", 0, txnBatch(3, 1)); err != kerr.UnknownTopicOrPartition {
		t.Fatalf("unknown: %v", err)
	}
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 0, []int32{1}, []int32{1}))
	for want := int64(0); want < 2; want++ {
		if info, err := m.AppendAsCoordinator("t", 0, txnBatch(3, 1)); err != nil || info.FirstOffset != want {
			t.Fatalf("append %d: %+v %v", want, info, err)
		}
	}
	p, _ := m.Partition("t", 0)
	if hw, lso := p.Info().HighWatermark, p.Log().LastStableOffset(); hw != 2 || lso != 0 {
		t.Fatalf("hw %d lso %d", hw, lso)
	}
}
