package election

import (
	"slices"
	"testing"
	"time"
)

// Notifications that arrive before the first round are kept and counted in it (Apache queues them until
// lookForLeader polls), not dropped and not a crash.
func TestNotificationsBeforeFirstRound(t *testing.T) {
	now := time.Unix(0, 0)
	e := New(Config{MyID: 1, Verifier: NewMajority([]int64{1, 2, 3}), ConfigText: []byte("version=0")})
	for _, from := range []int64{2, 3} {
		if out := e.Receive(from, Notification{State: Looking, Leader: 3, Zxid: 5, ElectionEpoch: 1, Version: 2},
			now); len(out) != 0 {
			t.Fatalf("answered before looking: %+v", out)
		}
	}
	out := e.Look(0, 0, now)
	// It proposed itself to 2 and 3, then adopted server 3's better vote and told them.
	if len(out) != 4 || out[2].Notification.Leader != 3 {
		t.Fatalf("sent %+v", out)
	}
	e.Tick(now.Add(DefaultFinalizeWait))
	if v, ok := e.Decided(); !ok || v.Leader != 3 || e.State() != Following {
		t.Fatalf("decided %+v %v %v", v, ok, e.State())
	}
}

// A leader a committed reconfig designated is taken without a round; looking peers are answered with it, its
// epochs -1 as Apache's Vote(id, zxid) has them.
func TestDesignate(t *testing.T) {
	now := time.Unix(0, 0)
	e := New(Config{MyID: 1, Verifier: NewMajority([]int64{1, 2, 3}), ConfigText: []byte("version=0")})
	e.Look(0, 0, now)
	e.Receive(2, Notification{State: Looking, Leader: 3, Zxid: 5, ElectionEpoch: 1, Version: 2}, now)
	e.Receive(3, Notification{State: Looking, Leader: 3, Zxid: 5, ElectionEpoch: 1, Version: 2}, now)
	e.Tick(now.Add(DefaultFinalizeWait))
	if v, ok := e.Decided(); !ok || v.Leader != 3 {
		t.Fatalf("decided %+v %v", v, ok)
	}
	for leader, state := range map[int64]State{2: Following, 1: Leading} {
		v := e.Designate(leader, 9)
		if got, ok := e.Decided(); !ok || got != v || v.Leader != leader || v.Zxid != 9 || v.ElectionEpoch != -1 ||
			v.PeerEpoch != -1 || e.State() != state {
			t.Fatalf("designated %d: %+v (decided %+v %v), state %v", leader, v, got, ok, e.State())
		}
		out := e.Receive(3, Notification{State: Looking, Leader: 3, Zxid: 5, ElectionEpoch: 2, Version: 2}, now)
		if len(out) != 1 || out[0].Notification.Leader != leader || out[0].Notification.State != state {
			t.Fatalf("answer to a looking peer: %+v", out)
		}
	}
}

// While a proposed config is pending, a round needs a quorum of it as well as of the active config, and its voters
// get our notifications (FastLeaderElection's getVoteTracker and getCurrentAndNextConfigVoters).
func TestLastSeenConfigQuorum(t *testing.T) {
	now := time.Unix(0, 0)
	e := New(Config{MyID: 1, Verifier: NewMajority([]int64{1, 2, 3}), ConfigText: []byte("version=0")})
	e.SetLastSeen(NewMajority([]int64{1, 4, 5}), 1)
	out := e.Look(0, 0, now)
	var to []int64
	for _, m := range out {
		to = append(to, m.To)
	}
	if !slices.Equal(to, []int64{2, 3, 4, 5}) {
		t.Fatalf("notified %v, want the voters of both configs", to)
	}
	vote := Notification{State: Looking, Leader: 2, Zxid: 5, ElectionEpoch: 1, Version: 2}
	e.Receive(2, vote, now)
	e.Receive(3, vote, now)
	e.Tick(now.Add(DefaultFinalizeWait))
	if _, ok := e.Decided(); ok {
		t.Fatal("decided on a quorum of the active config alone")
	}
	e.Receive(4, vote, now)
	e.Tick(now.Add(2 * DefaultFinalizeWait))
	if v, ok := e.Decided(); !ok || v.Leader != 2 {
		t.Fatalf("with a quorum of both: decided %+v %v", v, ok)
	}
	// Once a config of its version is active, it is no second config any more; an older one is never taken.
	e.Reconfigure(NewMajority([]int64{1, 4, 5}), []byte("version=1"), false)
	if e.lastSeen != nil {
		t.Fatal("the activated config still pending")
	}
	if e.SetLastSeen(NewMajority([]int64{1, 2}), 1); e.lastSeen != nil {
		t.Fatal("a config no newer than the active one taken as pending")
	}
}

