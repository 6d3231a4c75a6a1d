package zkserver

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/zkafka/zkafka/compat/javanet"
	"github.com/zkafka/zkafka/zkserver/admin"
	"github.com/zkafka/zkafka/zkserver/metrics"
	"github.com/zkafka/zkafka/zkserver/quorum/learnerconn"
	"github.com/zkafka/zkafka/zkserver/session"
	"github.com/zkafka/zkafka/zkserver/tree"
	"github.com/zkafka/zkafka/zkserver/watch"
)

// Source adapts a Server to what the operations surface reads.
func (s *Server) Source() admin.Source { return source{s} }

type source struct{ s *Server }

var (
	_ admin.Source       = source{}
	_ admin.GaugeHistory = source{}
)

func (x source) Version() string { return Version + ", built on " + buildDate }

// buildDate is fixed per release, in Apache 3.7+'s "yyyy-MM-dd HH:mm zz" form.
const buildDate = "2026-11-22 00:00 UTC"

func (x source) ServerState() string { return x.s.state.Load().(string) }

// PeerState is QuorumPeer.getDetailedPeerState: the peer's state and its ZAB phase.
func (x source) PeerState() string {
	switch st := x.ServerState(); {
	case st == "leader" && x.s.proc.Serving():
		return "leading - broadcast"
	case st == "follower" && x.s.proc.Serving():
		return "following - broadcast"
	case st == "follower":
		return "following - synchronization"
	case st == "observer" && x.s.proc.Serving():
		return "observing - broadcast"
	case st == "observer":
		return "observing - synchronization"
	default:
		return "looking - election"
	}
}

// QuorumSize is the number of voting servers in the ensemble's config (0 standalone).
func (x source) QuorumSize() int {
	if q := x.s.cfg.Quorum; q != nil {
		return len(q.Verifier.Voters())
	}
	return 0
}

// GaugesReregistered: the server serves in an ensemble again, after an earlier period (see admin.GaugeHistory).
func (x source) GaugesReregistered() bool { return x.s.proc.ServingPeriods() > 1 }

// LearnerMaster is the leader an observer learns from (-1 when not observing).
func (x source) LearnerMaster() int64 { return x.s.learnerMaster.Load() }

// ServerMetrics gives a leader's gauges (learners, synced followers, pending syncs, proposal sizes), a follower's
// synced observers when it serves them (observerMasterPort), the quota
// gauge sets and the quota_exceeded_error_per_namespace counter set.
func (x source) ServerMetrics() map[string]any {
	m := x.s.leaderStats.Gauges()
	if m == nil {
		m = map[string]any{}
	}
	if om := x.s.observerMaster.Load(); om != nil {
		m["synced_observers"] = int64(om.Observers())
	}
	var q tree.QuotaNamespaces
	var read, write map[string]tree.NSSummary
	x.onCore(func(t *tree.Tree, _ *watch.Manager, _ *session.Tracker) {
		q = t.QuotaMetrics()
		if ns := t.NamespaceStats(); ns != nil {
			read, write = ns.Snapshot()
		}
	})
	m["quota_count_limit_per_namespace"], m["quota_bytes_limit_per_namespace"] = q.CountLimit, q.BytesLimit
	m["quota_count_usage_per_namespace"], m["quota_bytes_usage_per_namespace"] = q.CountUsage, q.BytesUsage
	m["quota_exceeded_error_per_namespace"] = x.s.proc.Stats.QuotaExceeded()
	m["read_per_namespace"], m["write_per_namespace"] = nsSummaries(read), nsSummaries(write)
	m["local_sessions"] = int64(x.s.proc.LocalSessionCount())
	m["large_requests_rejected"] = x.s.proc.Large().Rejected()
	m["connection_drop_probability"] = x.s.proc.ConnDropChance()
	for _, n := range x.named() {
		n.Export(m)
	}
	return m
}

// named are the server's ServerMetrics tables, each exported to mntr and reset by srst.
func (x source) named() []metrics.Named {
	st := &x.s.proc.Stats
	return []metrics.Named{st.Named(), st.Quorum.Named(), st.Chain.Named(), st.Commit.Named(), x.s.proc.ThrottleStats().Named(),
		x.s.proc.Watches().Triggered.Named(), x.s.proc.ResponseCaches().Named()}
}

