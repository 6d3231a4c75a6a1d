// Package pipeline is zkserver's request processing: one core goroutine
// validates writes and turns them into txns (prep), applies them to the data
// tree and answers reads in arrival order; a syncer goroutine group-commits
// the txn log and only then releases replies and watch events (on a leader,
// only once the ensemble has committed them too).
package pipeline

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/compat/javafmt"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/connthrottle"
	"github.com/zkafka/zkafka/zkserver/metrics"
	"github.com/zkafka/zkafka/zkserver/quorum/reconfig"
	"github.com/zkafka/zkafka/zkserver/sasl"
	"github.com/zkafka/zkafka/zkserver/session"
	"github.com/zkafka/zkafka/zkserver/storage"
	"github.com/zkafka/zkafka/zkserver/tree"
	"github.com/zkafka/zkafka/zkserver/watch"
)

// Config is what the pipeline needs from zoo.cfg.
type Config struct {
	ServerID          int64
	TickTime          int
	MinSessionTimeout int
	MaxSessionTimeout int
	SnapDir           string // dataDir/version-2
	LogDir            string // dataLogDir/version-2
	SnapCount         int
	SnapWriteRate     int64  // bytes/s cap on periodic snapshot writes; 0: none
	SnapCompression   string // "", "gz" or "snappy" as written (zookeeper.snapshot.compression.method); all are read
	PreAllocSize      int64
	ForceSync         bool
	DigestEnabled     bool
	// ResponseCacheSize and ChildrenResponseCacheSize are zookeeper.maxResponseCacheSize and
	// zookeeper.maxGetChildrenResponseCacheSize (see responseCache; 0 caches nothing).
	ResponseCacheSize, ChildrenResponseCacheSize int
	ExtendedTypes                                bool
	// Emulate353TTL is zookeeper.emulate353TTLNodes: see tree.Options.
	Emulate353TTL   bool
	ReconfigEnabled bool
	// StandaloneEnabled and MultiAddress (standaloneEnabled, multiAddress.enabled) shape the configs reconfig
	// requests may make.
	StandaloneEnabled bool
	MultiAddress      bool
	// Resolve resolves the host names of reconfig requests' servers for the address checks (nil: none).
	Resolve reconfig.Resolver
	// EnforceQuota is zookeeper.enforceQuota: a create or setData that would pass a quota's hard limit
	// (countHardLimit, byteHardLimit) fails with QuotaExceeded.
	EnforceQuota    bool
	SnapRetainCount int
	PurgeInterval   time.Duration

	ContainerCheckInterval  time.Duration
	ContainerMaxPerMinute   int
	ContainerMaxNeverUsedMs int64

	// Quorum: the server is a member of an ensemble. It follows a leader (follower.go: no prep, no session
	// expiry, no container sweeps) or leads (leader.go: as standalone, with replies held until commit), and in
	// between serves no one, or read-only clients (readonly.go).
	Quorum bool
	// LeaderRefusesClients is zookeeper.leaderServes=no: leading, the server takes no client connections of its
	// own (its learners' sessions only) and reports itself not serving, as Apache's leader then never hands its
	// ZooKeeperServer to the connection factory.
	LeaderRefusesClients bool
	// LocalSessions is localSessionsEnabled: following, observing or leading, new sessions are local ones (local.go).
	// LocalSessionsUpgrading is localSessionsUpgradingEnabled: an ephemeral create upgrades a local session to a
	// global one instead of failing.
	LocalSessions          bool
	LocalSessionsUpgrading bool
	// OnServing, when set, is called on StartServing's caller's goroutine each time a learner starts serving,
	// synced with its leader.
	OnServing func()

	ACL acl.Config
	// EnforceAuth are the schemes a connection must have authenticated with before any request but auth and SASL
	// (zookeeper.enforce.auth.schemes with zookeeper.enforce.auth.enabled, or sasl for
	// zookeeper.sessionRequireClientSASLAuth); empty: not enforced.
	EnforceAuth []string
	// Large is the large request throttle (nil: off); a request's held bytes go back when it finishes.
	Large *LargeRequests
	// Throttle is the RequestThrottler's settings; it runs only when they ask for it.
	Throttle ThrottleConfig
	// ConnThrottle is the connection throttle's (BlueThrottle's) settings; off unless it has tokens.
	ConnThrottle connthrottle.Config
	Logger       *slog.Logger
	// Now is the wall clock in ms (TxnHeader.time, TTLs); tests may replace it.
	Now func() int64
}

// Request is one decoded client request for the core.
type Request struct {
	Client *Client
	Xid    int32
	Op     int32
	Body   jute.Record
	Start  time.Time
	// SASL is the connection reader's evaluation of a SASL request's token (nil: the server has no SASL).
	SASL *sasl.Outcome
	// LargeSize is what the large request throttle holds for this request until it finishes.
	LargeSize int32
	// queued is when the request entered the RequestThrottler, then the core's queue (Apache's prep queue);
	// throttled: it waited in the throttler past throttled_op_wait_time and is answered THROTTLEDOP; throttlerHeld:
	// it counts in the throttler's in-process requests until it finishes.
	queued                   time.Time
	throttled, throttlerHeld bool
	// Malformed: the body did not decode; Apache answers MarshallingError
	// (and logs an ErrorTxn for a write).
	Malformed bool

	// local: a closeSession of one of our local sessions, closed here (Apache's isLocalSession flag, set when the
	// request arrives).
	local bool
	// ephemeralOnLocal: an ephemeral create from a local session that may not be upgraded; it fails with
	// EphemeralOnLocalSession (Apache's request exception, which the request keeps through prep and reply).
	ephemeralOnLocal bool
}

