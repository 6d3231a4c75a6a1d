package harness

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNet is a network the test makes for itself, so that it can partition servers without touching the host's:
// each server gets a network namespace with two links, one to a client bridge (the test process reaches the
// servers there, from the host address 10.213.K.254) and one to a peer bridge (quorum and election traffic,
// unreachable from the host). Taking a link down cuts the server off from its clients or from its peers with
// silence, as a partition does, while its process runs on.
type TestNet struct {
	tag string
	k   int // the third octet of both subnets
	ids []int64
}

// NewTestNet makes the network for servers ids, or returns ErrNotFound when this machine cannot (not root, no
// `ip`, no namespaces): callers skip then. Cleanup removes everything.
func NewTestNet(t testing.TB, ids ...int64) (*TestNet, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: network namespaces need root", ErrNotFound)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("%w: ip (iproute2): %v", ErrNotFound, err)
	}
	// Subnets the host has no address or route in.
	addrs, err := exec.Command("ip", "-4", "-o", "addr").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: ip addr: %v", ErrNotFound, err)
	}
	routes, err := exec.Command("ip", "-4", "route").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: ip route: %v", ErrNotFound, err)
	}
	n := &TestNet{tag: fmt.Sprintf("%04x", rand.IntN(1<<16)), ids: ids}
	used := string(addrs) + string(routes)
	taken := func(k int) bool {
		return strings.Contains(used, fmt.Sprintf("10.213.%d.", k)) || strings.Contains(used, fmt.Sprintf("10.214.%d.", k))
	}
	for n.k == 0 || taken(n.k) {
		n.k = 1 + rand.IntN(250)
	}
	t.Cleanup(n.remove)
	cmds := [][]string{
		{"link", "add", n.bridge("c"), "type", "bridge"},
		{"link", "add", n.bridge("p"), "type", "bridge"},
		{"addr", "add", fmt.Sprintf("10.213.%d.254/24", n.k), "dev", n.bridge("c")},
		{"link", "set", n.bridge("c"), "up"},
		{"link", "set", n.bridge("p"), "up"},
	}
	for _, id := range ids {
		ns := n.NS(id)
		cmds = append(cmds, []string{"netns", "add", ns},
			[]string{"-n", ns, "link", "set", "lo", "up"})
		for _, side := range []string{"c", "p"} {
			ip := n.ClientIP(id)
			if side == "p" {
				ip = n.PeerIP(id)
			}
			cmds = append(cmds,
				[]string{"link", "add", n.veth(side, id), "type", "veth", "peer", "name", "eth" + side, "netns", ns},
				[]string{"link", "set", n.veth(side, id), "master", n.bridge(side), "up"},
				[]string{"-n", ns, "addr", "add", ip + "/24", "dev", "eth" + side},
				[]string{"-n", ns, "link", "set", "eth" + side, "up"})
		}
	}
	for _, c := range cmds {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%w: ip %s: %v: %s", ErrNotFound, strings.Join(c, " "), err, out)
		}
	}
	return n, nil
}

func (n *TestNet) bridge(side string) string { return "zk" + side + n.tag }
func (n *TestNet) veth(side string, id int64) string {
	return fmt.Sprintf("zk%s%s%d", side, n.tag, id)
}

// NS is server id's network namespace (Config.NetNS).
func (n *TestNet) NS(id int64) string { return fmt.Sprintf("zkt-%s-%d", n.tag, id) }

// ClientIP is server id's address on the client bridge (Config.Host).
func (n *TestNet) ClientIP(id int64) string { return fmt.Sprintf("10.213.%d.%d", n.k, id) }

// PeerIP is server id's address on the peer bridge: its quorum and election addresses.
func (n *TestNet) PeerIP(id int64) string { return fmt.Sprintf("10.214.%d.%d", n.k, id) }

// CutPeers takes server id's peer link down (cut) or up.
func (n *TestNet) CutPeers(id int64, cut bool) error { return n.set("p", id, cut) }

// CutClients takes server id's client link down (cut) or up.
func (n *TestNet) CutClients(id int64, cut bool) error { return n.set("c", id, cut) }

func (n *TestNet) set(side string, id int64, cut bool) error {
	state := "up"
	if cut {
		state = "down"
	}
	if out, err := exec.Command("ip", "link", "set", n.veth(side, id), state).CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set %s %s: %v: %s", n.veth(side, id), state, err, out)
	}
	return nil
}

// remove deletes the namespaces (a veth pair goes with either end's namespace) and the bridges.
func (n *TestNet) remove() {
	for _, id := range n.ids {
		_ = exec.Command("ip", "netns", "del", n.NS(id)).Run()
	}
	for _, side := range []string{"c", "p"} {
		_ = exec.Command("ip", "link", "del", n.bridge(side)).Run()
	}
}