func (x source) ServerID() int64 { return x.s.cfg.ServerID }
func (x source) LastZxid() int64 { return x.s.proc.LastZxid() }
func (x source) Latency() (int64, float64, int64) {
	return x.s.proc.Stats.Latency()
}
func (x source) PacketsReceived() int64 { return x.s.proc.Stats.PacketsRecv.Load() }
func (x source) PacketsSent() int64     { return x.s.proc.Stats.PacketsSent.Load() }
func (x source) Outstanding() int64     { return x.s.proc.Stats.Outstanding.Load() }
func (x source) ResetStats() {
	x.s.proc.Stats.Reset()
	x.s.proc.Large().ResetRejected()
	for _, n := range x.named() {
		n.Reset()
	}
	x.onCore(func(t *tree.Tree, _ *watch.Manager, _ *session.Tracker) {
		if ns := t.NamespaceStats(); ns != nil {
			ns.Reset()
		}
	})
}

// nsSummaries are a namespace counter set as the monitor's summary sets.
func nsSummaries(m map[string]tree.NSSummary) map[string]admin.Summary {
	out := make(map[string]admin.Summary, len(m))
	for k, s := range m {
		out[k] = admin.Summary{Count: s.Count, Sum: s.Sum, Min: s.Min, Max: s.Max}
	}
	return out
}

func (x source) Connections() []admin.ConnInfo {
	conns := x.s.conns()
	out := make([]admin.ConnInfo, 0, len(conns))
	for _, c := range conns {
		cl := c.Client()
		to, _ := x.s.proc.SessionTimeout(cl.SessionID())
		out = append(out, admin.ConnInfo{
			Remote: javanet.SocketAddressText(c.Remote()), Queued: c.Queued(), Throttled: c.Throttled(),
			Received: cl.Received.Load(), Sent: cl.SentPkts.Load(), SessionID: cl.SessionID(),
			LastOp: "NA", Established: c.Established, Timeout: to,
			LastCxid: cl.LastCxid.Load(), LastZxid: cl.LastZxid.Load(), Secure: c.Secure(),
		})
	}
	return out
}

func (x source) CnxnExpiryInterval() time.Duration { return x.s.cfg.SessionlessTimeout }

func (x source) ResetConnectionStats() {
	for _, c := range x.s.conns() {
		c.Client().Received.Store(0)
		c.Client().SentPkts.Store(0)
	}
}

// onCore runs f on the core goroutine, where the tree may be read.
func (x source) onCore(f func(t *tree.Tree, w *watch.Manager, ss *session.Tracker)) {
	_ = x.s.proc.Do(f)
}

func (x source) NodeCount() (n int) {
	x.onCore(func(t *tree.Tree, _ *watch.Manager, _ *session.Tracker) { n = t.NodeCount() })
	return
}
func (x source) ApproximateDataSize() (n int64) {
	x.onCore(func(t *tree.Tree, _ *watch.Manager, _ *session.Tracker) { n = t.ApproximateDataSize() })
	return
}
func (x source) EphemeralCount() (n int) {
	x.onCore(func(t *tree.Tree, _ *watch.Manager, _ *session.Tracker) { n = t.EphemeralCount() })
	return
}
func (x source) WatchSummary() (conns, paths, total int) {
	x.onCore(func(_ *tree.Tree, w *watch.Manager, _ *session.Tracker) { conns, paths, total = w.Summary() })
	return
}

type sessioned interface{ SessionID() int64 }

func (x source) WatchesBySession() map[int64][]string {
	out := map[int64][]string{}
	x.onCore(func(_ *tree.Tree, w *watch.Manager, _ *session.Tracker) {
		for wt, paths := range w.ByWatcher() {
			if c, ok := wt.(sessioned); ok {
				out[c.SessionID()] = append(out[c.SessionID()], paths...)
			}
		}
	})
	return out
}