type output struct {
	c     *Client
	frame []byte
	close bool // close the connection after this frame
	// final marks FinalRequestProcessor's isStale check of a request of c's, of type op read at start, about to be
	// answered: made when the batch is delivered, where Apache's check runs after the request's sync and commit,
	// and counted in stale_replies. It carries no frame.
	final bool
	op    int32
	start time.Time
}

// batch is the work of one core pass: log entries to make durable, then the
// replies and events to send, in order.
type batch struct {
	entries [][]byte
	zxids   []int64
	// times are the header times of the txns this core made (standalone or leading), for the latencies of their
	// acknowledgement (leading) and final processing (propagation_latency); a learner's proposals have none.
	times []int64
	roll  bool
	outs  []output
	done  func() // run after delivery (e.g. snapshot bookkeeping)
	// ens is set while leading: the batch's outputs wait until every txn up to upTo (the last zxid prepped
	// when the batch closed) is committed.
	ens  Ensemble
	upTo int64
	// dropHeld: leadership ended; the outputs still held are never delivered.
	dropHeld bool
	// reads are the requests prepped on a standalone server without a txn (they pass Apache's sync processor too),
	// readsFirst those of them before the batch's first txn; handed is when the core handed the batch to the syncer
	// (ChainStats).
	reads, readsFirst int
	handed            time.Time
	// changes are the change records of the batch's txns, removed as they are applied (ChainStats).
	changes int
}

// Processor is the core. Create with New, then Start.
type Processor struct {
	cfg      Config
	log      *slog.Logger
	tree     *tree.Tree
	watches  *watch.Manager
	sessions *session.Tracker
	acl      *acl.Checker
	txnlog   *storage.TxnLog

	in     chan func()
	syncCh chan *batch
	stop   chan struct{}
	wg     sync.WaitGroup
	fatal  func(error)

	throttler     *throttler // nil: requests go straight to the core
	throttleStats ThrottleStats

	// core-goroutine state
	zxid          int64
	cur           *batch
	owners        map[int64]*Client // session -> its current connection
	txnsSinceSnap int
	snapAt        int
	rng           *rand.Rand
	quotaLog      rateLog              // Quota exceeded warnings
	nsStats       *tree.NamespaceStats // read_per_namespace, write_per_namespace: shared by every tree loaded
	// dataCache and childrenCache are the getData and getChildren2 response caches.
	dataCache, childrenCache *responseCache

	snapping atomic.Bool    // a snapshot is being captured or written
	snap     *snapJob       // capture in progress (core goroutine only)
	ready    chan time.Time // closed: a select on it never blocks
	snapWG   sync.WaitGroup

	fw followerState // core goroutine only; used when following
	ro bool          // core goroutine only; serving read-only clients (no leader)
	// local are the serving period's local sessions (local.go; core goroutine only); nil without
	// localSessionsEnabled.
	local *session.Tracker
	// upgrading are the sessions upgraded from local whose createSession is not yet applied (core goroutine only;
	// nil without local sessions).
	upgrading map[int64]bool
	// readOnly and localPub publish ro and local's tracker for 4lw and the connections' readers.
	readOnly atomic.Bool
	localPub atomic.Pointer[session.Tracker]
	periods  atomic.Int64 // serving periods begun in an ensemble (following, leading, read-only)
	// connThrottle is this serving period's connection throttle (Apache's is the ZooKeeperServer's: a new one
	// each period); monoBase is the start of its monotonic clock.
	connThrottle atomic.Pointer[connthrottle.Throttle]
	monoBase     time.Time
	ens          Ensemble    // core goroutine only; set while leading
	serving      atomic.Bool // clients are served (always, standalone; in an ensemble while following, leading or read-only)
	// ensembleFailLogged and digestMismatchLogged are when a wrong ensemble name and a digest mismatch were last
	// logged (core goroutine only).
	ensembleFailLogged, digestMismatchLogged time.Time
	// committed is the last zxid the ensemble committed while we lead; commitSig wakes the syncer for it.
	committed atomic.Int64
	commitSig chan struct{}
	// recent are the last txns logged or applied, for a new leader's committed log (core goroutine).
	recent []Txn
	// handoff is the time the request being prepped spent handing its txns on (core goroutine; ChainStats).
	handoff time.Duration
	// commits replays Apache's CommitProcessor for its metrics; cpWrites counts the writes entered into it, each
	// txn made while leading and each request a learner forwards (core goroutine).
	commits  *commitModel
	cpWrites int64

	lastZxid atomic.Int64 // published for pings and 4lw
	Stats    Stats
}

