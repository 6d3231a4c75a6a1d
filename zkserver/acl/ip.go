package acl

import (
	"net"
	"strings"

	"github.com/zkafka/zkafka/compat/javanet"
	"github.com/zkafka/zkafka/jute"
)

// IPMatches reports whether the address remoteIP (as IPID writes it) falls in
// the ip ACL id aclID: "a.b.c.d", "a.b.c.d/bits", or an IPv6 address with an
// optional "/bits". IPv6 follows Apache's later IPAuthenticationProvider
// (ZOOKEEPER-4240); 3.8 itself only knows IPv4, which Checker keeps unless
// Config.IPv6 is set.
func IPMatches(aclID string, remoteIP string) bool { return ipMatches(aclID, remoteIP, true) }

// IPValid reports whether aclID is a valid ip ACL id (isValid).
func IPValid(aclID string, ipv6 bool) bool {
	_, _, ok := parseIPACL(aclID, ipv6)
	return ok
}

func parseIPACL(aclID string, ipv6 bool) ([]byte, int, bool) {
	host, prefix, hasPrefix := strings.Cut(aclID, "/")
	addr := addrBytes(host, ipv6)
	if addr == nil {
		return nil, 0, false
	}
	bits := len(addr) * 8
	if hasPrefix {
		v, ok := javaParseInt(prefix, 10)
		if !ok || v < 0 || int(v) > len(addr)*8 {
			return nil, 0, false
		}
		bits = int(v)
	}
	return addr, bits, true
}

func ipMatches(aclID, remoteIP string, ipv6 bool) bool {
	acl, bits, ok := parseIPACL(aclID, ipv6)
	if !ok {
		return false
	}
	remote := addrBytes(remoteIP, ipv6)
	if remote == nil || len(remote) != len(acl) {
		return false
	}
	mask(acl, bits)
	mask(remote, bits)
	return string(acl) == string(remote)
}

// addrBytes is IPAuthenticationProvider.addr2Bytes: with ipv6 a ':' selects
// the IPv6 parser and a '.' the IPv4 one; without, only IPv4 (as in 3.8).
func addrBytes(s string, ipv6 bool) []byte {
	if !ipv6 {
		return v4Bytes(s)
	}
	switch {
	case strings.Contains(s, ":"):
		return v6Bytes(s)
	case strings.Contains(s, "."):
		return v4Bytes(s)
	}
	return nil
}

func v4Bytes(s string) []byte {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return nil
	}
	b := make([]byte, 4)
	for i, p := range parts {
		v, ok := javaParseInt(p, 10)
		if !ok || v < 0 || v > 255 {
			return nil
		}
		b[i] = byte(v)
	}
	return b
}

// v6Bytes parses plain hex groups with at most one "::" (no embedded IPv4, no
// zone), as Apache's parseV6addr does.
func v6Bytes(s string) []byte {
	var head, tail []string
	parts := strings.Split(s, "::")
	switch len(parts) {
	case 1:
		head = strings.Split(parts[0], ":")
		if len(head) != 8 {
			return nil
		}
	case 2:
		if parts[0] != "" {
			head = strings.Split(parts[0], ":")
		}
		if parts[1] != "" {
			tail = strings.Split(parts[1], ":")
		}
		if len(head)+len(tail) >= 8 {
			return nil
		}
	default:
		return nil
	}
	b := make([]byte, 16)
	if !v6Groups(b[:2*len(head)], head) || !v6Groups(b[16-2*len(tail):], tail) {
		return nil
	}
	return b
}

func v6Groups(dst []byte, groups []string) bool {
	for i, g := range groups {
		if g == "" || len(g) > 4 {
			return false
		}
		v, ok := javaParseInt(g, 16)
		if !ok {
			return false
		}
		dst[2*i], dst[2*i+1] = byte(v>>8), byte(v)
	}
	return true
}

// mask keeps the first bits bits of b.
func mask(b []byte, bits int) {
	start := bits / 8
	m := ^byte((1 << (8 - bits%8)) - 1)
	for ; start < len(b); start++ {
		b[start] &= m
		m = 0
	}
}

// IPID returns the ("ip", address) id every connection carries, with the
// address written as Java's InetAddress.getHostAddress does: dotted IPv4
// (IPv4-mapped addresses included) or eight uncompressed hex groups.
func IPID(remoteAddr net.Addr) jute.Id {
	return jute.Id{Scheme: "ip", ID: javanet.RemoteAddressText(remoteAddr)}
}
