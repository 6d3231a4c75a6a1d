package zoocfg

import (
	"strings"
	"testing"
)

// Store types as ZooKeeper 3.8's KeyStoreFileType reads them: JKS, PEM and PKCS12 by name (any case) or by file
// extension; JCEKS, which Kafka's own listeners take, is no constant there, and a .jceks file is not recognised.
func TestStoreType(t *testing.T) {
	for _, c := range []struct{ value, path, want string }{
		{"jks", "x", "JKS"},
		{"", "/a/b.P12", "PKCS12"},
		{"", "k.pem", "PEM"},
		{"PEM", "k.jks", "PEM"},
	} {
		if got, err := StoreType(c.value, c.path); err != nil || got != c.want {
			t.Errorf("StoreType(%q, %q) = %q, %v; want %q", c.value, c.path, got, err, c.want)
		}
	}
	for _, c := range []struct{ value, path, want string }{
		{"JCEKS", "k.jceks", "No enum constant org.apache.zookeeper.common.KeyStoreFileType.JCEKS"},
		{"", "k.jceks", "Unable to auto-detect store file type from file name: k.jceks"},
		{"bcfks", "k.bcfks", "BCFKS stores are not supported"},
	} {
		if _, err := StoreType(c.value, c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("StoreType(%q, %q): %v, want %q", c.value, c.path, err, c.want)
		}
	}
}