// Stats are the counters 4lw and metrics report.
type Stats struct {
	mu          sync.Mutex
	minLat      int64
	maxLat      int64
	totalLat    int64
	count       int64
	PacketsRecv atomic.Int64
	PacketsSent atomic.Int64
	Outstanding atomic.Int64

	// ServerMetrics' bytes_received_count (each packet read: its 4-byte length and body; a four-letter word's 4
	// bytes), response_bytes (FinalRequestProcessor's answers, without their length: neither pings nor connect
	// responses) and connection_request_count (connect requests the connection throttle let through).
	BytesRecv, ResponseBytes, ConnectionRequests atomic.Int64
	// connection_rejected: connections closed as they were accepted (maxClientCnxns) or at their connect request
	// (the connection throttle); connection_token_deficit: the throttle's missing tokens after each connect
	// request it let through.
	ConnectionRejected atomic.Int64
	TokenDeficit       metrics.SummaryCounter
	// connection_revalidate_count: connect requests that resume a session (past the checks that refuse them);
	// stale_sessions_expired: sessions, global or local, whose tracker expired them.
	ConnectionRevalidates, SessionsExpired atomic.Int64
	// sessionless_connections_expired: connections closed for sending no connect request in time.
	SessionlessExpired atomic.Int64
	// ConnectionDrops counts the client connections that ended by the client's close while the server read
	// (connection_drop_count).
	ConnectionDrops atomic.Int64
	// The answers of EnsembleAuthenticationProvider: ensemble_auth_skip, _success and _fail.
	EnsembleAuthSkip, EnsembleAuthSuccess, EnsembleAuthFail atomic.Int64
	// DigestMismatches counts the txns a learner applied whose logged digest was not its tree's
	// (digest_mismatches_count).
	DigestMismatches atomic.Int64
	// InsecureAdmin counts the plaintext connections of a unified AdminServer port (insecure_admin_count).
	InsecureAdmin atomic.Int64
	// watch_bytes: the watch notifications sent (their size without the length prefix).
	WatchBytes atomic.Int64
	// Quorum are the election's and ZAB's counters, kept here across serving periods.
	Quorum metrics.Quorum
	// Chain are Apache's prep and sync processors' metrics; Commit its CommitProcessor's.
	Chain  ChainStats
	Commit CommitStats
	// snapshottime (each snapshot's write, in ms) and the database's loads (ZKDatabase.loadDataBase and
	// FileTxnSnapLog.restore): dbinittime, startup_snap_load_time, startup_txns_load_time and
	// startup_txns_loaded (only for a load that replayed txns, as fastForwardFromEdits adds them).
	SnapshotTime, DBInitTime, SnapLoadTime, TxnsLoadTime, TxnsLoaded metrics.SummaryCounter
	// ServerMetrics' readlatency and updatelatency: each request's time from its arrival to its final processing,
	// split as ServerStats.updateLatency splits them, by whether the request carries a txn header; and fsynctime,
	// each txn log commit's sync.
	ReadLatency, UpdateLatency, FsyncTime metrics.SummaryCounter

	quotaExceeded map[string]int64 // ServerMetrics' quota_exceeded_error_per_namespace, under mu
}

// Latency returns min/avg/max request latency in ms.
func (s *Stats) Latency() (min int64, avg float64, max int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count == 0 {
		return 0, 0, 0
	}
	// ServerStats' AvgMinMaxCounter rounds the average to 4 places, half up.
	return s.minLat, javafmt.RoundHalfUp(float64(s.totalLat)/float64(s.count), 4), s.maxLat
}

// Reset clears the latency and packet counters and the quota counter set (srst); the Named tables are reset
// with the server's others (see Named).
func (s *Stats) Reset() {
	s.mu.Lock()
	s.minLat, s.maxLat, s.totalLat, s.count = 0, 0, 0, 0
	for ns := range s.quotaExceeded { // ServerMetrics.resetAll zeroes a counter set's counters, keeping them
		s.quotaExceeded[ns] = 0
	}
	s.mu.Unlock()
	s.PacketsRecv.Store(0)
	s.PacketsSent.Store(0)
}

// Named lists the ServerMetrics counters and summaries Stats keeps (not the Quorum's) under Apache's names.
func (s *Stats) Named() metrics.Named {
	return metrics.Named{
		Counters: map[string]*atomic.Int64{"bytes_received_count": &s.BytesRecv, "response_bytes": &s.ResponseBytes,
			"connection_request_count": &s.ConnectionRequests, "connection_rejected": &s.ConnectionRejected,
			"connection_revalidate_count": &s.ConnectionRevalidates, "stale_sessions_expired": &s.SessionsExpired,
			"sessionless_connections_expired": &s.SessionlessExpired, "watch_bytes": &s.WatchBytes,
			"insecure_admin_count": &s.InsecureAdmin, "connection_drop_count": &s.ConnectionDrops,
			"ensemble_auth_skip": &s.EnsembleAuthSkip, "ensemble_auth_success": &s.EnsembleAuthSuccess,
			"ensemble_auth_fail": &s.EnsembleAuthFail, "digest_mismatches_count": &s.DigestMismatches},
		Summaries: map[string]*metrics.SummaryCounter{"readlatency": &s.ReadLatency,
			"updatelatency": &s.UpdateLatency, "fsynctime": &s.FsyncTime, "snapshottime": &s.SnapshotTime,
			"dbinittime": &s.DBInitTime, "connection_token_deficit": &s.TokenDeficit, "startup_snap_load_time": &s.SnapLoadTime,
			"startup_txns_load_time": &s.TxnsLoadTime, "startup_txns_loaded": &s.TxnsLoaded},
	}
}

// QuotaExceeded is the quota_exceeded_error_per_namespace counter set: requests refused with QuotaExceeded, by
// the top-level name of their path.
func (s *Stats) QuotaExceeded() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.quotaExceeded)
}

func (s *Stats) addQuotaExceeded(ns string) {
	s.mu.Lock()
	if s.quotaExceeded == nil {
		s.quotaExceeded = map[string]int64{}
	}
	s.quotaExceeded[ns]++
	s.mu.Unlock()
}

func (s *Stats) addLatency(ms int64) {
	s.mu.Lock()
	if s.count == 0 || ms < s.minLat {
		s.minLat = ms
	}
	if ms > s.maxLat {
		s.maxLat = ms
	}
	s.totalLat += ms
	s.count++
	s.mu.Unlock()
}

