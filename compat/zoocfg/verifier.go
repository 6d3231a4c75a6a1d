package zoocfg

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// QuorumVerifier is a quorum config as Apache's QuorumMaj / QuorumHierarchical hold it: the members, the groups
// and weights of a hierarchical quorum, and the version (the zxid of the reconfig that made it; 0 for a static
// config).
type QuorumVerifier struct {
	Servers []Server // ascending id
	Groups  map[int64][]int64
	Weights map[int64]int64
	Version int64
}

// QuorumVerifier is the config's quorum (QuorumPeerConfig.getQuorumVerifier).
func (c *Config) QuorumVerifier() *QuorumVerifier {
	q := &QuorumVerifier{Servers: slices.Clone(c.Servers), Groups: c.Groups, Weights: c.Weights,
		Version: c.ConfigVersion}
	slices.SortFunc(q.Servers, func(x, y Server) int { return cmp.Compare(x.ID, y.ID) })
	return q
}

// QuorumConfigText is the quorum config as Apache's QuorumVerifier.toString prints it: the text peers exchange in
// election notifications and NEWLEADER packets, and compare by its version.
func (c *Config) QuorumConfigText() string { return c.QuorumVerifier().String() }

// Hierarchical reports a QuorumHierarchical (groups); incremental reconfig wants a majority quorum.
func (q *QuorumVerifier) Hierarchical() bool { return q.Groups != nil }

// Server is the member with id sid.
func (q *QuorumVerifier) Server(sid int64) (Server, bool) {
	for _, s := range q.Servers {
		if s.ID == sid {
			return s, true
		}
	}
	return Server{}, false
}

// Voters are the participants' ids, ascending (getVotingMembers).
func (q *QuorumVerifier) Voters() []int64 { return q.ids(RoleParticipant) }

// Observers are the observers' ids, ascending (getObservingMembers).
func (q *QuorumVerifier) Observers() []int64 { return q.ids(RoleObserver) }

func (q *QuorumVerifier) ids(role Role) []int64 {
	var ids []int64
	for _, s := range q.Servers {
		if s.Role == role {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// String is QuorumVerifier.toString: server.N lines, groups and weights of a hierarchical quorum, then the hex
// version. Members come in ascending id order, the order Java's HashMap gives small ids.
func (q *QuorumVerifier) String() string {
	var b strings.Builder
	for _, s := range q.Servers {
		fmt.Fprintf(&b, "server.%d=%s\n", s.ID, s)
	}
	if q.Groups != nil {
		byGroup := map[int64][]string{}
		var sids []int64
		gidOf := map[int64]int64{}
		for gid, members := range q.Groups {
			for _, sid := range members {
				gidOf[sid] = gid
				sids = append(sids, sid)
			}
		}
		slices.Sort(sids)
		for _, sid := range sids {
			byGroup[gidOf[sid]] = append(byGroup[gidOf[sid]], strconv.FormatInt(sid, 10))
		}
		for _, gid := range slices.Sorted(maps.Keys(byGroup)) {
			fmt.Fprintf(&b, "group.%d=%s\n", gid, strings.Join(byGroup[gid], ":"))
		}
		for _, sid := range slices.Sorted(maps.Keys(q.Weights)) {
			fmt.Fprintf(&b, "weight.%d=%d\n", sid, q.Weights[sid])
		}
	}
	fmt.Fprintf(&b, "version=%x", q.Version)
	return b.String()
}

// ParseQuorumVerifier reads a config text as QuorumPeerConfig.parseDynamicConfig does with
// configBackwardCompatibilityMode off (keys other than server.*, group*, weight* and version are errors), and
// checks the members as it does: IllegalArgument reports its IllegalArgumentException (a caller's
// MarshallingError), other errors its ConfigException.
func ParseQuorumVerifier(props []Property, standaloneEnabled, multiAddress bool, log *slog.Logger) (*QuorumVerifier, error) {
	q, err := parseQuorum(dedupe(props), true, multiAddress, log)
	if err != nil {
		return nil, err
	}
	if err := checkMembers(q.voting(), len(q.servers)-q.voting(), standaloneEnabled, log); err != nil {
		return nil, err
	}
	return &QuorumVerifier{Servers: q.servers, Groups: q.groups, Weights: q.weights, Version: q.version}, nil
}

// IllegalArgument marks parseDynamicConfig's IllegalArgumentExceptions, which PrepRequestProcessor does not
// catch as it catches ConfigException.
type IllegalArgument struct{ Msg string }

func (e *IllegalArgument) Error() string { return e.Msg }

// checkMembers is parseDynamicConfig's check of the numbers of participants and observers.
func checkMembers(voting, observers int, standaloneEnabled bool, log *slog.Logger) error {
	switch {
	case voting == 0:
		if !standaloneEnabled {
			return &IllegalArgument{"standaloneEnabled = false then number of participants should be >0"}
		}
		if observers > 0 {
			return &IllegalArgument{"Observers w/o participants is an invalid configuration"}
		}
	case voting == 1 && standaloneEnabled:
		log.Error("Invalid configuration, only one server specified (ignoring)")
		if observers > 0 {
			return &IllegalArgument{"Observers w/o quorum is an invalid configuration"}
		}
	case voting <= 2:
		log.Warn("No server failure will be tolerated. You need at least 3 servers.")
	case voting%2 == 0:
		log.Warn("Non-optimal configuration, consider an odd number of servers.")
	}
	return nil
}

// IsIllegalArgument reports an IllegalArgument in err's chain.
func IsIllegalArgument(err error) bool {
	var ia *IllegalArgument
	return errors.As(err, &ia)
}

// ParseConfigText is QuorumPeer.configFromString: a config as QuorumVerifier.toString prints it (a reconfig's
// data, NEWLEADER's, /zookeeper/config's) read back.
func ParseConfigText(text string, standaloneEnabled, multiAddress bool, log *slog.Logger) (*QuorumVerifier, error) {
	props, err := ParseProperties(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("config text: %w", err)
	}
	return ParseQuorumVerifier(props, standaloneEnabled, multiAddress, log)
}
