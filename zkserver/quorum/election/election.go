package election

import (
	"math"
	"slices"
	"time"
)

// Defaults of FastLeaderElection (finalizeWait and zookeeper.fastleader.{min,max}NotificationInterval).
const (
	DefaultFinalizeWait            = 200 * time.Millisecond
	DefaultMinNotificationInterval = 200 * time.Millisecond
	DefaultMaxNotificationInterval = 60 * time.Second
)

// Vote is a proposal or a decision: who leads, with which last zxid and epoch, decided in which round.
type Vote struct {
	Leader        int64
	Zxid          int64
	ElectionEpoch int64
	PeerEpoch     int64
	State         State
	Version       int32
}

// sameAs is Vote.equals: while either side is LOOKING all four numbers count; between settled servers only the
// leader and its epoch (the epoch left out when one side sent the old, unversioned format).
func (v Vote) sameAs(o Vote) bool {
	if v.State == Looking || o.State == Looking {
		return v.Leader == o.Leader && v.Zxid == o.Zxid && v.ElectionEpoch == o.ElectionEpoch &&
			v.PeerEpoch == o.PeerEpoch
	}
	if (v.Version > 0) != (o.Version > 0) {
		return v.Leader == o.Leader
	}
	return v.Leader == o.Leader && v.PeerEpoch == o.PeerEpoch
}

// Config is what an election needs to know of its server.
type Config struct {
	MyID int64
	// Observer is true for peerType=observer: it never proposes itself and ends OBSERVING.
	Observer bool
	Verifier Verifier
	// ConfigText is this server's quorum config as QuorumVerifier.toString prints it; it goes in every
	// notification and a peer compares its version with its own.
	ConfigText []byte
	// AdoptConfig, with reconfiguration, takes a newer config a peer's notification carries while we look
	// (FastLeaderElection's processReconfig): the server activates it and, through Reconfigure, gives it to the
	// election. It reports whether the members changed (QuorumMaj.equals fails): the election then starts over,
	// as Apache's is shut down and a new one started. Nil: such notifications are dropped, as we cannot follow
	// their config.
	AdoptConfig func(text []byte) (membersChanged bool)
	// VoterLooking, while we lead, hears of each LOOKING notification from a voter of the configs we were elected
	// under (FastLeaderElection's leadingVoteSet, handed to Leader.reportLookingSid): a leader still waiting for
	// the new epoch may give up on such a voter (zookeeper.leader.maxTimeToWaitForEpoch). Nil: no one listens.
	VoterLooking func(sid int64)

	FinalizeWait            time.Duration // default DefaultFinalizeWait
	MinNotificationInterval time.Duration // default DefaultMinNotificationInterval
	MaxNotificationInterval time.Duration // default DefaultMaxNotificationInterval
}

// maxEarly bounds the notifications kept before the first round (Apache's receive queue holds 100).
const maxEarly = 100

type received struct {
	from int64
	n    Notification
}

// Message is a notification to send to a peer.
type Message struct {
	To           int64
	Notification Notification
}

// Election is one server's fast leader election. Its state survives rounds: the logical clock only grows, and
// between rounds (while following or leading) it answers looking peers with the vote it settled on.
type Election struct {
	cfg Config
	// lastSeen is a config proposed and not yet active (QuorumPeer's lastSeenQuorumVerifier when newer than the
	// active one), nil when there is none: while it is pending a vote needs a quorum of it too, and its voters
	// hear our notifications.
	lastSeen        Verifier
	lastSeenVersion int64

	state        State
	logicalClock int64
	current      Vote // the decided vote while not LOOKING (QuorumPeer.currentVote)
	// leadingVoteSet are the configs of the round that made us leader (its vote tracker's verifiers); nil when
	// the last round did not, or we lead by a reconfig's designation (no round, no vote set).
	leadingVoteSet []Verifier

	// The round in progress.
	proposal       Vote // proposedLeader, proposedZxid, proposedEpoch
	ownZxid        int64
	ownEpoch       int64
	recvSet        map[int64]Vote
	outOfElection  map[int64]Vote
	notTimeout     time.Duration
	waitUntil      time.Time // resend when nothing arrived by then
	finalizing     bool      // a quorum agrees; deciding unless something better arrives by finalizeBy
	finalizeBy     time.Time
	selfDeliveries []Notification // our own notifications, looped back as Apache does
	early          []received     // received before the first round started
}

