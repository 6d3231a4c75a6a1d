package zkserver

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/electionnet"
	"github.com/zkafka/zkafka/zkserver/quorum/follower"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// QuorumConfig makes a server a member of an ensemble (a zoo.cfg with several server.N lines).
type QuorumConfig struct {
	MyID    int64
	Members map[int64]Member
	// ElectionListen is where our election port listens (server.N's address, or all addresses with
	// quorumListenOnAllIPs).
	ElectionListen string
	InitLimit      int // ticks
	SyncLimit      int // ticks
	Verifier       election.Verifier
	// ConfigText is the quorum config as QuorumVerifier.toString prints it (sent in election notifications).
	ConfigText    string
	ConfigVersion int64
}

// Member is one server of the ensemble: its quorum and election addresses (host:port).
type Member struct {
	QuorumAddr   string
	ElectionAddr string
}

// QuorumFromZooCfg is the ensemble zoo.cfg describes; nil for a standalone server.
func QuorumFromZooCfg(zc *zoocfg.Config) (*QuorumConfig, error) {
	if zc.Standalone() {
		return nil, nil
	}
	if zc.PeerType == zoocfg.RoleObserver {
		return nil, fmt.Errorf("observers are not supported yet (server.%d is an observer)", zc.MyID)
	}
	q := &QuorumConfig{MyID: zc.MyID, Members: map[int64]Member{}, InitLimit: zc.InitLimit, SyncLimit: zc.SyncLimit,
		ConfigText: zc.QuorumConfigText(), ConfigVersion: zc.ConfigVersion}
	var voters []int64
	for _, s := range zc.Servers {
		q.Members[s.ID] = Member{
			QuorumAddr:   net.JoinHostPort(s.Host(), strconv.Itoa(s.QuorumPort())),
			ElectionAddr: net.JoinHostPort(s.Host(), strconv.Itoa(s.ElectionPort())),
		}
		if s.Role == zoocfg.RoleParticipant {
			voters = append(voters, s.ID)
		}
		if s.ID == zc.MyID {
			q.ElectionListen = q.Members[s.ID].ElectionAddr
			if zc.QuorumListenOnAllIPs {
				q.ElectionListen = net.JoinHostPort("0.0.0.0", strconv.Itoa(s.ElectionPort()))
			}
		}
	}
	if q.ElectionListen == "" {
		return nil, fmt.Errorf("myid %d has no server.%d line", zc.MyID, zc.MyID)
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
		AdvertiseAddr: q.Members[q.MyID].ElectionAddr, Peers: peers, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("election port: %w", err)
	}
	return mgr, nil
}

// withdrawal is how long a server elected leader, which cannot lead yet, stays out of elections: longer than a
// follower's attempts to reach its leader (5 tries a second apart), so that the others give up on it and elect
// among themselves; it then joins them as a follower.
const withdrawal = 10 * time.Second

// runQuorum looks for a leader and follows it, again each time following ends, until ctx is done. It owns mgr (and
// the election ports it opens after a withdrawal).
func (s *Server) runQuorum(ctx context.Context, mgr *electionnet.Manager, snapDir string) {
	for {
		elected := s.elect(ctx, mgr, snapDir)
		mgr.Close()
		if !elected {
			return
		}
		s.log.Error("elected leader, but leading an ensemble is not supported yet: leaving the election so that the others elect a leader",
			"seconds", withdrawal.Seconds())
		select {
		case <-ctx.Done():
			return
		case <-time.After(withdrawal):
		}
		for {
			var err error
			if mgr, err = s.listenElection(); err == nil {
				break
			}
			s.log.Warn("cannot reopen the election port", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// elect runs elections on mgr and follows each leader elected, until ctx is done (false) or this server is elected
// (true).
func (s *Server) elect(ctx context.Context, mgr *electionnet.Manager, snapDir string) bool {
	q := s.cfg.Quorum
	e := election.New(election.Config{MyID: q.MyID, Verifier: q.Verifier, ConfigText: []byte(q.ConfigText)})
	node := electionnet.NewNode(e, mgr, s.log)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go node.Run(ctx)
	for ctx.Err() == nil {
		s.state.Store("looking")
		accepted, current, err := storage.LoadEpochs(snapDir, s.proc.LastZxid())
		if err != nil {
			s.fatal(fmt.Errorf("load epochs: %w", err))
			return false
		}
		start := time.Now()
		v, err := node.Look(ctx, s.proc.LastZxid(), current)
		if err != nil {
			return false
		}
		if v.Leader == q.MyID {
			return true
		}
		s.log.Info("FOLLOWING", "leader", v.Leader, "election_ms", time.Since(start).Milliseconds())
		s.state.Store("follower")
		err = follower.Follow(ctx, follower.Config{MyID: q.MyID, LeaderAddr: q.Members[v.Leader].QuorumAddr,
			TickTime: s.cfg.TickTime, InitLimit: q.InitLimit, SyncLimit: q.SyncLimit, EpochDir: snapDir,
			AcceptedEpoch: accepted, CurrentEpoch: current, MaxBuffer: s.cfg.JuteMaxBuffer, ConfigVersion: q.ConfigVersion, Logger: s.log}, s.proc)
		if ctx.Err() == nil {
			s.log.Warn("stopped following", "leader", v.Leader, "err", err)
		}
	}
	return false
}
