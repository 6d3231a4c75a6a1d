// Package follower runs a zkserver as a follower (or an observer) of a ZAB leader: it connects to the leader's
// quorum port, runs zab's learner over the connection, and carries out what each step asks of the server's pipeline
// and epoch files.
package follower

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/metrics"
	"github.com/zkafka/zkafka/zkserver/pipeline"
	"github.com/zkafka/zkafka/zkserver/quorum/learnerconn"
	"github.com/zkafka/zkafka/zkserver/quorum/observermaster"
	"github.com/zkafka/zkafka/zkserver/quorum/peertls"
	"github.com/zkafka/zkafka/zkserver/quorum/quorumauth"
	"github.com/zkafka/zkafka/zkserver/quorum/reconfig"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// Config is what a follower needs to reach and follow its leader.
type Config struct {
	MyID int64
	// Observer registers with OBSERVERINFO: the leader sends commits as INFORM and counts no vote of ours.
	Observer   bool
	LeaderAddr string // the leader's quorum address, host:port
	TickTime   int    // ms
	InitLimit  int    // ticks to connect and sync
	// ConnectLimit bounds, in ticks, the tries to reach the leader (connectToLearnerMasterLimit, which defaults
	// to initLimit); 0 means InitLimit.
	ConnectLimit int
	// ConnectRetryDelay is the wait between two tries (zookeeper.leaderConnectDelayDuringRetryMs); 0 means
	// Apache's 100 ms.
	ConnectRetryDelay time.Duration
	SyncLimit         int // ticks of silence from the leader after the sync
	// EpochDir holds acceptedEpoch and currentEpoch (dataDir/version-2); AcceptedEpoch and CurrentEpoch are
	// their values as loaded (storage.LoadEpochs).
	EpochDir      string
	AcceptedEpoch int64
	CurrentEpoch  int64
	MaxBuffer     int // jute.maxbuffer: bounds each packet's data
	ConfigVersion int64
	Logger        *slog.Logger
	// Transport dials the leader: plaintext (nil) or TLS (sslQuorum).
	Transport *peertls.Config
	// Auth is quorum SASL (nil: none), run on the new connection before anything else.
	Auth *quorumauth.Config
	// Reconfig, with reconfigEnabled, is the server's configs: the configs the leader proposes and commits are
	// recorded and activated there (nil: they are not).
	Reconfig reconfig.Peer
	// ConfigNode, without reconfiguration, puts our config back in /zookeeper/config once synced
	// (initConfigInZKDatabase after Learner.syncWithLeader): a SNAP brought the leader's.
	ConfigNode func()
	// ObserverMaster, for a follower with observerMasterPort, serves observers once synced (nil: none).
	ObserverMaster *ObserverMasterConfig
}

// ObserverMasterConfig is where and how a follower serves observers (Apache's ObserverMaster).
type ObserverMasterConfig struct {
	Listen string // the quorum address's IP (or all IPs) and observerMasterPort
	// ConfigData is our config's text (QuorumVerifier.toString), NEWLEADER's data without reconfiguration.
	ConfigData []byte
	SizeLimit  int64 // zookeeper.observerMaster.sizeLimit (0: 32 MiB)
	LogDir     string
	// Serving, when set, is told of the observer master once it serves, and given nil when it stops.
	Serving func(*observermaster.Server)
}

// connectTries is how often a follower tries to reach its leader before it looks for another (Learner's 5).
const connectTries = 5

// defaultConnectRetryDelay is zookeeper.leaderConnectDelayDuringRetryMs's default. Short, so that a learner that
// chose a leader that is gone (an observer answered with a voter's last vote while the voters look) soon looks
// again.
const defaultConnectRetryDelay = 100 * time.Millisecond

