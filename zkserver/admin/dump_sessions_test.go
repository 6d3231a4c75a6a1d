package admin

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// trackerSource is a fakeSource running a learner's or a leader's session trackers.
type trackerSource struct {
	*fakeSource
	learner map[int64]int32 // nil: a leader
	local   map[int64][]int64
}

func (f *trackerSource) LearnerSessions() (map[int64]int32, bool) { return f.learner, f.learner != nil }
func (f *trackerSource) LocalSessionExpiry() (map[int64][]int64, int, bool) {
	n := 0
	for _, ids := range f.local {
		n += len(ids)
	}
	return f.local, n, f.local != nil
}

// dump's session part as each of Apache's trackers prints it (LearnerSessionTracker, LeaderSessionTracker, their
// local trackers), and the admin command's expiry map (empty on a learner; on a leader the global sets win a time
// both have, as LeaderSessionTracker's putAll).
func TestDumpSessionTrackers(t *testing.T) {
	local := map[int64][]int64{1795316866000: {0x300000b0c100007}, 1795316870000: {0x300000b0c100008}}
	opt := Options{Location: time.UTC, Whitelist: func(string) bool { return true }}
	for _, c := range []struct {
		name   string
		src    Source
		want   string
		expiry map[string][]int64
	}{
		{"follower", &trackerSource{fakeSource: newFake(), learner: map[int64]int32{0x100000b0c100001: 30000,
			-0x7ffffff4f3f00000: 4000}},
			"Global Sessions(2):\n0x8000000b0c100000\t4000ms\n0x100000b0c100001\t30000ms\n", map[string][]int64{}},
		{"follower with local sessions", &trackerSource{fakeSource: newFake(), learner: map[int64]int32{}, local: local},
			"Local Session Sets (2)/(2):\n1 expire at Sun Nov 22 03:07:46 UTC 2026:\n\t0x300000b0c100007\n" +
				"1 expire at Sun Nov 22 03:07:50 UTC 2026:\n\t0x300000b0c100008\nGlobal Sessions(0):\n",
			map[string][]int64{}},
		{"leader with local sessions", &trackerSource{fakeSource: newFake(), local: local},
			"Local Session Sets (2)/(2):\n1 expire at Sun Nov 22 03:07:46 UTC 2026:\n\t0x300000b0c100007\n" +
				"1 expire at Sun Nov 22 03:07:50 UTC 2026:\n\t0x300000b0c100008\n" +
				"Global Session Sets (2)/(2):\n0 expire at Sun Nov 22 03:07:42 UTC 2026:\n" +
				"2 expire at Sun Nov 22 03:07:46 UTC 2026:\n\t0x100000b0c100000\n\t0x100000b0c100001\n",
			map[string][]int64{"1795316862000": {}, "1795316866000": {0x100000b0c100000, 0x100000b0c100001},
				"1795316870000": {0x300000b0c100008}}},
		{"leader", &trackerSource{fakeSource: newFake()},
			"Session Sets (2)/(2):\n0 expire at Sun Nov 22 03:07:42 UTC 2026:\n" +
				"2 expire at Sun Nov 22 03:07:46 UTC 2026:\n\t0x100000b0c100000\n\t0x100000b0c100001\n",
			map[string][]int64{"1795316862000": {}, "1795316866000": {0x100000b0c100000, 0x100000b0c100001}}},
	} {
		out, _ := FourLetter(c.src, opt, "dump", 0)
		part, _, _ := strings.Cut(strings.TrimPrefix(out, "SessionTracker dump:\n"), "ephemeral nodes dump:")
		if part != c.want {
			t.Errorf("%s: dump's sessions\n%s\nwant\n%s", c.name, part, c.want)
		}
		var js struct {
			Expiry map[string][]int64 `json:"expiry_time_to_session_ids"`
		}
		if err := json.Unmarshal([]byte(RunCommand(c.src, "dump", nil)), &js); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(js.Expiry, c.expiry) {
			t.Errorf("%s: admin dump's expiry_time_to_session_ids %v, want %v", c.name, js.Expiry, c.expiry)
		}
	}
}