// New returns an election that has not started a round: it answers as a server in state LOOKING that has no
// proposal yet, until Look is called.
func New(cfg Config) *Election {
	if cfg.FinalizeWait == 0 {
		cfg.FinalizeWait = DefaultFinalizeWait
	}
	if cfg.MinNotificationInterval == 0 {
		cfg.MinNotificationInterval = DefaultMinNotificationInterval
	}
	if cfg.MaxNotificationInterval == 0 {
		cfg.MaxNotificationInterval = DefaultMaxNotificationInterval
	}
	return &Election{cfg: cfg, state: Looking}
}

// State is the server state the election has put the server in.
func (e *Election) State() State { return e.state }

// LogicalClock is the current round.
func (e *Election) LogicalClock() int64 { return e.logicalClock }

// Decided returns the vote the last round ended with; ok is false while a round is in progress.
func (e *Election) Decided() (Vote, bool) { return e.current, e.state != Looking }

// Reconfigure gives the election an activated config (QuorumPeer.processReconfig's restart of the election): who
// votes, the config text its notifications carry, and our learner type. The settled vote and the logical clock
// stay.
func (e *Election) Reconfigure(v Verifier, configText []byte, observer bool) {
	e.cfg.Verifier, e.cfg.ConfigText, e.cfg.Observer = v, configText, observer
	if active, ok := ConfigTextVersion(string(configText)); ok && e.lastSeen != nil && e.lastSeenVersion <= active {
		e.lastSeen = nil
	}
}

// SetLastSeen gives the election the config of the given version a reconfig proposed and did not commit, as
// FastLeaderElection's getVoteTracker and sendNotifications read getLastSeenQuorumVerifier. It counts until a
// config of its version or newer is active (Reconfigure); one not newer than the active config is ignored.
func (e *Election) SetLastSeen(v Verifier, version int64) {
	if active, ok := ConfigTextVersion(string(e.cfg.ConfigText)); ok && version <= active {
		return
	}
	if e.lastSeen == nil || version > e.lastSeenVersion {
		e.lastSeen, e.lastSeenVersion = v, version
	}
}

// validVoter is QuorumPeer's validVoter: a voter of the active config or of the last seen one.
func (e *Election) validVoter(sid int64) bool {
	return e.cfg.Verifier.IsVoter(sid) || (e.lastSeen != nil && e.lastSeen.IsVoter(sid))
}

// SetAdoptConfig sets Config.AdoptConfig (a server that reconfigures, once its configs are set up).
func (e *Election) SetAdoptConfig(f func(text []byte) bool) { e.cfg.AdoptConfig = f }

// SetCurrentVote replaces the vote answered to looking peers while settled (QuorumPeer.updateElectionVote: a
// follower that synced with its leader advertises the new epoch).
func (e *Election) SetCurrentVote(v Vote) { e.current = v }

// initID, initZxid and initEpoch are what a round starts proposing: ourselves, unless we do not vote.
func (e *Election) initID() int64 {
	if e.cfg.Verifier.IsVoter(e.cfg.MyID) {
		return e.cfg.MyID
	}
	return math.MinInt64
}

func (e *Election) initZxid() int64 {
	if e.cfg.Observer {
		return math.MinInt64
	}
	return e.ownZxid
}

func (e *Election) initEpoch() int64 {
	if e.cfg.Observer {
		return math.MinInt64
	}
	return e.ownEpoch
}

// Look starts a new round (lookForLeader) from this server's last logged zxid and current epoch, and returns the
// notifications to send.
func (e *Election) Look(lastLoggedZxid, currentEpoch int64, now time.Time) []Message {
	e.state = Looking
	e.ownZxid, e.ownEpoch = lastLoggedZxid, currentEpoch
	if e.current == (Vote{}) {
		// Before any decision the current vote is the server itself (QuorumPeer.startLeaderElection).
		e.current = Vote{Leader: e.cfg.MyID, Zxid: lastLoggedZxid, PeerEpoch: currentEpoch}
	}
	e.recvSet = map[int64]Vote{}
	e.outOfElection = map[int64]Vote{}
	e.finalizing = false
	e.notTimeout = e.cfg.MinNotificationInterval
	e.waitUntil = now.Add(e.notTimeout)
	e.logicalClock++
	e.updateProposal(e.initID(), e.initZxid(), e.initEpoch())
	out := e.deliverSelf(e.sendNotifications(nil), now)
	early := e.early
	e.early = nil
	for _, r := range early {
		if e.state != Looking {
			break
		}
		out = e.deliverSelf(e.step(r.from, r.n, now, out), now)
	}
	return out
}

