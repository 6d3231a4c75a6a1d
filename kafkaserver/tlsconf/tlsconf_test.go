package tlsconf

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"net"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/compat/serverprops"
)

func settings(extra func(*serverprops.SSLSettings)) serverprops.SSLSettings {
	s := serverprops.SSLSettings{Protocol: "TLSv1.3", EnabledProtocols: []string{"TLSv1.2", "TLSv1.3"},
		KeystoreType: "JKS", TruststoreType: "JKS", ClientAuth: "none", EndpointIdentification: "https"}
	if extra != nil {
		extra(&s)
	}
	return s
}

func TestSettings(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "ca")
	id := ca.Issue(pkix.Name{CommonName: "broker"}, "127.0.0.1")
	ks := id.WriteJKS(dir, "k.jks", "pw", "pw")

	cfg, err := Server(settings(func(s *serverprops.SSLSettings) {
		s.KeystoreLocation, s.KeystorePassword = ks, "pw"
		s.TruststoreType, s.TruststoreCertificates = "PEM", string(ca.CertPEM())
		s.ClientAuth = "required"
		s.EnabledProtocols = []string{"TLSv1.2"}
		s.CipherSuites = []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil || cfg.MinVersion != tls.VersionTLS12 ||
		cfg.MaxVersion != tls.VersionTLS12 || len(cfg.CipherSuites) != 2 || len(cfg.Certificates) != 1 {
		t.Errorf("server config: client auth %v, versions %x-%x, suites %x", cfg.ClientAuth, cfg.MinVersion,
			cfg.MaxVersion, cfg.CipherSuites)
	}
	for _, x := range []struct {
		set  func(*serverprops.SSLSettings)
		want string
	}{
		{nil, "no key store"},
		{func(s *serverprops.SSLSettings) { s.KeystoreLocation, s.KeystorePassword = ks, "bad" }, "password was incorrect"},
		{func(s *serverprops.SSLSettings) {
			s.KeystoreLocation, s.KeystorePassword, s.EnabledProtocols = ks, "pw", []string{"SSLv3"}
		}, `unsupported protocol "SSLv3"`},
		{func(s *serverprops.SSLSettings) {
			s.KeystoreLocation, s.KeystorePassword, s.CipherSuites = ks, "pw", []string{"TLS_NOPE"}
		}, "unsupported cipher suite TLS_NOPE"},
		{func(s *serverprops.SSLSettings) { s.KeystoreKey = string(id.KeyPEM()) }, "need ssl.keystore.type=PEM"},
	} {
		if _, err := Server(settings(x.set)); err == nil || !strings.Contains(err.Error(), x.want) {
			t.Errorf("got %v, want %q", err, x.want)
		}
	}
	pemRules(t, dir, id)
	if _, err := Client(settings(func(s *serverprops.SSLSettings) { s.EndpointIdentification = "ldaps" })); err == nil {
		t.Error("unknown endpoint identification accepted")
	}
}

// A client with endpoint identification checks the host name, without it only the chain; both refuse a server
// their trust store does not vouch for.
func TestClientVerification(t *testing.T) {
	ca := keystoretest.NewCA(t, "ca")
	wrongHost := ca.Issue(pkix.Name{CommonName: "broker"}, "other.example")
	serve := func(id *keystoretest.Identity) string {
		cfg, err := Server(settings(func(s *serverprops.SSLSettings) {
			s.KeystoreType, s.KeystoreKey, s.KeystoreCertificateChain = "PEM", string(id.KeyPEM()), string(id.ChainPEM())
		}))
		if err != nil {
			t.Fatal(err)
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}
		}()
		return ln.Addr().String()
	}
	addr := serve(wrongHost)
	dial := func(endpoint string, trust []byte) error {
		cfg, err := Client(settings(func(s *serverprops.SSLSettings) {
			s.EndpointIdentification, s.TruststoreType, s.TruststoreCertificates = endpoint, "PEM", string(trust)
		}))
		if err != nil {
			t.Fatal(err)
		}
		host, _, _ := net.SplitHostPort(addr)
		cfg.ServerName = host // as franz-go sets it from the address dialled
		c, err := tls.Dial("tcp", addr, cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial("https", ca.CertPEM()); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("host name not checked: %v", err)
	}
	if err := dial("", ca.CertPEM()); err != nil {
		t.Errorf("without endpoint identification: %v", err)
	}
	if err := dial("", keystoretest.NewCA(t, "other").CertPEM()); err == nil {
		t.Error("an untrusted chain accepted")
	}
}

// pemRules checks Kafka 2.8's rules for PEM key stores: ssl.key.password decrypts an encrypted key, inline or in a
// file; a file needs it; neither form takes ssl.keystore.password; a plain key refuses a password. ZooKeeper's
// client reads a PEM key store with its store password instead.
func pemRules(t *testing.T, dir string, id *keystoretest.Identity) {
	t.Helper()
	encFile := id.WriteEncryptedPEM(dir, "enc.pem", "key-pw")
	plainFile := id.WritePEM(dir, "plain.pem")
	inline := func(key []byte, keyPass string) func(*serverprops.SSLSettings) {
		return func(s *serverprops.SSLSettings) {
			s.KeystoreType, s.KeystoreKey, s.KeystoreCertificateChain = "PEM", string(key), string(id.ChainPEM())
			s.KeyPassword = keyPass
		}
	}
	file := func(path, storePass, keyPass string) func(*serverprops.SSLSettings) {
		return func(s *serverprops.SSLSettings) {
			s.KeystoreType, s.KeystoreLocation, s.KeystorePassword, s.KeyPassword = "PEM", path, storePass, keyPass
		}
	}
	for name, set := range map[string]func(*serverprops.SSLSettings){
		"inline encrypted": inline(id.EncryptedKeyPEM("key-pw"), "key-pw"),
		"inline plain":     inline(id.KeyPEM(), ""),
		"file encrypted":   file(encFile, "", "key-pw"),
	} {
		cfg, err := Server(settings(set))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !cfg.Certificates[0].Leaf.Equal(id.Cert) {
			t.Errorf("%s: another certificate", name)
		}
	}
	for _, x := range []struct {
		set  func(*serverprops.SSLSettings)
		want string
	}{
		{inline(id.EncryptedKeyPEM("key-pw"), ""), "encrypted and no password"},
		{inline(id.EncryptedKeyPEM("key-pw"), "nope"), "does not decrypt"},
		{inline(id.KeyPEM(), "key-pw"), "not encrypted"},
		{func(s *serverprops.SSLSettings) {
			inline(id.EncryptedKeyPEM("key-pw"), "key-pw")(s)
			s.KeystorePassword = "store-pw"
		}, "takes no ssl.keystore.password"},
		{func(s *serverprops.SSLSettings) {
			inline(id.KeyPEM(), "")(s)
			s.KeystoreCertificateChain = ""
		}, "not ssl.keystore.certificate.chain"},
		{func(s *serverprops.SSLSettings) {
			inline(id.KeyPEM(), "")(s)
			s.KeystoreLocation = plainFile
		}, "both set"},
		{file(plainFile, "", ""), "needs ssl.key.password"},
		{file(encFile, "", ""), "needs ssl.key.password"},
		{file(plainFile, "", "key-pw"), "not encrypted"},
		{file(encFile, "key-pw", "key-pw"), "takes no ssl.keystore.password"},
	} {
		if _, err := Server(settings(x.set)); err == nil || !strings.Contains(err.Error(), x.want) {
			t.Errorf("got %v, want %q", err, x.want)
		}
		if _, err := Client(settings(x.set)); err == nil || !strings.Contains(err.Error(), x.want) {
			t.Errorf("client: got %v, want %q", err, x.want)
		}
	}

	zk := func(path, storePass string) serverprops.ZkClientTLS {
		return serverprops.ZkClientTLS{CnxnSocket: serverprops.NettyCnxnSocket, SSL: settings(func(s *serverprops.SSLSettings) {
			s.KeystoreType, s.KeystoreLocation, s.KeystorePassword = "", path, storePass
		})}
	}
	if _, err := ZooKeeper(zk(encFile, "key-pw")); err != nil {
		t.Errorf("ZooKeeper client, encrypted PEM key store: %v", err)
	}
	if _, err := ZooKeeper(zk(plainFile, "")); err != nil {
		t.Errorf("ZooKeeper client, plain PEM key store: %v", err)
	}
	for _, z := range []serverprops.ZkClientTLS{zk(encFile, ""), zk(plainFile, "key-pw"), zk(encFile, "nope")} {
		if _, err := ZooKeeper(z); err == nil {
			t.Errorf("ZooKeeper client: PEM key store %s with password %q read", z.SSL.KeystoreLocation, z.SSL.KeystorePassword)
		}
	}
}
