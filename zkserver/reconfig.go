package zkserver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/electionnet"
	"github.com/zkafka/zkafka/zkserver/quorum/reconfig"
)

// dynConfig is a quorum member's configs with reconfigEnabled, QuorumPeer's quorumVerifier and
// lastSeenQuorumVerifier: the runtimes report what the leader proposes and commits, and it keeps the dynamic
// files, zoo.cfg, /zookeeper/config and the election in step (reconfig.Peer).
type dynConfig struct {
	myID              int64
	configFile        string // zoo.cfg as the server was started with it (configFilename); empty: no files
	standaloneEnabled bool
	multiAddress      bool
	resolve           reconfig.Resolver // host names, where Apache compares resolved addresses
	log               *slog.Logger
	// setNode is initConfigInZKDatabase; changed restarts the election on an activated config.
	setNode func(qv *zoocfg.QuorumVerifier)
	changed func(qv *zoocfg.QuorumVerifier)
	// clientAddr is given our client address in each activated config that names one (the client port moves
	// when it differs from the bound one).
	clientAddr func(addr string)
	// lastSeenChanged tells the election of a newly proposed config.
	lastSeenChanged func(pending *zoocfg.QuorumVerifier)

	mu           sync.Mutex
	active, last *zoocfg.QuorumVerifier
	observer     bool  // our learner type
	leader       int64 // our current vote's leader
	// designated is updateVote's reconfigFlag: a committed reconfig named another leader than ours, whom we go
	// to without an election (QuorumPeer.updateServerState).
	designated bool
}

func (d *dynConfig) Configs() (active, lastSeen *zoocfg.QuorumVerifier) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.active, d.last
}

// pending is the last seen config while it is newer than the active one; nil otherwise.
func (d *dynConfig) pending() *zoocfg.QuorumVerifier {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last.Version > d.active.Version {
		return d.last
	}
	return nil
}

// snapshot is the active config, our learner type and our current leader.
func (d *dynConfig) snapshot() (*zoocfg.QuorumVerifier, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.active, d.observer
}

// setLeader records the leader we follow or are (QuorumPeer.setCurrentVote after an election).
func (d *dynConfig) setLeader(sid int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.leader = sid
}

func (d *dynConfig) ParseConfig(text []byte) (*zoocfg.QuorumVerifier, error) {
	return zoocfg.ParseConfigText(string(text), d.standaloneEnabled, d.multiAddress, d.log)
}

// SetLastSeen is setLastSeenQuorumVerifier: a proposed config, written with its version to zoo.cfg.dynamic.next.
func (d *dynConfig) SetLastSeen(qv *zoocfg.QuorumVerifier) {
	d.mu.Lock()
	if d.last != nil && d.last.Version > qv.Version {
		d.log.Error("setLastSeenQuorumVerifier called with stale config", "version", qv.Version,
			"current", d.active.Version)
	}
	if d.last != nil && d.last.Version == qv.Version {
		d.mu.Unlock()
		return
	}
	d.last = qv
	pending := qv.Version > d.active.Version
	d.mu.Unlock()
	if pending && d.lastSeenChanged != nil {
		d.lastSeenChanged(qv)
	}
	if d.configFile == "" {
		return
	}
	if err := writeDynamicFile(zoocfg.NextDynamicFileName(d.configFile), qv, true); err != nil {
		d.log.Error("Error writing next dynamic config file to disk", "err", err)
	}
}

// initLastSeen is QuorumPeerMain's setLastSeenQuorumVerifier(config's lastSeen, false): the ".next" file's
// config, not written again. One no newer than the active config (a file left behind) is reported, as Apache's
// stale-config error, and not used: only a newer last seen config changes what the server does.
func (d *dynConfig) initLastSeen(qv *zoocfg.QuorumVerifier) {
	switch {
	case qv.Version > d.active.Version:
		d.last = qv
		d.log.Info("a reconfig proposed before the restart is pending", "version", fmt.Sprintf("%x", qv.Version))
	case qv.Version < d.active.Version:
		d.log.Error("setLastSeenQuorumVerifier called with stale config", "version", qv.Version, "current", d.active.Version)
	}
}

