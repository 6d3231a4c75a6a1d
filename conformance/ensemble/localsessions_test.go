package ensemble

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/conformance/internal/zkwire"
	"github.com/zkafka/zkafka/jute"
)

// Local sessions (localSessionsEnabled=true) outside read-only mode, with and without localSessionsUpgradingEnabled,
// in one ensemble of Apache's servers 1 and 2 and ours, server 3, with observers 4 (Apache's) and 5 (ours). First
// Apache's server 2 leads: the same script of session operations runs against Apache's follower (1), ours as a
// follower, both observers and Apache's leader. Then Apache's leader stops, ours is elected, and the script runs
// against ours as the leader and against Apache's follower under ours. Each run is recorded (session ids' server byte, errors, how many txns each step made, the leader's and the
// server's mntr session gauges, reconnects elsewhere, closes, an expiry) and compared with Apache's in the same role.
func TestLocalSessions(t *testing.T) {
	harness.EnsureZKServer(t)
	for _, upgrading := range []bool{false, true} {
		t.Run("upgrading="+strconv.FormatBool(upgrading), func(t *testing.T) { localSessionsEnsemble(t, upgrading) })
	}
}

func localSessionsEnsemble(t *testing.T, upgrading bool) {
	en := newEnsemble(t)
	en.addObserver(t, 4)
	en.addObserver(t, 5)
	for id := range en.members {
		en.extra[id] = map[string]string{"localSessionsEnabled": "true",
			"localSessionsUpgradingEnabled": strconv.FormatBool(upgrading)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	// Two empty Apache servers elect server 2; ours joins them and follows.
	a1, a2 := en.startApache(t, 1), en.startApache(t, 2)
	waitServing(t, ctx, a1, a2)
	ours := en.start(t, harness.ZKServer, 3, "")
	waitServing(t, ctx, ours)
	if m1, m2, m3 := mode(t, a1), mode(t, a2), mode(t, ours); m1 != "follower" || m2 != "leader" || m3 != "follower" {
		t.Fatalf("modes: 1 %s, 2 %s, ours %s", m1, m2, m3)
	}
	ao, oo := en.startApache(t, 4), en.start(t, harness.ZKServer, 5, "")
	waitServing(t, ctx, ao, oo)
	if m4, m5 := mode(t, ao), mode(t, oo); m4 != "observer" || m5 != "observer" {
		t.Fatalf("modes: Apache's observer %s, ours %s", m4, m5)
	}
	script := func(target *harness.Server, targetID int64, leader, other *harness.Server, tag string) []string {
		out := localSessionScript(t, ctx, target, targetID, leader, other, tag)
		t.Logf("%s:\n%s", tag, strings.Join(out, "\n"))
		return out
	}
	apacheFollower := script(a1, 1, a2, ours, "af")
	oursFollower := script(ours, 3, a2, a1, "of")
	apacheObserver := script(ao, 4, a2, a1, "ab")
	oursObserver := script(oo, 5, a2, a1, "ob")
	apacheLeader := script(a2, 2, a2, a1, "al")
	for _, s := range []*harness.Server{ao, oo} {
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
	}

	// Apache's leader stops: servers 1 and 3 (the same history, the higher id) elect ours; server 2 returns and
	// follows it.
	if err := a2.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually2(t, ctx, "ours leading", func() error {
		if m1, m3 := mode(t, a1), mode(t, ours); m1 != "follower" || m3 != "leader" {
			return fmt.Errorf("modes: 1 %s, ours %s", m1, m3)
		}
		return nil
	})
	a2 = en.start(t, harness.Apache, 2, a2.Dir())
	waitServing(t, ctx, a2)
	oursLeader := script(ours, 3, ours, a1, "ol")
	apacheFollowerOfOurs := script(a1, 1, ours, a2, "ao")

	// What Apache was seen to do in every run, and ours must too.
	wants := []string{
		"new session: of its server true",
		"connect: leader global +0, server global +0, server local +1",
		"persistent create: err 0, txns 1",
		"local session resumed on the other: expired",
		"local session resumed on its server: same id true, its old connection closed true",
		"local closeSession: err 0, zxid the last txn's true",
		"a local session left alone: connection closed by the server, txns 0",
		"expired local session resumed on its server: expired",
		"after everything: leader global +0, server local +0",
	}
	if upgrading {
		wants = append(wants,
			"ephemeral create: err 0, txns 2",
			"after the ephemeral create: leader global +1, server global +1, server local +0",
			"the ephemeral on the leader: err 0, owned by the session true",
			"the first session resumed on the other: same id true",
			"closeSession of the first session: err 0, txns 1")
	} else {
		wants = append(wants,
			"ephemeral create: err -120, txns 1",
			"after the ephemeral create: leader global +0, server global +0, server local +1",
			"the ephemeral on the leader: err -101, owned by the session false",
			"the first session resumed on the other: expired",
			"closeSession of the first session: err 0, txns 0")
	}
	runs := map[string][]string{"Apache's follower": apacheFollower, "our follower": oursFollower,
		"Apache's observer": apacheObserver, "our observer": oursObserver,
		"Apache's leader": apacheLeader, "our leader": oursLeader, "Apache's follower of ours": apacheFollowerOfOurs}
	for _, want := range wants {
		for name, lines := range runs {
			if !slices.Contains(lines, want) {
				t.Errorf("%s: no %q", name, want)
			}
		}
	}
	compare := func(what string, apache, ours []string) {
		if strings.Join(ours, "\n") == strings.Join(apache, "\n") {
			return
		}
		var b strings.Builder
		for _, e := range harness.LineEdits(apache, ours, true) {
			fmt.Fprintf(&b, "%c %s\n", e.Op, e.Line)
		}
		t.Errorf("%s differs (- Apache, + ours):\n%s", what, b.String())
	}
	compare("a follower's local sessions", apacheFollower, oursFollower)
	compare("an observer's local sessions", apacheObserver, oursObserver)
	compare("a leader's local sessions", apacheLeader, oursLeader)
	compare("Apache's follower under our leader", apacheFollower, apacheFollowerOfOurs)
}

// localSessionScript runs session operations against target (server targetID) with local sessions on, leader being
// the ensemble's leader and other another server, and records what happens in lines that do not depend on ids,
// times or absolute zxids: txn counts are zxid differences, gauges are differences from the start.
func localSessionScript(t *testing.T, ctx context.Context, target *harness.Server, targetID int64,
	leader, other *harness.Server, tag string) []string {
	t.Helper()
	var out []string
	log := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	acl := []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	do := func(c *zkwire.Conn, op int32, req jute.Record) zkwire.Result {
		t.Helper()
		r, err := c.Do(ctx, op, req, nil)
		if err != nil {
			t.Fatalf("op %d: %v", op, err)
		}
		return r
	}
	// ref is a session on the leader whose writes are the zxid reference and make the leader apply what came
	// before them (its gauges are read after).
	ref := dialRW(t, ctx, leader.Addr())
	root := "/" + tag
	last := do(ref, jute.OpCreate, &jute.CreateRequest{Path: root, ACL: acl}).Hdr.Zxid
	txns := func(r zkwire.Result) int64 {
		n := r.Hdr.Zxid - last
		last = max(last, r.Hdr.Zxid)
		return n
	}
	settle := func() {
		t.Helper()
		r := do(ref, jute.OpSetData, &jute.SetDataRequest{Path: root, Version: -1})
		if r.Hdr.Err != 0 {
			t.Fatalf("setData %s: %d", root, r.Hdr.Err)
		}
		last = r.Hdr.Zxid
	}
	// gauges reads the leader's and the target's session gauges, after via (a session on target) has synced.
	gauges := func(via *zkwire.Conn) (leaderGlobal, global, local int64) {
		t.Helper()
		settle()
		if via != nil {
			do(via, jute.OpSync, &jute.SyncRequest{Path: "/"})
		}
		return mntrGauge(t, ctx, leader, "zk_global_sessions"), mntrGauge(t, ctx, target, "zk_global_sessions"),
			mntrGauge(t, ctx, target, "zk_local_sessions")
	}
	lg0, g0, l0 := gauges(nil)
	dial := func(opt zkwire.Options) *zkwire.Conn {
		t.Helper()
		no := false
		opt.ReadOnly = &no
		c, err := zkwire.Dial(ctx, target.Addr(), opt)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	resumed := func(s *harness.Server, sid int64, passwd []byte) string {
		no := false
		c, err := zkwire.Dial(ctx, s.Addr(), zkwire.Options{SessionID: sid, Passwd: passwd, ReadOnly: &no, NoPing: true})
		if err != nil {
			if c != nil && c.SessionID() == 0 && c.Timeout() == 0 {
				return "expired"
			}
			return err.Error()
		}
		defer c.CloseNoSession()
		return fmt.Sprintf("same id %v", c.SessionID() == sid)
	}

	// A new session: the target's, local.
	s1 := dial(zkwire.Options{Timeout: 30 * time.Second})
	log("new session: of its server %v", s1.SessionID()>>56 == targetID)
	lg, g, l := gauges(s1)
	log("connect: leader global %+d, server global %+d, server local %+d", lg-lg0, g-g0, l-l0)
	log("dump's sessions: %s", dumpSessionShape(t, ctx, target))
	r := do(s1, jute.OpCreate, &jute.CreateRequest{Path: root + "/p", ACL: acl})
	log("persistent create: err %d, txns %d", r.Hdr.Err, txns(r))
	r = do(s1, jute.OpCreate, &jute.CreateRequest{Path: root + "/e", ACL: acl, Flags: jute.ModeEphemeral})
	log("ephemeral create: err %d, txns %d", r.Hdr.Err, txns(r))
	lg, g, l = gauges(s1)
	log("after the ephemeral create: leader global %+d, server global %+d, server local %+d", lg-lg0, g-g0, l-l0)
	var st jute.ExistsResponse
	r, err := ref.Do(ctx, jute.OpExists, &jute.ExistsRequest{Path: root + "/e"}, &st)
	if err != nil {
		t.Fatal(err)
	}
	log("the ephemeral on the leader: err %d, owned by the session %v", r.Hdr.Err, st.Stat.EphemeralOwner == s1.SessionID())

	// A multi holding an ephemeral create, from a new local session.
	s2 := dial(zkwire.Options{Timeout: 30 * time.Second})
	var mr jute.MultiResponse
	r, err = s2.Do(ctx, jute.OpMulti, &jute.MultiRequest{Ops: []jute.Op{
		{Type: jute.OpCreate, Rec: &jute.CreateRequest{Path: root + "/m", ACL: acl}},
		{Type: jute.OpCreate, Rec: &jute.CreateRequest{Path: root + "/m/e", ACL: acl, Flags: jute.ModeEphemeral}}}}, &mr)
	if err != nil {
		t.Fatal(err)
	}
	var res []string
	for _, o := range mr.Results {
		res = append(res, fmt.Sprintf("%d/%d", o.Type, o.Err))
	}
	log("multi with an ephemeral create: err %d, txns %d, results %s", r.Hdr.Err, txns(r), strings.Join(res, " "))
	lg, g, l = gauges(s2)
	log("after the multi: leader global %+d, server global %+d, server local %+d", lg-lg0, g-g0, l-l0)

	// Reconnecting: a local session elsewhere has expired; on its server it resumes on a new connection.
	s3 := dial(zkwire.Options{Timeout: 30 * time.Second})
	log("local session resumed on the other: %s", resumed(other, s3.SessionID(), s3.Passwd()))
	if leader != target {
		log("local session resumed on the leader: %s", resumed(leader, s3.SessionID(), s3.Passwd()))
	}
	again := dial(zkwire.Options{Timeout: 30 * time.Second, SessionID: s3.SessionID(), Passwd: s3.Passwd()})
	oldClosed := false
	select {
	case <-s3.Done():
		oldClosed = true
	case <-time.After(10 * time.Second):
	}
	log("local session resumed on its server: same id %v, its old connection closed %v",
		again.SessionID() == s3.SessionID(), oldClosed)
	log("the first session resumed on the other: %s", resumed(other, s1.SessionID(), s1.Passwd()))

	// Closes: a local session's makes no txn and answers with the last zxid.
	do(again, jute.OpSync, &jute.SyncRequest{Path: "/"})
	r, err = again.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	log("local closeSession: err %d, zxid the last txn's %v", r.Hdr.Err, r.Hdr.Zxid == last)
	// (Synced through s2: s1 may have moved to the other server, where the leader now says it is.)
	for _, s := range []struct {
		name string
		c    *zkwire.Conn
	}{{"the first session", s1}, {"the multi's session", s2}} {
		do(s2, jute.OpSync, &jute.SyncRequest{Path: "/"})
		r, err := s.c.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		log("closeSession of %s: err %d, txns %d", s.name, r.Hdr.Err, txns(r))
	}

	// A local session nobody pings expires on its server, with no txn.
	s4 := dial(zkwire.Options{Timeout: time.Second, NoPing: true})
	select {
	case <-s4.Done():
	case <-ctx.Done():
		t.Fatal("a local session left alone did not expire")
	}
	before := last
	settle()
	log("a local session left alone: connection closed by the server, txns %d", last-before-1)
	log("expired local session resumed on its server: %s", resumed(target, s4.SessionID(), s4.Passwd()))

	do(ref, jute.OpSync, &jute.SyncRequest{Path: "/"})
	_, err = ref.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lg, l = mntrGauge(t, ctx, leader, "zk_global_sessions"), mntrGauge(t, ctx, target, "zk_local_sessions")
	if leader == target {
		l0-- // ref was one of them
	}
	log("after everything: leader global %+d, server local %+d", lg-lg0, l-l0)
	return out
}

// dumpSessionShape is the session tracker part of a server's dump (which tracker prints, local and global parts) with
// ids, times and counts taken out: its distinct lines, sorted.
func dumpSessionShape(t *testing.T, ctx context.Context, s *harness.Server) string {
	t.Helper()
	out, err := harness.FourLetter(ctx, s.Addr(), "dump")
	if err != nil {
		t.Fatal(err)
	}
	part, _, _ := strings.Cut(out, "ephemeral nodes dump:")
	ids, dates, nums := regexp.MustCompile(`0x[0-9a-f]+`), regexp.MustCompile(`expire at .*:`), regexp.MustCompile(`[0-9]+`)
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSpace(part), "\n") {
		line = nums.ReplaceAllString(dates.ReplaceAllString(ids.ReplaceAllString(line, "0xID"), "expire at DATE:"), "N")
		if !slices.Contains(lines, line) {
			lines = append(lines, line)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, " | ")
}

// mntrGauge is one of a server's mntr values.
func mntrGauge(t *testing.T, ctx context.Context, s *harness.Server, key string) int64 {
	t.Helper()
	out, err := harness.FourLetter(ctx, s.Addr(), "mntr")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(out, "\n") {
		if v, ok := strings.CutPrefix(line, key+"\t"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatalf("%s %q: %v", key, v, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in mntr:\n%s", key, out)
	return 0
}
