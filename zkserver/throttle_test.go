package zkserver

import (
	"testing"

	"github.com/zkafka/zkafka/compat/zoocfg"
)

// globalOutstandingLimit is split among the voters on a follower or leader of more than two voters, whole
// elsewhere (FollowerZooKeeperServer / LeaderZooKeeperServer.getGlobalOutstandingLimit).
func TestOutstandingLimitByRole(t *testing.T) {
	limit := 90
	voters := func(n int) map[int64]bool {
		m := map[int64]bool{}
		for i := range n {
			m[int64(i+1)] = true
		}
		return m
	}
	for _, c := range []struct {
		limit  *int
		voters int // 0: standalone
		state  string
		want   int
	}{
		{nil, 0, "standalone", 1000},
		{&limit, 0, "standalone", 90},
		{&limit, 3, "follower", 45},
		{&limit, 3, "leader", 45},
		{&limit, 4, "follower", 30},
		{&limit, 2, "follower", 90},
		{&limit, 3, "observer", 90},
		{&limit, 3, "read-only", 90},
		{&limit, 3, "looking", 90},
	} {
		s := &Server{cfg: Config{GlobalOutstandingLimit: c.limit}}
		if c.voters > 0 {
			s.cfg.Quorum = &QuorumConfig{Voters: voters(c.voters)}
		}
		s.state.Store(c.state)
		if got := s.outstandingLimit(); got != c.want {
			t.Errorf("%d voters, %s: limit %d, want %d", c.voters, c.state, got, c.want)
		}
	}
}

func TestOutstandingLimitFromZooCfg(t *testing.T) {
	zc := &zoocfg.Config{GlobalOutstandingLimit: 77, ClientPort: 2181}
	if cfg := ConfigFromZooCfg(zc, nil); cfg.GlobalOutstandingLimit == nil || *cfg.GlobalOutstandingLimit != 77 {
		t.Fatalf("globalOutstandingLimit=77 gave %v", cfg.GlobalOutstandingLimit)
	}
}
