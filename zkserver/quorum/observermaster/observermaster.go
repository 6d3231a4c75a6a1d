// Package observermaster runs a follower's observer master (Apache's ObserverMaster, observerMasterPort): it
// listens for observers, runs zab's ObserverMaster core over their connections, and hands what the observers ask
// of the ensemble to the follower (Host), which forwards it to its leader.
package observermaster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/metrics"
	"github.com/zkafka/zkafka/zkserver/quorum/learnerconn"
	"github.com/zkafka/zkafka/zkserver/quorum/peertls"
	"github.com/zkafka/zkafka/zkserver/quorum/quorumauth"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
)

// Host is the follower an observer master serves from. Its methods are called with the observer master's lock
// held, in the order of the observers' packets, and must not block for long.
type Host interface {
	// CaptureSnapshot is the follower's database as a snapshot stream (zab.SnapshotStream) and its zxid.
	CaptureSnapshot() (zxid int64, stream []byte, err error)
	// Forward sends an observer's request to the leader; for a sync, synced is called when the leader's SYNC
	// answers it (the follower's syncs and the observers' share one order).
	Forward(rq zab.LearnerRequest, synced func())
	// Revalidate asks the leader about an observer's session; the answer comes back through Revalidated.
	Revalidate(session int64, timeout int32, zxid int64)
	// Touch keeps an observer's session alive in the follower's tracker (reported in its PING answers).
	Touch(session int64, timeout int32)
}

// Config is what an observer master needs.
type Config struct {
	Listen    string // quorum address's IP and observerMasterPort, or all IPs
	Core      zab.ObserverMasterConfig
	MaxBuffer int // jute.maxbuffer
	Logger    *slog.Logger
	Transport *peertls.Config    // as the quorum port's
	Auth      *quorumauth.Config // quorum SASL (nil: none)
	// Metrics are the server's, which the syncs and revalidations add to (nil: not counted).
	Metrics *metrics.Quorum
}

// Server is a running observer master; Close stops it.
type Server struct {
	cfg  Config
	host Host
	ln   net.Listener

	mu     sync.Mutex // owns the core and the connections
	core   *zab.ObserverMaster
	conns  map[zab.ConnID]*learnerconn.Conn
	nextID zab.ConnID
	closed bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start listens and serves observers until Close.
func Start(ctx context.Context, cfg Config, host Host) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = jute.DefaultMaxBuffer
	}
	cfg.MaxBuffer += 1024 // zookeeper.jute.maxbuffer.extrasize, as on the quorum port
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("observer master port %s: %w", cfg.Listen, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Server{cfg: cfg, host: host, ln: ln, core: zab.NewObserverMaster(cfg.Core, time.Now().UnixMilli()),
		conns: map[zab.ConnID]*learnerconn.Conn{}, cancel: cancel}
	s.wg.Go(s.accept)
	s.wg.Go(func() { s.tick(ctx) })
	cfg.Logger.Info("serving observers", "listen", ln.Addr().String())
	return s, nil
}

// Addr is the address listened on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops serving and closes every observer connection.
func (s *Server) Close() {
	s.cancel()
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Observers counts the observers synced or syncing with us (mntr's synced_observers on a follower).
func (s *Server) Observers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.Observers()
}

// ObserversInfo is obsr's list on a follower (getSyncedObserversInfo): each counted observer's connection.
func (s *Server) ObserversInfo() []learnerconn.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []learnerconn.Info
	for id, sid := range s.core.ActiveObservers() {
		if c := s.conns[id]; c != nil {
			c.SetSid(sid)
			out = append(out, c.Info())
		}
	}
	return out
}

// ResetObserverStats is orst on a follower: every counted observer's packet counts start over.
func (s *Server) ResetObserverStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.core.ActiveObservers() {
		if c := s.conns[id]; c != nil {
			c.ResetStats()
		}
	}
}

// Committed hands over a txn the follower committed, in order (act: COMMITANDACTIVATE's activation, or nil).
func (s *Server) Committed(t zab.Txn, act *zab.LearnerActivation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(s.core.Committed(t, act))
}

// Revalidated offers the leader's REVALIDATE answer; false: it is the follower's own.
func (s *Server) Revalidated(p zab.Packet) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rd, ok := s.core.Revalidated(p)
	s.apply(rd)
	return ok
}

