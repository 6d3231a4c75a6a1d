// Package leader runs a zkserver as the leader of a ZAB ensemble: it listens on the quorum port for learners, runs
// zab's leader core over their connections, the server's pipeline and time, and carries out what each step asks.
package leader

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/pipeline"
	"github.com/zkafka/zkafka/zkserver/quorum/learnerconn"
	"github.com/zkafka/zkafka/zkserver/quorum/peertls"
	"github.com/zkafka/zkafka/zkserver/quorum/quorumauth"
	"github.com/zkafka/zkafka/zkserver/quorum/reconfig"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// Config is what a server elected leader needs to lead.
type Config struct {
	MyID   int64
	Listen string // the quorum port's listen address
	Quorum zab.Quorum
	// TickTime is in ms; InitLimit and SyncLimit in ticks.
	TickTime, InitLimit, SyncLimit int
	// EpochDir holds acceptedEpoch and currentEpoch; AcceptedEpoch and CurrentEpoch are their values.
	EpochDir      string
	AcceptedEpoch int64
	CurrentEpoch  int64
	LogDir        string // dataLogDir/version-2: older txns for learners behind the in-memory committed log
	MaxBuffer     int    // jute.maxbuffer
	ConfigData    []byte // the quorum config, as NEWLEADER carries it
	ConfigVersion int64
	Logger        *slog.Logger
	// OnServing is called once a quorum is synced and the server leads (may be nil).
	OnServing func()
	// Stats, when set, is kept up to date for mntr.
	Stats *Stats
	// AckLoggingFrequency: the acknowledgements of txns whose zxid is a multiple of it are timed (ack_latency).
	AckLoggingFrequency int
	// Transport serves the learners' connections: plaintext (nil), TLS (sslQuorum) or either (portUnification).
	Transport *peertls.Config
	// Auth is quorum SASL (nil: none): each learner is checked before its first packet is read.
	Auth *quorumauth.Config
	// Reconfig, with reconfigEnabled, is the server's configs: the leader prepares reconfig requests against them
	// and activates what it commits. Nil: no reconfiguration (prep answers as Apache's non-leader would).
	Reconfig reconfig.Peer
	// Resolve resolves host names where Apache compares resolved addresses (nil: none resolves).
	Resolve reconfig.Resolver
	// QuitWaitingForEpochAfter (0: never) ends the leadership still waiting for a quorum for the new epoch that
	// long after it began, at the next report of a voter gone LOOKING (zab.LeaderConfig's).
	QuitWaitingForEpochAfter time.Duration
	// LookingVoters brings the election's reports of voters gone LOOKING (may be nil).
	LookingVoters *LookingVoters
}

// LookingVoters carries the election's reports that a voter of the configs we were elected under is LOOKING to
// the leadership in progress, if any (Apache's self.leader, null between leaderships). Its zero value is ready.
type LookingVoters struct {
	post atomic.Pointer[func(sid int64)]
}

// Report hands sid to the leadership in progress; it never blocks.
func (v *LookingVoters) Report(sid int64) {
	if f := v.post.Load(); f != nil {
		(*f)(sid)
	}
}

// Stats are a leader's gauges as mntr prints them, updated as the leader runs.
type Stats struct {
	mu       sync.Mutex
	counts   zab.LeaderCounts
	since    time.Time // serving since
	proposal [3]int64  // last, min, max proposal size; -1 before any

	observers []*learnerconn.Conn // the synced observers' connections (obsr)
}

// Leading reports whether the server leads (serving as leader since a quorum synced).
func (s *Stats) Leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.since.IsZero()
}

// ObserversInfo is obsr's list on a leader (getObservingLearnersInfo).
func (s *Stats) ObserversInfo() []learnerconn.Info {
	s.mu.Lock()
	conns := s.observers
	s.mu.Unlock()
	out := make([]learnerconn.Info, 0, len(conns))
	for _, c := range conns {
		out = append(out, c.Info())
	}
	return out
}

