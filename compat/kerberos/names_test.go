package kerberos

import (
	"context"
	"testing"

	"github.com/zkafka/zkafka/compat/javanet"
)

// testResolver: zk is zk.b.test; alias's address is named other.test; spoof's reverse name does not confirm.
var testResolver = javanet.Hosts{
	Addrs: map[string][]string{
		"zk":         {"127.0.0.9"},
		"zk.b.test":  {"127.0.0.9"},
		"alias":      {"127.0.0.10"},
		"other.test": {"127.0.0.10"},
		"spoof":      {"127.0.0.11"},
		"spoof.test": {"127.0.0.12"},
	},
	Names: map[string][]string{
		"127.0.0.9":  {"zk.b.test."},
		"127.0.0.10": {"other.test."},
		"127.0.0.11": {"spoof.test."},
	},
}

// TestServiceHostName follows JDK 17's PrincipalName (measured with KerberosPrincipal(KRB_NT_SRV_HST) and the
// same names in a jdk.net.hosts.file): the canonical name only when it extends the host.
func TestServiceHostName(t *testing.T) {
	on, err := ParseConfig("[libdefaults]\n default_realm = A.TEST\n")
	if err != nil {
		t.Fatal(err)
	}
	off, err := ParseConfig("[libdefaults]\n default_realm = A.TEST\n dns_canonicalize_hostname = false\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host  string
		canon bool
		want  string
	}{
		{"zk", true, "zk.b.test"},
		{"ZK", true, "zk.b.test"},
		{"zk.", true, "zk"}, // "zk.b.test" does not start with "zk.."; the dot goes
		{"zk.b.test", true, "zk.b.test"},
		{"alias", true, "alias"}, // other.test does not extend it
		{"spoof", true, "spoof"},
		{"unknown", true, "unknown"},
		{"127.0.0.9", true, "127.0.0.9"},
		{"zk", false, "zk"},
		{"ZK.", false, "zk."},
	} {
		conf := on
		if !tc.canon {
			conf = off
		}
		if got := ServiceHostName(context.Background(), testResolver, conf, tc.host); got != tc.want {
			t.Errorf("ServiceHostName(%q, canonicalize %v) = %q, want %q", tc.host, tc.canon, got, tc.want)
		}
	}
}