// restart is Apache's restart of the election after adopting a config with other members (the WorkerReceiver
// shuts the election down, dropping the notification that carried the config; QuorumPeer.startLeaderElection
// makes a new one): the logical clock starts over, the current vote is ourselves again, and a round in
// progress starts anew, proposing ourselves to the new config's voters. A vote kept for a server that no longer
// votes would otherwise hold the round forever.
func (e *Election) restart(now time.Time, out []Message) []Message {
	e.logicalClock, e.current, e.leadingVoteSet, e.early = 0, Vote{}, nil, nil
	if e.recvSet == nil {
		return out // no round yet: Look starts the first
	}
	e.selfDeliveries = nil
	return append(out, e.Look(e.ownZxid, e.ownEpoch, now)...)
}

func (e *Election) updateProposal(leader, zxid, epoch int64) {
	e.proposal = Vote{Leader: leader, Zxid: zxid, PeerEpoch: epoch}
}

// sendNotifications addresses the proposal to every voter; ours is queued to be received like any other.
func (e *Election) sendNotifications(out []Message) []Message {
	voters := e.cfg.Verifier.Voters()
	if e.lastSeen != nil {
		// getCurrentAndNextConfigVoters: the voters of both configs.
		voters = append(slices.Clone(voters), e.lastSeen.Voters()...)
		slices.Sort(voters)
		voters = slices.Compact(voters)
	}
	for _, sid := range voters {
		n := Notification{State: Looking, Leader: e.proposal.Leader, Zxid: e.proposal.Zxid,
			ElectionEpoch: e.logicalClock, PeerEpoch: e.proposal.PeerEpoch, Version: notificationVersion,
			Config: e.cfg.ConfigText}
		if sid == e.cfg.MyID {
			e.selfDeliveries = append(e.selfDeliveries, n)
			continue
		}
		out = append(out, Message{To: sid, Notification: n})
	}
	return out
}

func (e *Election) deliverSelf(out []Message, now time.Time) []Message {
	for len(e.selfDeliveries) > 0 {
		n := e.selfDeliveries[0]
		e.selfDeliveries = e.selfDeliveries[1:]
		out = e.receive(e.cfg.MyID, n, now, out)
	}
	return out
}

// Receive handles a notification from sid and returns the notifications to send in answer.
func (e *Election) Receive(from int64, n Notification, now time.Time) []Message {
	out := e.receive(from, n, now, nil)
	return e.deliverSelf(out, now)
}

// receive is the WorkerReceiver: answer non-voters and lagging or looking peers at once, hand the rest to the
// round in progress.
func (e *Election) receive(from int64, n Notification, now time.Time, out []Message) []Message {
	if v, ok := n.ConfigVersion(); ok && n.Version > 1 {
		if mine, ok := ConfigTextVersion(string(e.cfg.ConfigText)); ok && v > mine && e.state == Looking {
			if e.cfg.AdoptConfig == nil {
				return out
			}
			if e.cfg.AdoptConfig(n.Config) {
				return e.restart(now, out)
			}
		}
	}
	if !e.validVoter(from) {
		// Observers and non-voting servers are answered with our current vote right away.
		return e.replyCurrent(out, from, e.logicalClock)
	}
	if e.state == Looking {
		if n.State == Looking && n.ElectionEpoch < e.logicalClock {
			out = append(out, Message{To: from, Notification: Notification{State: Looking,
				Leader: e.proposal.Leader, Zxid: e.proposal.Zxid, ElectionEpoch: e.logicalClock,
				PeerEpoch: e.proposal.PeerEpoch, Version: notificationVersion, Config: e.cfg.ConfigText}})
		}
		switch {
		case e.recvSet == nil:
			// No round yet: keep it for the first one, as Apache's receive queue does.
			if len(e.early) == maxEarly {
				e.early = e.early[1:]
			}
			e.early = append(e.early, received{from, n})
		default:
			out = e.step(from, n, now, out)
		}
		return out
	}
	if n.State == Looking {
		if e.state == Leading && e.cfg.VoterLooking != nil && e.inLeadingVoteSet(from) {
			e.cfg.VoterLooking(from)
		}
		out = e.replyCurrent(out, from, e.current.ElectionEpoch)
	}
	return out
}