// ResetObserverStats is orst on a leader: every synced observer's packet counts start over.
func (s *Stats) ResetObserverStats() {
	s.mu.Lock()
	conns := s.observers
	s.mu.Unlock()
	for _, c := range conns {
		c.ResetStats()
	}
}

func (s *Stats) setObservers(conns []*learnerconn.Conn) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.observers = conns
	s.mu.Unlock()
}

// Gauges returns the leader's gauges by Apache's names (without "zk_"); nil when not leading.
func (s *Stats) Gauges() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.since.IsZero() {
		return nil
	}
	return map[string]any{
		"learners": int64(s.counts.Learners), "synced_followers": int64(s.counts.SyncedFollowers),
		"synced_non_voting_followers": int64(s.counts.SyncedNonVoting), "synced_observers": int64(s.counts.SyncedObservers),
		"pending_syncs": int64(s.counts.PendingSyncs), "leader_uptime": time.Since(s.since).Milliseconds(),
		"last_proposal_size": s.proposal[0], "min_proposal_size": s.proposal[1], "max_proposal_size": s.proposal[2],
	}
}

func (s *Stats) update(counts zab.LeaderCounts, serving bool, proposals []zab.Txn) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = counts
	switch {
	case !serving:
		s.since, s.proposal = time.Time{}, [3]int64{-1, -1, -1}
	case s.since.IsZero():
		s.since = time.Now()
	}
	for _, t := range proposals {
		n := int64(len(t.Data))
		s.proposal[0] = n
		if s.proposal[1] < 0 || n < s.proposal[1] {
			s.proposal[1] = n
		}
		s.proposal[2] = max(s.proposal[2], n)
	}
}

