package zkmeta

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/zkafka/zkafka/compat/javanet"
)

// lookupTimeout bounds the look-up of the connect string's names (go-zookeeper's own provider waits as long).
const lookupTimeout = 3 * time.Second

// hostProvider is go-zookeeper's DNSHostProvider (every address of every server, shuffled, tried in turn) with the
// names looked up through a Resolver, and each address's name kept as the connect string writes it: ZooKeeper's
// StaticHostProvider keeps it in the InetSocketAddress, where SaslServerPrincipal reads it.
type hostProvider struct {
	r javanet.Resolver

	mu         sync.Mutex
	servers    []string          // "ip:port"
	names      map[string]string // "ip:port" to its host name; none for an address literal
	curr, last int
}

// Init resolves servers ("host:port" each).
func (hp *hostProvider) Init(servers []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	var found []string
	names := map[string]string{}
	for _, s := range servers {
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			return err
		}
		if net.ParseIP(host) != nil {
			found = append(found, s)
			continue
		}
		addrs, err := javanet.OrDefault(hp.r).LookupIPAddr(ctx, host)
		if err != nil {
			return fmt.Errorf("resolve ZooKeeper server %s: %w", host, err)
		}
		for _, a := range addrs {
			addr := net.JoinHostPort(a.IP.String(), port)
			if _, ok := names[addr]; !ok {
				names[addr] = host
			}
			found = append(found, addr)
		}
	}
	if len(found) == 0 {
		return fmt.Errorf("no addresses for ZooKeeper servers %q", servers)
	}
	rand.Shuffle(len(found), func(i, j int) { found[i], found[j] = found[j], found[i] })
	hp.mu.Lock()
	defer hp.mu.Unlock()
	hp.servers, hp.names, hp.curr, hp.last = found, names, -1, -1
	return nil
}

// Len is the number of addresses.
func (hp *hostProvider) Len() int {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	return len(hp.servers)
}

// Next is the next address; retryStart once every address was tried since the last connection.
func (hp *hostProvider) Next() (server string, retryStart bool) {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	hp.curr = (hp.curr + 1) % len(hp.servers)
	retryStart = hp.curr == hp.last
	if hp.last == -1 {
		hp.last = 0
	}
	return hp.servers[hp.curr], retryStart
}

// Connected notes that the current address took the connection.
func (hp *hostProvider) Connected() {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	hp.last = hp.curr
}

// name is the connect string's name of address ("ip:port"); "" for an address written as such.
func (hp *hostProvider) name(address string) string {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	return hp.names[address]
}
