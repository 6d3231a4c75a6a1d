package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func mustJoined(t *testing.T, j *joinResult) *kmsg.JoinGroupResponse {
	t.Helper()
	if j.r == nil {
		t.Fatal("join not answered")
	}
	if j.r.ErrorCode != 0 {
		t.Fatalf("join error %v", kerr.ErrorForCode(j.r.ErrorCode))
	}
	return j.r
}

// stableGroup brings two dynamic v3 members to Stable and returns their ids (a is the leader).
func stableGroup(t *testing.T, e *env) (a, b string, gen int32) {
	t.Helper()
	ja := e.join(3, "g", "", nil)
	jb := e.join(3, "g", "", nil)
	if ja.r != nil || jb.r != nil {
		t.Fatal("join answered before group.initial.rebalance.delay.ms")
	}
	if st := e.describe("g").State; st != "PreparingRebalance" {
		t.Fatalf("state %s", st)
	}
	e.advance(3000)
	if ja.r != nil {
		t.Fatal("a second member joining within the delay must extend it")
	}
	e.advance(3000)
	ra, rb := mustJoined(t, ja), mustJoined(t, jb)
	if ra.LeaderID != ra.MemberID || rb.LeaderID != ra.MemberID || len(ra.Members) != 2 || len(rb.Members) != 0 {
		t.Fatalf("leader/members wrong: %+v %+v", ra, rb)
	}
	if ra.Generation != 1 || *ra.Protocol != "range" {
		t.Fatalf("generation %d protocol %v", ra.Generation, ra.Protocol)
	}
	sb := e.sync("g", rb.MemberID, 1, nil, nil)
	if sb.r != nil {
		t.Fatal("follower sync answered before leader's")
	}
	sa := e.sync("g", ra.MemberID, 1, nil, map[string]string{ra.MemberID: "A", rb.MemberID: "B"})
	if sa.r == nil || sb.r == nil || string(sa.r.MemberAssignment) != "A" || string(sb.r.MemberAssignment) != "B" {
		t.Fatalf("sync answers %+v %+v", sa.r, sb.r)
	}
	if st := e.describe("g").State; st != "Stable" {
		t.Fatalf("state %s", st)
	}
	return ra.MemberID, rb.MemberID, 1
}

func TestJoinSyncHeartbeatRebalance(t *testing.T) {
	e := newEnv(t, nil)
	a, b, gen := stableGroup(t, e)
	if code := e.heartbeat("g", a, gen, nil); code != 0 {
		t.Fatalf("heartbeat %d", code)
	}
	if code := e.heartbeat("g", b, gen+5, nil); code != kerr.IllegalGeneration.Code {
		t.Fatalf("heartbeat bad gen %d", code)
	}
	if code := e.heartbeat("g", "nobody", gen, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("heartbeat unknown %d", code)
	}
	// A third member triggers a rebalance; the others learn it from heartbeats.
	jc := e.join(3, "g", "", nil)
	if code := e.heartbeat("g", a, gen, nil); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat during rebalance %d", code)
	}
	ja := e.join(3, "g", a, nil)
	if jc.r != nil || ja.r != nil {
		t.Fatal("completed before all members rejoined")
	}
	jb := e.join(3, "g", b, nil)
	// All members in: completes at once (not an initial delayed join).
	for _, j := range []*joinResult{ja, jb, jc} {
		if r := mustJoined(t, j); r.Generation != 2 || r.LeaderID != a {
			t.Fatalf("gen %d leader %s", r.Generation, r.LeaderID)
		}
	}
	if len(ja.r.Members) != 3 {
		t.Fatalf("leader got %d members", len(ja.r.Members))
	}
	// A sync with the old generation fails; a commit during CompletingRebalance is refused.
	if s := e.sync("g", b, 1, nil, nil); s.r.ErrorCode != kerr.IllegalGeneration.Code {
		t.Fatalf("old generation sync %d", s.r.ErrorCode)
	}
	if c := e.commit(7, "g", a, 2, map[string]int64{"t 0": 1}); c["t 0"] != kerr.RebalanceInProgress.Code {
		t.Fatalf("commit during CompletingRebalance %v", c)
	}
	// A join arriving while members wait for sync sends them REBALANCE_IN_PROGRESS.
	sb := e.sync("g", b, 2, nil, nil)
	e.join(3, "g", "", nil)
	if sb.r == nil || sb.r.ErrorCode != kerr.RebalanceInProgress.Code {
		t.Fatalf("pending sync not failed: %+v", sb.r)
	}
}