func (x source) WatchesByPath() map[string][]int64 {
	out := map[string][]int64{}
	x.onCore(func(_ *tree.Tree, w *watch.Manager, _ *session.Tracker) {
		for path, ws := range w.ByPath() {
			for _, wt := range ws {
				if c, ok := wt.(sessioned); ok {
					out[path] = append(out[path], c.SessionID())
				}
			}
		}
	})
	return out
}

func (x source) EphemeralsBySession() (m map[int64][]string) {
	x.onCore(func(t *tree.Tree, _ *watch.Manager, _ *session.Tracker) { m = t.SessionsWithEphemerals() })
	return
}
func (x source) SessionExpiry() map[int64][]int64 { return x.s.proc.Sessions().ExpiryBuckets() }
func (x source) SessionCount() int                { return x.s.proc.Sessions().Count() }

// LearnerSessions: a follower, an observer and a read-only server run Apache's LearnerSessionTracker.
func (x source) LearnerSessions() (map[int64]int32, bool) {
	switch x.ServerState() {
	case "follower", "observer", "read-only":
		return x.s.proc.Sessions().Sessions(), true
	}
	return nil, false
}

func (x source) LocalSessionExpiry() (map[int64][]int64, int, bool) {
	return x.s.proc.LocalSessionExpiry()
}

// DigestLog is the tree's digest log, which `hash` prints.
func (x source) DigestLog() []admin.ZxidDigest {
	var out []admin.ZxidDigest
	x.onCore(func(t *tree.Tree, _ *watch.Manager, _ *session.Tracker) {
		for _, d := range t.DigestLog() {
			out = append(out, admin.ZxidDigest{Zxid: d.Zxid, Digest: d.Digest, DigestVersion: d.DigestVersion})
		}
	})
	return out
}

func (x source) DataDirSize() int64 {
	return dirSize(filepath.Join(x.s.cfg.DataDir, "version-2"), "snapshot.")
}
func (x source) LogDirSize() int64 {
	return dirSize(filepath.Join(x.s.cfg.DataLogDir, "version-2"), "log.")
}
func (x source) Uptime() time.Duration { return time.Since(x.s.started) }
func (x source) ServingRequests() bool {
	select {
	case <-x.s.done:
		return false
	default:
		return x.s.proc.Serving()
	}
}
func (x source) ReadOnly() bool { return x.s.proc.ReadOnly() }

func (x source) Conf() []admin.KV {
	c := x.s.cfg
	_, port, _ := splitPort(x.s.Addr().String())
	securePort := "-1"
	if a := x.s.SecureAddr(); a != nil {
		_, securePort, _ = splitPort(a.String())
	}
	kvs := []admin.KV{
		{Key: "clientPort", Value: port},
		{Key: "secureClientPort", Value: securePort},
		{Key: "dataDir", Value: filepath.Join(c.DataDir, "version-2")},
		{Key: "dataDirSize", Value: strconv.FormatInt(x.DataDirSize(), 10)},
		{Key: "dataLogDir", Value: filepath.Join(c.DataLogDir, "version-2")},
		{Key: "dataLogSize", Value: strconv.FormatInt(x.LogDirSize(), 10)},
		{Key: "tickTime", Value: strconv.Itoa(c.TickTime)},
		{Key: "maxClientCnxns", Value: strconv.Itoa(c.MaxClientCnxns)},
		{Key: "minSessionTimeout", Value: strconv.Itoa(c.MinSessionTimeout)},
		{Key: "maxSessionTimeout", Value: strconv.Itoa(c.MaxSessionTimeout)},
		{Key: "clientPortListenBacklog", Value: "-1"},
		// Apache prints 0 for a standalone server.
		{Key: "serverId", Value: "0"},
	}
	q := c.Quorum
	if q == nil || !x.quorumServing() {
		return kvs
	}
	// A quorum member's (QuorumZooKeeperServer and ReadOnlyZooKeeperServer.dumpConf): its id, then its peer keys.
	kvs[len(kvs)-1].Value = strconv.FormatInt(q.MyID, 10)
	_, electionPort, _ := splitPort(q.ElectionListen)
	_, quorumPort, _ := splitPort(q.QuorumListen)
	peerType := "0" // LearnerType.PARTICIPANT's ordinal
	if x.observer() {
		peerType = "1"
	}
	return append(kvs, admin.KV{Key: "initLimit", Value: strconv.Itoa(q.InitLimit)},
		admin.KV{Key: "syncLimit", Value: strconv.Itoa(q.SyncLimit)}, admin.KV{Key: "electionAlg", Value: "3"},
		admin.KV{Key: "electionPort", Value: electionPort}, admin.KV{Key: "quorumPort", Value: quorumPort},
		admin.KV{Key: "peerType", Value: peerType})
}

