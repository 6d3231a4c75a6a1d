package zkserver

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/compat/zoocfg"
)

func TestSecureFromZooCfg(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "ca")
	ks := ca.Issue(pkix.Name{CommonName: "zk"}, "127.0.0.1").WritePKCS12(dir, "server.p12", "pw")
	base := map[string]string{
		"zookeeper.serverCnxnFactory":       zoocfg.NettyFactory,
		"zookeeper.ssl.keyStore.location":   ks,
		"zookeeper.ssl.keyStore.password":   "pw",
		"zookeeper.ssl.trustStore.location": ca.WriteTrustPEM(dir, "trust.pem"),
		"zookeeper.authProvider.x509":       zoocfg.X509ProviderClass,
	}
	cfg := func(change map[string]string) *zoocfg.Config {
		zc := &zoocfg.Config{SecureClientPort: 2281, Props: map[string]string{}}
		for k, v := range base {
			zc.Props[k] = v
		}
		for k, v := range change {
			if v == "" {
				delete(zc.Props, k)
			} else {
				zc.Props[k] = v
			}
		}
		return zc
	}
	sc, err := SecureFromZooCfg(cfg(nil))
	if err != nil {
		t.Fatal(err)
	}
	pemID := ca.Issue(pkix.Name{CommonName: "zk"}, "127.0.0.1")
	encPEM, plainPEM := pemID.WriteEncryptedPEM(dir, "enc.pem", "pem-pw"), pemID.WritePEM(dir, "plain.pem")
	pwFile := filepath.Join(dir, "pw.txt")
	if err := os.WriteFile(pwFile, []byte("pem-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, change := range []map[string]string{
		{"zookeeper.ssl.keyStore.location": encPEM, "zookeeper.ssl.keyStore.password": "pem-pw"},
		{"zookeeper.ssl.keyStore.location": encPEM, "zookeeper.ssl.keyStore.password": "",
			"zookeeper.ssl.keyStore.passwordPath": pwFile},
		{"zookeeper.ssl.keyStore.location": plainPEM, "zookeeper.ssl.keyStore.password": ""},
	} {
		if sc, err := SecureFromZooCfg(cfg(change)); err != nil || !sc.TLS.Certificates[0].Leaf.Equal(pemID.Cert) {
			t.Errorf("PEM key store %v: %v", change, err)
		}
	}
	// X509Util's defaults: need a client certificate, TLSv1.2 only; the store types from the file names.
	if sc.Addr != ":2281" || sc.TLS.ClientAuth != tls.RequireAndVerifyClientCert || sc.TLS.MinVersion != tls.VersionTLS12 ||
		sc.TLS.MaxVersion != tls.VersionTLS12 || sc.TLS.ClientCAs == nil || len(sc.TLS.CipherSuites) == 0 {
		t.Errorf("secure config %+v", sc)
	}
	sc, err = SecureFromZooCfg(cfg(map[string]string{"zookeeper.ssl.clientAuth": "WANT",
		"zookeeper.ssl.enabledProtocols": "TLSv1.2,TLSv1.3"}))
	if err != nil || sc.TLS.ClientAuth != tls.VerifyClientCertIfGiven || sc.TLS.MaxVersion != tls.VersionTLS13 {
		t.Errorf("want, 1.2-1.3: %+v %v", sc, err)
	}
	for _, x := range []struct {
		change map[string]string
		want   string
	}{
		{map[string]string{"zookeeper.serverCnxnFactory": ""}, "SSL isn't supported in NIOServerCnxn"},
		{map[string]string{"zookeeper.ssl.keyStore.location": ""}, "needs a key store"},
		{map[string]string{"zookeeper.ssl.keyStore.password": "bad"}, "key store"},
		{map[string]string{"zookeeper.ssl.clientAuth": "sometimes"}, "ClientAuth.SOMETIMES"},
		{map[string]string{"zookeeper.ssl.trustStore.location": dir + "/trust.txt"}, "auto-detect"},
		{map[string]string{"zookeeper.ssl.authProvider": "custom", "zookeeper.authProvider.custom": "com.example.P"},
			"only org.apache.zookeeper.server.auth.X509AuthenticationProvider"},
		{map[string]string{"zookeeper.ssl.ciphersuites": "TLS_NOPE"}, "ssl.ciphersuites"},
		// A PEM key store: the key store password decrypts its key, which must be encrypted when one is given.
		{map[string]string{"zookeeper.ssl.keyStore.location": encPEM, "zookeeper.ssl.keyStore.password": ""},
			"encrypted and no password"},
		{map[string]string{"zookeeper.ssl.keyStore.location": encPEM, "zookeeper.ssl.keyStore.password": "nope"},
			"does not decrypt"},
		{map[string]string{"zookeeper.ssl.keyStore.location": plainPEM}, "not encrypted"},
	} {
		if _, err := SecureFromZooCfg(cfg(x.change)); err == nil || !strings.Contains(err.Error(), x.want) {
			t.Errorf("%v: got %v, want %q", x.change, err, x.want)
		}
	}
	if sc, err := SecureFromZooCfg(&zoocfg.Config{}); sc != nil || err != nil {
		t.Errorf("no secure port: %+v %v", sc, err)
	}
	// client.portUnification: TLS on the client port, no secure port; ignored by the NIO factory.
	unified := cfg(map[string]string{"zookeeper.client.portUnification": "TRUE"})
	unified.SecureClientPort = 0
	if sc, err := SecureFromZooCfg(unified); err != nil || sc == nil || !sc.Unified || sc.Addr != "" || sc.TLS == nil {
		t.Errorf("unified: %+v %v", sc, err)
	}
	delete(unified.Props, "zookeeper.serverCnxnFactory")
	if sc, err := SecureFromZooCfg(unified); sc != nil || err != nil {
		t.Errorf("unified with NIO: %+v %v", sc, err)
	}
}

// The ids of a certificate, as X509AuthenticationProvider gives them; without a trust store it fails them all.
func TestCertIDs(t *testing.T) {
	id := keystoretest.NewCA(t, "ca").Issue(pkix.Name{CommonName: "admin", OrganizationalUnit: []string{"ops"}})
	sc := &SecureConfig{SuperUser: "CN=admin,OU=ops"}
	ids, err := sc.certIDs([]*x509.Certificate{id.Cert})
	if err != nil || len(ids) != 2 || ids[0].Scheme != "super" || ids[1].Scheme != "x509" || ids[1].ID != "CN=admin,OU=ops" {
		t.Errorf("ids %v, %v", ids, err)
	}
	sc = &SecureConfig{noTrustStore: true}
	if _, err := sc.certIDs([]*x509.Certificate{id.Cert}); err == nil {
		t.Error("a certificate authenticated without a trust store")
	}
}
