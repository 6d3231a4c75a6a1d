package admin

import (
	"strings"
	"testing"
	"time"
)

func allowAll(string) bool { return true }

func run(t *testing.T, src Source, word string, arg int64) string {
	t.Helper()
	out, known := FourLetter(src, Options{Whitelist: allowAll, Location: time.UTC}, word, arg)
	if !known {
		t.Fatalf("%s: not known", word)
	}
	return out
}

// The golden texts follow Apache 3.8's formats (StatCommand, ServerStats,
// ServerCnxn.dumpConnectionInfo, DumpCommand, WatchManager, ...), checked
// against a real 3.8.0's answers.
func TestFourLetterGolden(t *testing.T) {
	cases := []struct{ word, want string }{
		{"ruok", "imok"},
		{"isro", "rw"},
		{"srvr", "Zookeeper version: 3.8.0-zkafka, built on 2026-11-22 02:55 UTC\n" +
			"Latency min/avg/max: 0/5.375/72\nReceived: 33\nSent: 32\nConnections: 2\nOutstanding: 0\n" +
			"Zxid: 0x1a\nMode: standalone\nNode count: 9\n"},
		{"stat", "Zookeeper version: 3.8.0-zkafka, built on 2026-11-22 02:55 UTC\nClients:\n" +
			" /127.0.0.1:47168[1](queued=0,recved=5,sent=5)\n /127.0.0.1:52990[0](queued=0,recved=1,sent=0)\n\n" +
			"Latency min/avg/max: 0/5.375/72\nReceived: 33\nSent: 32\nConnections: 2\nOutstanding: 0\n" +
			"Zxid: 0x1a\nMode: standalone\nNode count: 9\n"},
		{"cons", " /127.0.0.1:47168[1](queued=0,recved=5,sent=5,sid=0x100000b0c100000,lop=PING,est=1795316850806," +
			"to=10000,lcxid=0x2,lzxid=0x6,lresp=1795316860000,llat=78,minlat=0,avglat=25,maxlat=78)\n" +
			" /127.0.0.1:52990[0](queued=0,recved=1,sent=0)\n\n"},
		{"conf", "clientPort=21811\nsecureClientPort=-1\ndataDir=/tmp/zk/version-2\ndataDirSize=457\n" +
			"dataLogDir=/tmp/zk/version-2\ndataLogSize=67109337\ntickTime=2000\nmaxClientCnxns=60\n" +
			"minSessionTimeout=4000\nmaxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n"},
		{"envi", "Environment:\nzookeeper.version=3.8.0-zkafka, built on 2026-11-22 02:55 UTC\nhost.name=localhost\n" +
			"go.version=go1.26.8\nos.name=linux\nos.arch=amd64\nuser.dir=/tmp\n"},
		{"dirs", "datadir_size: 457\nlogdir_size: 67109337\n"},
		{"wchs", "2 connections watching 2 paths\nTotal watches:3\n"},
		{"wchc", "0x100000b0c100000\n\t/a\n0x100000b0c100001\n\t/a\n\t/nope\n\n"},
		{"wchp", "/a\n\t0x100000b0c100000\n\t0x100000b0c100001\n/nope\n\t0x100000b0c100001\n\n"},
		{"hash", "80: 271392852801\n"},
		{"gtmk", "306"},
		{"dump", "SessionTracker dump:\nSession Sets (2)/(2):\n" +
			"0 expire at Sun Nov 22 03:07:42 UTC 2026:\n" +
			"2 expire at Sun Nov 22 03:07:46 UTC 2026:\n\t0x100000b0c100000\n\t0x100000b0c100001\n" +
			"ephemeral nodes dump:\nSessions with Ephemerals (2):\n" +
			"0x100000b0c100000:\n\t/b\n0x100000b0c100001:\n\t/a/e1\n\t/a/e2\n" +
			"Connections dump:\nConnections Sets (2)/(2):\n" +
			"1 expire at Sun Nov 22 03:07:50 UTC 2026:\n\tip: /127.0.0.1:52990 sessionId: 0x0\n" +
			"1 expire at Sun Nov 22 03:08:00 UTC 2026:\n\tip: /127.0.0.1:47168 sessionId: 0x100000b0c100000\n"},
	}
	for _, c := range cases {
		t.Run(c.word, func(t *testing.T) {
			if got := run(t, newFake(), c.word, 0); got != c.want {
				t.Errorf("%s:\n got %q\nwant %q", c.word, got, c.want)
			}
		})
	}
}

