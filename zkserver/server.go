// Package zkserver assembles a ZooKeeper server, standalone or a member of an ensemble: the request
// pipeline, the client listener, the quorum protocols and the operations surface.
package zkserver

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/conn"
	"github.com/zkafka/zkafka/zkserver/connthrottle"
	"github.com/zkafka/zkafka/zkserver/pipeline"
	"github.com/zkafka/zkafka/zkserver/quorum/leader"
	"github.com/zkafka/zkafka/zkserver/quorum/observermaster"
	"github.com/zkafka/zkafka/zkserver/quorum/reconfig"
	"github.com/zkafka/zkafka/zkserver/sasl"
)

// Version is what srvr, envi and mntr report. Clients (kazoo) parse the
// leading x.y.z, so it names the Apache release we are compatible with.
const Version = "3.8.0-zkafka"

// Config is a server's configuration (built from zoo.cfg).
type Config struct {
	ClientAddr        string // host:port
	ServerID          int64
	TickTime          int
	MinSessionTimeout int
	MaxSessionTimeout int
	MaxClientCnxns    int
	DataDir           string // dataDir (snapshots in DataDir/version-2)
	DataLogDir        string // dataLogDir (txn logs in DataLogDir/version-2)
	SnapCount         int
	SnapWriteRate     int64  // bytes/s cap on periodic snapshot writes; 0: none
	SnapCompression   string // "", "gz" or "snappy" (zookeeper.snapshot.compression.method)
	PreAllocSize      int64
	ForceSync         bool
	DigestEnabled     bool
	ExtendedTypes     bool
	Emulate353TTL     bool // zookeeper.emulate353TTLNodes: negative owners are TTL nodes, as 3.5.3 wrote them
	ReconfigEnabled   bool
	EnforceQuota      bool // zookeeper.enforceQuota: hard quota limits refuse creates and setData
	JuteMaxBuffer     int
	// GlobalOutstandingLimit is globalOutstandingLimit: past it, requests in process stop their connections'
	// reading (see shouldThrottle). nil: Apache's default, 1000.
	GlobalOutstandingLimit *int
	// LargeRequestThreshold and LargeRequestMaxBytes are the large request throttle (zookeeper.largeRequestThreshold,
	// zookeeper.largeRequestMaxBytes): 0 or -1 threshold turns it off, a max of 0 is Apache's default, 100 MiB.
	LargeRequestThreshold int
	LargeRequestMaxBytes  int
	// ResponseCacheSize and ChildrenResponseCacheSize are zookeeper.maxResponseCacheSize and
	// zookeeper.maxGetChildrenResponseCacheSize, the getData and getChildren2 response caches; nil: Apache's 400.
	ResponseCacheSize, ChildrenResponseCacheSize *int
	// SessionlessTimeout closes client connections that send no connect request in time
	// (zookeeper.nio.sessionlessCnxnTimeout; 0: never, as with Netty's factory).
	SessionlessTimeout time.Duration
	// Throttle is the RequestThrottler (zookeeper.request_throttle_max_requests, throttled_op_wait_time, ...);
	// the zero value is off, as Apache's defaults.
	Throttle pipeline.ThrottleConfig
	// ConnThrottle is the connection throttle (zookeeper.connection_throttle_*); the zero value is off.
	ConnThrottle    connthrottle.Config
	SnapRetainCount int
	PurgeInterval   time.Duration

	ContainerCheckInterval  time.Duration
	ContainerMaxPerMinute   int
	ContainerMaxNeverUsedMs int64

	ACL acl.Config
	// SASL, when set, authenticates clients with DIGEST-MD5 or GSSAPI (the JAAS server section); nil answers SASL
	// requests as Apache without a SASL login does.
	SASL *sasl.Config
	// EnforceAuth: see pipeline.Config.EnforceAuth.
	EnforceAuth []string

	// Quorum, when set, makes the server a member of an ensemble; nil runs it standalone.
	Quorum *QuorumConfig
	// Secure, when set, serves TLS clients on a second port (secureClientPort) and/or on the client port
	// (client.portUnification).
	Secure *SecureConfig

	// FourLetter answers four-letter words; nil disables them.
	FourLetter func(s *Server, word string, arg int64) (string, bool)
	Logger     *slog.Logger
}

// Server is a running ZooKeeper server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	proc    *pipeline.Processor
	ln      *conn.Listener
	secure  *conn.Listener // nil without a secure client port
	started time.Time
	state   atomic.Value // string: what srvr's Mode and mntr's zk_server_state say
	// leaderStats are the leader's gauges while this server leads (quorum mode).
	leaderStats leader.Stats
	// observerMaster serves observers while we follow with observerMasterPort (nil otherwise).
	observerMaster atomic.Pointer[observermaster.Server]
	// learnerMaster is the id of the leader an observer learns from, -1 otherwise (mntr's zk_observer_master_id).
	learnerMaster atomic.Int64
	// unavailableSince is when the server began looking after it last served (unix ms; 0 while serving), for
	// unavailable_time.
	unavailableSince atomic.Int64
	// updateVote, set while the quorum loop runs, gives the election's vote the current epoch (see
	// updateElectionVote).
	updateVote atomic.Pointer[func()]
	// dyn is the quorum's configs with reconfigEnabled (nil otherwise), for conf.
	dyn atomic.Pointer[dynConfig]

	mu       sync.Mutex
	closers  []func() error
	done     chan struct{}
	fatalErr error
}

