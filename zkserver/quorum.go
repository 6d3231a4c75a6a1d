package zkserver

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/electionnet"
	"github.com/zkafka/zkafka/zkserver/quorum/follower"
	"github.com/zkafka/zkafka/zkserver/quorum/leader"
	"github.com/zkafka/zkafka/zkserver/quorum/peertls"
	"github.com/zkafka/zkafka/zkserver/quorum/quorumauth"
	"github.com/zkafka/zkafka/zkserver/quorum/reconfig"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// QuorumConfig makes a server a member of an ensemble (a zoo.cfg with several server.N lines).
type QuorumConfig struct {
	MyID    int64
	Members map[int64]Member
	// ElectionListen and QuorumListen are where our election and quorum ports listen (server.N's address, or
	// all addresses with quorumListenOnAllIPs).
	ElectionListen string
	QuorumListen   string
	// ObserverMasterListen, with observerMasterPort, is where we serve observers while following (our quorum
	// address's IP, or all IPs with quorumListenOnAllIPs, at that port); ObserverMasterSizeLimit is
	// zookeeper.observerMaster.sizeLimit (0: its default).
	ObserverMasterListen    string
	ObserverMasterSizeLimit int64
	// ObserverMasterPort, observing, makes us learn from the voting members' observer masters (each voter's
	// quorum address's host at this port) instead of the leader, in a shuffled round robin.
	ObserverMasterPort int
	InitLimit          int // ticks
	// ConnectLimit (connectToLearnerMasterLimit, ticks) bounds a learner's tries to reach its leader, which are
	// ConnectRetryDelay apart (zookeeper.leaderConnectDelayDuringRetryMs).
	ConnectLimit      int
	ConnectRetryDelay time.Duration
	SyncLimit         int // ticks
	// AckLoggingFrequency is zookeeper.leader.ackLoggingFrequency: leading, the acknowledgements of txns whose
	// zxid is a multiple of it are timed (ack_latency).
	AckLoggingFrequency int
	// QuitWaitingForEpochAfter (0: never) is zookeeper.leader.maxTimeToWaitForEpoch (a strict bound, so one ms
	// more): a leader that has waited that long for a quorum for the new epoch quits when a voter goes LOOKING.
	QuitWaitingForEpochAfter time.Duration
	Verifier                 election.Verifier
	// ConfigText is the quorum config as QuorumVerifier.toString prints it (sent in election notifications).
	ConfigText    string
	ConfigVersion int64
	// Observer is peerType=observer (or our server.N line's :observer): we never vote, and learn the leader's
	// commits without acknowledging them.
	Observer bool
	// ObserverElectionDelay bounds the random wait of an observer that lost its leader before it looks again
	// (zookeeper.observer.election.DelayMs), which spreads the observers' reconnections.
	ObserverElectionDelay time.Duration
	// ObserverReconnectDelay bounds an observer's random wait before it connects to its leader, or, with
	// observerMasterPort, after it tried every observer master in turn (zookeeper.observer.reconnectDelayMs).
	ObserverReconnectDelay time.Duration
	// Transport is how peers connect: plaintext (nil), TLS (sslQuorum) or either on our ports (portUnification).
	Transport *peertls.Config
	// Auth is quorum SASL (quorum.auth.enableSasl; nil without).
	Auth *quorumauth.Config
	// Voters are the participants' ids (not the observers').
	Voters map[int64]bool
	// LeaderRefusesClients is leaderServes=no (zoo.cfg, or -Dzookeeper.leaderServes): leading, we serve no clients.
	LeaderRefusesClients bool
	// ReadOnlyMode is -Dreadonlymode.enabled=true: after looking for a leader for a while, we serve read-only
	// clients from the tree we have until an election ends.
	ReadOnlyMode bool
	// LocalSessions is localSessionsEnabled: new sessions are local to the server that made them, while it
	// follows, observes or leads, and in read-only mode (without, Apache 3.8's read-only server refuses every new
	// session, and so does ours). LocalSessionsUpgrading is localSessionsUpgradingEnabled: an ephemeral create
	// upgrades a local session to a global one instead of failing with EphemeralOnLocalSession.
	LocalSessions          bool
	LocalSessionsUpgrading bool
	// StandaloneEnabled and MultiAddress (standaloneEnabled, multiAddress.enabled) shape the configs reconfig
	// requests may make.
	StandaloneEnabled bool
	MultiAddress      bool
	// ReconfigEnabled is reconfigEnabled: the configs the leader commits become ours (dynConfig), starting from
	// Initial; ConfigFile is zoo.cfg, which their files go beside.
	ReconfigEnabled bool
	Initial         *zoocfg.QuorumVerifier
	ConfigFile      string
	// LastSeen is the config of zoo.cfg.dynamic.next, proposed before the server stopped and not committed (nil:
	// none); it is the last seen config at start, as QuorumPeerMain sets it.
	LastSeen *zoocfg.QuorumVerifier
	// BackupConfig: reconfigEnabled with the members in zoo.cfg itself (no dynamicConfigFile), which the first
	// activation rewrites, so zoo.cfg is copied to zoo.cfg.bak at start (QuorumPeerConfig.backupOldConfig).
	BackupConfig bool
}