// Follow follows the leader until the connection ends or ctx is done. The server serves clients from the end of
// the sync until Follow returns; it returns why following stopped.
func Follow(ctx context.Context, cfg Config, p *pipeline.Processor) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = jute.DefaultMaxBuffer
	}
	// Apache's archives allow jute.maxbuffer plus 1 KiB (zookeeper.jute.maxbuffer.extrasize) for a txn's headers.
	cfg.MaxBuffer += 1024
	initTimeout := time.Duration(cfg.InitLimit*cfg.TickTime) * time.Millisecond
	if cfg.ConnectLimit <= 0 {
		cfg.ConnectLimit = cfg.InitLimit
	}
	if cfg.ConnectRetryDelay <= 0 {
		cfg.ConnectRetryDelay = defaultConnectRetryDelay
	}
	conn, err := dial(ctx, cfg.Transport, cfg.LeaderAddr,
		time.Duration(cfg.ConnectLimit*cfg.TickTime)*time.Millisecond, cfg.ConnectRetryDelay)
	if err != nil {
		return err
	}
	if cfg.Auth != nil {
		conn.SetDeadline(time.Now().Add(initTimeout))
		err := cfg.Auth.Learn(conn, conn, cfg.LeaderAddr)
		conn.SetDeadline(time.Time{})
		if err != nil {
			conn.Close()
			return fmt.Errorf("authenticate to leader %s: %w", cfg.LeaderAddr, err)
		}
	}
	f := &follower{cfg: cfg, p: p, conn: conn, bw: bufio.NewWriterSize(conn, 64<<10),
		writeTimeout: time.Duration(cfg.SyncLimit*cfg.TickTime) * time.Millisecond}
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			conn.Close()
		case <-stopped:
		}
	}()
	l := zab.NewLearner(zab.LearnerConfig{MyID: cfg.MyID, Observer: cfg.Observer, ConfigVersion: cfg.ConfigVersion,
		AcceptedEpoch: cfg.AcceptedEpoch, CurrentEpoch: cfg.CurrentEpoch, LastZxid: p.LastZxid()})
	defer func() {
		conn.Close()
		if f.om != nil {
			if s := f.cfg.ObserverMaster.Serving; s != nil {
				s(nil)
			}
			f.om.Close()
		}
		var ents []*storage.Entry
		for _, t := range slices.Concat(f.unapplied, l.Uncommitted()) {
			if e, err := storage.DecodeEntry(t.Data); err == nil {
				ents = append(ents, e)
			}
		}
		// A sync by SNAP or TRUNC that ended before NEWLEADER saved its tree: the database is loaded again.
		p.StopServing(ents, l.TreeUnsaved() || f.treeUnsaved)
	}()
	err = f.run(l, initTimeout)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// dial connects to the leader as Learner.connectToLeader does: up to connectTries tries, delay apart, all within
// the connect limit; it gives up early when less than one delay of the limit is left.
func dial(ctx context.Context, tr *peertls.Config, addr string, within, delay time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(within)
	var err error
	for i := 0; i < connectTries; i++ {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		var conn net.Conn
		if conn, err = tr.Dial(ctx, addr, left); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetNoDelay(true)
			}
			return conn, nil
		}
		if ctx.Err() != nil || time.Until(deadline) <= delay {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
	if err == nil {
		err = errors.New("connect limit exceeded")
	}
	return nil, fmt.Errorf("connect to leader %s: %w", addr, err)
}

// follower is one connection to a leader. It is the pipeline's link to the leader (pipeline.Leader).
type follower struct {
	cfg  Config
	p    *pipeline.Processor
	conn net.Conn

	mu           sync.Mutex // guards the writer: the reader, the core goroutine and the log syncer all send
	bw           *bufio.Writer
	writeTimeout time.Duration
	writeErr     error
	// syncs are the sync requests forwarded, oldest first, local ones (nil) and observers' (their answer), in the
	// order they were written (f.mu): the leader's SYNCs answer them in that order.
	syncs []func()

	// om serves observers once we are synced (reader goroutine only, besides its own); epoch is the current
	// epoch the sync gave us, its LEADERINFO's.
	om    *observermaster.Server
	epoch int64
	// syncStart is when the leader's LEADERINFO came (reader goroutine only).
	syncStart time.Time
	// serving: the sync with the leader ended (reader goroutine only).
	serving bool
	// treeUnsaved: the snapshot NEWLEADER asked for failed (reader goroutine only).
	treeUnsaved bool
	// unapplied are committed txns logged and not applied because a reconfig's major change ended the sync
	// first (UPTODATE activating NEWLEADER's config): applied when following ends, with the uncommitted ones,
	// as Apache's fastForwardDataBase replays the whole log (reader goroutine only).
	unapplied []zab.Txn
}