func TestMemberIDRequiredAndPendingExpiry(t *testing.T) {
	e := newEnv(t, nil)
	j := e.join(4, "g", "", nil)
	if j.r == nil || j.r.ErrorCode != kerr.MemberIDRequired.Code || j.r.MemberID != "client-id1" {
		t.Fatalf("want MEMBER_ID_REQUIRED with id, got %+v", j.r)
	}
	j2 := e.join(4, "g", j.r.MemberID, nil)
	e.advance(3000)
	if r := mustJoined(t, j2); r.MemberID != "client-id1" || r.LeaderID != "client-id1" {
		t.Fatalf("%+v", r)
	}
	// A pending member that never rejoins holds a rebalance only until its session timeout.
	sync := e.sync("g", "client-id1", 1, nil, map[string]string{"client-id1": "x"})
	if sync.r.ErrorCode != 0 {
		t.Fatal(sync.r.ErrorCode)
	}
	p := e.join(4, "g", "", nil) // pending id2
	if p.r.ErrorCode != kerr.MemberIDRequired.Code {
		t.Fatal(p.r.ErrorCode)
	}
	// An unknown member id is refused.
	if r := e.join(4, "g", "bogus", nil); r.r.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatal(r.r.ErrorCode)
	}
	// The session timeout check rejects out-of-range timeouts.
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 4
	req.Group, req.SessionTimeoutMillis, req.ProtocolType = "g", 10, "consumer"
	var code int16 = -1
	e.c.JoinGroup(req, "c", "h", func(r *kmsg.JoinGroupResponse) { code = r.ErrorCode })
	if code != kerr.InvalidSessionTimeout.Code {
		t.Fatal(code)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, nil)
	a, b, gen := stableGroup(t, e)
	for i := 0; i < 2; i++ {
		e.advance(4000)
		if code := e.heartbeat("g", a, gen, nil); code != 0 {
			t.Fatalf("heartbeat %d", code)
		}
	}
	e.advance(4000)
	// b has not heartbeated for 12s > 10s session timeout: removed, rebalance starts.
	d := e.describe("g")
	if d.State != "PreparingRebalance" || len(d.Members) != 1 || d.Members[0].MemberID != a {
		t.Fatalf("after expiry: %+v", d)
	}
	if code := e.heartbeat("g", b, gen, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("expired member heartbeat %d", code)
	}
	j := e.join(3, "g", a, nil)
	if r := mustJoined(t, j); r.Generation != 2 || len(r.Members) != 1 {
		t.Fatalf("%+v", r)
	}
	// After the join answer the session clock runs again: a member that neither syncs nor
	// heartbeats is removed, and the group, now without members, becomes Empty.
	e.advance(20000)
	if d := e.describe("g"); len(d.Members) != 0 || d.State != "Empty" {
		t.Fatalf("silent member kept: %+v", d)
	}
}

func TestRebalanceTimeoutDropsSilentMembers(t *testing.T) {
	e := newEnv(t, nil)
	a, b, gen := stableGroup(t, e)
	_ = gen
	ja := e.join(3, "g", a, nil) // leader rejoins, b keeps heartbeating but never rejoins
	for i := 0; i < 15; i++ {
		e.advance(4000)
		if ja.r != nil {
			break
		}
		e.heartbeat("g", b, 1, nil)
	}
	r := mustJoined(t, ja)
	if r.Generation != 2 || len(r.Members) != 1 {
		t.Fatalf("%+v", r)
	}
	if e.now-1_000_000 < 60000 {
		t.Fatalf("completed before rebalance timeout")
	}
}

func TestLeaveGroupBatchAndV0(t *testing.T) {
	e := newEnv(t, nil)
	a, b, _ := stableGroup(t, e)
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version = 3
	req.Group = "g"
	req.Members = []kmsg.LeaveGroupRequestMember{{MemberID: a}, {MemberID: "ghost"}, {MemberID: b}}
	resp := e.c.LeaveGroup(req)
	want := []int16{0, kerr.UnknownMemberID.Code, 0}
	for i, m := range resp.Members {
		if m.ErrorCode != want[i] {
			t.Fatalf("member %d: %d", i, m.ErrorCode)
		}
	}
	d := e.describe("g")
	if d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("%+v", d)
	}
	req0 := kmsg.NewPtrLeaveGroupRequest()
	req0.Group, req0.MemberID = "g", a
	if r := e.c.LeaveGroup(req0); r.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("v0 leave %d", r.ErrorCode)
	}
}

