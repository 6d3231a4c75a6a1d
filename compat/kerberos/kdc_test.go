package kerberos

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
)

// TestWithMITKDC logs a client in at a real MIT KDC with its password and at the service with the ticket it gets,
// the service using the keytab kadmin wrote, as a Kafka broker or ZooKeeper server logged in with
// Krb5LoginModule would.
func TestWithMITKDC(t *testing.T) {
	kdc := kdctest.Start(t)
	kt := kdc.AddService(t, "kafka/localhost")
	kdc.AddUser(t, "alice", "alice-secret")
	props := map[string]string{"java.security.krb5.conf": kdc.Krb5Conf}
	mods, err := jaas.ParseConfig(`com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true ` +
		`keyTab="` + kt + `" principal="kafka/localhost";`)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := FromJAAS(mods[0], props)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Principal != "kafka/localhost@"+kdctest.Realm {
		t.Errorf("principal %q", srv.Principal)
	}
	acc, err := srv.Acceptor()
	if err != nil {
		t.Fatal(err)
	}
	// The service logs in too (an inter-broker client).
	if _, err := srv.Client(); err != nil {
		t.Fatalf("service login: %v", err)
	}

	cmods, err := jaas.ParseConfig(`com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true ` +
		`keyTab="` + kdc.AddService(t, "bob") + `" principal="bob";`)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := FromJAAS(cmods[0], props)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := cl.Client()
	if err != nil {
		t.Fatal(err)
	}
	sc, first, err := StartSASL(context.Background(), nil, kc, "kafka", "localhost", "")
	if err != nil {
		t.Fatal(err)
	}
	ss, _, err := exchange(t, acc, sc, first)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Peer() != "bob@"+kdctest.Realm || ss.AuthzID() != ss.Peer() {
		t.Errorf("peer %q authzid %q (none asked for: the peer)", ss.Peer(), ss.AuthzID())
	}
	if _, _, err := StartSASL(context.Background(), nil, kc, "zookeeper", "localhost", ""); err == nil {
		t.Error("a ticket for an unknown service")
	}

	bad, _ := jaas.ParseConfig(`com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="` + kt +
		`" principal="zookeeper/localhost";`)
	if _, err := FromJAAS(bad[0], props); err == nil {
		t.Error("a principal without keys in the keytab")
	}
}

// TestLoginThroughIncludedir logs a service in at a real MIT KDC whose realm, KDC and default realm a RHEL-style
// krb5.conf names only through `includedir` (its own [libdefaults] and [logging] beside them), as the JDK reads it.
func TestLoginThroughIncludedir(t *testing.T) {
	kdc := kdctest.Start(t)
	kt := kdc.AddService(t, "zookeeper/localhost")
	realm, err := os.ReadFile(kdc.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"krb5.conf": "# RHEL's layout\nincludedir DIR/krb5.conf.d/\n\n[logging]\n default = FILE:/var/log/krb5libs.log\n" +
			"[libdefaults]\n dns_lookup_realm = false\n ticket_lifetime = 24h\n rdns = false\n" +
			" spake_preauth_groups = edwards25519\n dns_canonicalize_hostname = fallback\n qualify_shortname = \"\"\n" +
			" default_ccache_name = KEYRING:persistent:%{uid}\n",
		"krb5.conf.d/crypto-policies": "[libdefaults]\npermitted_enctypes = aes256-cts-hmac-sha1-96 " +
			"aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha1-96 aes128-cts-hmac-sha256-128\n",
		"krb5.conf.d/realm.conf": string(realm),
	})
	mods, err := jaas.ParseConfig(`com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true ` +
		`keyTab="` + kt + `" principal="zookeeper/localhost";`)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := FromJAAS(mods[0], map[string]string{"java.security.krb5.conf": filepath.Join(dir, "krb5.conf")})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Principal != "zookeeper/localhost@"+kdctest.Realm {
		t.Errorf("principal %q: the default realm of the included file not read", srv.Principal)
	}
	if _, err := srv.Client(); err != nil {
		t.Fatalf("login through the included realm's KDC: %v", err)
	}
}
