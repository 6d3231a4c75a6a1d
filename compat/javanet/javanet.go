// Package javanet names hosts and addresses as Java's InetAddress does, through a resolver callers can replace
// (tests answer from tables, as the JDK's jdk.net.hosts.file does).
package javanet

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// Resolver looks names and addresses up; *net.Resolver is one.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// OrDefault is r, or the system's resolver when r is nil.
func OrDefault(r Resolver) Resolver {
	if r == nil {
		return net.DefaultResolver
	}
	return r
}

// CanonicalHostName is InetAddress.getCanonicalHostName (and getHostName of an address without a name): the
// address's name in reverse, without its trailing dot, kept only when the name's own addresses include it (the
// JDK's guard against a spoofed reverse entry); otherwise the address itself.
func CanonicalHostName(ctx context.Context, r Resolver, ip net.IP) string {
	r = OrDefault(r)
	names, err := r.LookupAddr(ctx, ip.String())
	if err != nil || len(names) == 0 {
		return ip.String()
	}
	name := strings.TrimSuffix(names[0], ".")
	addrs, err := r.LookupIPAddr(ctx, name)
	if err != nil {
		return ip.String()
	}
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			return name
		}
	}
	return ip.String()
}

// FirstAddress is InetAddress.getByName: an address literal as it is, else the name's first IPv4 address, else
// its first address, as Java orders a name's addresses (java.net.preferIPv6Addresses=false); nil when the name does
// not resolve.
func FirstAddress(ctx context.Context, r Resolver, host string) net.IP {
	if ip := net.ParseIP(host); ip != nil {
		return ip
	}
	addrs, err := OrDefault(r).LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return nil
	}
	for _, a := range addrs {
		if v4 := a.IP.To4(); v4 != nil {
			return v4
		}
	}
	return addrs[0].IP
}

// Hosts is a Resolver that answers from its tables only, as a hosts file: names in any case, with or without a
// trailing dot.
type Hosts struct {
	Addrs map[string][]string // name to addresses
	Names map[string][]string // address to names (reverse)
}

// LookupIPAddr gives the name's addresses.
func (h Hosts) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	for _, a := range h.Addrs[strings.ToLower(strings.TrimSuffix(host, "."))] {
		out = append(out, net.IPAddr{IP: net.ParseIP(a)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("lookup %s: no such host", host)
	}
	return out, nil
}

// LookupAddr gives the address's names.
func (h Hosts) LookupAddr(_ context.Context, addr string) ([]string, error) {
	if n := h.Names[addr]; len(n) > 0 {
		return n, nil
	}
	return nil, fmt.Errorf("lookup %s: no name", addr)
}
