package javaclient

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// TestSASLKerberos runs zkCli.sh with a JAAS Client section (Krb5LoginModule with a keytab, the realm of a real
// MIT KDC through -Djava.security.krb5.conf) against Apache 3.8 and zkserver, both started with a Krb5LoginModule
// Server section for zookeeper/localhost@EXAMPLE.COM, and compares the outputs: sasl ids (whoami) of a user and
// of a host-based principal, sasl ACLs granting and refusing access, "auth" expansion, a ticket for another
// service (zookeeper.sasl.client.username) refused. The client connects to 127.0.0.1: it names the service
// zookeeper/<canonical host name of the address>, localhost here. A second pair removes host and realm from the
// ids, maps a name with zookeeper.security.auth_to_local and makes one principal super user. Then
// zookeeper.allowSaslFailedClients, sessionRequireClientSASLAuth, and servers that cannot authenticate anyone.
func TestSASLKerberos(t *testing.T) {
	harness.EnsureZKServer(t)
	kdc := kdctest.Start(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	module := func(section, principal, keytab, storeKey string) string {
		return fmt.Sprintf(`%s {
    com.sun.security.auth.module.Krb5LoginModule required
    useKeyTab=true
    keyTab="%s"
    storeKey=%s
    useTicketCache=false
    principal="%s";
};
`, section, keytab, storeKey, principal)
	}
	krb5 := "-Djava.security.krb5.conf=" + kdc.Krb5Conf
	serverKeytab := kdc.AddService(t, "zookeeper/localhost")
	serverJaas := write("server_jaas.conf", module("Server", "zookeeper/localhost@EXAMPLE.COM", serverKeytab, "true"))
	kdc.AddService(t, "other/localhost")
	client := func(principal string, flags ...string) []string {
		kt := kdc.AddService(t, principal)
		p := write(filepath.Base(kt)+".jaas", module("Client", principal+"@EXAMPLE.COM", kt, "false"))
		return append([]string{"-Djava.security.auth.login.config=" + p, krb5}, flags...)
	}
	alice, bob, admin := client("alice"), client("bob/client.example"), client("admin")
	props := map[string]string{"authProvider.1": saslProvider}
	serverFlags := []string{"-Djava.security.auth.login.config=" + serverJaas, krb5}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	servers := startPair(ctx, t, [2]harness.Config{{Props: props, JVMFlags: serverFlags}, {Props: props, JVMFlags: serverFlags}})
	addrs := addrsOf(servers)
	for _, sc := range []CliScenario{
		{Name: "krb-alice", JVMFlags: alice, Script: []string{
			"whoami",
			"create /krb data sasl:alice@EXAMPLE.COM:cdrwa",
			"getAcl /krb",
			"get /krb",
			"create /krb/auth x auth::cdr",
			"getAcl /krb/auth",
			"create /krb/bob x sasl:bob/client.example@EXAMPLE.COM:cdrwa",
			"create /open x world:anyone:cdrwa",
			"ls /krb",
		}},
		{Name: "krb-bob", JVMFlags: bob, Script: []string{
			"whoami", "get /krb", "ls /krb", "get /krb/bob", "set /krb other", "get /open",
		}},
		{Name: "krb-none", Script: []string{"whoami", "get /krb", "get /open"}},
		// A ticket for other/localhost: AuthFailed, the connection closed.
		{Name: "krb-other-service", JVMFlags: append(client("carol"), "-Dzookeeper.sasl.client.username=other"),
			Script: []string{"get /open"}},
	} {
		compareCli(ctx, t, servers, addrs, sc)
	}

	// zoo.cfg sets zookeeper.<key> for the keys it does not know: the rules have a space, which SERVER_JVMFLAGS
	// cannot carry.
	props = map[string]string{"authProvider.1": saslProvider,
		"security.auth_to_local": "RULE:[1:$1@$0](admin@EXAMPLE.COM)s/admin@.*/root/ DEFAULT"}
	serverFlags = append(serverFlags, "-Dzookeeper.kerberos.removeHostFromPrincipal=true",
		"-Dzookeeper.kerberos.removeRealmFromPrincipal=true", "-Dzookeeper.superUser=root")
	servers = startPair(ctx, t, [2]harness.Config{{Props: props, JVMFlags: serverFlags}, {Props: props, JVMFlags: serverFlags}})
	addrs = addrsOf(servers)
	for _, sc := range []CliScenario{
		{Name: "krb-short-alice", JVMFlags: alice, Script: []string{
			"whoami", "create /krb data sasl:alice:cdrwa", "getAcl /krb", "create /krb/auth x auth::cdr", "getAcl /krb/auth",
		}},
		{Name: "krb-short-bob", JVMFlags: bob, Script: []string{"whoami", "get /krb"}},
		{Name: "krb-super", JVMFlags: admin, Script: []string{"whoami", "get /krb", "deleteall /krb"}},
	} {
		compareCli(ctx, t, servers, addrs, sc)
	}

	// zookeeper.allowSaslFailedClients keeps the failed client's connection; sessionRequireClientSASLAuth closes a
	// client without SASL at its first request and serves a Kerberos one.
	other := append(client("dave"), "-Dzookeeper.sasl.client.username=other")
	for _, v := range []struct {
		props map[string]string
		flags []string
		scs   []CliScenario
	}{
		{map[string]string{"authProvider.1": saslProvider}, []string{"-Dzookeeper.allowSaslFailedClients=true"},
			[]CliScenario{{Name: "krb-allowed-failure", JVMFlags: other, Script: []string{"whoami", "get /zookeeper"}}}},
		{map[string]string{"authProvider.1": saslProvider, "sessionRequireClientSASLAuth": "true"}, nil, []CliScenario{
			{Name: "krb-required-alice", JVMFlags: alice, Script: []string{"whoami", "create /x y", "ls /"}},
			{Name: "krb-required-other", JVMFlags: other, Script: []string{"ls /"}},
			// One command: what a second one gets races in Apache's client itself (the session's close or the
			// connection's loss, whichever it sees first).
			{Name: "krb-required-none", Script: []string{"ls /"},
				ExitRaces: []string{"WatchedEvent state:Disconnected type:None path:null"}},
		}},
	} {
		cfg := harness.Config{Props: v.props, JVMFlags: append([]string{"-Djava.security.auth.login.config=" + serverJaas,
			krb5}, v.flags...)}
		servers = startPair(ctx, t, [2]harness.Config{cfg, cfg})
		for _, sc := range v.scs {
			compareCli(ctx, t, servers, addrsOf(servers), sc)
		}
	}

	// A principal without '/': Apache's split of it throws and leaves no SASL server, every SASL request answered
	// OK with no token (the client then fails). A login without storeKey=true has no keys: the client's first token
	// fails (AuthFailed, closed).
	for i, jaas := range []string{
		module("Server", "zookeeper@EXAMPLE.COM", kdc.AddService(t, "zookeeper@EXAMPLE.COM"), "true"),
		module("Server", "zookeeper/localhost@EXAMPLE.COM", serverKeytab, "false"),
	} {
		flags := []string{"-Djava.security.auth.login.config=" + write(fmt.Sprintf("noserver_%d.jaas", i), jaas), krb5}
		cfg := harness.Config{Props: map[string]string{"authProvider.1": saslProvider}, JVMFlags: flags}
		servers = startPair(ctx, t, [2]harness.Config{cfg, cfg})
		compareCli(ctx, t, servers, addrsOf(servers), CliScenario{Name: fmt.Sprintf("krb-no-server-%d", i),
			JVMFlags: alice, Script: []string{"whoami", "get /zookeeper"}})
	}
}
