package jsse

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
)

func TestPrincipalName(t *testing.T) {
	id := keystoretest.NewCA(t, "ca").Issue(pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"},
		Organization: []string{"zkafka, inc"}, Country: []string{"DE"}})
	// Java's X500Principal.getName() of this subject (RFC 2253).
	if got, want := PrincipalName(id.Cert), `CN=alice,OU=eng,O=zkafka\, inc,C=DE`; got != want {
		t.Errorf("principal %q, want %q", got, want)
	}
}

func TestVersionsAndSuites(t *testing.T) {
	lo, hi, err := Versions([]string{"TLSv1.3", "TLSv1.1"})
	if err != nil || lo != tls.VersionTLS11 || hi != tls.VersionTLS13 {
		t.Errorf("versions %x-%x, %v", lo, hi, err)
	}
	if _, _, err := Versions([]string{"SSLv3"}); err == nil || !strings.Contains(err.Error(), `"SSLv3"`) {
		t.Errorf("SSLv3: %v", err)
	}
	ids, err := CipherSuites([]string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"})
	if err != nil || len(ids) == 0 || ids[0] != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("suites %x, %v", ids, err)
	}
	if _, err := CipherSuites([]string{"TLS_NOPE"}); err == nil {
		t.Error("an unknown suite is accepted")
	}
}
