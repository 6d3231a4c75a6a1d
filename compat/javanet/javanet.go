// Package javanet names hosts and addresses as Java's InetAddress does, through a resolver callers can replace
// (tests answer from tables, as the JDK's jdk.net.hosts.file does).
package javanet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
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
// JDK's guard against a spoofed reverse entry); otherwise the address itself, as AddressText writes it.
func CanonicalHostName(ctx context.Context, r Resolver, ip net.IP) string {
	r = OrDefault(r)
	names, err := r.LookupAddr(ctx, ip.String())
	if err != nil || len(names) == 0 {
		return AddressText(ip)
	}
	name := strings.TrimSuffix(names[0], ".")
	addrs, err := r.LookupIPAddr(ctx, name)
	if err != nil {
		return AddressText(ip)
	}
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			return name
		}
	}
	return AddressText(ip)
}

// AddressText is InetAddress.getHostAddress: an IPv4 address dotted (an IPv4-mapped IPv6 address too, which Java
// makes an Inet4Address), an IPv6 address as its eight groups in lower-case hex without leading zeros and never
// shortened by "::" (Java's "0:0:0:0:0:0:0:1" where Go writes "::1").
func AddressText(ip net.IP) string { return ZonedAddressText(ip, "") }

// ZonedAddressText is AddressText of an IPv6 address with its zone ("fe80:0:0:0:0:0:0:1%eth0").
func ZonedAddressText(ip net.IP, zone string) string {
	if v4 := ip.To4(); v4 != nil || len(ip) != net.IPv6len {
		return ip.String()
	}
	var b strings.Builder
	for i := 0; i < net.IPv6len; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(uint64(ip[i])<<8|uint64(ip[i+1]), 16))
	}
	if zone != "" {
		b.WriteString("%" + zone)
	}
	return b.String()
}

// SocketAddressText is InetSocketAddress.toString of an address without a host name, as JDK 14 and later write
// it: "/127.0.0.1:2181", an IPv6 address in brackets ("/[0:0:0:0:0:0:0:1]:2181").
func SocketAddressText(a net.Addr) string {
	if a == nil {
		return "/"
	}
	host := RemoteAddressText(a)
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if _, _, port, ok := addrParts(a); ok && port != "" {
		return "/" + host + ":" + port
	}
	if _, port, err := net.SplitHostPort(a.String()); err == nil {
		return "/" + host + ":" + port
	}
	return "/" + host
}

// RemoteAddressText is AddressText of a connection's remote address (with its zone), or of the host of an address
// of another kind written "host:port".
func RemoteAddressText(a net.Addr) string {
	if a == nil {
		return ""
	}
	if ip, zone, _, ok := addrParts(a); ok {
		return ZonedAddressText(ip, zone)
	}
	return a.String()
}

// addrParts is a's IP address, zone and port (empty for an *net.IPAddr); ok is false when a holds no IP address.
func addrParts(a net.Addr) (ip net.IP, zone, port string, ok bool) {
	switch v := a.(type) {
	case *net.TCPAddr:
		return v.IP, v.Zone, strconv.Itoa(v.Port), true
	case *net.UDPAddr:
		return v.IP, v.Zone, strconv.Itoa(v.Port), true
	case *net.IPAddr:
		return v.IP, v.Zone, "", true
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return nil, "", "", false
	}
	return ap.Addr().AsSlice(), ap.Addr().Zone(), strconv.Itoa(int(ap.Port())), true
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
