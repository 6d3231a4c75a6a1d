package zab

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"github.com/zkafka/zkafka/zkserver/tree"
)

// The fuzz seeds are valid streams: a learner reads them to the end without an error.
func TestLearnerStreamSeedsAreValid(t *testing.T) {
	for _, snap := range []bool{false, true} {
		r := bufio.NewReader(bytes.NewReader(learnerStream(t, snap)))
		l := NewLearner(LearnerConfig{MyID: 2})
		l.Start()
		tr := tree.New(nil)
		n := 0
		for {
			p, err := ReadPacket(r, fuzzMaxData)
			if err != nil {
				break
			}
			n++
			rd, err := l.Step(p)
			if errors.Is(err, ErrNeedSnapshot) {
				body, err := ReadSnapshotStream(r, fuzzMaxData)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := LoadSnapshot(body, tr); err != nil {
					t.Fatal(err)
				}
				l.SnapshotLoaded(p.Zxid)
				continue
			}
			if err != nil {
				t.Fatalf("snap=%v packet %d %s: %v", snap, n, p, err)
			}
			if err := useReady(tr, rd); err != nil {
				t.Fatalf("snap=%v packet %d %s: %v", snap, n, p, err)
			}
		}
		if n != 14 || tr.Node("/a") == nil {
			t.Fatalf("snap=%v: %d packets, /a %v", snap, n, tr.Node("/a"))
		}
	}
}

// The leader seed takes a follower from FOLLOWERINFO to forwarding requests, with no connection closed.
func TestLeaderStreamSeedIsValid(t *testing.T) {
	cfg := LeaderConfig{MyID: 1, Quorum: votersOf{1, 2, 3}, AcceptedEpoch: 1, CurrentEpoch: 1, LastZxid: 1<<32 | 5,
		CommittedLog: txnsBetween(1, 1, 5), TickTime: 100, InitLimit: 10, SyncLimit: 5,
		ConfigData: []byte(fuzzConfig), CommittedLogMax: 500}
	l := Lead(cfg, 1000)
	l.Start()
	r := bufio.NewReader(bytes.NewReader(leaderStream()))
	var reqs, touches, reval int
	for {
		p, err := ReadPacket(r, fuzzMaxData)
		if err != nil {
			break
		}
		rd := l.Step(1, p, 1000)
		if len(rd.Close) > 0 || rd.Shutdown != nil {
			t.Fatalf("%s: closed %v shutdown %v", p, rd.Close, rd.Shutdown)
		}
		reqs += len(rd.Requests)
		touches += len(rd.Touches)
		reval += len(rd.Revalidate)
	}
	if reqs != 1 || touches != 2 || reval != 1 {
		t.Fatalf("requests %d touches %d revalidations %d", reqs, touches, reval)
	}
}