func TestStaticMembership(t *testing.T) {
	e := newEnv(t, nil)
	i1, i2 := str("i1"), str("i2")
	j1 := e.join(5, "g", "", i1)
	j2 := e.join(5, "g", "", i2)
	e.advance(6000)
	r1, r2 := mustJoined(t, j1), mustJoined(t, j2)
	if e.sync("g", r1.MemberID, 1, i1, map[string]string{r1.MemberID: "a1", r2.MemberID: "a2"}).r.ErrorCode != 0 {
		t.Fatal("sync")
	}
	// i2 restarts: joins with no member id, gets a new id and its old assignment; no rebalance.
	j2b := e.join(5, "g", "", i2)
	r2b := mustJoined(t, j2b)
	if r2b.MemberID == r2.MemberID || r2b.LeaderID != r1.MemberID || r2b.Generation != 1 {
		t.Fatalf("static rejoin %+v", r2b)
	}
	if st := e.describe("g").State; st != "Stable" {
		t.Fatalf("state %s", st)
	}
	if s := e.sync("g", r2b.MemberID, 1, i2, nil); string(s.r.MemberAssignment) != "a2" {
		t.Fatalf("assignment %q", s.r.MemberAssignment)
	}
	// The old incarnation is fenced everywhere.
	if code := e.heartbeat("g", r2.MemberID, 1, i2); code != kerr.FencedInstanceID.Code {
		t.Fatalf("heartbeat %d", code)
	}
	// Without an instance id the old id is simply unknown.
	if c := e.commit(7, "g", r2.MemberID, 1, map[string]int64{"t 0": 5}); c["t 0"] != kerr.UnknownMemberID.Code {
		t.Fatalf("commit by replaced member id: %v", c)
	}
	if s := e.sync("g", r2.MemberID, 1, i2, nil); s.r.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("sync %d", s.r.ErrorCode)
	}
	// Static members that do not rejoin are kept through a rebalance.
	ja := e.join(5, "g", r1.MemberID, i1, "range", "roundrobin") // protocol change by leader: rebalance
	for i := 0; i < 20 && ja.r == nil; i++ {
		e.advance(5000)
		e.heartbeat("g", r2b.MemberID, 1, i2)
	}
	r := mustJoined(t, ja)
	if r.Generation != 2 || len(r.Members) != 2 {
		t.Fatalf("static member dropped: %+v", r)
	}
	// Leave by instance id alone (admin removal).
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version = 4
	req.Group = "g"
	req.Members = []kmsg.LeaveGroupRequestMember{{InstanceID: i2}, {InstanceID: str("nope")}}
	resp := e.c.LeaveGroup(req)
	if resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("%+v", resp.Members)
	}
}

func TestCommitFetch(t *testing.T) {
	e := newEnv(t, nil)
	a, _, gen := stableGroup(t, e)
	if c := e.commit(7, "g", a, gen, map[string]int64{"t 0": 10, "t 1": 11, "u 0": 3}); c["t 0"]|c["t 1"]|c["u 0"] != 0 {
		t.Fatalf("commit %v", c)
	}
	if c := e.commit(7, "g", a, gen+1, map[string]int64{"t 0": 99}); c["t 0"] != kerr.IllegalGeneration.Code {
		t.Fatalf("commit bad gen %v", c)
	}
	if c := e.commit(7, "g", "x", gen, map[string]int64{"t 0": 99}); c["t 0"] != kerr.UnknownMemberID.Code {
		t.Fatalf("commit unknown member %v", c)
	}
	// Simple consumer: no group, generation -1.
	if c := e.commit(7, "simple", "", -1, map[string]int64{"t 0": 42}); c["t 0"] != 0 {
		t.Fatalf("simple commit %v", c)
	}
	if c := e.commit(7, "nogroup", "", 3, map[string]int64{"t 0": 42}); c["t 0"] != kerr.IllegalGeneration.Code {
		t.Fatalf("commit to missing group with generation %v", c)
	}
	got := e.fetchAll("g")
	if len(got) != 3 || got["t 0"] != 10 || got["t 1"] != 11 || got["u 0"] != 3 {
		t.Fatalf("fetch all %v", got)
	}
	if got := e.fetchAll("simple"); got["t 0"] != 42 {
		t.Fatalf("simple fetch %v", got)
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 5
	req.Group = "g"
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{1, 9}}}
	resp := e.c.OffsetFetch(req)
	p := resp.Topics[0].Partitions
	if p[0].Offset != 11 || p[0].LeaderEpoch != 7 || *p[0].Metadata != "md-t 1" || p[1].Offset != -1 || p[1].LeaderEpoch != -1 {
		t.Fatalf("listed fetch %+v", p)
	}
	// Not the coordinator for a partition it does not own.
	e.c.ResignCoordinator(0)
	if r := e.c.OffsetFetch(req); r.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("fetch after resign %d", r.ErrorCode)
	}
}

