// Package reconfig holds the deterministic parts of dynamic reconfiguration (reconfigEnabled=true): the config a
// reconfig request asks for, checked as PrepRequestProcessor checks it, and the rule a reconfig proposal commits
// by (acknowledged by a quorum of the old config and of the new one).
package reconfig

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
)

// Options are the settings that shape a new config as Apache's static flags do.
type Options struct {
	// StandaloneEnabled is standaloneEnabled: a new config needs two voters with it, one without.
	StandaloneEnabled bool
	// MultiAddress is multiAddress.enabled: a joiner may give several '|'-separated addresses.
	MultiAddress bool
	// Resolve resolves host names for the address checks (nil: none resolves).
	Resolve Resolver
	Logger  *slog.Logger
}

// Error is a request's failure: the code the client gets and the reason Apache logs or puts in its exception.
type Error struct {
	Code jute.Err
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Msg) }

func fail(code jute.Err, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Next is the config req asks for, from last (the last config seen: the active one, as no reconfig may be in
// progress), versioned with the request's zxid: PrepRequestProcessor's reconfig case from the request's strings
// to its count of voters. A null NewMembers means an incremental change; "" (what go-zookeeper sends with an
// incremental one) is an empty membership, as to Apache.
func Next(last *zoocfg.QuorumVerifier, req *jute.ReconfigRequest, zxid int64, o Options) (*zoocfg.QuorumVerifier, *Error) {
	var next *zoocfg.QuorumVerifier
	var err *Error
	o.Resolve = o.Resolve.Memo()
	if req.NewMembers != nil {
		next, err = nonIncremental(*req.NewMembers, o)
	} else {
		next, err = incremental(last, req.JoiningServers, req.LeavingServers, o)
	}
	if err != nil {
		return nil, err
	}
	next.Version = zxid
	voters := len(next.Voters())
	if o.StandaloneEnabled && voters < 2 {
		return nil, fail(jute.ErrBadArguments, "Reconfig failed - new configuration must include at least 2 followers")
	}
	if voters < 1 {
		return nil, fail(jute.ErrBadArguments, "Reconfig failed - new configuration must include at least 1 follower")
	}
	return next, nil
}

// nonIncremental parses the whole new membership (commas or newlines between entries) as parseDynamicConfig.
func nonIncremental(members string, o Options) (*zoocfg.QuorumVerifier, *Error) {
	props, err := zoocfg.ParseProperties(strings.NewReader(strings.ReplaceAll(members, ",", "\n")))
	if err != nil {
		// Properties.load's IllegalArgumentException (a bad \u escape) is no IOException: Apache's prep fails.
		return nil, fail(jute.ErrMarshallingError, "new members: %v", err)
	}
	qv, err := zoocfg.ParseQuorumVerifier(props, o.StandaloneEnabled, o.MultiAddress, o.Logger)
	switch {
	case err == nil:
		return qv, nil
	case zoocfg.IsIllegalArgument(err) || isNumberFormat(err):
		return nil, fail(jute.ErrMarshallingError, "new members: %v", err)
	}
	return nil, fail(jute.ErrBadArguments, "%v", err)
}

// isNumberFormat reports a server id that is not a number: Long.parseLong's NumberFormatException, which
// Apache's prep does not catch either.
func isNumberFormat(err error) bool {
	var ne *strconv.NumError
	msg := err.Error()
	return errors.As(err, &ne) || strings.Contains(msg, "is not a number") || strings.Contains(msg, "is not a hex number")
}

// incremental applies the leaving ids and then the joining servers (comma-separated) to last's members.
func incremental(last *zoocfg.QuorumVerifier, joining, leaving string, o Options) (*zoocfg.QuorumVerifier, *Error) {
	if last.Hierarchical() {
		return nil, fail(jute.ErrBadArguments,
			"Incremental reconfiguration requested but last configuration seen has a non-majority quorum system")
	}
	servers := slices.Clone(last.Servers)
	for _, l := range splitTrim(leaving, ",") {
		sid, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			return nil, fail(jute.ErrMarshallingError, "leaving server %q: %v", l, err)
		}
		servers = slices.DeleteFunc(servers, func(s zoocfg.Server) bool { return s.ID == sid })
	}
	for _, j := range splitTrim(joining, ",") {
		s, err := parseJoiner(j, o.MultiAddress)
		if err != nil {
			return nil, err
		}
		for _, other := range servers {
			if other.ID != s.ID && addressesConflict(s, other, o.Resolve) {
				return nil, fail(jute.ErrBadArguments, "server.%d conflicts with server.%d", s.ID, other.ID)
			}
		}
		servers = slices.DeleteFunc(servers, func(o zoocfg.Server) bool { return o.ID == s.ID })
		servers = append(servers, s)
	}
	slices.SortFunc(servers, func(a, b zoocfg.Server) int { return cmp.Compare(a.ID, b.ID) })
	return &zoocfg.QuorumVerifier{Servers: servers}, nil
}

// parseJoiner reads "server.N=spec;client" as the reconfig case does: the spec must give a client address.
func parseJoiner(j string, multiAddress bool) (zoocfg.Server, *Error) {
	parts := splitTrim(j, "=")
	if len(parts) != 2 {
		return zoocfg.Server{}, fail(jute.ErrBadArguments, "Wrong format of server string")
	}
	idStr := parts[0][strings.LastIndexByte(parts[0], '.')+1:]
	sid, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return zoocfg.Server{}, fail(jute.ErrMarshallingError, "joining server id %q: %v", idStr, err)
	}
	s, err := zoocfg.ParseServer(sid, parts[1], multiAddress)
	if err != nil {
		return zoocfg.Server{}, fail(jute.ErrBadArguments, "Reconfiguration failed: %v", err)
	}
	if s.ClientPort == 0 {
		return zoocfg.Server{}, fail(jute.ErrBadArguments,
			"Wrong format of server string - each server should have 3 ports specified")
	}
	return s, nil
}

