package reconfig

import "github.com/zkafka/zkafka/compat/zoocfg"

// Peer is the server's side of reconfiguration, QuorumPeer's configs: the leader and learner runtimes report what
// their ZAB cores decide; the server keeps the configs, their files, /zookeeper/config and the election in step.
type Peer interface {
	// Configs are the active config and the last one seen (the newest proposed).
	Configs() (active, lastSeen *zoocfg.QuorumVerifier)
	// SetLastSeen is setLastSeenQuorumVerifier: a config proposed, written to the ".next" dynamic file.
	SetLastSeen(qv *zoocfg.QuorumVerifier)
	// Activate is processReconfig: qv becomes the active config if it is newer. It reports a major change (our
	// role changes, or our leader: the designated one when given), on which a learner leaves its leader.
	Activate(qv *zoocfg.QuorumVerifier, designated int64, hasDesignated bool) (major bool)
	// ParseConfig is configFromString.
	ParseConfig(text []byte) (*zoocfg.QuorumVerifier, error)
}