// Member is one server of the ensemble: its quorum and election addresses (host:port).
type Member struct {
	QuorumAddr   string
	ElectionAddr string
}

// QuorumFromZooCfg is the ensemble zoo.cfg describes; nil for a standalone server. log gets the quorum transport's
// TLS failures.
func QuorumFromZooCfg(zc *zoocfg.Config, log *slog.Logger) (*QuorumConfig, error) {
	if zc.Standalone() {
		return nil, nil
	}
	q := &QuorumConfig{MyID: zc.MyID, Members: map[int64]Member{}, Voters: map[int64]bool{}, InitLimit: zc.InitLimit, SyncLimit: zc.SyncLimit,
		ConnectLimit:        zc.ConnectToLearnerMasterLimit,
		ConnectRetryDelay:   time.Duration(zc.LeaderConnectDelayDuringRetryMs) * time.Millisecond,
		AckLoggingFrequency: zc.LeaderAckLoggingFrequency,
		ConfigText:          zc.QuorumConfigText(), ConfigVersion: zc.ConfigVersion, Observer: zc.PeerType == zoocfg.RoleObserver,
		ObserverElectionDelay:  time.Duration(zc.ObserverElectionDelayMs) * time.Millisecond,
		ObserverReconnectDelay: time.Duration(zc.ObserverReconnectDelayMs) * time.Millisecond,
		// Leader.lead compares the property with "no" exactly.
		LeaderRefusesClients: zc.Props["zookeeper.leaderServes"] == "no",
		ReadOnlyMode:         zc.ReadOnlyModeEnabled, LocalSessions: zc.LocalSessionsEnabled,
		LocalSessionsUpgrading: zc.LocalSessionsUpgradingEnabled, StandaloneEnabled: zc.StandaloneEnabled,
		MultiAddress: zc.MultiAddressEnabled, ReconfigEnabled: zc.ReconfigEnabled, Initial: zc.QuorumVerifier(), LastSeen: zc.NextQuorumVerifier,
		ConfigFile: zc.Path, BackupConfig: zc.ReconfigEnabled && zc.DynamicConfigFile == "" && zc.Path != ""}
	if zc.LeaderMaxTimeToWaitForEpochMs >= 0 {
		q.QuitWaitingForEpochAfter = time.Duration(zc.LeaderMaxTimeToWaitForEpochMs+1) * time.Millisecond
	}
	var voters []int64
	for _, s := range zc.Servers {
		q.Members[s.ID] = Member{
			QuorumAddr:   net.JoinHostPort(s.Host(), strconv.Itoa(s.QuorumPort())),
			ElectionAddr: net.JoinHostPort(s.Host(), strconv.Itoa(s.ElectionPort())),
		}
		if s.Role == zoocfg.RoleParticipant {
			voters = append(voters, s.ID)
			q.Voters[s.ID] = true
		}
		if s.ID == zc.MyID {
			q.ElectionListen, q.QuorumListen = q.Members[s.ID].ElectionAddr, q.Members[s.ID].QuorumAddr
			if zc.ObserverMasterPort > 0 {
				q.ObserverMasterListen = net.JoinHostPort(s.Host(), strconv.Itoa(zc.ObserverMasterPort))
				q.ObserverMasterPort = zc.ObserverMasterPort
			}
			if zc.QuorumListenOnAllIPs {
				q.ElectionListen = net.JoinHostPort("0.0.0.0", strconv.Itoa(s.ElectionPort()))
				q.QuorumListen = net.JoinHostPort("0.0.0.0", strconv.Itoa(s.QuorumPort()))
				if zc.ObserverMasterPort > 0 {
					q.ObserverMasterListen = net.JoinHostPort("0.0.0.0", strconv.Itoa(zc.ObserverMasterPort))
				}
			}
		}
	}
	if q.ElectionListen == "" {
		return nil, fmt.Errorf("myid %d has no server.%d line", zc.MyID, zc.MyID)
	}
	q.ObserverMasterSizeLimit = int64(zc.ObserverMasterSizeLimit)
	if zc.SSLQuorum || zc.PortUnification {
		t, err := zc.QuorumTLS()
		if err != nil {
			return nil, err
		}
		if q.Transport, err = peertls.New(t, peertls.Options{SSLQuorum: zc.SSLQuorum,
			PortUnification: zc.PortUnification, ReloadCertFiles: zc.SSLQuorumReloadCertFiles, Logger: log}); err != nil {
			return nil, err
		}
	}
	var err error
	if q.Auth, err = quorumauth.FromZooCfg(zc, log); err != nil {
		return nil, err
	}
	if len(zc.Groups) > 0 {
		q.Verifier = election.NewHierarchical(zc.Groups, zc.Weights)
	} else {
		q.Verifier = election.NewMajority(voters)
	}
	return q, nil
}

