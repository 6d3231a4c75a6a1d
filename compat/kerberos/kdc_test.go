package kerberos

import (
	"context"
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
