package peertls

import (
	"crypto/x509"
	"fmt"
	"net"
	"strings"
)

// VerifyHost checks that cert names host (an IP address or a DNS name) as ZKHostnameVerifier does: against the
// subject alternative names of the host's kind (IP addresses, or DNS names with one '*' standing for part of one
// label), and only when the certificate has neither kind, against its subject's most specific common name.
func VerifyHost(host string, cert *x509.Certificate) error {
	if len(cert.DNSNames) > 0 || len(cert.IPAddresses) > 0 {
		if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); ip != nil {
			for _, a := range cert.IPAddresses {
				if a.Equal(ip) {
					return nil
				}
			}
		} else {
			for _, name := range cert.DNSNames {
				if matchIdentity(strings.ToLower(host), strings.ToLower(name)) {
					return nil
				}
			}
		}
		return fmt.Errorf("certificate for <%s> doesn't match any of the subject alternative names: %s", host,
			altNames(cert))
	}
	cn := cert.Subject.CommonName // the last CN of the subject, which RFC 2253 writes first
	if cn == "" {
		return fmt.Errorf("certificate subject for <%s> doesn't contain a common name and does not have "+
			"alternative names", host)
	}
	if !matchIdentity(strings.ToLower(host), strings.ToLower(cn)) {
		return fmt.Errorf("certificate for <%s> doesn't match common name of the certificate subject: %s", host, cn)
	}
	return nil
}

// matchIdentity is RFC 2818's match with one wildcard that must not span a dot.
func matchIdentity(host, identity string) bool {
	prefix, suffix, wild := strings.Cut(identity, "*")
	if !wild {
		return strings.EqualFold(host, identity)
	}
	if len(host) < len(prefix)+len(suffix) || !strings.HasPrefix(host, prefix) || !strings.HasSuffix(host, suffix) {
		return false
	}
	return !strings.Contains(host[len(prefix):len(host)-len(suffix)], ".")
}

func altNames(cert *x509.Certificate) string {
	var names []string
	names = append(names, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	return "[" + strings.Join(names, ", ") + "]"
}
