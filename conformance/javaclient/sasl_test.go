package javaclient

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
)

// saslProvider registers the sasl ACL scheme (zoo.cfg's authProvider.N).
const saslProvider = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"

// TestSASLDigest runs zkCli.sh with a JAAS Client section (DIGEST-MD5) against Apache 3.8 and zkserver started
// with the same JAAS Server section (-Djava.security.auth.login.config through SERVER_JVMFLAGS) and zoo.cfg, and
// compares the outputs: sasl ids (whoami), sasl ACLs granting and refusing access, invalid sasl ids, "auth"
// expansion, the super user of zookeeper.superUser, a wrong password and an unknown user (AuthFailed, connection
// closed), a client without SASL, addauth sasl refused. A second pair requires SASL
// (sessionRequireClientSASLAuth): a client without it is closed at its first request, one with it served.
func TestSASLDigest(t *testing.T) {
	harness.EnsureZKServer(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	serverJaas := write("server_jaas.conf", `Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_bob="bob-secret"
    user_carol="carol-secret"
    user_admin="admin-secret"
    user_bø="pässwörd";
};
`)
	n := 0
	client := func(user, password string) []string {
		n++
		p := write(fmt.Sprintf("client_%d.conf", n), `Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="`+user+`"
    password="`+password+`";
};
`)
		return []string{"-Djava.security.auth.login.config=" + p}
	}
	serverFlags := []string{"-Djava.security.auth.login.config=" + serverJaas, "-Dzookeeper.superUser=admin"}
	props := map[string]string{"authProvider.1": saslProvider}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	servers := startPair(ctx, t, [2]harness.Config{{Props: props, JVMFlags: serverFlags}, {Props: props, JVMFlags: serverFlags}})
	addrs := addrsOf(servers)
	for _, sc := range []CliScenario{
		{Name: "sasl-bob", JVMFlags: client("bob", "bob-secret"), Script: []string{
			"whoami",
			"create /sasl data sasl:bob:cdrwa",
			"getAcl /sasl",
			"get /sasl",
			"create /sasl/bad x sasl:a@b@c:r",
			"create /sasl/realm x sasl:bob/host@EXAMPLE.COM:r",
			"create /sasl/auth x auth::cdr",
			"getAcl /sasl/auth",
			"create /open x world:anyone:cdrwa",
			"ls /sasl",
		}},
		{Name: "sasl-carol", JVMFlags: client("carol", "carol-secret"), Script: []string{
			"whoami", "get /sasl", "ls /sasl", "set /sasl other", "get /open",
		}},
		{Name: "sasl-latin1", JVMFlags: client("bø", "pässwörd"), Script: []string{"whoami", "get /open"}},
		{Name: "sasl-wrong-password", JVMFlags: client("bob", "nope"), Script: []string{"whoami", "get /open"}},
		{Name: "sasl-unknown-user", JVMFlags: client("zed", "zed-secret"), Script: []string{"get /open"}},
		{Name: "sasl-none", Script: []string{"whoami", "get /sasl", "get /open", "addauth sasl bob", "get /open"}},
		{Name: "sasl-admin", JVMFlags: client("admin", "admin-secret"), Script: []string{
			"whoami", "get /sasl", "set /sasl by-admin", "deleteall /sasl", "delete /open",
		}},
	} {
		compareCli(ctx, t, servers, addrs, sc)
	}

	// SASL required: the client without it is closed at its first request.
	required := map[string]string{"authProvider.1": saslProvider, "sessionRequireClientSASLAuth": "true"}
	servers = startPair(ctx, t, [2]harness.Config{{Props: required, JVMFlags: serverFlags}, {Props: required, JVMFlags: serverFlags}})
	addrs = addrsOf(servers)
	for _, sc := range []CliScenario{
		// Closed at its first request, the client reconnects as the script ends: seen with Apache's server and ours,
		// its Disconnected event prints or not before the JVM exits.
		{Name: "required-none", Script: []string{"ls /", "create /x y"},
			ExitRaces: []string{"WatchedEvent state:Disconnected type:None path:null"}},
		{Name: "required-bob", JVMFlags: client("bob", "bob-secret"), Script: []string{"whoami", "create /x y", "ls /"}},
		{Name: "required-wrong", JVMFlags: client("bob", "nope"), Script: []string{"ls /"}},
	} {
		compareCli(ctx, t, servers, addrs, sc)
	}
}