// startQuorum starts the election port and the loop that elects a leader and follows it.
func (s *Server) startQuorum() error {
	snapDir := filepath.Join(s.cfg.DataDir, "version-2")
	if _, _, err := storage.LoadEpochs(snapDir, s.proc.LastZxid()); err != nil {
		return err
	}
	mgr, err := s.listenElection()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.runQuorum(ctx, mgr, snapDir)
	}()
	s.OnClose(func() error {
		cancel()
		<-done
		return nil
	})
	return nil
}

func (s *Server) listenElection() (*electionnet.Manager, error) {
	q := s.cfg.Quorum
	peers := map[int64]string{}
	for id, m := range q.Members {
		peers[id] = m.ElectionAddr
	}
	mgr, err := electionnet.Listen(electionnet.Config{MyID: q.MyID, ListenAddr: q.ElectionListen,
		AdvertiseAddr: q.Members[q.MyID].ElectionAddr, Peers: peers, Logger: s.log, Transport: q.Transport,
		Auth: q.Auth, Voters: q.Voters})
	if err != nil {
		return nil, fmt.Errorf("election port: %w", err)
	}
	return mgr, nil
}

// runQuorum looks for a leader and follows, observes or leads, again each time that ends, until ctx is done. It
// owns mgr.
func (s *Server) runQuorum(ctx context.Context, mgr *electionnet.Manager, snapDir string) {
	defer mgr.Close()
	q := s.cfg.Quorum
	var lookingVoters leader.LookingVoters
	e := election.New(election.Config{MyID: q.MyID, Observer: q.Observer, Verifier: q.Verifier,
		ConfigText: []byte(q.ConfigText), VoterLooking: lookingVoters.Report})
	node := electionnet.NewNode(e, mgr, s.log)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go node.Run(ctx)
	dyn := s.startReconfig(ctx, node, mgr)
	s.dyn.Store(dyn)
	var configNode func()
	if dyn == nil {
		// initConfigInZKDatabase: a quorum member's /zookeeper/config holds its config, reconfigEnabled or not.
		configNode = func() { s.setConfigNode(q.ConfigText, q.ConfigVersion) }
		configNode()
	}
	updateVote := func() { s.updateElectionVote(ctx, node, snapDir) }
	s.updateVote.Store(&updateVote)
	defer s.updateVote.Store(nil)
	var masters observerMasters
	for ctx.Err() == nil {
		s.state.Store("looking")
		// QuorumPeer.run: unavailable from the first look after serving (or from the start) until serving again.
		s.unavailableSince.CompareAndSwap(0, time.Now().UnixMilli())
		s.proc.Stats.Quorum.LookingCount.Add(1)
		accepted, current, err := storage.LoadEpochs(snapDir, s.proc.LastZxid())
		if err != nil {
			s.fatal(fmt.Errorf("load epochs: %w", err))
			return
		}
		start := time.Now()
		var v election.Vote
		if lead, ok := dyn.takeDesignated(); ok {
			// A reconfig committed with another leader designated: we go to it without an election.
			zxid := s.proc.LastZxid()
			_ = node.Do(ctx, func(e *election.Election) { v = e.Designate(lead, zxid) })
			s.log.Info("going to the leader the reconfig designated, without an election", "leader", lead)
		} else {
			ro := s.armReadOnly()
			v, err = node.Look(ctx, s.proc.LastZxid(), current)
			s.disarmReadOnly(ro)
		}
		if err != nil || ctx.Err() != nil {
			return
		}
		view := s.quorumView(dyn)
		if dyn != nil {
			dyn.setLeader(v.Leader)
		}
		if v.Leader == q.MyID {
			s.log.Info("LEADING", "election_ms", time.Since(start).Milliseconds())
			s.proc.Stats.Quorum.ElectionTime.Add(time.Since(start).Milliseconds())
			// Leader.lead's loadData: a snapshot it cannot write ends the server, as in Apache.
			if err := s.proc.PrepareLeading(); err != nil {
				s.fatal(fmt.Errorf("prepare to lead: %w", err))
				return
			}
			err = leader.Lead(ctx, leader.Config{MyID: q.MyID, Listen: q.QuorumListen, Quorum: view.verifier,
				TickTime: s.cfg.TickTime, InitLimit: q.InitLimit, SyncLimit: q.SyncLimit, EpochDir: snapDir,
				AcceptedEpoch: accepted, CurrentEpoch: current, LogDir: filepath.Join(s.cfg.DataLogDir, "version-2"),
				MaxBuffer: s.cfg.JuteMaxBuffer, ConfigData: []byte(view.text), ConfigVersion: view.version,
				Logger: s.log, OnServing: func() { s.state.Store("leader"); s.nowServing(true); updateVote() }, Stats: &s.leaderStats,
				Transport: q.Transport, Auth: q.Auth, Reconfig: reconfigPeer(dyn),
				Resolve: reconfig.LookupHost, AckLoggingFrequency: q.AckLoggingFrequency,
				QuitWaitingForEpochAfter: q.QuitWaitingForEpochAfter, LookingVoters: &lookingVoters}, s.proc)
			// The pipeline closed its sessions' connections; any other (one refused at connect, say) goes too.
			s.closeConns()
			if ctx.Err() == nil {
				s.log.Warn("stopped leading", "err", err)
			}
			continue
		}
		role := "FOLLOWING"
		learnFrom := view.members[v.Leader].QuorumAddr
		if view.observer {
			role = "OBSERVING"
			s.state.Store("observer")
			master, wait := v.Leader, true
			if q.ObserverMasterPort > 0 {
				if sid, addr, wrapped, ok := masters.next(view, q.ObserverMasterPort); ok {
					master, learnFrom, wait = sid, addr, wrapped
				}
			}
			if wait && q.ObserverReconnectDelay > 0 {
				// Observer.waitForReconnectDelay: before each connection to the leader, or after a pass over all
				// the observer masters.
				select {
				case <-ctx.Done():
				case <-time.After(rand.N(q.ObserverReconnectDelay)):
				}
			}
			s.learnerMaster.Store(master)
		} else {
			s.state.Store("follower")
		}
		s.log.Info(role, "leader", v.Leader, "election_ms", time.Since(start).Milliseconds())
		if !view.observer { // Follower.followLeader records it, Observer.observeLeader does not
			s.proc.Stats.Quorum.ElectionTime.Add(time.Since(start).Milliseconds())
		}
		var om *follower.ObserverMasterConfig
		if q.ObserverMasterListen != "" && !view.observer {
			om = &follower.ObserverMasterConfig{Listen: q.ObserverMasterListen, ConfigData: []byte(view.text),
				SizeLimit: q.ObserverMasterSizeLimit, LogDir: filepath.Join(s.cfg.DataLogDir, "version-2"),
				Serving: s.observerMaster.Store}
		}
		err = follower.Follow(ctx, follower.Config{MyID: q.MyID, Observer: view.observer,
			LeaderAddr: learnFrom, TickTime: s.cfg.TickTime, InitLimit: q.InitLimit,
			SyncLimit: q.SyncLimit, ConnectLimit: q.ConnectLimit, ConnectRetryDelay: q.ConnectRetryDelay,
			EpochDir: snapDir, AcceptedEpoch: accepted, CurrentEpoch: current, MaxBuffer: s.cfg.JuteMaxBuffer,
			ConfigVersion: view.version, Logger: s.log, Transport: q.Transport, Auth: q.Auth,
			Reconfig: reconfigPeer(dyn), ConfigNode: configNode, ObserverMaster: om}, s.proc)
		s.learnerMaster.Store(-1)
		s.closeConns()
		if ctx.Err() == nil {
			s.log.Warn("stopped "+strings.ToLower(role), "leader", v.Leader, "err", err)
		}
		if view.observer && q.ObserverElectionDelay > 0 {
			// Observer.waitForObserverElectionDelay: a random part of the delay, so that observers that lost the
			// same leader do not all ask the voters at once.
			select {
			case <-ctx.Done():
			case <-time.After(rand.N(q.ObserverElectionDelay)):
			}
		}
	}
}