// SetConfig is the follower's last seen config and active version from now on (zab.ObserverMaster.SetConfig).
func (s *Server) SetConfig(data []byte, version int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.core.SetConfig(data, version)
}

func (s *Server) tick(ctx context.Context) {
	t := time.NewTicker(time.Duration(max(s.cfg.Core.TickTime/2, 1)) * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			s.apply(s.core.Tick(time.Now().UnixMilli()))
			s.mu.Unlock()
		}
	}
}

func (s *Server) accept() {
	for {
		nc, err := learnerconn.Accept(s.ln, s.cfg.Transport)
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.nextID++
		c := learnerconn.New(s.nextID, nc, time.Duration(s.cfg.Core.SyncLimit*s.cfg.Core.TickTime)*time.Millisecond, s.cfg.Metrics)
		s.conns[c.ID] = c
		s.mu.Unlock()
		s.wg.Go(c.Write)
		s.wg.Go(func() { s.read(c) })
	}
}

// read feeds an observer's packets to the core until the connection ends; the core times silent observers
// out, the socket deadline only bounds a dead peer.
func (s *Server) read(c *learnerconn.Conn) {
	br := bufio.NewReaderSize(c.NC, 64<<10)
	timeout := time.Duration(max(s.cfg.Core.InitLimit, s.cfg.Core.SyncLimit)*s.cfg.Core.TickTime) * time.Millisecond
	var err error
	if s.cfg.Auth != nil {
		c.NC.SetDeadline(time.Now().Add(timeout))
		err = s.cfg.Auth.Serve(br, c.NC, c.NC.RemoteAddr().String())
		c.NC.SetWriteDeadline(time.Time{})
	}
	for err == nil {
		c.NC.SetReadDeadline(time.Now().Add(timeout))
		var pkt zab.Packet
		if pkt, err = zab.ReadPacket(br, s.cfg.MaxBuffer); err != nil {
			break
		}
		c.Received(pkt)
		s.mu.Lock()
		s.apply(s.core.Step(c.ID, pkt, time.Now().UnixMilli()))
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.core.Closed(c.ID)
	s.closeConn(c.ID, err)
	s.mu.Unlock()
}

// apply carries out a core step (s.mu held).
func (s *Server) apply(rd zab.LeaderReady) {
	if s.cfg.Metrics != nil {
		rd.Metrics.AddTo(s.cfg.Metrics)
	}
	for _, id := range rd.SnapshotFor {
		zxid, stream, err := s.host.CaptureSnapshot()
		if err != nil {
			s.cfg.Logger.Error("cannot capture a snapshot for an observer", "err", err)
			s.core.Closed(id)
			s.closeConn(id, err)
			continue
		}
		if c := s.conns[id]; c != nil {
			c.SetSnapshot(stream)
		}
		s.cfg.Logger.Info("sending a snapshot to an observer", "zxid", fmt.Sprintf("0x%x", zxid), "bytes", len(stream))
		s.apply(s.core.SnapshotTaken(id, zxid))
	}
	for _, lr := range rd.Requests {
		var synced func()
		if lr.Op == jute.OpSync {
			id := lr.Conn
			synced = func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.apply(s.core.Synced(id))
			}
		}
		s.host.Forward(lr, synced)
	}
	for _, rq := range rd.Revalidate {
		s.host.Revalidate(rq.Session, rq.Timeout, rq.Zxid)
	}
	for _, t := range rd.Touches {
		s.host.Touch(t.Session, t.Timeout)
	}
	for _, o := range rd.Send {
		if c := s.conns[o.Conn]; c != nil {
			c.Send(o.Packet)
		}
	}
	for i, id := range rd.Close {
		s.closeConn(id, rd.Dropped[i])
	}
}

// closeConn ends a connection (s.mu held).
func (s *Server) closeConn(id zab.ConnID, why error) {
	c := s.conns[id]
	if c == nil {
		return
	}
	delete(s.conns, id)
	if why != nil && !errors.Is(why, net.ErrClosed) {
		s.cfg.Logger.Warn("observer connection ended", "remote", c.NC.RemoteAddr().String(), "err", why)
	}
	c.Close()
}
