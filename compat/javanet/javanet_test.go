package javanet

import (
	"context"
	"net"
	"testing"
)

// hosts: zk is zk.b.test; spoof's reverse name does not confirm.
var hosts = Hosts{
	Addrs: map[string][]string{
		"zk": {"127.0.0.9"}, "zk.b.test": {"127.0.0.9"},
		"spoof": {"127.0.0.11"}, "spoof.test": {"127.0.0.12"},
		"dual": {"::1", "127.0.0.13"}, "v6": {"::1"},
	},
	Names: map[string][]string{"127.0.0.9": {"zk.b.test."}, "127.0.0.11": {"spoof.test."}},
}

// TestCanonicalHostName: the reverse name when its addresses confirm it, else the address.
func TestCanonicalHostName(t *testing.T) {
	for ip, want := range map[string]string{
		"127.0.0.9":  "zk.b.test",
		"127.0.0.11": "127.0.0.11", // spoof.test is 127.0.0.12
		"127.0.0.99": "127.0.0.99",
	} {
		if got := CanonicalHostName(context.Background(), hosts, net.ParseIP(ip)); got != want {
			t.Errorf("CanonicalHostName(%s) = %q, want %q", ip, got, want)
		}
	}
}

// TestFirstAddress: a literal as it is, else a name's first IPv4 address, as Java orders them.
func TestFirstAddress(t *testing.T) {
	for host, want := range map[string]string{"ZK.b.test.": "127.0.0.9", "127.0.0.5": "127.0.0.5", "nowhere": "<nil>",
		"dual": "127.0.0.13", "v6": "::1"} {
		if got := FirstAddress(context.Background(), hosts, host).String(); got != want {
			t.Errorf("FirstAddress(%s) = %s, want %s", host, got, want)
		}
	}
}
