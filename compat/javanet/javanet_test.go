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
		"::1":        "0:0:0:0:0:0:0:1", // no name: the address as Java writes it
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

// TestAddressText: addresses as JDK 17's InetAddress.getHostAddress wrote them (InetAddress.getByName of the
// same texts).
func TestAddressText(t *testing.T) {
	for text, want := range map[string]string{
		"127.0.0.1":             "127.0.0.1",
		"::1":                   "0:0:0:0:0:0:0:1",
		"::ffff:127.0.0.1":      "127.0.0.1",
		"fe80::1":               "fe80:0:0:0:0:0:0:1",
		"2001:db8:0:0:0:0:0:10": "2001:db8:0:0:0:0:0:10",
		"::127.0.0.1":           "0:0:0:0:0:0:7f00:1",
		"2001:DB8::ABCD":        "2001:db8:0:0:0:0:0:abcd",
	} {
		if got := AddressText(net.ParseIP(text)); got != want {
			t.Errorf("AddressText(%s) = %q, want %q", text, got, want)
		}
	}
}

// TestSocketAddressText: as JDK 17's InetSocketAddress.toString wrote them.
func TestSocketAddressText(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 2181}, "/[0:0:0:0:0:0:0:1]:2181"},
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 2181}, "/127.0.0.1:2181"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 2181}, "/127.0.0.1:2181"},
		{&net.IPAddr{IP: net.ParseIP("::1")}, "/[0:0:0:0:0:0:0:1]"},
		{nil, "/"},
	} {
		if got := SocketAddressText(tc.addr); got != tc.want {
			t.Errorf("SocketAddressText(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