// inLeadingVoteSet is SyncedLearnerTracker.hasSid on the vote set that made us leader: sid votes in each of its
// configs (whatever it voted for).
func (e *Election) inLeadingVoteSet(sid int64) bool {
	for _, v := range e.leadingVoteSet {
		if !v.IsVoter(sid) {
			return false
		}
	}
	return e.leadingVoteSet != nil
}

func (e *Election) replyCurrent(out []Message, to, electionEpoch int64) []Message {
	return append(out, Message{To: to, Notification: Notification{State: e.state, Leader: e.current.Leader,
		Zxid: e.current.Zxid, ElectionEpoch: electionEpoch, PeerEpoch: e.current.PeerEpoch,
		Version: notificationVersion, Config: e.cfg.ConfigText}})
}

// better is totalOrderPredicate: a higher epoch, then a higher zxid, then a higher sid wins; non-voters never.
func (e *Election) better(newID, newZxid, newEpoch, curID, curZxid, curEpoch int64) bool {
	if !e.cfg.Verifier.IsVoter(newID) {
		return false
	}
	return newEpoch > curEpoch || newEpoch == curEpoch && (newZxid > curZxid || newZxid == curZxid && newID > curID)
}

func (e *Election) betterThanProposal(n Notification) bool {
	return e.better(n.Leader, n.Zxid, n.PeerEpoch, e.proposal.Leader, e.proposal.Zxid, e.proposal.PeerEpoch)
}

// step is one pass of lookForLeader's loop for a received notification.
func (e *Election) step(from int64, n Notification, now time.Time, out []Message) []Message {
	e.notTimeoutReset(now)
	if e.finalizing {
		// While waiting to decide, only a better proposal matters; anything else is dropped and the wait
		// starts over, as Apache's poll loop does.
		if !e.betterThanProposal(n) {
			e.finalizeBy = now.Add(e.cfg.FinalizeWait)
			return out
		}
		e.finalizing = false
	}
	if !e.validVoter(n.Leader) {
		return out // a vote for a non-voter (receive answered non-voting senders already)
	}
	switch n.State {
	case Looking:
		if e.initZxid() == -1 || n.Zxid == -1 {
			return out
		}
		switch {
		case n.ElectionEpoch > e.logicalClock:
			e.logicalClock = n.ElectionEpoch
			clear(e.recvSet)
			if e.better(n.Leader, n.Zxid, n.PeerEpoch, e.initID(), e.initZxid(), e.initEpoch()) {
				e.updateProposal(n.Leader, n.Zxid, n.PeerEpoch)
			} else {
				e.updateProposal(e.initID(), e.initZxid(), e.initEpoch())
			}
			out = e.sendNotifications(out)
		case n.ElectionEpoch < e.logicalClock:
			return out
		case e.betterThanProposal(n):
			e.updateProposal(n.Leader, n.Zxid, n.PeerEpoch)
			out = e.sendNotifications(out)
		}
		e.recvSet[from] = Vote{Leader: n.Leader, Zxid: n.Zxid, ElectionEpoch: n.ElectionEpoch, PeerEpoch: n.PeerEpoch}
		if e.agreeing(e.recvSet, e.proposalVote()) {
			e.finalizing = true
			e.finalizeBy = now.Add(e.cfg.FinalizeWait)
		}
	case Following, Leading:
		e.settledNotification(from, n)
	}
	return out
}

func (e *Election) proposalVote() Vote {
	v := e.proposal
	v.ElectionEpoch = e.logicalClock
	return v
}