func TestFourLetterResetsAndMask(t *testing.T) {
	f := newFake()
	if got := run(t, f, "srst", 0); got != "Server stats reset.\n" || f.resets != 1 {
		t.Errorf("srst: %q resets=%d", got, f.resets)
	}
	if got := run(t, f, "crst", 0); got != "Connection stats reset.\n" || f.cresets != 1 {
		t.Errorf("crst: %q resets=%d", got, f.cresets)
	}
	if got := run(t, f, "stmk", 5); got != "5" {
		t.Errorf("stmk: %q", got)
	}
	if got := run(t, f, "gtmk", 0); got != "5" {
		t.Errorf("gtmk after stmk: %q", got)
	}
}

func TestFourLetterWhitelistAndUnknown(t *testing.T) {
	f := newFake()
	if _, known := FourLetter(f, Options{}, "xxxx", 0); known {
		t.Error("xxxx known")
	}
	out, known := FourLetter(f, Options{}, "mntr", 0)
	if !known || out != "mntr is not executed because it is not in the whitelist.\n" {
		t.Errorf("default whitelist mntr: %q %v", out, known)
	}
	if out, _ := FourLetter(f, Options{}, "srvr", 0); !strings.HasPrefix(out, "Zookeeper version: ") {
		t.Errorf("srvr is always allowed: %q", out)
	}
	wl := ParseWhitelist(" ruok , stat", true)
	for w, want := range map[string]bool{"ruok": true, "stat": true, "srvr": true, "isro": true, "mntr": false} {
		if wl(w) != want {
			t.Errorf("whitelist(%s) = %v", w, !want)
		}
	}
	if wl := ParseWhitelist("*", false); !wl("wchp") || !wl("hash") {
		t.Error("* must allow every word")
	}
}

func TestFourLetterNotServing(t *testing.T) {
	f := newFake()
	f.serving = false
	want := map[string]string{
		"srvr": notServing + "\n", "stat": notServing + "\n", "cons": notServing + "\n", "mntr": notServing + "\n",
		"conf": notServing + "\n", "dump": notServing + "\n", "wchs": notServing + "\n", "dirs": notServing + "\n",
		"hash": notServing, "isro": "null", "ruok": "imok", "gtmk": "306",
	}
	for w, exp := range want {
		if got := run(t, f, w, 0); got != exp {
			t.Errorf("%s: %q, want %q", w, got, exp)
		}
	}
	if !strings.HasPrefix(run(t, f, "envi", 0), "Environment:\nzookeeper.version=") {
		t.Error("envi must answer when not serving")
	}
}

func TestFourLetterReadOnlyAndLegacyDate(t *testing.T) {
	f := newFake()
	f.readOnly = true
	if got := run(t, f, "isro", 0); got != "ro" {
		t.Errorf("isro: %q", got)
	}
	out, _ := FourLetter(f, Options{Whitelist: allowAll, LegacySrvrDate: true}, "srvr", 0)
	want := "Zookeeper version: 3.8.0-zkafka, built on 11/22/2026 02:55 GMT\n" +
		"READ-ONLY mode; serving only read-only clients\nLatency min/avg/max: 0/5.375/72\n"
	if !strings.HasPrefix(out, want) {
		t.Errorf("legacy srvr:\n got %q\nwant prefix %q", out, want)
	}
}

