package pipeline

import (
	"bytes"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/quorum/reconfig"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// Reconfigurer is a leading Ensemble that reconfigures (LeaderZooKeeperServer's view of its QuorumPeer's configs
// and of its Leader's learners). Prep calls it on the core goroutine.
type Reconfigurer interface {
	// Configs are the active config and the last one seen (the newest proposed); they differ while a reconfig
	// is in progress. Nil: the ensemble does not reconfigure.
	Configs() (active, lastSeen *zoocfg.QuorumVerifier)
	// QuorumSynced is Leader.isQuorumSynced: the voters of qv synced with us, with us, hold a quorum of qv.
	QuorumSynced(qv *zoocfg.QuorumVerifier) bool
}

// prepReconfig is PrepRequestProcessor's reconfig case: on the leader of an ensemble with reconfigEnabled, the new
// config (as its text) written to /zookeeper/config with version -1.
func (p *Processor) prepReconfig(v *view, c *Client, hdr *jute.TxnHeader, req *jute.ReconfigRequest) (jute.Record, jute.Err) {
	if !p.cfg.ReconfigEnabled {
		p.log.Error("Reconfig operation requested but reconfig feature is disabled.")
		return nil, jute.ErrReconfigDisabled
	}
	if p.cfg.ACL.SkipACL {
		p.log.Warn("skipACL is set, reconfig operation will skip ACL checks!")
	}
	rc, ok := p.ens.(Reconfigurer)
	var active, last *zoocfg.QuorumVerifier
	if ok {
		active, last = rc.Configs()
	}
	if active == nil {
		// Standalone (or a leader that cannot reconfigure): Apache's cast to LeaderZooKeeperServer fails.
		return nil, jute.ErrUnimplemented
	}
	if last.Version != active.Version {
		return nil, jute.ErrReconfigInProgress
	}
	if req.CurConfigID != -1 && req.CurConfigID != last.Version {
		p.log.Info("reconfiguration failed: version differs", "from", req.CurConfigID, "last_seen", last.Version)
		return nil, jute.ErrBadVersion
	}
	next, err := reconfig.Next(last, req, hdr.Zxid, reconfig.Options{StandaloneEnabled: p.cfg.StandaloneEnabled,
		MultiAddress: p.cfg.MultiAddress, Resolve: p.cfg.Resolve, Logger: p.log})
	if err != nil {
		p.log.Warn("reconfig failed", "code", err.Code, "reason", err.Msg)
		return nil, err.Code
	}
	if !rc.QuorumSynced(next) {
		p.log.Warn("Reconfig failed - there must be a connected and synced quorum in new configuration")
		return nil, jute.ErrNewConfigNoQuorum
	}
	n := v.get(tree.ConfigPath)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if !p.acl.Check(n.acl, jute.PermWrite, c.ids) {
		return nil, jute.ErrNoAuth
	}
	data := []byte(next.String())
	nr := *n
	nr.dataLen = len(data)
	nr.stat.Version = -1
	nr.stat.Mzxid = hdr.Zxid
	nr.stat.Mtime = hdr.Time
	v.put(tree.ConfigPath, &nr)
	return &jute.SetDataTxn{Path: tree.ConfigPath, Data: data, Version: -1}, jute.ErrOK
}

// SetConfigNode is ZKDatabase.initConfigInZKDatabase: /zookeeper/config holds the active config. A node a reconfig
// txn wrote with that very config is left as the txn made it, as Apache's commit applies the txn after.
func (p *Processor) SetConfigNode(data []byte, version int64) error {
	return p.call(func() error {
		if n := p.tree.Node(tree.ConfigPath); n != nil && n.Stat.Mzxid == version && bytes.Equal(n.Data, data) {
			return nil
		}
		p.tree.InitConfig(data, version, p.cfg.Now())
		return nil
	})
}