// learnerServing is called when the server, following or observing, has synced with its leader and serves.
func (s *Server) learnerServing() {
	s.nowServing(false)
	if f := s.updateVote.Load(); f != nil {
		(*f)()
	}
}

// nowServing records the time the server was unavailable (QuorumPeer.setZabState(BROADCAST)).
func (s *Server) nowServing(leading bool) {
	if since := s.unavailableSince.Swap(0); since != 0 {
		d := time.Now().UnixMilli() - since
		s.proc.Stats.Quorum.Unavailable.Add(d)
		if leading {
			s.proc.Stats.Quorum.LeaderUnavailable.Add(d)
		}
	}
}

// updateElectionVote is QuorumPeer.updateElectionVote: serving (leading, or synced with the leader), the server
// answers looking servers with a vote carrying the new epoch, as Apache's members do. A server that joins later
// counts those answers and waits for enough equal ones: one old epoch among them can keep it looking for good
// (ZOOKEEPER-1732).
func (s *Server) updateElectionVote(ctx context.Context, node *electionnet.Node, snapDir string) {
	epoch, ok, err := storage.ReadEpoch(snapDir, storage.CurrentEpochFile)
	if err != nil || !ok {
		s.log.Warn("cannot read the current epoch for the election vote", "err", err)
		return
	}
	_ = node.Do(ctx, func(e *election.Election) {
		if v, decided := e.Decided(); decided {
			v.PeerEpoch = epoch
			e.SetCurrentVote(v)
		}
	})
}

