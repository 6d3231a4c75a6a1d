package replica

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TestReadRegion checks the region read: the same leader checks and high watermark as Read, and the same bytes.
func TestReadRegion(t *testing.T) {
	m := newTestManager(t, 1)
	m.BecomeLeaderOrFollower(leaderAndIsr(1, 1, 0, []int32{1}, []int32{1}))
	for range 5 {
		if _, err := m.Append("t", 0, batch(50), -1); err != nil {
			t.Fatal(err)
		}
	}
	rp := ReadParams{Offset: 0, MaxBytes: 1 << 20, MinOneMessage: true, ReplicaID: -1, CurrentLeaderEpoch: -1}
	want, err := m.Read("t", 0, rp)
	if err != nil || len(want.Records) == 0 {
		t.Fatalf("read: %v", err)
	}
	res, r, err := m.ReadRegion("t", 0, rp, 2, 0)
	if err != nil || r == nil || res.HighWatermark != want.HighWatermark {
		t.Fatalf("region %v, %v", r, err)
	}
	got := make([]byte, r.Len)
	if _, err := r.File.ReadAt(got, r.Pos); err != nil {
		t.Fatal(err)
	}
	r.File.Close()
	if !bytes.Equal(got, want.Records) {
		t.Fatal("region differs from the read")
	}
	// Small reads come as bytes.
	res, r, err = m.ReadRegion("t", 0, rp, 2, len(want.Records)+1)
	if err != nil || r != nil || !bytes.Equal(res.Records, want.Records) {
		t.Fatalf("bytes: region %v, %v", r != nil, err)
	}
	rp.CurrentLeaderEpoch = 1
	if _, _, err := m.ReadRegion("t", 0, rp, 2, 0); err != kerr.UnknownLeaderEpoch {
		t.Fatalf("epoch check: %v", err)
	}
	if _, _, err := m.ReadRegion("u", 0, rp, 2, 0); err == nil {
		t.Fatal("unknown partition read")
	}
}
