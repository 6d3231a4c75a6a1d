package tlsconf

import (
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/serverprops"
)

// A broker listener on keytool-made JCEKS stores (ssl.keystore.type=JCEKS with its own ssl.key.password,
// ssl.truststore.type=JCEKS) serves TLS to a client trusting it through a JCEKS trust store. The broker's ZooKeeper
// client refuses JCEKS, as ZooKeeper 3.8's KeyStoreFileType has no such constant.
func TestJCEKSStores(t *testing.T) {
	bin, err := exec.LookPath("keytool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("keytool (Java 17) is needed on CI")
		}
		t.Skip("no keytool")
	}
	keytool := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("keytool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	dir := t.TempDir()
	ks, crt, trust := filepath.Join(dir, "k.jceks"), filepath.Join(dir, "k.crt"), filepath.Join(dir, "t.jceks")
	keytool("-genkeypair", "-keystore", ks, "-storetype", "JCEKS", "-storepass", "store-pw", "-keypass", "key-pw",
		"-alias", "broker", "-keyalg", "EC", "-validity", "2", "-dname", "CN=broker", "-ext", "SAN=IP:127.0.0.1")
	keytool("-exportcert", "-rfc", "-keystore", ks, "-storetype", "JCEKS", "-storepass", "store-pw", "-alias",
		"broker", "-file", crt)
	keytool("-importcert", "-noprompt", "-keystore", trust, "-storetype", "JCEKS", "-storepass", "trust-pw",
		"-alias", "ca", "-file", crt)

	srv, err := Server(settings(func(s *serverprops.SSLSettings) {
		s.KeystoreType, s.KeystoreLocation, s.KeystorePassword, s.KeyPassword = "JCEKS", ks, "store-pw", "key-pw"
	}))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Client(settings(func(s *serverprops.SSLSettings) {
		s.TruststoreType, s.TruststoreLocation, s.TruststorePassword = "JCEKS", trust, "trust-pw"
	}))
	if err != nil {
		t.Fatal(err)
	}
	cli.ServerName = "127.0.0.1"
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() {
		c := tls.Server(a, srv)
		done <- c.Handshake()
		c.Close()
	}()
	c := tls.Client(b, cli)
	if err := c.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}

	if _, err := Server(settings(func(s *serverprops.SSLSettings) {
		s.KeystoreType, s.KeystoreLocation, s.KeystorePassword, s.KeyPassword = "JCEKS", ks, "store-pw", "nope"
	})); err == nil || !strings.Contains(err.Error(), "Cannot recover key") {
		t.Errorf("wrong key password: %v", err)
	}
	_, err = ZooKeeper(serverprops.ZkClientTLS{Enabled: true, CnxnSocket: serverprops.NettyCnxnSocket,
		SSL: settings(func(s *serverprops.SSLSettings) {
			s.KeystoreType, s.KeystoreLocation, s.KeystorePassword = "JCEKS", ks, "store-pw"
			s.TruststoreType, s.TruststoreLocation, s.TruststorePassword = "JCEKS", trust, "trust-pw"
		})})
	if err == nil || !strings.Contains(err.Error(), "No enum constant org.apache.zookeeper.common.KeyStoreFileType.JCEKS") {
		t.Errorf("ZooKeeper client with JCEKS: %v", err)
	}
}
