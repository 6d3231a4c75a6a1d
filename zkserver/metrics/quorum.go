package metrics

import "sync/atomic"

// Quorum are the ServerMetrics an ensemble member's election and ZAB runtimes count, kept across its serving
// periods (ServerMetrics is the server's, not one leadership's).
type Quorum struct {
	// Leader (and, for the syncs and revalidations, a follower serving observers): txns proposed, commits sent,
	// learners synced by snapshot and by DIFF or TRUNC, learners' REVALIDATE packets.
	ProposalCount, CommitCount, SnapCount, DiffCount, RevalidateCount atomic.Int64
	// Learner: PROPOSAL and COMMIT (an observer's INFORM) packets after the sync.
	LearnerProposalReceived, LearnerCommitReceived atomic.Int64
	// LookingCount counts the times the server looked for a leader.
	LookingCount atomic.Int64
	// QuitLeadingDisloyal counts the leaderships given up waiting for the new epoch when a voter went looking.
	QuitLeadingDisloyal atomic.Int64
	// ElectionTime is each election's time (ms) from the start of looking to leading or following; FollowerSync
	// and ObserverSync each sync's, from the leader's LEADERINFO to its end; Unavailable the time from the start of
	// looking (after serving) to serving again, and LeaderUnavailable that time when the server then leads.
	ElectionTime, FollowerSync, ObserverSync, Unavailable, LeaderUnavailable SummaryCounter
	// InflightDiff and InflightSnap are the learner syncs in progress (by DIFF or TRUNC, by snapshot) as one begins
	// and as one is acknowledged, on a leader and a follower serving observers.
	InflightDiff, InflightSnap SummaryCounter
	// The times (ms, from the txn header's time, the leader's wall clock when it made the txn) a txn reaches
	// each step: a follower's PROPOSAL (proposal_latency); a member's acknowledgement of it, once logged
	// (proposal_ack_creation_latency); a quorum's on the leader (quorum_ack_latency); a follower's COMMIT or an
	// observer's INFORM (commit_propagation_latency); its final processing on any server (propagation_latency).
	ProposalLatency, ProposalAckCreation, QuorumAckLatency, CommitPropagation, Propagation SummaryCounter
	// AckLatency is the leader's ack_latency, by the sid of the acknowledging member: for txns whose zxid is a
	// multiple of zookeeper.leader.ackLoggingFrequency, each acknowledgement up to the commit.
	AckLatency SummarySet
	// LearnerHandlerQPSize and LearnerHandlerQPTime are a LearnerHandler's send queue, by the learner's sid: the
	// packets still queued as the writer takes each one, and the time a marker packet (queued after every 1000th
	// packet) waited in the queue (ms).
	LearnerHandlerQPSize, LearnerHandlerQPTime SummarySet
}

// AddSince adds the time from a txn's header time to nowMs to s, as Request.logLatency: nothing when the
// difference is negative (the clocks of two servers).
func AddSince(s *SummaryCounter, nowMs, txnTimeMs int64) {
	if d := nowMs - txnTimeMs; d >= 0 {
		s.Add(d)
	}
}

// Named lists the metrics under Apache's names.
func (q *Quorum) Named() Named {
	return Named{
		Counters: map[string]*atomic.Int64{"proposal_count": &q.ProposalCount, "commit_count": &q.CommitCount,
			"snap_count": &q.SnapCount, "diff_count": &q.DiffCount, "revalidate_count": &q.RevalidateCount,
			"learner_proposal_received_count": &q.LearnerProposalReceived,
			"learner_commit_received_count":   &q.LearnerCommitReceived, "looking_count": &q.LookingCount,
			"quit_leading_due_to_disloyal_voter": &q.QuitLeadingDisloyal},
		Summaries: map[string]*SummaryCounter{"election_time": &q.ElectionTime, "follower_sync_time": &q.FollowerSync,
			"observer_sync_time": &q.ObserverSync, "unavailable_time": &q.Unavailable,
			"leader_unavailable_time": &q.LeaderUnavailable, "proposal_latency": &q.ProposalLatency,
			"inflight_diff_count": &q.InflightDiff, "inflight_snap_count": &q.InflightSnap,
			"proposal_ack_creation_latency": &q.ProposalAckCreation, "quorum_ack_latency": &q.QuorumAckLatency,
			"commit_propagation_latency": &q.CommitPropagation, "propagation_latency": &q.Propagation},
		SummarySets: map[string]*SummarySet{"ack_latency": &q.AckLatency,
			"learner_handler_qp_size": &q.LearnerHandlerQPSize, "learner_handler_qp_time_ms": &q.LearnerHandlerQPTime},
	}
}