// New recovers the database from cfg.SnapDir/LogDir (Apache's formats) and
// returns a processor ready to Start. fatal is called if the txn log cannot
// be written: the server must stop rather than acknowledge unlogged writes.
func New(cfg Config, fatal func(error)) (*Processor, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if cfg.SnapCount < 2 {
		cfg.SnapCount = 100000
	}
	p := &Processor{
		cfg:           cfg,
		log:           cfg.Logger,
		watches:       watch.NewManager(),
		acl:           acl.NewChecker(cfg.ACL),
		in:            make(chan func(), 4096),
		syncCh:        make(chan *batch, 64),
		stop:          make(chan struct{}),
		fatal:         fatal,
		owners:        map[int64]*Client{},
		ready:         make(chan time.Time),
		commitSig:     make(chan struct{}, 1),
		nsStats:       tree.NewNamespaceStats(),
		dataCache:     newResponseCache(cfg.ResponseCacheSize),
		childrenCache: newResponseCache(cfg.ChildrenResponseCacheSize),
		rng:           rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(cfg.ServerID))),
		monoBase:      time.Now(),
	}
	close(p.ready)
	p.commits = newCommitModel(&p.Stats.Commit)
	p.newConnThrottle()
	if cfg.Throttle.enabled() {
		p.throttler = newThrottler(p, cfg.Throttle)
	}
	p.serving.Store(!cfg.Quorum)
	now := time.Now().UnixMilli()
	p.sessions = session.NewTracker(cfg.ServerID, cfg.TickTime, now)
	p.sessions.RecordTouches(cfg.Quorum)
	if err := p.recover(now); err != nil {
		return nil, err
	}
	p.resetSnapAt()
	return p, nil
}

