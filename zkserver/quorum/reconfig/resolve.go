package reconfig

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/zkafka/zkafka/compat/javanet"
	"github.com/zkafka/zkafka/compat/zoocfg"
)

// Resolver resolves a config's host name as Java's InetSocketAddress does when Apache builds a QuorumServer:
// the address, or ok false when the name does not resolve (the socket address is then unresolved). A nil
// Resolver resolves no name; IP literals need none.
type Resolver func(host string) (addr netip.Addr, ok bool)

// lookupTimeout bounds one system lookup, so that a dead name server does not hold a reconfig forever.
const lookupTimeout = 5 * time.Second

// LookupHost is the system's resolver, for the server's wiring: the name's address as InetAddress.getByName
// picks it (javanet.FirstAddress: the first IPv4 address, else the first).
func LookupHost(host string) (netip.Addr, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	addr, ok := netip.AddrFromSlice(javanet.FirstAddress(ctx, nil, host))
	return addr.Unmap(), ok
}

// Memo is r remembering each name's answer: one comparison of configs asks for the same names many times (every
// pair of servers), where Apache resolves each once, when it reads the config. Not safe for concurrent use.
func (r Resolver) Memo() Resolver {
	if r == nil {
		return nil
	}
	type answer struct {
		addr netip.Addr
		ok   bool
	}
	seen := map[string]answer{}
	return func(host string) (netip.Addr, bool) {
		a, ok := seen[host]
		if !ok {
			a.addr, a.ok = r(host)
			seen[host] = a
		}
		return a.addr, a.ok
	}
}

// SocketAddr is what makes two InetSocketAddresses equal: the IP address and port when resolved, else the host
// name (compared ignoring case) and port.
type SocketAddr struct {
	IP   netip.Addr
	Name string
	Port int
}

// Addr is InetSocketAddress(host, port): an IP literal as is (an IPv4-mapped one as IPv4, as Java's
// Inet4Address), a name through r.
func (r Resolver) Addr(host string, port int) SocketAddr {
	if ip, err := netip.ParseAddr(host); err == nil {
		return SocketAddr{IP: ip.Unmap(), Port: port}
	}
	if r != nil {
		if ip, ok := r(host); ok {
			return SocketAddr{IP: ip.Unmap(), Port: port}
		}
	}
	return SocketAddr{Name: strings.ToLower(host), Port: port}
}

// special is what excludedSpecialAddresses leaves out: an unresolved address, a wildcard or a loopback one.
func (a SocketAddr) special() bool {
	return !a.IP.IsValid() || a.IP.IsUnspecified() || a.IP.IsLoopback()
}

// quorumAddrs is a server's quorum addresses as a set (MultipleAddresses), in a sorted slice.
func (r Resolver) quorumAddrs(s zoocfg.Server) []SocketAddr {
	return r.addrSet(s, func(a zoocfg.HostPort) int { return a.QuorumPort })
}

// electionAddrs is a server's election addresses as a set, in a sorted slice.
func (r Resolver) electionAddrs(s zoocfg.Server) []SocketAddr {
	return r.addrSet(s, func(a zoocfg.HostPort) int { return a.ElectionPort })
}

// addrSet is the set of s's addresses on the port port picks, in a sorted slice.
func (r Resolver) addrSet(s zoocfg.Server, port func(zoocfg.HostPort) int) []SocketAddr {
	var out []SocketAddr
	for _, a := range s.Addrs {
		if x := r.Addr(a.Host, port(a)); !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	sortAddrs(out)
	return out
}

// sortAddrs orders a set of socket addresses, so that sets compare as slices.
func sortAddrs(as []SocketAddr) {
	slices.SortFunc(as, func(a, b SocketAddr) int {
		if c := a.IP.Compare(b.IP); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return a.Port - b.Port
	})
}

// KeepsLeader is getDesignatedLeader's first test: me votes in next with the quorum addresses it has in active
// (MultipleAddresses.equals: the same set of socket addresses, names compared by what they resolve to).
func KeepsLeader(active, next *zoocfg.QuorumVerifier, me int64, r Resolver) bool {
	now, ok := active.Server(me)
	then, ok2 := next.Server(me)
	return ok && ok2 && then.Role == zoocfg.RoleParticipant && slices.Equal(r.quorumAddrs(now), r.quorumAddrs(then))
}

// SameQuorumAddr is QuorumPeer.processReconfig's test of whether a server's quorum addresses changed (the
// leader's: its followers then follow it again).
func SameQuorumAddr(a, b zoocfg.Server, r Resolver) bool {
	return slices.Equal(r.quorumAddrs(a), r.quorumAddrs(b))
}

// SameServer is QuorumServer.equals: id, role, quorum and election address sets and client address (or none on
// both), names compared by what they resolve to.
func SameServer(a, b zoocfg.Server, r Resolver) bool {
	if a.ID != b.ID || a.Role != b.Role || !SameQuorumAddr(a, b, r) ||
		!slices.Equal(r.electionAddrs(a), r.electionAddrs(b)) {
		return false
	}
	if a.ClientPort == 0 || b.ClientPort == 0 {
		return a.ClientPort == b.ClientPort
	}
	return r.Addr(a.ClientHost, a.ClientPort) == r.Addr(b.ClientHost, b.ClientPort)
}