// largeRequests is the large request throttle a config asks for, nil when it is off.
func largeRequests(cfg Config) *pipeline.LargeRequests {
	if cfg.LargeRequestThreshold <= 0 {
		return nil
	}
	maxBytes := cfg.LargeRequestMaxBytes
	if maxBytes <= 0 {
		maxBytes = pipeline.DefaultLargeRequestMaxBytes
	}
	return pipeline.NewLargeRequests(cfg.LargeRequestThreshold, maxBytes)
}

// orDefault is *v, or def when v is nil.
func orDefault(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

// Start recovers the database and starts serving.
func Start(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, started: time.Now(), done: make(chan struct{})}
	s.state.Store("standalone")
	s.learnerMaster.Store(-1)
	if cfg.Quorum != nil {
		s.state.Store("looking")
		cfg.ServerID = cfg.Quorum.MyID // session ids carry the server's id
		s.cfg = cfg
	}
	snapDir := filepath.Join(cfg.DataDir, "version-2")
	logDir := filepath.Join(cfg.DataLogDir, "version-2")
	for _, d := range []string{snapDir, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	proc, err := pipeline.New(pipeline.Config{
		ServerID: cfg.ServerID, TickTime: cfg.TickTime,
		MinSessionTimeout: cfg.MinSessionTimeout, MaxSessionTimeout: cfg.MaxSessionTimeout,
		SnapDir: snapDir, LogDir: logDir, SnapCount: cfg.SnapCount, SnapWriteRate: cfg.SnapWriteRate,
		SnapCompression: cfg.SnapCompression, PreAllocSize: cfg.PreAllocSize,
		ForceSync: cfg.ForceSync, DigestEnabled: cfg.DigestEnabled, ExtendedTypes: cfg.ExtendedTypes,
		Emulate353TTL:   cfg.Emulate353TTL,
		ReconfigEnabled: cfg.ReconfigEnabled, EnforceQuota: cfg.EnforceQuota, SnapRetainCount: cfg.SnapRetainCount, PurgeInterval: cfg.PurgeInterval,
		ContainerCheckInterval: cfg.ContainerCheckInterval, ContainerMaxPerMinute: cfg.ContainerMaxPerMinute,
		ContainerMaxNeverUsedMs: cfg.ContainerMaxNeverUsedMs,
		Quorum:                  cfg.Quorum != nil,
		LeaderRefusesClients:    cfg.Quorum != nil && cfg.Quorum.LeaderRefusesClients,
		// Local sessions are a quorum member's: a standalone server ignores localSessionsEnabled, as Apache's.
		LocalSessions:          cfg.Quorum != nil && cfg.Quorum.LocalSessions,
		LocalSessionsUpgrading: cfg.Quorum != nil && cfg.Quorum.LocalSessionsUpgrading,
		StandaloneEnabled:      cfg.Quorum != nil && cfg.Quorum.StandaloneEnabled,
		MultiAddress:           cfg.Quorum != nil && cfg.Quorum.MultiAddress,
		Resolve:                reconfig.LookupHost,
		OnServing:              s.learnerServing,
		ACL:                    cfg.ACL, EnforceAuth: cfg.EnforceAuth, Logger: cfg.Logger,
		Large:                     largeRequests(cfg),
		Throttle:                  cfg.Throttle,
		ConnThrottle:              cfg.ConnThrottle,
		ResponseCacheSize:         orDefault(cfg.ResponseCacheSize, zoocfg.DefaultResponseCacheSize),
		ChildrenResponseCacheSize: orDefault(cfg.ChildrenResponseCacheSize, zoocfg.DefaultResponseCacheSize),
	}, s.fatal)
	if err != nil {
		return nil, err
	}
	s.proc = proc
	proc.Start()
	var flw conn.FourLetterHandler
	if cfg.FourLetter != nil {
		flw = func(word string, arg int64) (string, bool) { return cfg.FourLetter(s, word, arg) }
	}
	plain := conn.Config{Addr: cfg.ClientAddr, MaxClientCnxns: cfg.MaxClientCnxns,
		MaxBuffer: cfg.JuteMaxBuffer, FourLetter: flw, SASL: cfg.SASL, Logger: cfg.Logger, Throttle: s.shouldThrottle,
		SessionlessTimeout: cfg.SessionlessTimeout}
	if sc := cfg.Secure; sc != nil && sc.Unified {
		plain.TLS, plain.Unified, plain.CertIDs = sc.TLS, true, sc.certIDs
	}
	ln, err := conn.Listen(plain, proc)
	if err != nil {
		proc.Close()
		return nil, err
	}
	s.ln = ln
	if sc := cfg.Secure; sc != nil && sc.Addr != "" {
		s.secure, err = conn.Listen(conn.Config{Addr: sc.Addr, MaxClientCnxns: cfg.MaxClientCnxns,
			MaxBuffer: cfg.JuteMaxBuffer, FourLetter: flw, Logger: cfg.Logger, TLS: sc.TLS, CertIDs: sc.certIDs, SASL: cfg.SASL,
			Throttle: s.shouldThrottle}, proc)
		if err != nil {
			ln.Close()
			proc.Close()
			return nil, fmt.Errorf("secure client port: %w", err)
		}
		s.log.Info("serving TLS clients", "addr", s.secure.Addr().String())
	}
	if cfg.Quorum != nil {
		if err := s.startQuorum(); err != nil {
			s.closeListeners()
			proc.Close()
			return nil, err
		}
	}
	s.ln.Serve()
	if s.secure != nil {
		s.secure.Serve()
	}
	s.log.Info("serving clients", "addr", ln.Addr().String(), "zxid", fmt.Sprintf("0x%x", proc.LastZxid()))
	return s, nil
}

// fatal stops the server when the txn log cannot be written: acknowledging
// writes that are not durable would be worse than stopping.
func (s *Server) fatal(err error) {
	s.log.Error("fatal storage error, shutting down", "err", err)
	s.mu.Lock()
	if s.fatalErr == nil {
		s.fatalErr = err
	}
	s.mu.Unlock()
	go s.Close()
}

// OnClose registers a function run by Close (admin and metrics servers).
func (s *Server) OnClose(f func() error) {
	s.mu.Lock()
	s.closers = append(s.closers, f)
	s.mu.Unlock()
}

// Addr is the client listener's address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the fatal error that stopped the server, if any.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatalErr
}