func (p *Processor) recover(nowMs int64) error {
	var t *tree.Tree
	if err := storage.RemoveStaleTemps(p.cfg.SnapDir); err != nil {
		p.log.Warn("cannot remove stale snapshot temp files", "dir", p.cfg.SnapDir, "err", err)
	}
	start := time.Now()
	rd, info, err := storage.LoadLatest(p.cfg.SnapDir, func() storage.TreeReader { return tree.NewWithOptions(p.watches, p.treeOptions()) })
	if err != nil {
		return fmt.Errorf("load snapshot from %s: %w", p.cfg.SnapDir, err)
	}
	p.Stats.SnapLoadTime.Add(time.Since(start).Milliseconds())
	snapZxid := int64(0)
	if rd != nil {
		t = rd.(*tree.Tree)
		snapZxid = info.Zxid
		for id, to := range info.Sessions {
			p.sessions.Add(id, to, nowMs)
		}
	} else {
		t = tree.NewWithOptions(p.watches, p.treeOptions())
	}
	p.tree = t
	if rd != nil && p.cfg.DigestEnabled && info.Digest != nil && t.SetSnapshotDigest(*info.Digest, snapZxid) {
		p.digestMismatch(snapZxid, "the snapshot's digest")
	}
	p.recent = nil
	replayStart, replayed := time.Now(), int64(0)
	last, err := storage.ReadLog(p.cfg.LogDir, snapZxid, func(e *storage.Entry) error {
		replayed++
		p.compareDigest(e, t.Apply(&e.Hdr, e.Txn)) // as fastForwardFromEdits
		p.remember(e.Hdr.Zxid, e.Raw)
		switch e.Hdr.Type {
		case jute.OpCreateSession:
			if cs, ok := e.Txn.(*jute.CreateSessionTxn); ok {
				p.sessions.Add(e.Hdr.ClientID, cs.TimeOut, nowMs)
			}
		case jute.OpCloseSession:
			p.sessions.Remove(e.Hdr.ClientID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay txn log %s: %w", p.cfg.LogDir, err)
	}
	if replayed > 0 {
		p.Stats.TxnsLoaded.Add(replayed)
		p.Stats.TxnsLoadTime.Add(time.Since(replayStart).Milliseconds())
	}
	if t.Fuzzy() {
		// As Apache, which then compares no txn's digest and logs none.
		p.log.Warn("the txn log does not reach the zxid of the fuzzy snapshot's digest; digests are not compared",
			"last_zxid", fmt.Sprintf("0x%x", max(snapZxid, last)), "digest_zxid", fmt.Sprintf("0x%x", info.Digest.Zxid))
	}
	p.Stats.DBInitTime.Add(time.Since(start).Milliseconds())
	p.zxid = max(snapZxid, last, t.LastZxid())
	p.lastZxid.Store(p.zxid)
	killed := false
	if !p.cfg.Quorum {
		killed = p.killDeadSessions()
	}
	p.txnlog, err = storage.OpenTxnLog(p.cfg.LogDir, storage.LogOptions{PreAllocSize: p.cfg.PreAllocSize, ForceSync: p.cfg.ForceSync, Logger: p.log})
	if err != nil {
		return fmt.Errorf("open txn log %s: %w", p.cfg.LogDir, err)
	}
	if rd == nil || ((p.zxid > snapZxid || killed) && !p.cfg.Quorum) {
		// Apache writes snapshot.<zxid> after loading so the next start does
		// not depend on logs alone (and an empty dataDir gets snapshot.0).
		// Not a follower: its log may end in proposals never committed, which
		// a TRUNC from its next leader takes back (a snapshot would keep them).
		if _, err := p.writeSnapshot(); err != nil {
			return err
		}
	}
	snapPath := ""
	if info != nil {
		snapPath = info.Path
		for _, s := range info.Skipped {
			p.log.Warn("snapshot not loaded", "reason", s)
		}
	}
	p.log.Info("database loaded", "zxid", fmt.Sprintf("0x%x", p.zxid), "snapshot", snapPath, "nodes", t.NodeCount(), "sessions", p.sessions.Count())
	return nil
}

// killDeadSessions is the clean-up of ZooKeeperServer.loadData: the ephemerals of a session the loaded database
// has no timeout for go, without a txn, at the last zxid (a snapshot then keeps the result). Such owners are
// not sessions at all, e.g. ZooKeeper 3.5.3's TTL nodes read without zookeeper.emulate353TTLNodes.
func (p *Processor) killDeadSessions() bool {
	killed := false
	for sid, paths := range p.tree.SessionsWithEphemerals() {
		if _, ok := p.sessions.Timeout(sid); ok {
			continue
		}
		p.log.Info("removing the ephemerals of a session the database does not know", "session",
			fmt.Sprintf("0x%x", sid), "nodes", len(paths))
		p.tree.KillSession(sid, p.zxid)
		killed = true
	}
	return killed
}

func (p *Processor) writeSnapshot() (string, error) {
	start := time.Now()
	path, err := storage.WriteSnapshotWith(p.cfg.SnapDir, p.zxid, p.sessions.Sessions(), p.tree, p.snapshotDigest(),
		storage.SnapshotOptions{Compression: p.cfg.SnapCompression})
	if err != nil {
		return "", fmt.Errorf("write snapshot at zxid 0x%x: %w", p.zxid, err)
	}
	p.Stats.SnapshotTime.Add(time.Since(start).Milliseconds())
	p.log.Info("snapshot written", "path", path, "ms", time.Since(start).Milliseconds())
	return path, nil
}

// snapshotDigest is what DataTree.serializeZxidDigest writes after a snapshot's tree: the latest digest the tree
// logged, an empty one (zxid 0) when it logged none; nothing without digests.
func (p *Processor) snapshotDigest() *jute.ZxidDigest {
	if !p.cfg.DigestEnabled {
		return nil
	}
	if d := p.tree.LastDigest(); d != nil {
		return d // never changed: the tree logs a new one
	}
	return &jute.ZxidDigest{DigestVersion: tree.DigestVersion}
}

func (p *Processor) resetSnapAt() {
	half := p.cfg.SnapCount / 2
	p.snapAt = half + 1 + p.rng.IntN(max(1, p.cfg.SnapCount-half))
	p.txnsSinceSnap = 0
}

// Start runs the core and syncer goroutines.
func (p *Processor) Start() {
	if !p.cfg.Quorum {
		p.chainStarted()
	}
	p.wg.Add(2)
	go p.runCore()
	go p.runSyncer()
	if p.throttler != nil {
		p.wg.Add(1)
		go p.throttler.run()
	}
}

// Close stops the goroutines and closes the txn log.
func (p *Processor) Close() error {
	select {
	case <-p.stop:
		return nil
	default:
	}
	close(p.stop)
	p.wg.Wait()
	p.snapWG.Wait()
	return p.txnlog.Close()
}

// Serving reports whether clients are served (a follower serves only while synced with a leader).
func (p *Processor) Serving() bool { return p.serving.Load() }

// LastZxid is the last zxid the core has processed.
func (p *Processor) LastZxid() int64 { return p.lastZxid.Load() }

// Do runs fn on the core goroutine and waits for it; for 4lw and admin
// commands that read the tree, watches or sessions.
func (p *Processor) Do(fn func(t *tree.Tree, w *watch.Manager, s *session.Tracker)) error {
	done := make(chan struct{})
	select {
	case p.in <- func() { fn(p.tree, p.watches, p.sessions); close(done) }:
	case <-p.stop:
		return errors.New("server stopped")
	}
	select {
	case <-done:
		return nil
	case <-p.stop:
		return errors.New("server stopped")
	}
}

// Sessions gives the session tracker (safe for concurrent use).
func (p *Processor) Sessions() *session.Tracker { return p.sessions }

func (p *Processor) submit(fn func()) {
	select {
	case p.in <- fn:
	case <-p.stop:
	}
}

// AuthRefused reports whether the core will refuse a (decoded) auth packet, replying AuthFailed and closing the
// connection. The connection's reader asks right after submitting one, to take no request after it: Apache checks
// auth packets on the reading thread and stops receiving on a failure, so nothing a client pipelined behind a refused
// auth packet runs or is answered. The answer depends only on the packet and on what the connection's certificate
// gave it before its first request, so both answers agree.
func (p *Processor) AuthRefused(c *Client, a *jute.AuthPacket) bool {
	_, e := p.authenticate(c, a)
	return e != jute.ErrOK
}

// authenticate is the auth provider's answer to an auth packet on c: the ids to add, or ErrAuthFailed. x509 has no
// auth packet of its own: X509AuthenticationProvider checks the connection's certificate again, so a connection
// whose certificate gave it ids keeps them, any other fails.
func (p *Processor) authenticate(c *Client, a *jute.AuthPacket) ([]jute.Id, jute.Err) {
	if a.Scheme == "ensemble" && p.acl.Registered("ensemble") {
		if p.acl.CheckEnsemble(a.Auth) == acl.EnsembleFail {
			return nil, jute.ErrBadArguments // the connection closes unanswered
		}
		return nil, jute.ErrOK
	}
	if a.Scheme == "x509" && p.acl.Registered("x509") {
		if c.certified {
			return nil, jute.ErrOK
		}
		return nil, jute.ErrAuthFailed
	}
	return p.acl.Authenticate(a.Scheme, a.Auth)
}

// Watches is the watch manager; its Triggered summaries may be read on any goroutine.
func (p *Processor) Watches() *watch.Manager { return p.watches }

// ResponseCaches are the getData and getChildren2 response caches, for their hit and miss counters.
func (p *Processor) ResponseCaches() ResponseCacheCounters {
	return ResponseCacheCounters{Data: &p.dataCache.counters, Children: &p.childrenCache.counters}
}

// Large is the large request throttle the connections check (nil: off).
func (p *Processor) Large() *LargeRequests { return p.cfg.Large }

// Submit queues a client request: through the RequestThrottler when it runs, except auth and SASL packets, which
// Apache handles on the reading thread.
func (p *Processor) Submit(r *Request) {
	p.Stats.Outstanding.Add(1)
	if p.throttler != nil && r.Op != jute.OpAuth && r.Op != jute.OpSASL {
		p.throttler.submit(r)
		return
	}
	r.queued = time.Now()
	p.submit(func() { p.handle(r) })
}

// ThrottleStats are the RequestThrottler's metrics.
func (p *Processor) ThrottleStats() *ThrottleStats { return &p.throttleStats }

// dropRequest ends a request the throttler dropped without processing it (requestFinished).
func (p *Processor) dropRequest(r *Request) {
	p.Stats.Outstanding.Add(-1)
	p.cfg.Large.Release(r.LargeSize)
}

func (p *Processor) runCore() {
	defer p.wg.Done()
	defer close(p.syncCh)
	tick := time.NewTicker(time.Duration(max(p.cfg.TickTime/2, 10)) * time.Millisecond)
	defer tick.Stop()
	var containerTick <-chan time.Time
	if p.cfg.ContainerCheckInterval > 0 {
		t := time.NewTicker(p.cfg.ContainerCheckInterval)
		defer t.Stop()
		containerTick = t.C
	}
	var purgeTick <-chan time.Time
	if p.cfg.PurgeInterval > 0 {
		t := time.NewTicker(p.cfg.PurgeInterval)
		defer t.Stop()
		purgeTick = t.C
	}
	for {
		p.cur = &batch{}
		// While a snapshot is being captured the core does not block: it
		// takes a step of the capture whenever no request is waiting.
		var idle <-chan time.Time
		if p.snap != nil {
			idle = p.ready
		}
		select {
		case <-p.stop:
			return
		case <-idle:
			p.stepSnapshot()
		case fn := <-p.in:
			fn()
			// Drain what is queued so one fsync covers many writes.
		drain:
			for i := 0; i < 1000; i++ {
				select {
				case fn := <-p.in:
					fn()
				default:
					break drain
				}
			}
		case <-tick.C:
			if p.decides() {
				p.expireSessions()
			}
			if p.local != nil {
				p.expireLocalSessions()
			}
		case <-containerTick:
			if p.decides() {
				p.sweepContainers()
			}
		case <-purgeTick:
			go func() {
				if err := storage.Purge(p.cfg.SnapDir, p.cfg.LogDir, max(3, p.cfg.SnapRetainCount)); err != nil {
					p.log.Warn("autopurge failed", "err", err)
				}
			}()
		}
		if p.snap != nil && len(p.cur.entries) > 0 {
			p.stepSnapshot() // busy: keep the capture moving between batches
		}
		if len(p.cur.entries) > 0 || len(p.cur.outs) > 0 || p.cur.roll {
			p.flushBatch()
		}
	}
}

// decides reports whether this server makes txns of its own (session expiry, container sweeps): standalone, or
// leading.
func (p *Processor) decides() bool { return !p.cfg.Quorum || p.ens != nil }

// flushBatch hands the current batch to the syncer; while leading, its outputs are held until its txns commit.
func (p *Processor) flushBatch() {
	if p.ens != nil {
		p.cur.ens, p.cur.upTo = p.ens, p.zxid
	}
	p.cur.handed = time.Now()
	p.syncCh <- p.cur
}

// drainSyncer hands the current batch to the syncer and waits until everything handed to it is written and
// delivered; with dropHeld, the outputs still held for a commit are dropped instead (the leadership ended).
func (p *Processor) drainSyncer(dropHeld bool) error {
	flushed := make(chan struct{})
	p.flushBatch()
	p.syncCh <- &batch{dropHeld: dropHeld, done: func() { close(flushed) }}
	p.cur = &batch{}
	select {
	case <-flushed:
		return nil
	case <-p.stop:
		return errors.New("server stopped")
	}
}

// remember keeps a logged or applied txn among the recent ones (the last recentTxns).
func (p *Processor) remember(zxid int64, entry []byte) {
	p.recent = append(p.recent, Txn{Zxid: zxid, Data: entry})
	if len(p.recent) >= 2*recentTxns {
		p.recent = append(p.recent[:0:0], p.recent[len(p.recent)-recentTxns:]...)
	}
}

func (p *Processor) runSyncer() {
	defer p.wg.Done()
	var pending []*batch
	// held are batches written and waiting for their commit (leading), and the batches behind them.
	var held []*batch
	for {
		var b *batch
		select {
		case b2, ok := <-p.syncCh:
			if !ok {
				return
			}
			b = b2
		case <-p.commitSig:
			held = p.release(held)
			continue
		}
		pending = append(pending[:0], b)
	more:
		for len(pending) < 64 {
			select {
			case b2, ok := <-p.syncCh:
				if !ok {
					break more
				}
				pending = append(pending, b2)
			default:
				break more
			}
		}
		chain := &p.Stats.Chain
		flushed := chain.syncRound(pending, time.Now())
		dirty := false
		for _, b := range pending {
			if b.roll {
				if err := p.txnlog.Roll(); err != nil {
					p.fatal(fmt.Errorf("roll txn log: %w", err))
					return
				}
			}
			for i, e := range b.entries {
				appending := time.Now()
				if err := p.txnlog.Append(b.zxids[i], e); err != nil {
					p.fatal(fmt.Errorf("append txn 0x%x: %w", b.zxids[i], err))
					return
				}
				chain.SyncTime.Add(time.Since(appending).Milliseconds())
				flushed--
				dirty = true
			}
		}
		for ; flushed > 0; flushed-- {
			chain.SyncTime.Add(0) // a request without a txn behind one: only queued for the flush
		}
		if dirty {
			synced := time.Now()
			if err := p.txnlog.Commit(); err != nil {
				p.fatal(fmt.Errorf("commit txn log: %w", err))
				return
			}
			done := time.Now()
			p.Stats.FsyncTime.Add(done.Sub(synced).Milliseconds())
			chain.syncFlushed(pending, synced, done)
		}
		var durable int64
		var ens Ensemble
		now := time.Now().UnixMilli()
		for _, b := range pending {
			if b.dropHeld {
				held = nil
			}
			if b.ens != nil {
				ens = b.ens
				if n := len(b.zxids); n > 0 {
					durable = b.zxids[n-1]
				}
				// AckRequestProcessor: the leader acknowledges each txn it logged.
				for _, t := range b.times {
					metrics.AddSince(&p.Stats.Quorum.ProposalAckCreation, now, t)
				}
			}
			if b.ens != nil || len(held) > 0 {
				held = append(held, b)
				continue
			}
			p.deliver(b)
		}
		if ens != nil && durable > 0 {
			ens.Durable(durable) // our own acknowledgement
		}
		held = p.release(held)
	}
}

// release delivers the held batches whose txns are committed, in order.
func (p *Processor) release(held []*batch) []*batch {
	c := p.committed.Load()
	i := 0
	for ; i < len(held) && (held[i].ens == nil || held[i].upTo <= c); i++ {
		p.deliver(held[i])
	}
	if i == len(held) {
		return held[:0]
	}
	return held[i:]
}

// deliver sends a batch's replies and events, then runs its completion.
func (p *Processor) deliver(b *batch) {
	if b.changes > 0 {
		p.Stats.Chain.ChangesRemoved.Add(int64(b.changes)) // ZooKeeperServer.processTxn, as each txn is applied
	}
	if len(b.times) > 0 {
		// FinalRequestProcessor's propagation_latency, for each txn.
		now := time.Now().UnixMilli()
		for _, t := range b.times {
			metrics.AddSince(&p.Stats.Quorum.Propagation, now, t)
		}
	}
	for _, o := range b.outs {
		if o.final {
			if p.stale(o.c, o.op, o.start) {
				p.throttleStats.StaleReplies.Add(1)
			}
			continue
		}
		if o.c.closed.Load() && !o.close {
			continue
		}
		if o.frame != nil {
			o.c.out.Send(o.frame)
			p.Stats.PacketsSent.Add(1)
		}
		if o.close {
			o.c.closed.Store(true)
			o.c.out.CloseAfterFlush()
		}
	}
	if b.done != nil {
		b.done()
	}
}

// finalCheck queues FinalRequestProcessor's stale check of a request answered here (stale_replies), just ahead of
// its answer. Apache makes it for every request that reaches its final processing with a connection of this
// server's, except those failed before (a session check in prep, an ErrorTxn, a request exception other than a
// multi's): the callers leave those out. A learner's request on the leader has no connection there.
func (p *Processor) finalCheck(c *Client, op int32, start time.Time) {
	if c.via.learner {
		return
	}
	p.cur.outs = append(p.cur.outs, output{c: c, final: true, op: op, start: start})
}

// emit queues a frame for c behind the current batch's commit.
func (p *Processor) emit(c *Client, frame []byte) {
	p.cur.outs = append(p.cur.outs, output{c: c, frame: frame})
}

// reply answers a request as FinalRequestProcessor does.
func (p *Processor) reply(c *Client, xid int32, zxid int64, err jute.Err, body ReplyBody) {
	if f := p.replyFrame(c, xid, zxid, err, body); f != nil {
		if xid != jute.XidPing {
			p.countResponse(c, f)
		}
		p.emit(c, f)
	}
}

// replyFrame is the answer to a request (nil for SessionMoved, which closes the connection instead).
func (p *Processor) replyFrame(c *Client, xid int32, zxid int64, err jute.Err, body ReplyBody) []byte {
	if err == jute.ErrSessionMoved {
		p.closeMoved(c)
		return nil
	}
	if err != jute.ErrOK {
		body = nil
	}
	c.LastZxid.Store(zxid)
	return EncodeReply(jute.ReplyHeader{Xid: xid, Zxid: zxid, Err: int32(err)}, body)
}

// countResponse adds a FinalRequestProcessor answer to response_bytes (the size its length prefix gives); a
// learner's request has no connection on the leader, which answers nothing for it.
func (p *Processor) countResponse(c *Client, frame []byte) {
	if !c.via.learner {
		p.Stats.ResponseBytes.Add(int64(len(frame) - 4))
	}
}

// answerClose queues FinalRequestProcessor's answer to a closeSession and the connection's close after it.
func (p *Processor) answerClose(c *Client, xid int32, zxid int64) {
	f := EncodeReply(jute.ReplyHeader{Xid: xid, Zxid: zxid}, nil)
	p.countResponse(c, f)
	p.cur.outs = append(p.cur.outs, output{c: c, frame: f, close: true})
}

// closeMoved answers a request of a session that moved to another server: SessionMoved is a connection-level
// error, so there is no reply and the connection closes once what was queued before goes out (Apache's
// FinalRequestProcessor: sendCloseSession). The client reconnects to find its session where it is.
func (p *Processor) closeMoved(c *Client) {
	if c.via.learner {
		return // a learner's request: its client's connection is the learner's to close, on the ErrorTxn's commit
	}
	p.cur.outs = append(p.cur.outs, output{c: c, close: true})
}

// logTxn assigns the next zxid's txn to the log and applies it to the tree.
func (p *Processor) logTxn(hdr *jute.TxnHeader, txn jute.Record) tree.Result {
	res := p.tree.Apply(hdr, txn)
	if res.SnapshotDigestMismatch {
		p.digestMismatch(hdr.Zxid, "the loaded snapshot's digest")
	}
	var dg *jute.TxnDigest
	if p.cfg.DigestEnabled && hdr.Type != jute.OpError {
		dg = &jute.TxnDigest{Version: 2, TreeDigest: p.tree.Digest()}
	}
	entry := storage.EncodeEntry(hdr, txn, dg)
	// The hand-off to the log and the followers: Apache's proposal_process_time.
	handing := time.Now()
	p.cur.entries = append(p.cur.entries, entry)
	p.cur.zxids = append(p.cur.zxids, hdr.Zxid)
	p.cur.times = append(p.cur.times, hdr.Time)
	p.remember(hdr.Zxid, entry)
	if p.ens != nil {
		// ProposalRequestProcessor hands the request to the CommitProcessor, then proposes it.
		p.cpWrites++
		p.commits.propose(hdr.Zxid, commitKey{sid: hdr.ClientID, cxid: hdr.Cxid})
		p.ens.Propose(entry, hdr.Zxid)
	}
	p.handoff += time.Since(handing)
	p.lastZxid.Store(hdr.Zxid)
	p.txnsSinceSnap++
	if p.txnsSinceSnap >= p.snapAt {
		p.snapshotNow()
	}
	return res
}

// snapshotNow rolls the log (the next txn starts a new file) and starts a
// fuzzy snapshot named after the current zxid: the core walks the tree a few
// thousand nodes at a time between batches (stepSnapshot), and a background
// goroutine writes the file. Replaying the log from that zxid makes it exact,
// as with Apache's snapshots, and no client waits for a whole-tree walk.
func (p *Processor) snapshotNow() {
	p.resetSnapAt()
	if p.snap != nil || !p.snapping.CompareAndSwap(false, true) {
		p.log.Warn("too busy to snap, skipping")
		return
	}
	// Entries up to now go to the old file; the roll applies to later batches.
	p.flushBatch()
	p.cur = &batch{roll: true}
	p.snap = &snapJob{zxid: p.zxid, sessions: p.sessions.Sessions(), job: p.tree.StartCapture(false), start: time.Now()}
}

// snapJob is a snapshot being captured.
type snapJob struct {
	zxid     int64
	sessions map[int64]int32
	job      *tree.CaptureJob
	start    time.Time
}

// snapStep is how many nodes the core captures between two batches: a few
// milliseconds of work, so no client waits for a whole-tree walk.
const snapStep = 5000

func (p *Processor) stepSnapshot() {
	sj := p.snap
	if !sj.job.Step(snapStep) {
		return
	}
	p.snap = nil
	capture := sj.job.Finish()
	// The digest as of now, whose zxid may be past the snapshot's name, as Apache's.
	dg := p.snapshotDigest()
	p.snapWG.Add(1)
	go func() {
		defer p.snapWG.Done()
		defer p.snapping.Store(false)
		// Not fsynced, as Apache's periodic snapshots, and paced (see storage.SnapshotOptions).
		path, err := storage.WriteSnapshotWith(p.cfg.SnapDir, sj.zxid, sj.sessions, capture, dg,
			storage.SnapshotOptions{Compression: p.cfg.SnapCompression, NoSync: true, WriteRate: p.cfg.SnapWriteRate, Abort: p.stop})
		if errors.Is(err, storage.ErrSnapshotAborted) {
			p.log.Info("snapshot abandoned: shutting down", "zxid", fmt.Sprintf("0x%x", sj.zxid))
			return
		}
		if err != nil {
			p.log.Error("snapshot failed", "zxid", fmt.Sprintf("0x%x", sj.zxid), "err", err)
			return
		}
		ms := time.Since(sj.start).Milliseconds()
		p.Stats.SnapshotTime.Add(ms)
		p.log.Info("snapshot written", "path", path, "ms", ms)
	}()
}

func (p *Processor) nextHeader(session int64, xid int32, op int32) *jute.TxnHeader {
	p.zxid++
	return &jute.TxnHeader{ClientID: session, Cxid: xid, Zxid: p.zxid, Time: p.cfg.Now(), Type: op}
}

// finish ends a request that reached FinalRequestProcessor's accounting (ServerStats.updateLatency): the
// latencies srvr and mntr report. Auth and SASL packets never get there, nor a learner's request on the leader
// (it has no connection there).
func (p *Processor) finish(r *Request) {
	p.releaseRequest(r)
	if r.Op == jute.OpAuth || r.Op == jute.OpSASL || r.Client != nil && r.Client.via.learner {
		return
	}
	p.recordLatency(r.Op, r.Start)
}

// recordLatency is ServerStats.updateLatency for a request of op read at start: srvr's latency, and readlatency
// or updatelatency by whether the request carries a txn. A new global session's createSession, answered with the
// connect response, is recorded this way too.
func (p *Processor) recordLatency(op int32, start time.Time) {
	ms := time.Since(start).Milliseconds()
	p.Stats.addLatency(ms)
	if carriesTxn(op) {
		p.Stats.UpdateLatency.Add(ms)
	} else {
		p.Stats.ReadLatency.Add(ms)
	}
}

// finishUnanswered ends a request Apache never takes to FinalRequestProcessor (dropped, refused before it, or
// answered by ReadOnlyRequestProcessor): no latency is recorded.
func (p *Processor) finishUnanswered(r *Request) {
	p.releaseRequest(r)
}

func (p *Processor) releaseRequest(r *Request) {
	p.Stats.Outstanding.Add(-1)
	p.cfg.Large.Release(r.LargeSize)
	if r.throttlerHeld {
		p.throttler.finished()
	}
}

// carriesTxn: PrepRequestProcessor gives the request a txn header (an ErrorTxn's when it fails), which puts its
// latency in updatelatency.
func carriesTxn(op int32) bool {
	switch op {
	case jute.OpCreateSession, jute.OpCloseSession, jute.OpDeleteContainer:
		return true
	}
	return isWrite(op)
}

func (p *Processor) treeOptions() tree.Options {
	return tree.Options{ExtendedTypes: p.cfg.ExtendedTypes, Emulate353TTL: p.cfg.Emulate353TTL,
		DisableDigest: !p.cfg.DigestEnabled, NamespaceStats: p.nsStats}
}
