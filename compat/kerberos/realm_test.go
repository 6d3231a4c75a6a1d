package kerberos

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/config"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
)

// TestServiceRealm checks the realm of a host-based service against what the JDK's PrincipalName picks.
func TestServiceRealm(t *testing.T) {
	conf, err := ParseConfig(`[libdefaults]
 default_realm = A.TEST
[domain_realm]
 zk.exact.test = EXACT.TEST
 .dot.test = DOT.TEST
 plain.test = PLAIN.TEST
 .deep.plain.test = DEEP.TEST
`)
	if err != nil {
		t.Fatal(err)
	}
	checkRealms(t, conf, map[string]string{
		"zk.exact.test":       "EXACT.TEST",
		"zk.dot.test":         "DOT.TEST",
		"dot.test":            "A.TEST", // ".dot.test" names only its subdomains
		"zk.plain.test":       "PLAIN.TEST",
		"a.b.plain.test":      "PLAIN.TEST",
		"zk.deep.plain.test":  "DEEP.TEST", // the longest domain first
		"plain.test":          "PLAIN.TEST",
		"other.test":          "A.TEST",
		"localhost":           "A.TEST",
		"zk.exact.test.other": "A.TEST",
	})
}

// TestStartSASLCrossRealm logs bob@A.TEST in to zookeeper/zk.b.test@B.TEST through A.TEST's KDC and its
// cross-realm key, with the service realm named as the JDK names it: by [domain_realm] (also a "domain" entry
// gokrb5 alone ignores), else by the default realm even when it is not the client's.
func TestStartSASLCrossRealm(t *testing.T) {
	kdc := kdctest.StartRealms(t, "A.TEST", "B.TEST")
	skt := kdc.AddService(t, "zookeeper/zk.b.test@B.TEST")
	ckt := kdc.AddService(t, "bob@A.TEST")
	mods, err := jaas.ParseConfig(`com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="` +
		skt + `" principal="zookeeper/zk.b.test@B.TEST";`)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := FromJAAS(mods[0], map[string]string{"java.security.krb5.conf": kdc.Krb5Conf})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := srv.Acceptor()
	if err != nil {
		t.Fatal(err)
	}
	cmods, err := jaas.ParseConfig(`com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="` +
		ckt + `" principal="bob@A.TEST";`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, defaultRealm string
		mapping            map[string]string
		host               string
		canon              bool // dns_canonicalize_hostname on (kdctest writes it off)
		ok                 bool
	}{
		{"exact", "A.TEST", map[string]string{"zk.b.test": "B.TEST"}, "zk.b.test", false, true},
		{"domain", "A.TEST", map[string]string{"b.test": "B.TEST"}, "zk.b.test", false, true},
		{"default realm", "B.TEST", nil, "zk.b.test", false, true},
		{"upper case host", "A.TEST", map[string]string{"zk.b.test": "B.TEST"}, "ZK.B.Test", false, true},
		{"client's realm", "A.TEST", nil, "zk.b.test", false, false},
		{"upper case key", "A.TEST", map[string]string{"ZK.B.TEST": "B.TEST"}, "zk.b.test", false, false},
		// zk's canonical name zk.b.test extends it: the JDK names zookeeper/zk.b.test, in B.TEST by its domain.
		{"canonical name", "A.TEST", map[string]string{"b.test": "B.TEST"}, "zk", true, true},
		{"not canonicalized", "A.TEST", map[string]string{"b.test": "B.TEST"}, "zk", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := kdc.ClientConf(t, tc.name+".conf", tc.defaultRealm, tc.mapping)
			if tc.canon {
				canonicalizeOn(t, conf)
			}
			cl, err := FromJAAS(cmods[0], map[string]string{"java.security.krb5.conf": conf})
			if err != nil {
				t.Fatal(err)
			}
			kc, err := cl.Client()
			if err != nil {
				t.Fatal(err)
			}
			sc, first, err := StartSASL(context.Background(), testResolver, kc, "zookeeper", tc.host, "")
			if !tc.ok {
				if err == nil {
					t.Error("a ticket for zookeeper/zk.b.test in the client's realm")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ss, _, err := exchange(t, acc, sc, first)
			if err != nil {
				t.Fatal(err)
			}
			if ss.Peer() != "bob@A.TEST" {
				t.Errorf("peer %q, want bob@A.TEST", ss.Peer())
			}
		})
	}
}

// canonicalizeOn turns dns_canonicalize_hostname on in the krb5.conf at path.
func canonicalizeOn(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "dns_canonicalize_hostname = false", "dns_canonicalize_hostname = true", 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkRealms checks ServiceRealm of each host against its wanted realm.
func checkRealms(t *testing.T, conf *config.Config, want map[string]string) {
	t.Helper()
	for host, realm := range want {
		if got := ServiceRealm(conf, host); got != realm {
			t.Errorf("ServiceRealm(%q) = %q, want %q", host, got, realm)
		}
	}
}
