package zab_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
)

// Dynamic reconfiguration in the ensemble simulation, modelled as zkserver's runtime does it (reconfig.go's
// dynConfig, the leader and follower runners): a serving leader now and then proposes a config that gives one
// server another role (voter, observer, or none: removed, it goes on as a non-voting participant), when a quorum
// of the new config's voters is synced with it and no reconfig is in flight; every server keeps its active and
// last seen configs on disk; a committed reconfig is activated (COMMITANDACTIVATE, INFORMANDACTIVATE, or
// NEWLEADER's config at UPTODATE) and a change of role or of leader ends following, with the leader a reconfig
// designated taken without an election; a looking server adopts a newer config a notification carries.

// simConfig is a quorum config: its version and who votes or observes. Its text is what the configs' Data and
// the notifications carry, "version=<hex>" last as in QuorumVerifier.toString.
type simConfig struct {
	version   int64
	voters    []int64
	observers []int64
}

func (c *simConfig) text() []byte {
	return []byte(fmt.Sprintf("voters=%s\nobservers=%s\nversion=%x", joinSids(c.voters), joinSids(c.observers), c.version))
}

func joinSids(ids []int64) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	return strings.Join(parts, ",")
}

func parseSimConfig(text []byte) (*simConfig, error) {
	c := &simConfig{}
	var version bool
	for line := range strings.SplitSeq(string(text), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "voters", "observers":
			for f := range strings.SplitSeq(v, ",") {
				if f == "" {
					continue
				}
				id, err := strconv.ParseInt(f, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("config %q: %w", text, err)
				}
				if k == "voters" {
					c.voters = append(c.voters, id)
				} else {
					c.observers = append(c.observers, id)
				}
			}
		case "version":
			n, err := strconv.ParseUint(v, 16, 64)
			if err != nil {
				return nil, fmt.Errorf("config %q: %w", text, err)
			}
			c.version, version = int64(n), true
		}
	}
	if !version || len(c.voters) == 0 {
		return nil, fmt.Errorf("config %q: no version or no voters", text)
	}
	return c, nil
}

func (c *simConfig) quorum() *election.Majority { return election.NewMajority(c.voters) }
func (c *simConfig) isVoter(sid int64) bool     { return slices.Contains(c.voters, sid) }
func (c *simConfig) isObserver(sid int64) bool  { return slices.Contains(c.observers, sid) }
func (c *simConfig) sameMembers(o *simConfig) bool {
	return slices.Equal(c.voters, o.voters) && slices.Equal(c.observers, o.observers)
}

func (c *simConfig) String() string {
	return fmt.Sprintf("v%x voters %v observers %v", c.version, c.voters, c.observers)
}

// newElection is the election p starts with (runQuorum's election.New and startReconfig): the active config,
// a newer last seen one, and the adoption of a newer config a notification carries.
func (s *ensembleSim) newElection(p *simPeer) *election.Election {
	text := []byte("version=0")
	if s.reconfig {
		text = p.active.text()
	}
	e := election.New(election.Config{MyID: p.sid, Observer: p.observer, Verifier: s.quorumOf(p),
		ConfigText: text, MaxNotificationInterval: simMaxNotificationInterval})
	if !s.reconfig {
		return e
	}
	if p.last != nil && p.last.version > p.active.version {
		e.SetLastSeen(p.last.quorum(), p.last.version)
	}
	gen := p.gen
	e.SetAdoptConfig(func(text []byte) bool {
		if p.gen != gen {
			return false
		}
		c, err := parseSimConfig(text)
		if err != nil {
			s.fatalf("peer %d adopts a config that does not parse: %v", p.sid, err)
			return false
		}
		s.logf("%d adopts %v from a notification", p.sid, c)
		s.stats["config adopted"]++
		_, membersChanged := s.activate(p, c, 0, false)
		return membersChanged
	})
	return e
}

// quorumOf is the quorum p leads with: its active config's voters.
func (s *ensembleSim) quorumOf(p *simPeer) *election.Majority {
	if !s.reconfig {
		return s.voters
	}
	return p.active.quorum()
}