// Lead leads until the leadership ends (no quorum, ctx done) and returns why. The server serves clients from the
// moment a quorum is synced until Lead returns.
func Lead(ctx context.Context, cfg Config, p *pipeline.Processor) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = jute.DefaultMaxBuffer
	}
	cfg.MaxBuffer += 1024 // zookeeper.jute.maxbuffer.extrasize, as for a follower
	lc := net.ListenConfig{}
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("quorum port %s: %w", cfg.Listen, err)
	}
	var recent []zab.Txn
	for _, t := range p.RecentTxns() {
		recent = append(recent, zab.Txn{Zxid: t.Zxid, Data: t.Data})
	}
	last := p.LastZxid()
	// The committed log ends at our last zxid: a txn past it (none, normally) is not ours to send.
	for len(recent) > 0 && recent[len(recent)-1].Zxid > last {
		recent = recent[:len(recent)-1]
	}
	r := &runner{cfg: cfg, p: p, ln: ln, conns: map[zab.ConnID]*learnerconn.Conn{}, wake: make(chan struct{}, 1)}
	var lastSeen *zab.NewConfig
	if cfg.Reconfig != nil {
		// NEWLEADER carries the last config seen, so that learners complete a reconfig we have not committed, and
		// so do we.
		if active, seen := cfg.Reconfig.Configs(); seen.Version > active.Version {
			lastSeen = &zab.NewConfig{Quorum: reconfig.Verifier(seen), Version: seen.Version,
				Data: []byte(seen.String()), KeepsLeader: reconfig.KeepsLeader(active, seen, cfg.MyID, cfg.Resolve)}
		}
	}
	r.core = zab.Lead(zab.LeaderConfig{MyID: cfg.MyID, Quorum: cfg.Quorum, AcceptedEpoch: cfg.AcceptedEpoch,
		CurrentEpoch: cfg.CurrentEpoch, LastZxid: last, CommittedLog: recent, History: learnerconn.History{Dir: cfg.LogDir},
		TickTime: cfg.TickTime, InitLimit: cfg.InitLimit, SyncLimit: cfg.SyncLimit, ConfigData: cfg.ConfigData,
		ConfigVersion: cfg.ConfigVersion, LastSeen: lastSeen, VersionInitialConfig: cfg.Reconfig != nil,
		AckLoggingFrequency: int64(cfg.AckLoggingFrequency), QuitWaitingForEpochAfter: cfg.QuitWaitingForEpochAfter.Milliseconds()},
		time.Now().UnixMilli())
	if cfg.LookingVoters != nil {
		report := func(sid int64) { r.post(event{kind: evVoterLooking, sid: sid}) }
		cfg.LookingVoters.post.Store(&report)
		defer cfg.LookingVoters.post.Store(nil)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.accept(ctx)
	}()
	r.cfg.Stats.update(zab.LeaderCounts{}, false, nil)
	err = r.run(ctx)
	r.cfg.Stats.update(zab.LeaderCounts{}, false, nil)
	r.cfg.Stats.setObservers(nil)
	cancel()
	ln.Close()
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	wg.Wait()
	if r.leading {
		if serr := p.StopLeading(); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// event is one input of the leader core, queued for the run loop.
type event struct {
	kind    eventKind
	conn    zab.ConnID
	pkt     zab.Packet
	txns    []zab.Txn
	zxid    int64
	rq      zab.RevalidateRequest
	valid   bool
	readErr error
	sid     int64 // evVoterLooking
}

type eventKind int

const (
	evPacket eventKind = iota
	evClosed
	evPropose
	evDurable
	evSync
	evRevalidated
	evVoterLooking
)

// runner owns the leader core; every input reaches it through the event queue, which never blocks its senders
// (the pipeline's core and syncer among them).
type runner struct {
	cfg  Config
	p    *pipeline.Processor
	ln   net.Listener
	core *zab.Leader

	mu      sync.Mutex
	synced  []int64 // the followers synced with us, as of the last step (for QuorumSynced)
	queue   []event
	conns   map[zab.ConnID]*learnerconn.Conn
	nextID  zab.ConnID
	wake    chan struct{}
	leading bool // the pipeline leads (run loop only)
}

func (r *runner) post(ev event) {
	r.mu.Lock()
	r.queue = append(r.queue, ev)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Propose, Durable and Sync make the runner the pipeline's Ensemble.
func (r *runner) Propose(entry []byte, zxid int64) {
	t := zab.Txn{Zxid: zxid, Data: entry}
	if r.cfg.Reconfig != nil {
		t.Reconfig = r.proposedConfig(entry, zxid)
	}
	r.post(event{kind: evPropose, txns: []zab.Txn{t}})
}

// proposedConfig is Leader.propose's part for a reconfig txn: the config it proposes becomes the last seen one,
// here on the pipeline's goroutine, before the next request is prepped against it.
func (r *runner) proposedConfig(entry []byte, zxid int64) *zab.NewConfig {
	data := zab.ReconfigData(entry)
	if data == nil {
		return nil
	}
	qv, err := r.cfg.Reconfig.ParseConfig(data)
	if err != nil {
		r.cfg.Logger.Error("proposed reconfig does not parse", "zxid", fmt.Sprintf("0x%x", zxid), "err", err)
		return nil
	}
	active, _ := r.cfg.Reconfig.Configs()
	r.cfg.Reconfig.SetLastSeen(qv)
	return &zab.NewConfig{Quorum: reconfig.Verifier(qv), Version: qv.Version, Data: data,
		KeepsLeader: reconfig.KeepsLeader(active, qv, r.cfg.MyID, r.cfg.Resolve)}
}

// Configs and QuorumSynced make the runner the pipeline's Reconfigurer.
func (r *runner) Configs() (active, lastSeen *zoocfg.QuorumVerifier) {
	if r.cfg.Reconfig == nil {
		return nil, nil
	}
	return r.cfg.Reconfig.Configs()
}

func (r *runner) QuorumSynced(qv *zoocfg.QuorumVerifier) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return reconfig.QuorumSynced(qv, r.cfg.MyID, r.synced)
}
func (r *runner) Durable(zxid int64) { r.post(event{kind: evDurable, zxid: zxid}) }
func (r *runner) Sync(c uint64)      { r.post(event{kind: evSync, conn: zab.ConnID(c)}) }

func (r *runner) accept(ctx context.Context) {
	for {
		nc, err := learnerconn.Accept(r.ln, r.cfg.Transport)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.nextID++
		c := learnerconn.New(r.nextID, nc, time.Duration(r.cfg.SyncLimit*r.cfg.TickTime)*time.Millisecond, &r.p.Stats.Quorum)
		r.conns[c.ID] = c
		r.mu.Unlock()
		go c.Write()
		go r.read(c)
	}
}

// read feeds a learner's packets to the core until the connection ends. The read deadline is the init limit (a
// learner syncing) or the sync limit's pings, whichever is longer.
func (r *runner) read(c *learnerconn.Conn) {
	br := bufio.NewReaderSize(c.NC, 64<<10)
	timeout := time.Duration(max(r.cfg.InitLimit, r.cfg.SyncLimit)*r.cfg.TickTime) * time.Millisecond
	if r.cfg.Auth != nil {
		c.NC.SetDeadline(time.Now().Add(timeout))
		err := r.cfg.Auth.Serve(br, c.NC, c.NC.RemoteAddr().String())
		c.NC.SetWriteDeadline(time.Time{})
		if err != nil {
			r.cfg.Logger.Error("failed to authenticate quorum learner, closing its connection",
				"remote", c.NC.RemoteAddr(), "err", err)
			r.post(event{kind: evClosed, conn: c.ID, readErr: err})
			return
		}
	}
	for {
		c.NC.SetReadDeadline(time.Now().Add(timeout))
		pkt, err := zab.ReadPacket(br, r.cfg.MaxBuffer)
		if err != nil {
			r.post(event{kind: evClosed, conn: c.ID, readErr: err})
			return
		}
		c.Received(pkt)
		r.post(event{kind: evPacket, conn: c.ID, pkt: pkt})
	}
}

func (r *runner) run(ctx context.Context) error {
	r.cfg.Logger.Info("LEADING", "listen", r.cfg.Listen, "last_zxid", fmt.Sprintf("0x%x", r.p.LastZxid()))
	if err := r.apply(r.core.Start()); err != nil {
		return err
	}
	tick := time.NewTicker(time.Duration(max(r.cfg.TickTime/2, 1)) * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if err := r.apply(r.core.Tick(time.Now().UnixMilli())); err != nil {
				return err
			}
		case <-r.wake:
		}
		r.mu.Lock()
		evs := r.queue
		r.queue = nil
		r.mu.Unlock()
		var proposed []zab.Txn
		for i := 0; i < len(evs); i++ {
			ev := evs[i]
			var rd zab.LeaderReady
			now := time.Now().UnixMilli()
			switch ev.kind {
			case evPacket:
				rd = r.core.Step(ev.conn, ev.pkt, now)
			case evClosed:
				r.core.Closed(ev.conn)
				r.closeConn(ev.conn, ev.readErr)
			case evPropose:
				// Consecutive proposals go to the core together.
				txns := ev.txns
				for i+1 < len(evs) && evs[i+1].kind == evPropose {
					i++
					txns = append(txns, evs[i].txns...)
				}
				rd = r.core.Propose(txns, now)
				proposed = append(proposed, txns...)
			case evDurable:
				rd = r.core.Durable(ev.zxid, now)
			case evSync:
				rd = r.core.Sync(ev.conn)
			case evRevalidated:
				rd = r.core.Revalidated(ev.rq, ev.valid)
			case evVoterLooking:
				rd = r.core.VoterLooking(ev.sid, now)
			}
			if err := r.apply(rd); err != nil {
				return err
			}
		}
		r.cfg.Stats.update(r.core.Counts(), r.core.Serving(), proposed)
		synced := r.core.SyncedFollowers()
		var observers []*learnerconn.Conn
		r.mu.Lock()
		r.synced = synced
		for id, sid := range r.core.Observers() {
			if c := r.conns[id]; c != nil {
				c.SetSid(sid)
				observers = append(observers, c)
			}
		}
		r.mu.Unlock()
		r.cfg.Stats.setObservers(observers)
	}
}

