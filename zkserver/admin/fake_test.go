package admin

import (
	"time"
)

// fakeSource is a Source with fixed values, for golden comparisons.
type fakeSource struct {
	serving, readOnly bool
	conns             []ConnInfo
	resets, cresets   int
	mask              int64
	extra             map[string]any
}

var _ Source = (*fakeSource)(nil)

var t0 = time.UnixMilli(1795316850806)

func newFake() *fakeSource {
	return &fakeSource{
		serving: true,
		mask:    defaultTraceMask,
		conns: []ConnInfo{
			{Remote: "/127.0.0.1:47168", Received: 5, Sent: 5, SessionID: 0x100000b0c100000, LastOp: "PING",
				Established: t0, Timeout: 10000, LastCxid: 2, LastZxid: 6, LastResponse: time.UnixMilli(1795316860000),
				LastLatency: 78, MinLatency: 0, AvgLatency: 25.9, MaxLatency: 78},
			{Remote: "/127.0.0.1:52990", Received: 1, Established: t0},
		},
	}
}

func (f *fakeSource) Version() string     { return "3.8.0-zkafka, built on 2026-11-22 02:55 UTC" }
func (f *fakeSource) ServerState() string { return "standalone" }
func (f *fakeSource) ServerID() int64     { return 0 }
func (f *fakeSource) LastZxid() int64     { return 0x1a }
func (f *fakeSource) Latency() (int64, float64, int64) {
	return 0, 5.375, 72
}
func (f *fakeSource) PacketsReceived() int64     { return 33 }
func (f *fakeSource) PacketsSent() int64         { return 32 }
func (f *fakeSource) Outstanding() int64         { return 0 }
func (f *fakeSource) ResetStats()                { f.resets++ }
func (f *fakeSource) Connections() []ConnInfo    { return f.conns }
func (f *fakeSource) ResetConnectionStats()      { f.cresets++ }
func (f *fakeSource) NodeCount() int             { return 9 }
func (f *fakeSource) ApproximateDataSize() int64 { return 65 }
func (f *fakeSource) EphemeralCount() int        { return 3 }
func (f *fakeSource) WatchSummary() (int, int, int) {
	return 2, 2, 3
}
func (f *fakeSource) WatchesBySession() map[int64][]string {
	return map[int64][]string{0x100000b0c100001: {"/nope", "/a"}, 0x100000b0c100000: {"/a"}}
}
func (f *fakeSource) WatchesByPath() map[string][]int64 {
	return map[string][]int64{"/nope": {0x100000b0c100001}, "/a": {0x100000b0c100001, 0x100000b0c100000}}
}
func (f *fakeSource) EphemeralsBySession() map[int64][]string {
	return map[int64][]string{0x100000b0c100001: {"/a/e2", "/a/e1"}, 0x100000b0c100000: {"/b"}}
}
func (f *fakeSource) SessionExpiry() map[int64][]int64 {
	return map[int64][]int64{
		1795316862000: {},
		1795316866000: {0x100000b0c100001, 0x100000b0c100000},
	}
}
func (f *fakeSource) SessionCount() int { return 2 }
func (f *fakeSource) DigestLog() []ZxidDigest {
	return []ZxidDigest{{Zxid: 0x80, Digest: 271392852801, DigestVersion: 2}}
}
func (f *fakeSource) DataDirSize() int64            { return 457 }
func (f *fakeSource) LogDirSize() int64             { return 67109337 }
func (f *fakeSource) Uptime() time.Duration         { return 21142 * time.Millisecond }
func (f *fakeSource) ServingRequests() bool         { return f.serving }
func (f *fakeSource) ReadOnly() bool                { return f.readOnly }
func (f *fakeSource) TraceMask() int64              { return f.mask }
func (f *fakeSource) SetTraceMask(m int64)          { f.mask = m }
func (f *fakeSource) ServerMetrics() map[string]any { return f.extra }
func (f *fakeSource) Membership() string            { return "" }
func (f *fakeSource) Conf() []KV {
	return []KV{
		{"clientPort", "21811"}, {"secureClientPort", "-1"}, {"dataDir", "/tmp/zk/version-2"},
		{"dataDirSize", "457"}, {"dataLogDir", "/tmp/zk/version-2"}, {"dataLogSize", "67109337"},
		{"tickTime", "2000"}, {"maxClientCnxns", "60"}, {"minSessionTimeout", "4000"},
		{"maxSessionTimeout", "40000"}, {"clientPortListenBacklog", "-1"}, {"serverId", "0"},
	}
}
func (f *fakeSource) Env() []KV {
	return []KV{
		{"zookeeper.version", f.Version()}, {"host.name", "localhost"}, {"go.version", "go1.26.8"},
		{"os.name", "linux"}, {"os.arch", "amd64"}, {"user.dir", "/tmp"},
	}
}