func TestMntr(t *testing.T) {
	f := newFake()
	f.extra = map[string]any{
		"watch_count": int64(4), "bytes_received_count": int64(32),
		"fsynctime":           Summary{Count: 2, Sum: 3, Min: 1, Max: 2},
		"readlatency":         Summary{Count: 4, Sum: 10, Min: 1, Max: 5, P50: 2, P95: 5, P99: 5, P999: 5},
		"write_per_namespace": map[string]Summary{"b": {Count: 1, Sum: 7, Min: 7, Max: 7}, "a": {}},
		// Gauge and counter sets: keys sorted, after the gauges and after the counters; empty sets print nothing.
		"quota_count_limit_per_namespace":    map[string]int64{"q": 3, "p": -1},
		"quota_bytes_limit_per_namespace":    map[string]int64{},
		"quota_exceeded_error_per_namespace": map[string]int64{"q": 2},
	}
	out := run(t, f, "mntr", 0)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	wantPrefix := []string{
		"zk_version\t3.8.0-zkafka, built on 2026-11-22 02:55 UTC",
		"zk_server_state\tstandalone",
		"zk_ephemerals_count\t3",
		"zk_num_alive_connections\t2",
		"zk_avg_latency\t5.375",
		"zk_outstanding_requests\t0",
		"zk_znode_count\t9",
		"zk_global_sessions\t2",
		"zk_non_mtls_remote_conn_count\t0",
		"zk_last_client_response_size\t-1",
		"zk_packets_sent\t32",
		"zk_packets_received\t33",
		"zk_max_client_response_size\t-1",
		"zk_connection_drop_probability\t0.0",
		"zk_watch_count\t4",
	}
	for i, w := range wantPrefix {
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q", i, lines[i], w)
		}
	}
	has := map[string]bool{}
	for _, l := range lines {
		has[l] = true
	}
	for _, w := range []string{
		"zk_uptime\t21142", "zk_approximate_data_size\t65", "zk_bytes_received_count\t32",
		"zk_avg_fsynctime\t1.5", "zk_min_fsynctime\t1", "zk_max_fsynctime\t2", "zk_cnt_fsynctime\t2", "zk_sum_fsynctime\t3",
		"zk_avg_readlatency\t2.5", "zk_p50_readlatency\t2", "zk_p999_readlatency\t5",
		"zk_avg_snapshottime\t0.0", "zk_p95_updatelatency\t0",
		"zk_avg_a_write_per_namespace\t0.0", "zk_sum_b_write_per_namespace\t7",
	} {
		if !has[w] {
			t.Errorf("mntr lacks %q", w)
		}
	}
	for i, l := range lines {
		switch l {
		case "zk_p_quota_count_limit_per_namespace\t-1":
			if lines[i-1] != "zk_non_mtls_local_conn_count\t0" || lines[i+1] != "zk_q_quota_count_limit_per_namespace\t3" ||
				lines[i+2] != "zk_proposal_count\t0" {
				t.Errorf("gauge set at %d: %q", i, lines[i-1:i+3])
			}
		case "zk_q_quota_exceeded_error_per_namespace\t2":
			if lines[i-1] != "zk_revalidate_count\t0" || !strings.HasPrefix(lines[i+1], "zk_avg_socket_closing_time\t") {
				t.Errorf("counter set at %d: %q", i, lines[i-1:i+2])
			}
		}
	}
	if !has["zk_p_quota_count_limit_per_namespace\t-1"] || !has["zk_q_quota_exceeded_error_per_namespace\t2"] {
		t.Error("mntr lacks the quota sets")
	}
	// 2 info + 24 gauges + 2 gauge set keys + 47 counters + 1 counter set key + 41*5 + 23*9 + 2 set keys * 5.
	if want := 2 + 24 + 2 + 47 + 1 + 41*5 + 23*9 + 10; len(lines) != want {
		t.Errorf("mntr has %d lines, want %d", len(lines), want)
	}
}

// quorumFake is a member of a three-server ensemble: read-only or following, serving for the first time or again.
type quorumFake struct {
	*fakeSource
	state        string
	reregistered bool
}

func (q *quorumFake) ServerState() string      { return q.state }
func (q *quorumFake) PeerState() string        { return "following - broadcast" }
func (q *quorumFake) QuorumSize() int          { return 3 }
func (q *quorumFake) LearnerMaster() int64     { return -1 }
func (q *quorumFake) GaugesReregistered() bool { return q.reregistered }