// readOnlyDelay is how long a member looks for a leader before it serves read-only clients: QuorumPeer's grace
// period, tickTime but at least two seconds.
func readOnlyDelay(tickTime int) time.Duration {
	return time.Duration(max(2000, tickTime)) * time.Millisecond
}

// roService is one election's read-only service (ReadOnlyZooKeeperServer): started once the grace period has
// passed, unless the election ended first.
type roService struct {
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool // the election ended: never start
	started bool
}

// armReadOnly schedules read-only service for the election about to run; nil without readonlymode.enabled.
func (s *Server) armReadOnly() *roService {
	q := s.cfg.Quorum
	if !q.ReadOnlyMode {
		return nil
	}
	s.log.Info("attempting to start the read-only server", "after", readOnlyDelay(s.cfg.TickTime))
	ro := &roService{}
	ro.mu.Lock()
	defer ro.mu.Unlock()
	ro.timer = time.AfterFunc(readOnlyDelay(s.cfg.TickTime), func() {
		ro.mu.Lock()
		defer ro.mu.Unlock()
		if ro.stopped {
			return
		}
		if err := s.proc.StartReadOnly(q.LocalSessions); err != nil {
			s.log.Error("failed to start the read-only server", "err", err)
			return
		}
		ro.started = true
		s.state.Store("read-only")
		s.log.Info("read-only server started", "local_sessions", q.LocalSessions)
	})
	return ro
}

// disarmReadOnly ends the election's read-only service: not started, it never will be; started, it stops and
// every client connection closes, as ReadOnlyZooKeeperServer.shutdown closes them all.
func (s *Server) disarmReadOnly(ro *roService) {
	if ro == nil {
		return
	}
	ro.mu.Lock()
	defer ro.mu.Unlock()
	ro.stopped = true
	ro.timer.Stop()
	if !ro.started {
		return
	}
	if err := s.proc.StopReadOnly(); err != nil {
		s.log.Warn("stopping the read-only server", "err", err)
	}
	s.state.Store("looking")
	s.closeConns()
	s.log.Info("read-only server stopped")
}

// observerMasters is an observer's list of learner masters with observerMasterPort
// (QuorumPeer.updateObserverMasterList): the voting members, the leader among them though it does not serve
// there, shuffled, tried in turn; the list is made again when the config changes.
type observerMasters struct {
	version int64
	ids     []int64
	cursor  int
}

// next is the learner master to try now, its sid and address; wrapped says that every one was tried since the
// list was made (ok false: no voter to try).
func (m *observerMasters) next(view quorumView, port int) (sid int64, addr string, wrapped, ok bool) {
	if m.ids == nil || m.version != view.version {
		m.version, m.ids, m.cursor = view.version, nil, 0
		for sid := range view.voters {
			if view.voters[sid] {
				m.ids = append(m.ids, sid)
			}
		}
		rand.Shuffle(len(m.ids), func(i, j int) { m.ids[i], m.ids[j] = m.ids[j], m.ids[i] })
	}
	if len(m.ids) == 0 {
		return 0, "", false, false
	}
	if m.cursor >= len(m.ids) {
		m.cursor, wrapped = 0, true
	}
	sid = m.ids[m.cursor]
	m.cursor++
	host, _, _ := net.SplitHostPort(view.members[sid].QuorumAddr)
	return sid, net.JoinHostPort(host, strconv.Itoa(port)), wrapped, true
}
