package kerberos

import (
	"context"
	"net"
	"strings"

	"github.com/jcmturner/gokrb5/v8/config"
)

// Resolver looks names and addresses up; *net.Resolver is one (tests inject their own).
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
// address's name in reverse, kept only when the name's own addresses include it (the JDK's guard against a
// spoofed reverse entry); otherwise the address itself.
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

// ServiceHostName is the host of a host-based service name (service@host, KRB_NT_SRV_HST) as the JDK's
// PrincipalName makes it: unless krb5.conf's dns_canonicalize_hostname is false, the host's first address's
// canonical name replaces it when it extends it ("zk" to "zk.example.com", not "zk" to "other.example.com"; an
// unknown host stays), and a trailing dot goes; then the whole is lower-cased.
func ServiceHostName(ctx context.Context, r Resolver, conf *config.Config, host string) string {
	if conf.LibDefaults.DNSCanonicalizeHostname {
		if ip := firstAddress(ctx, OrDefault(r), host); ip != nil {
			canon := CanonicalHostName(ctx, r, ip)
			if strings.HasPrefix(strings.ToLower(canon), strings.ToLower(host)+".") {
				host = canon
			}
		}
		host = strings.TrimSuffix(host, ".")
	}
	return strings.ToLower(host)
}

// firstAddress is InetAddress.getByName: an address literal as it is, else the name's first address; nil when
// the name does not resolve.
func firstAddress(ctx context.Context, r Resolver, host string) net.IP {
	if ip := net.ParseIP(host); ip != nil {
		return ip
	}
	addrs, err := r.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return nil
	}
	return addrs[0].IP
}