// setLastSeen is dynConfig.SetLastSeen: a proposed config recorded (zoo.cfg.dynamic.next), and while it is newer
// than the active one the election counts its voters too.
func (s *ensembleSim) setLastSeen(p *simPeer, c *simConfig) {
	if p.last != nil && p.last.version == c.version {
		return
	}
	p.last = c
	if c.version > p.active.version && p.el != nil {
		p.el.SetLastSeen(c.quorum(), c.version)
	}
}

// activate is dynConfig.activate (processReconfig): c becomes the active config, and when the members changed
// the election restarts with them and p's learner type follows its role; it reports whether p's role or leader
// changed (a major change, which ends following) and whether the members did.
func (s *ensembleSim) activate(p *simPeer, c *simConfig, designated int64, hasDesignated bool) (major, membersChanged bool) {
	prev := p.active
	if c.version <= prev.version {
		return false, false
	}
	s.logf("%d activates %v (designated %d %v)", p.sid, c, designated, hasDesignated)
	p.active = c
	if p.last == nil || c.version >= p.last.version {
		p.last = c
	}
	if membersChanged = !prev.sameMembers(c); membersChanged {
		observer := c.isObserver(p.sid)
		roleChange := observer != p.observer
		p.observer = observer
		var leaderChange bool
		if hasDesignated {
			leaderChange = designated != p.leader
			if leaderChange {
				p.leader, p.designated = designated, true
			}
		} else {
			leaderChange = !prev.isVoter(p.leader) || !c.isVoter(p.leader)
			p.designated = false
		}
		major = roleChange || leaderChange
	}
	p.el.Reconfigure(c.quorum(), c.text(), p.observer)
	return major, membersChanged
}

// leaderConfigs is what a leader starts with under reconfiguration (leader.Lead): NEWLEADER carries a newer last
// seen config, which the new epoch completes.
func (s *ensembleSim) leaderConfigs(p *simPeer, cfg *zab.LeaderConfig) {
	if !s.reconfig {
		return
	}
	cfg.ConfigData, cfg.ConfigVersion, cfg.VersionInitialConfig = p.active.text(), p.active.version, true
	if p.last != nil && p.last.version > p.active.version {
		cfg.LastSeen = &zab.NewConfig{Quorum: p.last.quorum(), Version: p.last.version, Data: p.last.text(),
			KeepsLeader: p.active.isVoter(p.sid) && p.last.isVoter(p.sid)}
	}
}

// leaderConfigReady carries out a leader step's config changes: the config the new epoch proposes, and the
// reconfigs committed.
func (s *ensembleSim) leaderConfigReady(p *simPeer, r zab.LeaderReady) {
	if !s.reconfig {
		return
	}
	if r.LastSeen != nil {
		s.setLastSeen(p, s.mustParse(p, r.LastSeen.Data))
	}
	for _, a := range r.Activated {
		c := s.mustParse(p, a.Config.Data)
		s.stats["reconfig activated"]++
		if a.Designated != p.sid {
			s.stats["leader handed over"]++
		}
		s.activate(p, c, a.Designated, true)
	}
}

func (s *ensembleSim) mustParse(p *simPeer, text []byte) *simConfig {
	c, err := parseSimConfig(text)
	if err != nil {
		s.fatalf("peer %d: %v", p.sid, err)
		return &simConfig{}
	}
	return c
}

