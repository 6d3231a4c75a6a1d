// Package admin is zkserver's operations surface: the four-letter words, the
// AdminServer's /commands JSON and the Prometheus /metrics endpoint, printed
// the way Apache ZooKeeper 3.8 prints them so that existing tools (kazoo,
// go-zookeeper's FLW helpers, zkServer.sh status, exporters, operators'
// probes) keep working.
package admin

import (
	"time"

	"github.com/zkafka/zkafka/zkserver/metrics"
)

// ConnInfo is one client connection as cons/stat and the connections admin
// command show it.
type ConnInfo struct {
	Remote                              string // "/127.0.0.1:54321" as Apache prints it
	Queued, Received, Sent              int64
	SessionID                           int64
	LastOp                              string // e.g. "GETD", "NA"
	Established                         time.Time
	Timeout                             int32
	LastCxid                            int64
	LastZxid                            int64
	LastResponse                        time.Time
	LastLatency, MinLatency, MaxLatency int64
	AvgLatency                          float64
	Secure                              bool // on the secure client port
	// Throttled: the connection reads no request until one of its outstanding ones is answered
	// (globalOutstandingLimit; Apache's NIO connection then has no read interest).
	Throttled bool
}

// KV is one key=value line of conf or envi.
type KV struct{ Key, Value string }

// Source is what the server tells the operations surface.
type Source interface {
	// Membership is the quorum config a quorum member's conf prints after its keys (QuorumZooKeeperServer's
	// "membership:" part); empty standalone and read-only.
	Membership() string
	Version() string     // full version string, e.g. "3.8.0-zkafka, built on 2026-11-22 02:55 UTC"
	ServerState() string // "standalone"
	ServerID() int64
	LastZxid() int64
	Latency() (min int64, avg float64, max int64)
	PacketsReceived() int64
	PacketsSent() int64
	Outstanding() int64
	ResetStats() // srst
	Connections() []ConnInfo
	ResetConnectionStats() // crst
	NodeCount() int
	ApproximateDataSize() int64
	EphemeralCount() int
	WatchSummary() (connections, paths, total int)
	WatchesBySession() map[int64][]string
	WatchesByPath() map[string][]int64
	EphemeralsBySession() map[int64][]string
	SessionExpiry() map[int64][]int64 // expiry time (Unix ms) -> session ids
	SessionCount() int
	DigestLog() []ZxidDigest // for `hash`: the tree's digest every 128 zxids, the latest 1024
	DataDirSize() int64
	LogDirSize() int64
	Uptime() time.Duration
	Conf() []KV // conf lines in Apache's order
	Env() []KV  // envi lines after the header, zookeeper.version first
	ServingRequests() bool
	ReadOnly() bool
}

// The interfaces below are optional: a Source that also implements one of
// them gives truer answers; without them the surface prints what Apache prints
// for a fresh server.

// SessionTrackers says which of Apache's session trackers the server runs, for dump: without it the server dumps
// as a standalone server or a leader without local sessions (SessionTrackerImpl).
type SessionTrackers interface {
	// LearnerSessions are a follower's, observer's or read-only server's (LearnerSessionTracker) global sessions
	// with their timeouts; ok is false on a leader or a standalone server.
	LearnerSessions() (timeouts map[int64]int32, ok bool)
	// LocalSessionExpiry are the local sessions' expiry sets (time, Unix ms -> ids) and their count; ok is false
	// without local sessions.
	LocalSessionExpiry() (expiry map[int64][]int64, count int, ok bool)
}

// CnxnExpiry is a server whose client connections expire as NIOServerCnxnFactory's do: dump groups them by the
// interval (zookeeper.nio.sessionlessCnxnTimeout), and lists none when it is 0 (Netty's factory, which dump
// skips). Without it dump uses NIO's default, 10 s.
type CnxnExpiry interface {
	CnxnExpiryInterval() time.Duration
}

// TraceMasker holds the server's trace mask for gtmk/stmk. Without it gtmk
// answers Apache's default mask and stmk only echoes.
type TraceMasker interface {
	TraceMask() int64
	SetTraceMask(mask int64)
}

// ObserverFeeder is a server that feeds observers: a leader, or a follower with observerMasterPort. obsr lists
// them, orst resets their counts.
type ObserverFeeder interface {
	// ObserversInfo returns the synced observers (none when the server neither leads nor serves observers).
	ObserversInfo() []ObserverInfo
	ResetObserverStats()
}

// ObserverInfo is one observer's connection as Apache's LearnerHandler.getLearnerHandlerInfo gives it.
type ObserverInfo struct {
	RemoteAddress                                                            string // "/127.0.0.1:54321"
	Sid                                                                      int64
	Established                                                              time.Time
	QueuedPackets, QueuedPacketsSize, PacketsReceived, PacketsSent, Requests int64
	LastZxid                                                                 int64
}

// ServerMetricser supplies values for the metrics of Apache's ServerMetrics
// and ZooKeeperServer gauges by their Apache names (without "zk_"): an int64
// or float64 for a gauge or counter (e.g. "watch_count", "bytes_received_count",
// "last_client_response_size"), a Summary for a summary (e.g. "fsynctime",
// "readlatency"). Names not returned keep their defaults.
type ServerMetricser interface {
	ServerMetrics() map[string]any
}

// QuorumSource is a Source that is a member of an ensemble: mntr adds the peer state and the quorum size, and a
// leader's gauges (given by ServerMetrics: "learners", "synced_followers", "pending_syncs", ...) in Apache's
// order.
type QuorumSource interface {
	// PeerState is QuorumPeer.getDetailedPeerState: "leading - broadcast", "following - synchronization", ...
	PeerState() string
	QuorumSize() int
	// LearnerMaster is the id of the server an observer learns from, -1 when none (mntr's observer_master_id,
	// printed by observers only).
	LearnerMaster() int64
}

// GaugeHistory is a Source that knows whether its server's gauges were registered before in this process: a quorum
// member that served (following, leading, observing or read-only) and stopped, and serves again. Apache's metrics
// map then lists some gauges in another order (see reregisteredOrder).
type GaugeHistory interface {
	GaugesReregistered() bool
}

// Summary is a summary metric's state (Apache's AvgMinMaxCounter and
// AvgMinMaxPercentileCounter): count, sum, min, max and, for the advanced ones,
// percentiles. mntr prints P50/P95/P99/P999 as Apache's default provider
// does; /metrics exports the quantiles Apache's Prometheus provider has
// (0.5 for basic summaries; 0.5, 0.9, 0.99 for advanced ones).
type Summary = metrics.Summary

// ZxidDigest is one entry of the digest log that `hash` prints.
type ZxidDigest struct {
	Zxid, Digest  int64
	DigestVersion int32
}

// SnapshotInfoer answers last_snapshot: the zxid of the last snapshot and its
// time in seconds since the epoch, ok=false when there is none.
type SnapshotInfoer interface {
	LastSnapshot() (zxid int64, timestampSec int64, ok bool)
}

// InitialConfiger answers initial_configuration: zoo.cfg as it was read.
type InitialConfiger interface {
	InitialConfig() string
}

// defaultTraceMask is ZooTrace's default text trace level (306), what gtmk
// prints on an Apache server nobody sent stmk to.
const defaultTraceMask = 306