func (f *follower) run(l *zab.Learner, readTimeout time.Duration) error {
	if err := f.ready(l.Start(), &readTimeout); err != nil {
		return err
	}
	r := bufio.NewReaderSize(f.conn, 64<<10)
	for {
		f.conn.SetReadDeadline(time.Now().Add(readTimeout))
		pkt, err := zab.ReadPacket(r, f.cfg.MaxBuffer)
		if err != nil {
			return fmt.Errorf("read from leader: %w", err)
		}
		rd, err := l.Step(pkt)
		if errors.Is(err, zab.ErrNeedSnapshot) {
			if err := f.loadSnapshot(r, pkt.Zxid); err != nil {
				return err
			}
			l.SnapshotLoaded(pkt.Zxid)
			continue
		}
		if err != nil {
			return fmt.Errorf("leader's %s: %w", pkt, err)
		}
		f.count(pkt, rd)
		if err := f.ready(rd, &readTimeout); err != nil {
			return err
		}
	}
}

// count adds a step to ServerMetrics: the packets received after the sync, and the sync's time, from LEADERINFO
// (Apache starts it once registerWithLeader has answered with ACKEPOCH) to its end.
func (f *follower) count(pkt zab.Packet, rd zab.Ready) {
	q := &f.p.Stats.Quorum
	if rd.ProposalReceived {
		q.LearnerProposalReceived.Add(1)
	}
	if rd.CommitReceived {
		q.LearnerCommitReceived.Add(1)
	}
	switch {
	case pkt.Type == zab.LeaderInfo:
		f.syncStart = time.Now()
	case rd.Serving && !f.syncStart.IsZero():
		d := time.Since(f.syncStart).Milliseconds()
		if f.cfg.Observer {
			q.ObserverSync.Add(d)
		} else {
			q.FollowerSync.Add(d)
		}
	}
}

// timeTxns adds to s the time from each txn's header time to now (Request.logLatency).
func (f *follower) timeTxns(s *metrics.SummaryCounter, txns []zab.Txn) {
	now := time.Now().UnixMilli()
	for _, t := range txns {
		if tm, ok := t.Time(); ok {
			metrics.AddSince(s, now, tm)
		}
	}
}

// loadSnapshot reads the snapshot that follows SNAP and makes it the server's database.
func (f *follower) loadSnapshot(r *bufio.Reader, zxid int64) error {
	body, err := zab.ReadSnapshotStream(r, f.cfg.MaxBuffer)
	if err != nil {
		return fmt.Errorf("read the leader's snapshot: %w", err)
	}
	t := f.p.NewTree()
	sessions, err := zab.LoadSnapshot(body, t)
	if err != nil {
		return fmt.Errorf("load the leader's snapshot: %w", err)
	}
	f.p.ReplaceDatabase(t, sessions, zxid)
	f.cfg.Logger.Info("loaded the leader's snapshot", "zxid", fmt.Sprintf("0x%x", zxid), "nodes", t.NodeCount(), "sessions", len(sessions))
	return nil
}

