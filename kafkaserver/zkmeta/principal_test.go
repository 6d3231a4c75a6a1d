package zkmeta

import (
	"context"
	"testing"

	"github.com/zkafka/zkafka/compat/javanet"
)

var testResolver = javanet.Hosts{
	Addrs: map[string][]string{
		"zk": {"127.0.0.9"}, "zk.b.test": {"127.0.0.9"},
		"alias": {"127.0.0.10"}, "other.test": {"127.0.0.10"},
		"spoof": {"127.0.0.11"}, "spoof.test": {"127.0.0.12"},
	},
	Names: map[string][]string{
		"127.0.0.9": {"zk.b.test."}, "127.0.0.10": {"other.test."}, "127.0.0.11": {"spoof.test."},
	},
}

// TestServerPrincipalCanonicalize follows ZooKeeper 3.8's SaslServerPrincipal under JDK 17 (measured by calling
// it with an InetSocketAddress made as StaticHostProvider makes it, names from a jdk.net.hosts.file): the
// address's canonical name unless zookeeper.sasl.client.canonicalize.hostname is other than "true", without the
// JDK's check that it extends the host (alias to other.test); else the connect string's name, and for an
// address in the connect string its name looked up in reverse.
func TestServerPrincipalCanonicalize(t *testing.T) {
	const key = "zookeeper.sasl.client.canonicalize.hostname"
	for _, tc := range []struct {
		address, name string
		jvm           map[string]string
		service, host string
	}{
		{"127.0.0.9:2181", "zk", nil, "zookeeper", "zk.b.test"},
		{"127.0.0.9:2181", "zk", map[string]string{key: "TRUE"}, "zookeeper", "zk.b.test"},
		{"127.0.0.9:2181", "zk", map[string]string{key: "false"}, "zookeeper", "zk"},
		{"127.0.0.9:2181", "zk", map[string]string{key: "yes"}, "zookeeper", "zk"},
		{"127.0.0.9:2181", "", map[string]string{key: "false"}, "zookeeper", "zk.b.test"},
		{"127.0.0.10:2181", "alias", nil, "zookeeper", "other.test"},
		{"127.0.0.10:2181", "alias", map[string]string{key: "false"}, "zookeeper", "alias"},
		{"127.0.0.11:2181", "spoof", nil, "zookeeper", "spoof"}, // the reverse name does not confirm
		{"127.0.0.11:2181", "", nil, "zookeeper", "127.0.0.11"},
		{"127.0.0.20:2181", "", nil, "zookeeper", "127.0.0.20"},
		{"[::1]:2181", "", nil, "zookeeper", "0:0:0:0:0:0:0:1"}, // as Java writes the address
		{"[::1]:2181", "v6", nil, "zookeeper", "v6"},            // no name for the address: the connect string's
		{"127.0.0.9:2181", "zk", map[string]string{"zookeeper.sasl.client.username": "zk2"}, "zk2", "zk.b.test"},
		{"127.0.0.9:2181", "zk", map[string]string{"zookeeper.server.principal": "svc/Given@B.TEST"}, "svc", "Given"},
	} {
		service, host, err := ServerPrincipal(context.Background(), testResolver, tc.address, tc.name, tc.jvm)
		if err != nil {
			t.Fatal(err)
		}
		if service != tc.service || host != tc.host {
			t.Errorf("%s (%q) %v: %s/%s, want %s/%s", tc.address, tc.name, tc.jvm, service, host, tc.service, tc.host)
		}
	}
}

// TestHostProviderNames: the connect string's names resolve through the resolver and each address keeps its
// name; an address written as such has none.
func TestHostProviderNames(t *testing.T) {
	hp := &hostProvider{r: testResolver}
	if err := hp.Init([]string{"zk:2181", "127.0.0.20:2182"}); err != nil {
		t.Fatal(err)
	}
	if hp.Len() != 2 {
		t.Fatalf("%d addresses, want 2", hp.Len())
	}
	seen := map[string]string{}
	for i := 0; i < hp.Len(); i++ {
		s, _ := hp.Next()
		seen[s] = hp.name(s)
	}
	if n, ok := seen["127.0.0.9:2181"]; !ok || n != "zk" {
		t.Errorf("127.0.0.9:2181 named %q (listed %v), want zk", n, ok)
	}
	if n, ok := seen["127.0.0.20:2182"]; !ok || n != "" {
		t.Errorf("127.0.0.20:2182 named %q (listed %v), want none", n, ok)
	}
	if err := hp.Init([]string{"unknown:2181"}); err == nil {
		t.Error("an unknown name resolved")
	}
}