// settledNotification is receivedFollowingNotification (and the leading one, the same without an oracle): a
// settled server's vote counts in this round's votes if it is of this round, and always among the votes of the
// servers out of the election; either way, a quorum behind a leader that itself says it leads ends the round.
func (e *Election) settledNotification(from int64, n Notification) {
	v := Vote{Leader: n.Leader, Zxid: n.Zxid, ElectionEpoch: n.ElectionEpoch, PeerEpoch: n.PeerEpoch, State: n.State,
		Version: n.Version}
	if n.ElectionEpoch == e.logicalClock {
		e.recvSet[from] = v
		if e.agreeing(e.recvSet, v) && e.checkLeader(e.recvSet, n.Leader, n.ElectionEpoch) {
			e.decide(n.Leader, n.Zxid, n.ElectionEpoch, n.PeerEpoch)
			return
		}
	}
	e.outOfElection[from] = v
	if e.agreeing(e.outOfElection, v) && e.checkLeader(e.outOfElection, n.Leader, n.ElectionEpoch) {
		e.logicalClock = n.ElectionEpoch
		e.decide(n.Leader, n.Zxid, n.ElectionEpoch, n.PeerEpoch)
	}
}

// checkLeader: a leader other than us must have told us itself that it leads; we may only lead in our round.
func (e *Election) checkLeader(votes map[int64]Vote, leader, electionEpoch int64) bool {
	if leader != e.cfg.MyID {
		v, ok := votes[leader]
		return ok && v.State == Leading
	}
	return e.logicalClock == electionEpoch
}

// agreeing reports whether the voters whose votes equal v form a quorum, of the last seen config too while one is
// pending (getVoteTracker's second verifier).
func (e *Election) agreeing(votes map[int64]Vote, v Vote) bool {
	set := make(map[int64]bool, len(votes))
	for sid, w := range votes {
		if w.sameAs(v) {
			set[sid] = true
		}
	}
	return e.cfg.Verifier.ContainsQuorum(set) && (e.lastSeen == nil || e.lastSeen.ContainsQuorum(set))
}

// Designate settles on the leader a committed reconfig designated, without a round (QuorumPeer.updateVote, then
// updateServerState): the vote Apache makes of it, Vote(id, zxid), has no epochs (-1) until the sync sets one.
func (e *Election) Designate(leader, zxid int64) Vote {
	e.decide(leader, zxid, -1, -1)
	e.leadingVoteSet = nil
	return e.current
}

func (e *Election) decide(leader, zxid, electionEpoch, peerEpoch int64) {
	switch {
	case leader == e.cfg.MyID:
		e.state = Leading
	case e.cfg.Observer:
		e.state = Observing
	default:
		e.state = Following
	}
	e.current = Vote{Leader: leader, Zxid: zxid, ElectionEpoch: electionEpoch, PeerEpoch: peerEpoch, State: e.state}
	e.finalizing = false
	e.leadingVoteSet = nil
	if e.state == Leading {
		e.leadingVoteSet = []Verifier{e.cfg.Verifier}
		if e.lastSeen != nil {
			e.leadingVoteSet = append(e.leadingVoteSet, e.lastSeen)
		}
	}
}

func (e *Election) notTimeoutReset(now time.Time) { e.waitUntil = now.Add(e.notTimeout) }

// Deadline is when Tick next has something to do; zero when nothing is pending.
func (e *Election) Deadline() time.Time {
	if e.state != Looking || e.recvSet == nil {
		return time.Time{}
	}
	if e.finalizing {
		return e.finalizeBy
	}
	return e.waitUntil
}

// Tick advances time: a round whose quorum held through the finalize wait is decided; a round that heard
// nothing for the notification interval sends its proposal again and doubles the interval (up to its maximum).
func (e *Election) Tick(now time.Time) []Message {
	d := e.Deadline()
	if d.IsZero() || now.Before(d) {
		return nil
	}
	if e.finalizing {
		p := e.proposal
		e.decide(p.Leader, p.Zxid, e.logicalClock, p.PeerEpoch)
		return nil
	}
	e.notTimeout = min(2*e.notTimeout, e.cfg.MaxNotificationInterval)
	e.waitUntil = now.Add(e.notTimeout)
	return e.deliverSelf(e.sendNotifications(nil), now)
}