// ready carries out a learner step in zab.Ready's order: epochs, truncation, snapshot, log, apply, send.
func (f *follower) ready(rd zab.Ready, readTimeout *time.Duration) error {
	if rd.AcceptedEpoch > 0 {
		if err := storage.WriteEpoch(f.cfg.EpochDir, storage.AcceptedEpochFile, rd.AcceptedEpoch); err != nil {
			return err
		}
	}
	if rd.Truncate {
		if err := f.p.Truncate(rd.TruncateTo); err != nil {
			return err
		}
		f.cfg.Logger.Info("truncated the txn log at the leader's request", "zxid", fmt.Sprintf("0x%x", rd.TruncateTo))
	}
	if rd.Snapshot {
		if err := f.p.Snapshot(); err != nil {
			f.treeUnsaved = true
			return err
		}
	}
	if rd.CurrentEpoch > 0 {
		if err := storage.WriteEpoch(f.cfg.EpochDir, storage.CurrentEpochFile, rd.CurrentEpoch); err != nil {
			return err
		}
		f.epoch = rd.CurrentEpoch
		*readTimeout = time.Duration(f.cfg.SyncLimit*f.cfg.TickTime) * time.Millisecond
	}
	if len(rd.Log) > 0 {
		entries := make([][]byte, len(rd.Log))
		zxids := make([]int64, len(rd.Log))
		for i, t := range rd.Log {
			entries[i], zxids[i] = t.Data, t.Zxid
		}
		send, logged := rd.Send, rd.Log
		if f.cfg.Observer {
			logged = nil // an observer acknowledges nothing
		} else if rd.ProposalReceived {
			f.timeTxns(&f.p.Stats.Quorum.ProposalLatency, rd.Log)
		}
		f.p.LogProposals(entries, zxids, func() {
			// SendAckRequestProcessor: each txn logged is acknowledged.
			f.timeTxns(&f.p.Stats.Quorum.ProposalAckCreation, logged)
			f.send(send...)
		})
	} else if len(rd.Send) > 0 {
		f.send(rd.Send...)
	}
	if f.cfg.Reconfig != nil && rd.LastSeenConfig != nil {
		f.lastSeen(rd.LastSeenConfig)
	}
	if a := rd.Activate; a != nil && a.BeforeApply {
		if err := f.activate(a); err != nil {
			f.unapplied = rd.Apply
			return err
		}
	}
	if len(rd.Apply) > 0 {
		ents := make([]*storage.Entry, len(rd.Apply))
		for i, t := range rd.Apply {
			e, err := storage.DecodeEntry(t.Data)
			if err != nil {
				return fmt.Errorf("committed txn 0x%x: %w", t.Zxid, err)
			}
			ents[i] = e
		}
		// Once synced, or at the end of the sync (what came between NEWLEADER and UPTODATE), a follower's commits
		// go through FollowerZooKeeperServer.commit and an observer's through commitRequest: to the CommitProcessor.
		committing := f.serving || rd.Serving
		f.p.ApplyCommitted(ents, committing)
		if committing {
			// A follower's commits time commit_propagation_latency there, an observer's after the sync are INFORMs
			// (the same); both reach FinalRequestProcessor (propagation_latency).
			if !f.cfg.Observer || rd.CommitReceived {
				f.timeTxns(&f.p.Stats.Quorum.CommitPropagation, rd.Apply)
			}
			f.timeTxns(&f.p.Stats.Quorum.Propagation, rd.Apply)
		}
		if f.om != nil {
			for _, t := range rd.Apply {
				var act *zab.LearnerActivation
				if a := rd.Activate; a != nil && a.HasDesignated && a.Zxid == t.Zxid {
					act = a
				}
				f.om.Committed(t, act)
			}
		}
	}
	if a := rd.Activate; a != nil && !a.BeforeApply {
		if err := f.activate(a); err != nil {
			return err
		}
	}
	if rd.Serving {
		f.serving = true
		if f.cfg.ConfigNode != nil {
			f.cfg.ConfigNode()
		}
		f.p.StartServing(f)
		f.cfg.Logger.Info("synced with the leader: serving clients", "leader", f.cfg.LeaderAddr, "observer", f.cfg.Observer)
		if f.cfg.ObserverMaster != nil && !f.cfg.Observer {
			f.startObserverMaster()
		}
	}
	if f.om != nil && f.cfg.Reconfig != nil && (rd.LastSeenConfig != nil || rd.Activate != nil) {
		active, seen := f.cfg.Reconfig.Configs()
		f.om.SetConfig([]byte(seen.String()), active.Version)
	}
	if rd.PingReply {
		f.send(zab.PingReplyPacket(rd.PingZxid, f.p.Sessions().TakeTouched()))
	}
	for range rd.Synced {
		f.synced()
	}
	for _, rv := range rd.Revalidated {
		// Learners ask with zxid -1 (RevalidatePacket), which the leader's answer echoes.
		if f.om != nil && f.om.Revalidated(zab.RevalidatedPacket(rv.Session, rv.Valid, -1)) {
			continue // an observer's question
		}
		f.p.Revalidated(rv.Session, rv.Valid)
	}
	f.mu.Lock()
	err := f.writeErr
	f.mu.Unlock()
	return err
}

// lastSeen records a config the leader proposed (Learner's setLastSeenQuorumVerifier).
func (f *follower) lastSeen(data []byte) {
	qv, err := f.cfg.Reconfig.ParseConfig(data)
	if err != nil {
		f.cfg.Logger.Warn("leader's proposed config does not parse", "err", err)
		return
	}
	f.cfg.Reconfig.SetLastSeen(qv)
}

// errMajorChange ends following after a reconfig changed our role or our leader ("changes proposed in
// reconfig").
var errMajorChange = errors.New("changes proposed in reconfig")

// activate is the learner's processReconfig; a major change ends following.
func (f *follower) activate(a *zab.LearnerActivation) error {
	if f.cfg.Reconfig == nil {
		return nil
	}
	qv, err := f.cfg.Reconfig.ParseConfig(a.Config)
	if err != nil {
		f.cfg.Logger.Warn("leader's config does not parse", "err", err)
		return nil
	}
	if f.cfg.Reconfig.Activate(qv, a.Designated, a.HasDesignated) {
		return errMajorChange
	}
	return nil
}

