package admin

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"testing"
)

// The names a certificate answers to in the SNI host check, as Jetty's X509 reads them: DNS alternative names (a
// "*." one covering a single label, any case), the common name only when there are none, IP alternative names.
func TestCertNames(t *testing.T) {
	withSANs := newCertNames(&x509.Certificate{Subject: pkix.Name{CommonName: "cn.example"},
		DNSNames: []string{"Zk.Example", "*.wild.example"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}})
	cnOnly := newCertNames(&x509.Certificate{Subject: pkix.Name{CommonName: "cn.example"},
		IPAddresses: []net.IP{net.ParseIP("::1")}})
	for _, c := range []struct {
		names certNames
		host  string
		want  bool
	}{
		{withSANs, "zk.example", true}, {withSANs, "ZK.EXAMPLE", true}, {withSANs, "cn.example", false},
		{withSANs, "a.wild.example", true}, {withSANs, "a.b.wild.example", false}, {withSANs, "wild.example", false},
		{withSANs, "127.0.0.1", true}, {withSANs, "127.0.0.2", false},
		{cnOnly, "cn.example", true}, {cnOnly, "::1", true}, {cnOnly, "zk.example", false},
	} {
		if got := c.names.matches(c.host); got != c.want {
			t.Errorf("%+v matches %q: %v, want %v", c.names, c.host, got, c.want)
		}
	}
}