// A notification carrying a newer config with other members is adopted and restarts the election, as Apache
// shuts its election down and starts a new one: the logical clock starts over, the notification is dropped, and
// the new round proposes ourselves to the new voters. The old round's vote for a server the new config makes an
// observer would otherwise hold the election forever. Same members: the round goes on.
func TestAdoptedConfigRestartsElection(t *testing.T) {
	now := time.Unix(0, 0)
	var e *Election
	adopt := func(text []byte) bool {
		v, _ := ConfigTextVersion(string(text))
		voters := []int64{1, 2}
		if v == 2 {
			voters = []int64{1, 2, 3}
		}
		e.Reconfigure(NewMajority(voters), text, false)
		return v != 2
	}
	e = New(Config{MyID: 1, Verifier: NewMajority([]int64{1, 2, 3}), ConfigText: []byte("version=0"), AdoptConfig: adopt})
	e.Look(0x100000004, 1, now)
	// Server 2 is in a later round and votes for 3: we take both.
	e.Receive(2, Notification{State: Looking, Leader: 3, Zxid: 0x100000005, ElectionEpoch: 3, PeerEpoch: 1,
		Version: 2, Config: []byte("version=0")}, now)
	if e.LogicalClock() != 3 || e.proposal.Leader != 3 {
		t.Fatalf("before: clock %d, proposal %+v", e.LogicalClock(), e.proposal)
	}
	// Version 1 makes server 3 an observer.
	out := e.Receive(2, Notification{State: Looking, Leader: 3, Zxid: 0x100000005, ElectionEpoch: 3, PeerEpoch: 1,
		Version: 2, Config: []byte("version=1")}, now)
	if e.LogicalClock() != 1 || e.proposal.Leader != 1 || e.State() != Looking {
		t.Fatalf("after the adoption: clock %d, proposal %+v, state %v", e.LogicalClock(), e.proposal, e.State())
	}
	if len(out) != 1 || out[0].To != 2 || out[0].Notification.Leader != 1 || out[0].Notification.ElectionEpoch != 1 ||
		string(out[0].Notification.Config) != "version=1" {
		t.Fatalf("sent %+v, want our own vote to server 2 in round 1", out)
	}
	// Version 2 has the members of version 1 (as adopt reports): adopted, and the round goes on.
	e.Receive(2, Notification{State: Looking, Leader: 2, Zxid: 0x100000009, ElectionEpoch: 1, PeerEpoch: 1,
		Version: 2, Config: []byte("version=2")}, now)
	if e.LogicalClock() != 1 || e.proposal.Leader != 2 {
		t.Fatalf("same members: clock %d, proposal %+v", e.LogicalClock(), e.proposal)
	}
}

// Leading, a LOOKING notification from a voter of the configs of the round that elected us (the pending one too)
// is reported to VoterLooking; one from a server voting in only one of them, a settled server's, or any while we
// follow or lead by designation is not.
func TestVoterLookingWhileLeading(t *testing.T) {
	now := time.Unix(0, 0)
	var reported []int64
	e := New(Config{MyID: 3, Verifier: NewMajority([]int64{1, 2, 3, 4}), ConfigText: []byte("version=0"),
		VoterLooking: func(sid int64) { reported = append(reported, sid) }})
	e.SetLastSeen(NewMajority([]int64{1, 3, 4, 5}), 1)
	e.Look(0, 0, now)
	vote := Notification{State: Looking, Leader: 3, Zxid: 0, ElectionEpoch: 1, Version: 2}
	for _, from := range []int64{1, 4} {
		e.Receive(from, vote, now)
	}
	e.Tick(now.Add(DefaultFinalizeWait))
	if e.State() != Leading {
		t.Fatalf("state %v", e.State())
	}
	looking := Notification{State: Looking, Leader: 1, Zxid: 0, ElectionEpoch: 2, Version: 2}
	for _, from := range []int64{1, 2, 5, 4} {
		if out := e.Receive(from, looking, now); len(out) != 1 || out[0].Notification.State != Leading {
			t.Fatalf("answer to %d: %+v", from, out)
		}
	}
	e.Receive(4, Notification{State: Following, Leader: 3, ElectionEpoch: 1, Version: 2}, now)
	if !slices.Equal(reported, []int64{1, 4}) {
		t.Fatalf("reported %v, want 1 and 4 (voters of both configs)", reported)
	}
	reported = nil
	e.Designate(3, 9)
	e.Receive(1, looking, now)
	e.Designate(2, 9)
	e.Receive(1, looking, now)
	if len(reported) != 0 {
		t.Fatalf("reported %v leading by designation and following", reported)
	}
}