func TestOffsetsV0ZooKeeper(t *testing.T) {
	e := newEnv(t, nil)
	if c := e.commit(0, "zkg", "", -1, map[string]int64{"t 2": 17}); c["t 2"] != 0 {
		t.Fatalf("%v", c)
	}
	if e.zk["/consumers/zkg/offsets/t/2"] != 17 {
		t.Fatalf("zk %v", e.zk)
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = "zkg"
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{2, 3}}}
	p := e.c.OffsetFetch(req).Topics[0].Partitions
	// No offset in ZooKeeper is UNKNOWN_TOPIC_OR_PARTITION for v0 (Kafka 2.8 and 0.9 alike).
	if p[0].Offset != 17 || p[0].ErrorCode != 0 || p[1].Offset != -1 || p[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("%+v", p)
	}
	if len(e.log.parts[0]) != 0 {
		t.Fatal("v0 commit went to __consumer_offsets")
	}
}

func TestListDescribeDelete(t *testing.T) {
	e := newEnv(t, nil)
	a, _, gen := stableGroup(t, e)
	e.commit(7, "g", a, gen, map[string]int64{"t 0": 1})
	e.commit(7, "s", "", -1, map[string]int64{"t 0": 1})
	lg := e.c.ListGroups(kmsg.NewPtrListGroupsRequest())
	if len(lg.Groups) != 2 || lg.Groups[0].Group != "g" || lg.Groups[0].GroupState != "Stable" || lg.Groups[1].ProtocolType != "" {
		t.Fatalf("%+v", lg.Groups)
	}
	lr := kmsg.NewPtrListGroupsRequest()
	lr.StatesFilter = []string{"Empty"}
	if lg := e.c.ListGroups(lr); len(lg.Groups) != 1 || lg.Groups[0].Group != "s" {
		t.Fatalf("%+v", lg.Groups)
	}
	d := e.describe("g")
	if d.Protocol != "range" || d.ProtocolType != "consumer" || len(d.Members) != 2 || string(d.Members[0].MemberAssignment) != "A" {
		t.Fatalf("%+v", d)
	}
	if d := e.describe("missing"); d.State != "Dead" || d.ErrorCode != 0 {
		t.Fatalf("%+v", d)
	}
	dr := kmsg.NewPtrDeleteGroupsRequest()
	dr.Groups = []string{"g", "s", "missing"}
	res := e.c.DeleteGroups(dr).Groups
	if res[0].ErrorCode != kerr.NonEmptyGroup.Code || res[1].ErrorCode != 0 || res[2].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("%+v", res)
	}
	if got := e.fetchAll("s"); len(got) != 0 {
		t.Fatalf("offsets survive delete: %v", got)
	}
}

func TestOffsetsRetention(t *testing.T) {
	e := newEnv(t, nil)
	e.commit(7, "s", "", -1, map[string]int64{"t 0": 1})
	e.advance(3 * 24 * 3600 * 1000)
	e.commit(7, "s", "", -1, map[string]int64{"t 1": 2})
	e.advance(5 * 24 * 3600 * 1000) // t 0 is 8 days old, t 1 is 5 days old
	if got := e.fetchAll("s"); len(got) != 1 || got["t 1"] != 2 {
		t.Fatalf("after first expiry %v", got)
	}
	e.advance(3 * 24 * 3600 * 1000)
	if lg := e.c.ListGroups(kmsg.NewPtrListGroupsRequest()); len(lg.Groups) != 0 {
		t.Fatalf("empty group not removed: %+v", lg.Groups)
	}
	// A stable consumer group keeps offsets of subscribed topics however old.
	a, b, gen := stableGroup(t, e)
	e.commit(7, "g", a, gen, map[string]int64{"t 0": 1, "other 0": 2})
	for i := 0; i < 8*24*720; i++ {
		e.advance(5000)
		if e.heartbeat("g", a, gen, nil)|e.heartbeat("g", b, gen, nil) != 0 {
			t.Fatal("heartbeat failed")
		}
	}
	if got := e.fetchAll("g"); len(got) != 1 || got["t 0"] != 1 {
		t.Fatalf("stable group offsets %v", got)
	}
}