// Activate is processReconfig: setQuorumVerifier (the files written), initConfigInZKDatabase, and when the
// membership changed the election restarted, our learner type updated and our vote moved to the designated
// leader; it reports whether our role or our leader changed.
func (d *dynConfig) Activate(qv *zoocfg.QuorumVerifier, designated int64, hasDesignated bool) bool {
	major, _ := d.activate(qv, designated, hasDesignated)
	return major
}

// activate is Activate, also reporting whether the members changed (QuorumMaj.equals failed).
func (d *dynConfig) activate(qv *zoocfg.QuorumVerifier, designated int64, hasDesignated bool) (major, membersChanged bool) {
	d.mu.Lock()
	prev := d.active
	if qv.Version <= prev.Version {
		d.mu.Unlock()
		d.setNode(prev)
		return false, false
	}
	d.active = qv
	if d.last == nil || qv.Version > d.last.Version {
		d.last = qv
	}
	d.writeFiles(qv)
	if qv.Version == d.last.Version {
		d.deleteNext()
	}
	if sameMembers(prev, qv, d.resolve) {
		d.mu.Unlock()
		d.setNode(qv)
		d.changed(qv)
		return false, false
	}
	roleChange := d.updateLearnerType(qv)
	var leaderChange bool
	if hasDesignated {
		leaderChange = designated != d.leader
		if leaderChange {
			d.log.Warn("Suggested leader", "sid", designated)
			d.leader, d.designated = designated, true
		}
	} else {
		was, ok1 := voterServer(prev, d.leader)
		now, ok2 := voterServer(qv, d.leader)
		leaderChange = !ok1 || !ok2 || !reconfig.SameQuorumAddr(was, now, d.resolve)
		d.designated = false // no designated leader: an election
	}
	d.mu.Unlock()
	d.setNode(qv)
	d.changed(qv)
	if s, ok := qv.Server(d.myID); ok && s.ClientPort != 0 && d.clientAddr != nil {
		d.clientAddr(net.JoinHostPort(s.ClientHost, strconv.Itoa(s.ClientPort)))
	}
	return roleChange || leaderChange, true
}