// mntr as Apache 3.8 prints it for a quorum member: a follower or leader has peer_state and quorum_size, a
// read-only server (a plain ZooKeeperServer) neither; a server registering its gauges again lists avg_latency
// before num_alive_connections.
func TestMntrQuorumMember(t *testing.T) {
	for _, tc := range []struct {
		state        string
		readOnly     bool
		reregistered bool
		want         []string
		last         string
	}{
		{"follower", false, false, []string{"zk_version", "zk_server_state\tfollower", "zk_peer_state\tfollowing - broadcast",
			"zk_ephemerals_count", "zk_num_alive_connections", "zk_avg_latency"}, "zk_quorum_size\t3"},
		{"follower", false, true, []string{"zk_version", "zk_server_state\tfollower", "zk_peer_state\tfollowing - broadcast",
			"zk_ephemerals_count", "zk_avg_latency", "zk_num_alive_connections"}, "zk_quorum_size\t3"},
		{"leader", false, true, []string{"zk_version", "zk_server_state\tleader", "zk_peer_state",
			"zk_ephemerals_count", "zk_avg_latency", "zk_num_alive_connections", "zk_min_proposal_size"}, "zk_quorum_size\t3"},
		{"read-only", true, false, []string{"zk_version", "zk_server_state\tread-only", "zk_ephemerals_count",
			"zk_num_alive_connections", "zk_avg_latency"}, "zk_non_mtls_local_conn_count\t0"},
		{"read-only", true, true, []string{"zk_version", "zk_server_state\tread-only", "zk_ephemerals_count",
			"zk_avg_latency", "zk_num_alive_connections"}, "zk_non_mtls_local_conn_count\t0"},
	} {
		f := &quorumFake{fakeSource: newFake(), state: tc.state, reregistered: tc.reregistered}
		f.readOnly = tc.readOnly
		out, _ := FourLetter(f, Options{Whitelist: allowAll}, "mntr", 0)
		lines := strings.Split(out, "\n")
		for i, w := range tc.want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("%s (again %v) line %d: %q, want %q", tc.state, tc.reregistered, i, lines[i], w)
			}
		}
		var gauges []string
		for _, l := range lines[2:] {
			if strings.HasPrefix(l, "zk_proposal_count") {
				break
			}
			gauges = append(gauges, l)
		}
		if gauges[len(gauges)-1] != tc.last {
			t.Errorf("%s (again %v): last gauge %q, want %q", tc.state, tc.reregistered, gauges[len(gauges)-1], tc.last)
		}
	}
}

// cnxnExpirySource is a fake server with a configured connection expiry interval.
type cnxnExpirySource struct {
	*fakeSource
	interval time.Duration
}

func (s cnxnExpirySource) CnxnExpiryInterval() time.Duration { return s.interval }

// TestDumpConnectionsInterval: the connection sets are rounded to zookeeper.nio.sessionlessCnxnTimeout, the
// timeout of a connection without a session; with Netty's factory (0) dump lists no connections, as Apache's.
func TestDumpConnectionsInterval(t *testing.T) {
	conns := func(interval time.Duration) string {
		got := run(t, cnxnExpirySource{newFake(), interval}, "dump", 0)
		_, after, _ := strings.Cut(got, "Connections dump:\n")
		return after
	}
	want := "Connections Sets (2)/(2):\n" +
		"1 expire at Sun Nov 22 03:07:36 UTC 2026:\n\tip: /127.0.0.1:52990 sessionId: 0x0\n" +
		"1 expire at Sun Nov 22 03:07:51 UTC 2026:\n\tip: /127.0.0.1:47168 sessionId: 0x100000b0c100000\n"
	if got := conns(3 * time.Second); got != want {
		t.Errorf("3 s interval:\n got %q\nwant %q", got, want)
	}
	if got := conns(0); got != "" {
		t.Errorf("Netty's factory: got %q, want no connections", got)
	}
}
