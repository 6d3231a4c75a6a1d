// Package jsse turns the names Java's TLS (JSSE) settings use into Go's: protocol names (TLSv1.2), standard cipher
// suite names, and a certificate subject as X500Principal.getName() writes it. Kafka's ssl.* keys and ZooKeeper's
// zookeeper.ssl.* properties name the same things.
package jsse

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

var protocolVersions = map[string]uint16{
	"TLSv1": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11, "TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13,
}

// Versions turns a list of enabled protocols into the range Go's TLS takes (0, 0 for an empty list: Go's defaults,
// TLS 1.2 and 1.3). A list with a gap (TLSv1.1,TLSv1.3) enables the versions between too.
func Versions(enabled []string) (lo, hi uint16, err error) {
	for _, p := range enabled {
		v, ok := protocolVersions[p]
		if !ok {
			return 0, 0, fmt.Errorf("unsupported protocol %q (TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)", p)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	return lo, hi, nil
}

// CipherSuites turns standard (IANA) cipher suite names, as Java spells them, into Go's ids (nil for an empty list:
// Go's defaults). TLS 1.3's suites are not configurable in Go: naming them is accepted and changes nothing (TLS 1.3
// uses all three, whatever the list).
func CipherSuites(names []string) ([]uint16, error) {
	if len(names) == 0 {
		return nil, nil
	}
	known := map[string]uint16{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[cs.Name] = cs.ID
	}
	var ids []uint16
	for _, n := range names {
		id, ok := known[n]
		if !ok {
			if strings.HasPrefix(n, "TLS_AES_") || strings.HasPrefix(n, "TLS_CHACHA20_") {
				continue // a TLS 1.3 suite
			}
			return nil, fmt.Errorf("unsupported cipher suite %s", n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Supported keeps the names of cipher suites Go implements, in order (a default list whose other entries Java has).
func Supported(names []string) []string {
	var out []string
	for _, n := range names {
		if _, err := CipherSuites([]string{n}); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// PrincipalName is a certificate's subject as Java's X500Principal.getName() writes it (RFC 2253: the
// certificate's own attribute order, most specific first): the principal Kafka's default builder makes of a
// client certificate, and the id ZooKeeper's x509 provider gives it.
func PrincipalName(cert *x509.Certificate) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil || len(rest) > 0 {
		return cert.Subject.String()
	}
	return rdns.String()
}