// takeDesignated is updateServerState with reconfigFlag set: the leader a committed reconfig designated, once.
func (d *dynConfig) takeDesignated() (int64, bool) {
	if d == nil {
		return 0, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.designated {
		return 0, false
	}
	d.designated = false
	return d.leader, true
}

// updateLearnerType: an observer in qv observes, a voter votes, a server left out is a non-voting participant.
func (d *dynConfig) updateLearnerType(qv *zoocfg.QuorumVerifier) bool {
	s, ok := qv.Server(d.myID)
	observer := ok && s.Role == zoocfg.RoleObserver
	if observer == d.observer {
		return false
	}
	d.observer = observer
	d.log.Info("learner type changed by a reconfig", "observer", observer, "in_config", ok)
	return true
}

func voterServer(qv *zoocfg.QuorumVerifier, sid int64) (zoocfg.Server, bool) {
	s, ok := qv.Server(sid)
	return s, ok && s.Role == zoocfg.RoleParticipant
}

// sameMembers is QuorumMaj.equals: the same servers with the same (resolved) addresses and roles, whatever the
// version.
func sameMembers(a, b *zoocfg.QuorumVerifier, r reconfig.Resolver) bool {
	r = r.Memo()
	return slices.EqualFunc(a.Servers, b.Servers, func(x, y zoocfg.Server) bool { return reconfig.SameServer(x, y, r) })
}

// writeFiles is setQuorumVerifier's writeToDisk: zoo.cfg.dynamic.<version>, then zoo.cfg rewritten to point at it.
func (d *dynConfig) writeFiles(qv *zoocfg.QuorumVerifier) {
	if d.configFile == "" {
		return
	}
	dyn := zoocfg.DynamicFileName(d.configFile, qv.Version)
	if err := writeDynamicFile(dyn, qv, false); err != nil {
		d.log.Error("Error writing the dynamic config file", "file", dyn, "err", err)
		return
	}
	// needEraseClientInfoFromStaticConfig: our server line gives the client address, so the static one goes.
	me, ok := qv.Server(d.myID)
	if err := editStaticConfig(d.configFile, dyn, ok && me.ClientPort != 0); err != nil {
		d.log.Error("Error editing the static config file", "file", d.configFile, "err", err)
	}
}

func (d *dynConfig) deleteNext() {
	if d.configFile == "" {
		return
	}
	next := zoocfg.NextDynamicFileName(d.configFile)
	if err := os.Remove(next); err != nil && !os.IsNotExist(err) {
		d.log.Warn("deleting failed", "file", next, "err", err)
	}
}

func writeDynamicFile(path string, qv *zoocfg.QuorumVerifier, keepVersion bool) error {
	text, err := zoocfg.DynamicFileText(qv, keepVersion)
	if err != nil {
		return err
	}
	return writeAtomic(path, []byte(text))
}

// editStaticConfig is QuorumPeerConfig.editStaticConfig over the zoo.cfg on disk.
func editStaticConfig(configFile, dynFile string, eraseClientPort bool) error {
	f, err := os.Open(configFile)
	if err != nil {
		return err
	}
	props, err := zoocfg.ParseProperties(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", configFile, err)
	}
	canonical, err := filepath.Abs(dynFile)
	if err != nil {
		return err
	}
	if c, err := filepath.EvalSymlinks(canonical); err == nil {
		canonical = c
	}
	return writeAtomic(configFile, []byte(zoocfg.EditedStaticConfig(props, canonical, eraseClientPort)))
}

// backupConfig copies zoo.cfg to zoo.cfg.bak, replacing an older copy.
func backupConfig(configFile string) error {
	data, err := os.ReadFile(configFile)
	if err != nil {
		return err
	}
	return writeAtomic(configFile+".bak", data)
}

// writeAtomic is AtomicFileWritingIdiom: a temporary file beside path, synced, then renamed over it.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// quorumView is the membership the server runs a leadership or a following with: the static one, or the active
// config with reconfigEnabled.
type quorumView struct {
	members  map[int64]Member
	voters   map[int64]bool
	verifier election.Verifier
	text     string
	version  int64
	observer bool
}

func (s *Server) quorumView(dyn *dynConfig) quorumView {
	q := s.cfg.Quorum
	if dyn == nil {
		return quorumView{members: q.Members, voters: q.Voters, verifier: q.Verifier, text: q.ConfigText,
			version: q.ConfigVersion, observer: q.Observer}
	}
	qv, observer := dyn.snapshot()
	v := viewOf(qv)
	v.observer = observer
	return v
}

// viewOf is qv's members, voters and quorum rule.
func viewOf(qv *zoocfg.QuorumVerifier) quorumView {
	v := quorumView{members: map[int64]Member{}, voters: map[int64]bool{}, verifier: reconfig.Verifier(qv),
		text: qv.String(), version: qv.Version}
	for _, s := range qv.Servers {
		v.members[s.ID] = Member{QuorumAddr: net.JoinHostPort(s.Host(), strconv.Itoa(s.QuorumPort())),
			ElectionAddr: net.JoinHostPort(s.Host(), strconv.Itoa(s.ElectionPort()))}
		if s.Role == zoocfg.RoleParticipant {
			v.voters[s.ID] = true
		}
	}
	return v
}

// startReconfig sets the server up for reconfiguration (reconfigEnabled in quorum mode): /zookeeper/config
// holds the config, and each activated config restarts the election with its members. Nil without.
func (s *Server) startReconfig(ctx context.Context, node *electionnet.Node, mgr *electionnet.Manager) *dynConfig {
	q := s.cfg.Quorum
	if !q.ReconfigEnabled || q.Initial == nil {
		return nil
	}
	d := &dynConfig{myID: q.MyID, configFile: q.ConfigFile, standaloneEnabled: q.StandaloneEnabled,
		multiAddress: q.MultiAddress, resolve: reconfig.LookupHost, log: s.log, active: q.Initial, last: q.Initial, observer: q.Observer,
		leader: -1}
	if q.LastSeen != nil {
		d.initLastSeen(q.LastSeen)
	}
	d.setNode = func(qv *zoocfg.QuorumVerifier) { s.setConfigNode(qv.String(), qv.Version) }
	d.clientAddr = s.moveClientPort
	d.changed = func(qv *zoocfg.QuorumVerifier) {
		s.log.Warn("Restarting Leader Election", "config_version", fmt.Sprintf("%x", qv.Version))
		v := viewOf(qv)
		mgr.SetPeers(electionMembers(qv, d.pending()))
		_, observer := d.snapshot()
		// Not waited for: an election adopting a peer's config calls this on the node's own goroutine.
		go func() {
			_ = node.Do(ctx, func(e *election.Election) { e.Reconfigure(v.verifier, []byte(v.text), observer) })
		}()
	}
	// A proposed config's voters hear our notifications and a vote needs a quorum of them too, until it is active
	// (the election drops it then by its version).
	d.lastSeenChanged = func(pending *zoocfg.QuorumVerifier) {
		active, _ := d.snapshot()
		mgr.SetPeers(electionMembers(active, pending))
		go func() {
			_ = node.Do(ctx, func(e *election.Election) { e.SetLastSeen(reconfig.Verifier(pending), pending.Version) })
		}()
	}
	if p := d.pending(); p != nil {
		mgr.SetPeers(electionMembers(q.Initial, p))
		_ = node.Do(ctx, func(e *election.Election) { e.SetLastSeen(reconfig.Verifier(p), p.Version) })
	}
	if q.BackupConfig {
		if err := backupConfig(q.ConfigFile); err != nil {
			s.log.Warn("cannot back up the static config", "file", q.ConfigFile, "err", err)
		}
	}
	d.setNode(q.Initial)
	_ = node.Do(ctx, func(e *election.Election) {
		e.SetAdoptConfig(func(text []byte) bool {
			qv, err := d.ParseConfig(text)
			if err != nil {
				s.log.Warn("a peer's config does not parse", "err", err)
				return false
			}
			_, membersChanged := d.activate(qv, 0, false)
			// At once, so that the notifications that follow are not taken for newer again.
			_, observer := d.snapshot()
			v := viewOf(qv)
			e.Reconfigure(v.verifier, []byte(v.text), observer)
			if membersChanged {
				s.log.Info("restarting leader election", "config_version", fmt.Sprintf("%x", qv.Version))
			}
			return membersChanged
		})
	})
	return d
}

// electionMembers are the election addresses and voters of the active config and a pending one (nil: none), as
// QuorumCnxManager connects to both.
func electionMembers(active, pending *zoocfg.QuorumVerifier) (map[int64]string, map[int64]bool) {
	peers, voters := map[int64]string{}, map[int64]bool{}
	for _, qv := range []*zoocfg.QuorumVerifier{pending, active} { // the active config's addresses win
		if qv == nil {
			continue
		}
		v := viewOf(qv)
		for id, m := range v.members {
			peers[id] = m.ElectionAddr
		}
		for id := range v.voters {
			voters[id] = true
		}
	}
	return peers, voters
}

// setConfigNode is initConfigInZKDatabase: /zookeeper/config holds a quorum member's config.
func (s *Server) setConfigNode(text string, version int64) {
	if err := s.proc.SetConfigNode([]byte(text), version); err != nil {
		s.log.Warn("cannot set /zookeeper/config", "err", err)
	}
}

// reconfigPeer is dyn as the runtimes take it (a nil interface without reconfiguration).
func reconfigPeer(dyn *dynConfig) reconfig.Peer {
	if dyn == nil {
		return nil
	}
	return dyn
}

// moveClientPort is processReconfig's cnxnFactory.reconfigure: when an activated config gives us a client address
// other than the one bound (InetSocketAddress.equals: the same IP, or both wildcards, and port), the client port
// moves there; open connections stay.
func (s *Server) moveClientPort(addr string) {
	cur, ok := s.ln.Addr().(*net.TCPAddr)
	want, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil || !ok {
		s.log.Error("Error reconfiguring client port", "addr", addr, "err", err)
		return
	}
	if want.Port == cur.Port && (want.IP.Equal(cur.IP) || (want.IP.IsUnspecified() && cur.IP.IsUnspecified())) {
		return
	}
	s.log.Info("binding to port", "addr", addr)
	if err := s.ln.Rebind(addr); err != nil {
		s.log.Error("Error reconfiguring client port", "addr", addr, "err", err)
	}
}