// apply carries out a core step in zab.LeaderReady's order.
func (r *runner) apply(rd zab.LeaderReady) error {
	rd.Metrics.AddTo(&r.p.Stats.Quorum)
	if rd.AcceptedEpoch > 0 {
		if err := storage.WriteEpoch(r.cfg.EpochDir, storage.AcceptedEpochFile, rd.AcceptedEpoch); err != nil {
			return err
		}
	}
	if rd.CurrentEpoch > 0 {
		if err := storage.WriteEpoch(r.cfg.EpochDir, storage.CurrentEpochFile, rd.CurrentEpoch); err != nil {
			return err
		}
	}
	for _, id := range rd.SnapshotFor {
		zxid, stream, err := learnerconn.CaptureSnapshot(r.p)
		if err != nil {
			return err
		}
		if c := r.conn(id); c != nil {
			c.SetSnapshot(stream)
		}
		r.cfg.Logger.Info("sending a snapshot to a learner", "zxid", fmt.Sprintf("0x%x", zxid), "bytes", len(stream))
		rd2 := r.core.SnapshotTaken(id, zxid)
		if err := r.apply(rd2); err != nil {
			return err
		}
	}
	if rd.Start {
		r.p.StartLeading(r, r.core.Epoch())
		r.leading = true
		r.cfg.Logger.Info("leading: a quorum is synced, serving clients", "epoch", r.core.Epoch())
		if r.cfg.OnServing != nil {
			r.cfg.OnServing()
		}
	}
	if rd.LastSeen != nil {
		if qv, err := r.cfg.Reconfig.ParseConfig(rd.LastSeen.Data); err != nil {
			r.cfg.Logger.Error("new epoch's config does not parse", "err", err)
		} else {
			r.cfg.Reconfig.SetLastSeen(qv)
		}
	}
	for _, a := range rd.Activated {
		r.activate(a)
	}
	if rd.Committed > 0 {
		r.p.Committed(rd.Committed)
	}
	for _, lr := range rd.Requests {
		r.p.SubmitLearnerRequest(pipeline.LearnerRequest{Conn: uint64(lr.Conn), Learner: lr.Server, Session: lr.Session,
			Cxid: lr.Cxid, Op: lr.Op, Body: lr.Body, Auth: lr.Auth})
	}
	for _, rq := range rd.Revalidate {
		rq := rq
		r.p.Revalidate(rq.Session, rq.Server, func(valid bool) {
			r.post(event{kind: evRevalidated, rq: rq, valid: valid})
		})
	}
	for _, t := range rd.Touches {
		r.p.Sessions().Touch(t.Session, time.Now().UnixMilli())
	}
	for _, o := range rd.Send {
		if c := r.conn(o.Conn); c != nil {
			c.Send(o.Packet)
		}
	}
	for i, id := range rd.Close {
		r.closeConn(id, rd.Dropped[i])
	}
	return rd.Shutdown
}

// activate makes a committed reconfig's config the server's active one (QuorumPeer.processReconfig). Handing
// over, we go on until our followers leave us for the designated leader and the quorum check ends us.
func (r *runner) activate(a zab.Activation) {
	qv, err := r.cfg.Reconfig.ParseConfig(a.Config.Data)
	if err != nil {
		r.cfg.Logger.Error("committed reconfig does not parse", "zxid", fmt.Sprintf("0x%x", a.Zxid), "err", err)
		return
	}
	r.cfg.Reconfig.Activate(qv, a.Designated, true)
	if a.Designated != r.cfg.MyID {
		r.cfg.Logger.Info("committed a reconfiguration; this leader is not the designated leader anymore",
			"designated", a.Designated)
	}
}

func (r *runner) conn(id zab.ConnID) *learnerconn.Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns[id]
}

func (r *runner) closeConn(id zab.ConnID, why error) {
	r.mu.Lock()
	c := r.conns[id]
	delete(r.conns, id)
	r.mu.Unlock()
	if c == nil {
		return
	}
	if why != nil && !errors.Is(why, net.ErrClosed) {
		r.cfg.Logger.Warn("learner connection ended", "remote", c.NC.RemoteAddr().String(), "err", why)
	}
	c.Close()
}