// proposeReconfig is a reconfig request prepped on serving leader p: one server changes role, refused (as
// PrepRequestProcessor refuses it) while another reconfig is in flight, when it would leave fewer than two voters,
// or when a quorum of the new config is not synced with us.
func (s *ensembleSim) proposeReconfig(p *simPeer) {
	if p.last != nil && p.last.version > p.active.version {
		return // ReconfigInProgress
	}
	// One server takes another role: voter, observer, or none (removed: it goes on as a non-voting participant).
	const voter, observer, none = 0, 1, 2
	sid, change := s.peers[s.rnd.IntN(len(s.peers))].sid, 1+s.rnd.IntN(2)
	c := &simConfig{}
	for _, q := range s.peers {
		role := none
		switch {
		case p.active.isVoter(q.sid):
			role = voter
		case p.active.isObserver(q.sid):
			role = observer
		}
		if q.sid == sid {
			role = (role + change) % 3
			s.stats[[...]string{"reconfig tried: to voter", "reconfig tried: to observer", "reconfig tried: removal"}[role]]++
		}
		switch role {
		case voter:
			c.voters = append(c.voters, q.sid)
		case observer:
			c.observers = append(c.observers, q.sid)
		}
	}
	if len(c.voters) < 2 {
		return
	}
	synced := map[int64]bool{}
	for _, id := range append([]int64{p.sid}, p.ld.SyncedFollowers()...) {
		if c.isVoter(id) {
			synced[id] = true
		}
	}
	if !c.quorum().ContainsQuorum(synced) {
		s.stats["reconfig refused: no quorum synced"]++
		return // NewConfigNoQuorum
	}
	zxid := p.ld.Epoch()<<32 | p.nextCount
	p.nextCount++
	c.version = zxid
	hdr := jute.TxnHeader{ClientID: p.sid, Cxid: int32(s.rnd.Uint32()), Zxid: zxid, Time: s.now, Type: jute.OpReconfig}
	body := jute.SetDataTxn{Path: "/zookeeper/config", Data: c.text(), Version: -1}
	t := zab.Txn{Zxid: zxid, Data: append(jute.Marshal(&hdr), jute.Marshal(&body)...),
		Reconfig: &zab.NewConfig{Quorum: c.quorum(), Version: zxid, Data: c.text(), KeepsLeader: c.isVoter(p.sid)}}
	s.logf("%d proposes %v at %x", p.sid, c, zxid)
	s.stats["reconfig proposed"]++
	s.setLastSeen(p, c)
	s.prepped(p, []zab.Txn{t})
}

// learnerConfigBefore carries out a learner step's config changes before its txns are applied (the last seen
// config, an activation the sync makes first); it reports a major change, which ends following.
func (s *ensembleSim) learnerConfigBefore(p *simPeer, r zab.Ready) bool {
	if !s.reconfig {
		return false
	}
	if r.LastSeenConfig != nil {
		s.setLastSeen(p, s.mustParse(p, r.LastSeenConfig))
	}
	if a := r.Activate; a != nil && a.BeforeApply {
		major, _ := s.activate(p, s.mustParse(p, a.Config), a.Designated, a.HasDesignated)
		return major
	}
	return false
}

// learnerConfigAfter is a committed reconfig activated once its txn is applied; it reports a major change.
func (s *ensembleSim) learnerConfigAfter(p *simPeer, r zab.Ready) bool {
	if a := r.Activate; s.reconfig && a != nil && !a.BeforeApply {
		major, _ := s.activate(p, s.mustParse(p, a.Config), a.Designated, a.HasDesignated)
		return major
	}
	return false
}

// checkSettledConfig: once settled every server holds the leader's active config, whose members are those of
// the last reconfig committed (the initial ones when none was).
func (s *ensembleSim) checkSettledConfig(leader *simPeer) {
	if !s.reconfig {
		return
	}
	want := s.initial
	for _, t := range s.committed {
		if d := zab.ReconfigData(t.Data); d != nil {
			want = s.mustParse(leader, d)
		}
	}
	if !leader.active.sameMembers(want) {
		s.fatalf("leader %d's config is %v; the last committed is %v", leader.sid, leader.active, want)
	}
	for _, p := range s.peers {
		if p.active.version != leader.active.version || !p.active.sameMembers(leader.active) {
			s.fatalf("peer %d's config is %v, the leader's %v", p.sid, p.active, leader.active)
		}
		if p.observer != p.active.isObserver(p.sid) {
			s.fatalf("peer %d observes (%v) against its config %v", p.sid, p.observer, p.active)
		}
	}
}

// TestEnsembleSimulationReconfig is TestEnsembleSimulation with dynamic reconfiguration: the serving leader
// gives servers other roles (voter, observer, removed) while the faults go on (ZAB_SIM_SEEDS widens the seeds).
func TestEnsembleSimulationReconfig(t *testing.T) {
	from, to := simSeeds(t, 100)
	runSimSeeds(t, from, to, func(seed uint64) *ensembleSim {
		// Three or four voters, with one or two observers, to begin with.
		n, observers := 3+int(seed%2), 1+int(seed/2%2)
		return newEnsembleSim(t, seed, n, observers, false, true)
	})
}
