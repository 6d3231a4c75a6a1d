package diff

import (
	"context"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/jute"
)

func TestNormZxid(t *testing.T) {
	n := norm{sessions: map[int64]string{}}
	if got := n.zx(0x105); got != "pre" {
		t.Fatalf("zx before base = %q, want pre", got)
	}
	n.observe(0x100)
	n.observe(0x200) // only the first positive zxid is the base
	for z, want := range map[int64]string{-1: "-1", 0: "0", 0xff: "pre", 0x100: "+0", 0x107: "+7"} {
		if got := n.zx(z); got != want {
			t.Errorf("zx(%#x) = %q, want %q", z, got, want)
		}
	}
	// A time-driven action after replies up to 0x110 took 0x111-0x11f (their
	// number may vary), then a resync saw 0x120.
	n = norm{sessions: map[int64]string{}}
	n.observe(0x100)
	n.observe(0x110)
	n.newSegment(0x120)
	for z, want := range map[int64]string{0x123: "+1:3", 0x110: "+16", 0x111: "+1:0", 0x11f: "+1:0", 0x120: "+1:0"} {
		if got := n.zx(z); got != want {
			t.Errorf("zx(%#x) with segment 1 = %q, want %q", z, got, want)
		}
	}
}

func TestNormOwnerAndStat(t *testing.T) {
	n := norm{sessions: map[int64]string{0x0100_0000_1234_0000: "S1", -0x0100_0000_0000_0000 + 5: "S2"}}
	n.observe(10)
	cases := map[int64]string{
		0: "0", 0x0100_0000_1234_0000: "S1", -1 << 63: "container",
		-1<<56 | 5000: "ttl(5000)", 0x0100_0000_9999_0000: "foreign-session",
		-0x0100_0000_0000_0000 + 5: "S2", // a known session wins over the TTL pattern
	}
	for o, want := range cases {
		if got := n.owner(o); got != want {
			t.Errorf("owner(%#x) = %q, want %q", o, got, want)
		}
	}
	s := jute.Stat{Czxid: 11, Mzxid: 11, Pzxid: 12, Ctime: 5, Mtime: 5, EphemeralOwner: 0x0100_0000_1234_0000, DataLength: 3}
	if got, want := n.stat(&s), "{cz=+1 mz=+1 pz=+2 c=m v=0 cv=0 av=0 owner=S1 len=3 nch=0}"; got != want {
		t.Errorf("stat = %q, want %q", got, want)
	}
	s.Mzxid, s.Mtime = 13, 5 // modified within the same millisecond: still fine
	if got := n.stat(&s); !strings.Contains(got, "c<=m") {
		t.Errorf("stat = %q, want c<=m", got)
	}
	s.Mtime = 4
	if got := n.stat(&s); !strings.Contains(got, "c>m") {
		t.Errorf("stat = %q, want c>m", got)
	}
}

func TestLineDiff(t *testing.T) {
	a := []string{"l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"}
	b := []string{"l1", "l2", "l3", "l4", "X", "l6", "l7", "l8", "l9", "extra"}
	got := lineDiff(a, b, 1)
	want := "  ...\n  l4\n+ X\n- l5\n  l6\n  ...\n  l9\n+ extra\n"
	if got != want {
		t.Errorf("lineDiff:\n%s\nwant:\n%s", got, want)
	}
	if d := Compare("a", &Log{Scenario: "s", Lines: a}, "b", &Log{Scenario: "s", Lines: a}); d != "" {
		t.Errorf("equal logs differ: %s", d)
	}
}

func TestFormatting(t *testing.T) {
	if got := perms(jute.PermRead | jute.PermAdmin | 0x40); got != "ra+0x40" {
		t.Errorf("perms = %q", got)
	}
	if got := data(nil); got != "nil" {
		t.Errorf("data(nil) = %q", got)
	}
	if got := data(make([]byte, 100)); !strings.HasPrefix(got, "<100 bytes sha256:") {
		t.Errorf("data(100 bytes) = %q", got)
	}
	if got := DigestID("super", "test"); got != "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" {
		t.Errorf("DigestID = %q", got)
	}
	m := &jute.MultiResponse{Results: []jute.OpResult{{Type: jute.OpError, Err: int32(jute.ErrNoNode)}, {Type: jute.OpDelete}}}
	n := norm{sessions: map[int64]string{}}
	if got := n.multiResult(m); got != "[error NoNode | delete OK]" {
		t.Errorf("multiResult = %q", got)
	}
}

func TestScenarioNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range Scenarios() {
		if seen[sc.Name] {
			t.Errorf("duplicate scenario %q", sc.Name)
		}
		seen[sc.Name] = true
	}
	if len(seen) < 60 {
		t.Errorf("only %d scenarios", len(seen))
	}
}

// mntrValues is the server's mntr, by key.
func mntrValues(t *testing.T, ctx context.Context, s *harness.Server) map[string]string {
	t.Helper()
	out, err := harness.FourLetter(ctx, s.Addr(), "mntr")
	if err != nil {
		t.Fatal(err)
	}
	_, kv := kvLines(out, "\t")
	return kv
}
