package broker

import (
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
)

// TestDelegationTokensSSL: on an SSL listener a client with a certificate may create tokens (owned by its
// certificate's principal); one without (User:ANONYMOUS, one-way TLS) gets DELEGATION_TOKEN_REQUEST_NOT_ALLOWED.
func TestDelegationTokensSSL(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zkafka test CA")
	server := ca.Issue(pkix.Name{CommonName: "broker-0"}, "127.0.0.1", "localhost")
	alice := ca.Issue(pkix.Name{CommonName: "alice"})
	b := c.start(fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:0", c.port), dtMasterKey,
		"ssl.keystore.type=PKCS12", "ssl.keystore.location="+server.WritePKCS12(dir, "broker.p12", "store-pw"),
		"ssl.keystore.password=store-pw",
		"ssl.truststore.location="+ca.WriteTrustJKS(dir, "trust.jks", "trust-pw"), "ssl.truststore.password=trust-pw",
		"listener.name.ssl.ssl.client.auth=requested")
	addr := b.Addr("SSL").String()
	ctx := ctxT(t)
	tok, err := kadm.NewClient(tlsClient(t, addr, ca, alice)).CreateDelegationToken(ctx, kadm.CreateDelegationToken{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Owner != (kadm.Principal{Type: "User", Name: "CN=alice"}) {
		t.Fatalf("owner %+v", tok.Owner)
	}
	anon := kadm.NewClient(tlsClient(t, addr, ca, nil))
	if _, err := anon.CreateDelegationToken(ctx, kadm.CreateDelegationToken{}); !errors.Is(err, kerr.DelegationTokenRequestNotAllowed) {
		t.Fatalf("anonymous TLS: %v", err)
	}
}