// quorumServing: a quorum member serving as leader, follower, observer or read-only server.
func (x source) quorumServing() bool {
	switch x.s.state.Load().(string) {
	case "leader", "follower", "observer":
		return true
	}
	return x.s.proc.ReadOnly()
}

// observer is our learner type: peerType, or what the last reconfig made us.
func (x source) observer() bool {
	if d := x.s.dyn.Load(); d != nil {
		_, observer := d.snapshot()
		return observer
	}
	return x.s.cfg.Quorum.Observer
}

// Membership is the active quorum config (QuorumVerifier.toString), on a member that serves read-write.
func (x source) Membership() string {
	q := x.s.cfg.Quorum
	if q == nil || !x.quorumServing() || x.s.proc.ReadOnly() {
		return ""
	}
	if d := x.s.dyn.Load(); d != nil {
		active, _ := d.Configs()
		return active.String()
	}
	return q.ConfigText
}

func (x source) Env() []admin.KV {
	host, _ := os.Hostname()
	wd, _ := os.Getwd()
	return []admin.KV{
		{Key: "zookeeper.version", Value: x.Version()},
		{Key: "host.name", Value: host},
		{Key: "go.version", Value: runtime.Version()},
		{Key: "os.name", Value: runtime.GOOS},
		{Key: "os.arch", Value: runtime.GOARCH},
		{Key: "user.dir", Value: wd},
		{Key: "os.memory.free", Value: memMB(func(m *runtime.MemStats) uint64 { return m.HeapIdle })},
		{Key: "os.memory.max", Value: memMB(func(m *runtime.MemStats) uint64 { return m.Sys })},
		{Key: "os.memory.total", Value: memMB(func(m *runtime.MemStats) uint64 { return m.HeapSys })},
	}
}

func memMB(f func(*runtime.MemStats) uint64) string {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return fmt.Sprintf("%dMB", f(&m)>>20)
}

func splitPort(addr string) (string, string, error) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:], nil
		}
	}
	return addr, "", fmt.Errorf("no port in %q", addr)
}

func dirSize(dir, prefix string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if len(e.Name()) >= len(prefix) && e.Name()[:len(prefix)] == prefix {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
	}
	return n
}

// ObserversInfo lists the observers we feed: as leader, the synced observers; as a follower with
// observerMasterPort, those of our observer master.
func (x source) ObserversInfo() []admin.ObserverInfo {
	var infos []learnerconn.Info
	if x.s.leaderStats.Leading() {
		infos = x.s.leaderStats.ObserversInfo()
	} else if om := x.s.observerMaster.Load(); om != nil {
		infos = om.ObserversInfo()
	}
	out := make([]admin.ObserverInfo, 0, len(infos))
	for _, i := range infos {
		out = append(out, admin.ObserverInfo{RemoteAddress: i.RemoteAddress, Sid: i.Sid, Established: i.Established,
			QueuedPackets: i.QueuedPackets, QueuedPacketsSize: i.QueuedPacketsSize, PacketsReceived: i.PacketsReceived,
			PacketsSent: i.PacketsSent, Requests: i.Requests, LastZxid: i.LastZxid})
	}
	return out
}

// ResetObserverStats is orst: the leader's or our observer master's observers' counts start over.
func (x source) ResetObserverStats() {
	if x.s.leaderStats.Leading() {
		x.s.leaderStats.ResetObserverStats()
	} else if om := x.s.observerMaster.Load(); om != nil {
		om.ResetObserverStats()
	}
}