// splitTrim is ZooKeeper's StringUtils.split: parts trimmed, empty ones dropped.
func splitTrim(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// addressesConflict is QuorumServer.checkAddressDuplicate: a quorum, election or client address of a equals
// one of b's, host names compared by the address they resolve to. Unresolved, wildcard and loopback addresses
// never conflict (excludedSpecialAddresses).
func addressesConflict(a, b zoocfg.Server, r Resolver) bool {
	theirs := r.addresses(b)
	for _, x := range r.addresses(a) {
		if slices.Contains(theirs, x) {
			return true
		}
	}
	return false
}

// addresses is QuorumServer's myAddrs: quorum, client and election addresses, the special ones left out.
func (r Resolver) addresses(s zoocfg.Server) []SocketAddr {
	var out []SocketAddr
	add := func(host string, port int) {
		if a := r.Addr(host, port); !a.special() {
			out = append(out, a)
		}
	}
	for _, a := range s.Addrs {
		add(a.Host, a.QuorumPort)
	}
	if s.ClientPort != 0 {
		add(s.ClientHost, s.ClientPort)
	}
	for _, a := range s.Addrs {
		add(a.Host, a.ElectionPort)
	}
	return out
}

// Verifier is qv's quorum rule for the election and the commit rule.
func Verifier(qv *zoocfg.QuorumVerifier) election.Verifier {
	if qv.Hierarchical() {
		return election.NewHierarchical(qv.Groups, qv.Weights)
	}
	return election.NewMajority(qv.Voters())
}

// QuorumSynced is Leader.isQuorumSynced: the leader (when a voter of qv) and the followers synced with it
// that vote in qv hold a quorum of qv.
func QuorumSynced(qv *zoocfg.QuorumVerifier, leader int64, synced []int64) bool {
	v := Verifier(qv)
	ids := map[int64]bool{}
	for _, sid := range append([]int64{leader}, synced...) {
		if v.IsVoter(sid) {
			ids[sid] = true
		}
	}
	return v.ContainsQuorum(ids)
}