// send writes packets to the leader. A failed write closes the connection, which ends the reader.
func (f *follower) send(pkts ...zab.Packet) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.write(pkts)
}

// write sends packets (f.mu held).
func (f *follower) write(pkts []zab.Packet) {
	if f.writeErr != nil {
		return
	}
	f.conn.SetWriteDeadline(time.Now().Add(f.writeTimeout))
	for _, p := range pkts {
		f.bw.Write(p.Marshal())
	}
	if err := f.bw.Flush(); err != nil {
		f.writeErr = fmt.Errorf("write to leader: %w", err)
		f.conn.Close()
	}
}

// Forward sends a client request to the leader (pipeline.Leader).
func (f *follower) Forward(session int64, cxid, op int32, body []byte, auth []jute.Id) {
	f.forward(zab.RequestPacket(session, cxid, op, body, auth), op == jute.OpSync, nil)
}

// forward sends a request to the leader; a sync's answer goes to answer (nil: the pipeline's oldest sync).
func (f *follower) forward(p zab.Packet, isSync bool, answer func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if isSync {
		f.syncs = append(f.syncs, answer)
	}
	f.write([]zab.Packet{p})
}

// synced takes the leader's SYNC: it answers the oldest sync forwarded, ours or an observer's.
func (f *follower) synced() {
	f.mu.Lock()
	var answer func()
	if len(f.syncs) > 0 {
		answer = f.syncs[0]
		f.syncs = f.syncs[1:]
	}
	f.mu.Unlock()
	if answer != nil {
		answer()
		return
	}
	f.p.Synced()
}

// Revalidate asks the leader about a reconnecting session (pipeline.Leader).
func (f *follower) Revalidate(session int64, timeout int32) {
	f.send(zab.RevalidatePacket(session, timeout))
}

// startObserverMaster serves observers on observerMasterPort from now on (Follower.followLeader after
// syncWithLeader); a failure to listen is logged and following goes on, as Apache's.
func (f *follower) startObserverMaster() {
	om := f.cfg.ObserverMaster
	var recent []zab.Txn
	for _, t := range f.p.RecentTxns() { // after the sync's commits: the core goroutine runs in order
		recent = append(recent, zab.Txn{Zxid: t.Zxid, Data: t.Data})
	}
	last := f.p.LastZxid()
	for len(recent) > 0 && recent[len(recent)-1].Zxid > last {
		recent = recent[:len(recent)-1]
	}
	data := om.ConfigData
	if f.cfg.Reconfig != nil {
		_, seen := f.cfg.Reconfig.Configs()
		data = []byte(seen.String())
	}
	srv, err := observermaster.Start(context.Background(), observermaster.Config{Listen: om.Listen,
		Core: zab.ObserverMasterConfig{CurrentEpoch: f.epoch, LastCommitted: last, CommittedLog: recent,
			History: learnerconn.History{Dir: om.LogDir}, ConfigData: data, ConfigVersion: f.cfg.ConfigVersion,
			TickTime: f.cfg.TickTime, InitLimit: f.cfg.InitLimit, SyncLimit: f.cfg.SyncLimit, SizeLimit: om.SizeLimit},
		MaxBuffer: f.cfg.MaxBuffer - 1024, Logger: f.cfg.Logger, Transport: f.cfg.Transport, Auth: f.cfg.Auth,
		Metrics: &f.p.Stats.Quorum},
		omHost{f})
	if err != nil {
		f.cfg.Logger.Error("cannot serve observers", "err", err)
		return
	}
	f.om = srv
	if om.Serving != nil {
		om.Serving(srv)
	}
}

// omHost is the follower as its observer master's Host.
type omHost struct{ f *follower }

func (h omHost) CaptureSnapshot() (int64, []byte, error) { return learnerconn.CaptureSnapshot(h.f.p) }

func (h omHost) Forward(rq zab.LearnerRequest, synced func()) {
	h.f.forward(zab.RequestPacket(rq.Session, rq.Cxid, rq.Op, rq.Body, rq.Auth), rq.Op == jute.OpSync, synced)
}

func (h omHost) Revalidate(session int64, timeout int32, zxid int64) {
	p := zab.RevalidatePacket(session, timeout)
	p.Zxid = zxid
	h.f.send(p)
}

func (h omHost) Touch(session int64, _ int32) {
	h.f.p.Sessions().Touch(session, time.Now().UnixMilli())
}