// Close stops the server: no new requests, pending ones answered, log closed.
func (s *Server) Close() error {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return nil
	default:
	}
	close(s.done)
	closers := s.closers
	s.mu.Unlock()
	for _, f := range closers {
		f()
	}
	err := s.closeListeners()
	if e := s.proc.Close(); err == nil {
		err = e
	}
	return err
}

func (s *Server) closeListeners() error {
	err := s.ln.Close()
	if s.secure != nil {
		if e := s.secure.Close(); err == nil {
			err = e
		}
	}
	return err
}

// closeConns closes every client connection of both ports (a leadership or a following ended).
func (s *Server) closeConns() {
	s.ln.CloseConns()
	if s.secure != nil {
		s.secure.CloseConns()
	}
}

// conns are the open client connections of both client ports (for cons and stat).
func (s *Server) conns() []*conn.Conn {
	cs := s.ln.Conns()
	if s.secure != nil {
		cs = append(cs, s.secure.Conns()...)
	}
	return cs
}

// SecureAddr is the secure client port's address (nil without one).
func (s *Server) SecureAddr() net.Addr {
	if s.secure == nil {
		return nil
	}
	return s.secure.Addr()
}

// Processor exposes the pipeline (for the operations surface).
func (s *Server) Processor() *pipeline.Processor { return s.proc }

// Listener exposes the client listener (for cons/stat).
func (s *Server) Listener() *conn.Listener { return s.ln }

// Config returns the configuration the server runs with.
func (s *Server) Config() Config { return s.cfg }

// Started is when the server started.
func (s *Server) Started() time.Time { return s.started }

var _ = jute.OpPing

// shouldThrottle is ZooKeeperServer.shouldThrottle: while more requests are in process than the limit, a
// connection with requests of its own outstanding reads no further one until one is answered.
func (s *Server) shouldThrottle(outstanding int64) bool {
	return outstanding > 0 && int64(s.outstandingLimit()) < s.proc.Stats.Outstanding.Load()
}

// outstandingLimit is globalOutstandingLimit, split on a follower or leader among the voters that take clients
// (FollowerZooKeeperServer's and LeaderZooKeeperServer's getGlobalOutstandingLimit: divided by the quorum size
// minus one when more than two vote); an observer, a read-only or a standalone server takes it whole.
func (s *Server) outstandingLimit() int {
	limit := zoocfg.DefaultGlobalOutstandingLimit
	if s.cfg.GlobalOutstandingLimit != nil {
		limit = *s.cfg.GlobalOutstandingLimit
	}
	if q := s.cfg.Quorum; q != nil && len(q.Voters) > 2 {
		if st, _ := s.state.Load().(string); st == "leader" || st == "follower" {
			limit /= len(q.Voters) - 1
		}
	}
	return limit
}
