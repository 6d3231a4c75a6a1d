package reconfig

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
)

// fakeResolver resolves the names it holds; others do not resolve.
func fakeResolver(names map[string]string) Resolver {
	return func(host string) (netip.Addr, bool) {
		s, ok := names[host]
		if !ok {
			return netip.Addr{}, false
		}
		return netip.MustParseAddr(s), true
	}
}

var testNames = fakeResolver(map[string]string{
	"zk-a": "10.0.0.5", "zk-b.example": "10.0.0.5", "zk-c": "10.0.0.6", "zk-c-v6": "::ffff:10.0.0.6",
	"myhost": "127.0.1.1", "anyhost": "0.0.0.0", "localhost": "127.0.0.1",
})

func serversOf(t *testing.T, specs ...string) *zoocfg.QuorumVerifier {
	t.Helper()
	q := &zoocfg.QuorumVerifier{}
	for i, v := range specs {
		s, err := zoocfg.ParseServer(int64(i+1), v, true)
		if err != nil {
			t.Fatal(err)
		}
		q.Servers = append(q.Servers, s)
	}
	return q
}

// checkAddressDuplicate compares resolved socket addresses: two names of one address conflict, and what
// excludedSpecialAddresses leaves out (unresolved, loopback, wildcard) never does.
func TestNextAddressConflictResolved(t *testing.T) {
	last := serversOf(t, "zk-a:2888:3888;2181", "myhost:2888:3888;2181", "ghost:2888:3888;2181",
		"localhost:2889:3889;anyhost:2182", "zk-c:2890:3890;2183")
	tests := []struct {
		name, joiner string
		conflict     bool
	}{
		{"another name of server 1's address", "server.9=zk-b.example:2888:3900;2190", true},
		{"server 1's address literally, as its election port", "server.9=10.0.0.9:2900:3900;10.0.0.5:3888", true},
		{"another name, other ports", "server.9=zk-b.example:2900:3900;2190", false},
		{"an IPv4-mapped literal of server 5", "server.9=[::ffff:10.0.0.6]:2890:3900;2190", true},
		{"a name resolving to an IPv4-mapped address", "server.9=zk-c-v6:2890:3900;2190", true},
		{"a name resolving to loopback, as server 2", "server.9=myhost:2888:3888;2190", false},
		{"an unresolved name, as server 3", "server.9=ghost:2888:3888;2190", false},
		{"localhost, as server 4", "server.9=localhost:2889:3889;2190", false},
		{"a wildcard client address, as server 4's", "server.9=10.0.0.9:2900:3900;0.0.0.0:2182", false},
		{"a name resolving to the wildcard", "server.9=10.0.0.9:2900:3900;anyhost:2182", false},
	}
	for _, tc := range tests {
		o := opts()
		o.Resolve = testNames
		_, err := Next(last, &jute.ReconfigRequest{JoiningServers: tc.joiner}, 1, o)
		if got := err != nil && err.Code == jute.ErrBadArguments && strings.Contains(err.Msg, "conflicts"); got != tc.conflict {
			t.Errorf("%s (%s): error %v, want a conflict %v", tc.name, tc.joiner, err, tc.conflict)
		}
	}
	// Without a resolver no name resolves: names never conflict.
	if _, err := Next(last, &jute.ReconfigRequest{JoiningServers: "server.9=zk-a:2888:3888;2190"}, 1, opts()); err != nil {
		t.Errorf("unresolved names conflict: %v", err)
	}
}

// getDesignatedLeader keeps the leader when its quorum addresses in the new config equal (resolved) the ones it
// has; MultipleAddresses compares them as sets.
func TestKeepsLeader(t *testing.T) {
	active := serversOf(t, "zk-a:2888:3888;2181", "zk-c:2888:3888;2181")
	tests := []struct {
		name, spec string
		r          Resolver
		keeps      bool
	}{
		{"same line", "zk-a:2888:3888;2181", testNames, true},
		{"another name of the address", "zk-b.example:2888:3999;2999", testNames, true},
		{"the address literally", "10.0.0.5:2888:3888;2181", testNames, true},
		{"another quorum port", "zk-a:2889:3888;2181", testNames, false},
		{"another address", "zk-c:2888:3888;2181", testNames, false},
		{"an observer", "zk-a:2888:3888:observer;2181", testNames, false},
		{"unresolved: the name as written, any case", "ZK-A:2888:3888;2181", nil, true},
		{"unresolved against resolved", "10.0.0.5:2888:3888;2181", nil, false},
		{"one more address", "zk-a:2888:3888|zk-c:2889:3889;2181", testNames, false},
	}
	for _, tc := range tests {
		next := serversOf(t, tc.spec, "zk-c:2888:3888;2181")
		if got := KeepsLeader(active, next, 1, tc.r); got != tc.keeps {
			t.Errorf("%s (%s): keeps %v", tc.name, tc.spec, got)
		}
	}
	multi := serversOf(t, "zk-a:2888:3888|zk-c:2889:3889;2181")
	swapped := serversOf(t, "zk-c:2889:3889|zk-b.example:2888:3888;2181")
	if !KeepsLeader(multi, swapped, 1, testNames) {
		t.Error("the same set of addresses in another order and names")
	}
}

// QuorumServer.equals (QuorumMaj.equals, whether an activated config changes the members): every address
// compared resolved, a client address on both or neither.
func TestSameServer(t *testing.T) {
	base := serversOf(t, "zk-a:2888:3888;zk-c:2181").Servers[0]
	tests := []struct {
		spec string
		same bool
	}{
		{"zk-b.example:2888:3888;10.0.0.6:2181", true},
		{"zk-a:2888:3889;zk-c:2181", false},
		{"zk-a:2888:3888;zk-a:2181", false},
		{"zk-a:2888:3888;2181", false},
		{"zk-a:2888:3888", false},
		{"zk-a:2888:3888:observer;zk-c:2181", false},
	}
	for _, tc := range tests {
		if got := SameServer(base, serversOf(t, tc.spec).Servers[0], testNames); got != tc.same {
			t.Errorf("%s: same %v", tc.spec, got)
		}
	}
	if SameServer(base, serversOf(t, "zk-b.example:2888:3888;10.0.0.6:2181").Servers[0], nil) {
		t.Error("unresolved names equal to other names")
	}
}

// A reconfig's address checks ask the system for each name once, as Apache resolves each server line once.
func TestNextResolvesEachNameOnce(t *testing.T) {
	asked := map[string]int{}
	count := func(host string) (netip.Addr, bool) {
		asked[host]++
		return testNames(host)
	}
	last := serversOf(t, "zk-a:2888:3888;2181", "zk-c:2889:3889;2182", "ghost:2890:3890;2183")
	o := opts()
	o.Resolve = count
	if _, err := Next(last, &jute.ReconfigRequest{JoiningServers: "server.8=zk-b.example:2900:3900;2190," +
		"server.9=ghost:2901:3901;2191"}, 1, o); err != nil {
		t.Fatal(err)
	}
	for host, n := range asked {
		if n != 1 {
			t.Errorf("%s looked up %d times", host, n)
		}
	}
	if len(asked) != 4 {
		t.Errorf("names looked up: %v", asked)
	}
}
