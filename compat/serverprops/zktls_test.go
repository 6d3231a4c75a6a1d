package serverprops

import (
	"reflect"
	"testing"
)

// TestZkClientTLS: Kafka's zookeeper.ssl.* keys win; a key not given falls back to the ZooKeeper client's system
// property (note the camelCase names, and hostnameVerification's true/false for HTTPS/blank), then to the default.
func TestZkClientTLS(t *testing.T) {
	z := load(t, map[string]string{}).ZkClientTLS(nil)
	if z.Enabled || z.ClientAuthReady() || z.SSL.EndpointIdentification != "HTTPS" ||
		!reflect.DeepEqual(z.SSL.EnabledProtocols, []string{"TLSv1.2"}) {
		t.Fatalf("defaults %+v", z)
	}
	jvm := map[string]string{"zookeeper.client.secure": "true", "zookeeper.clientCnxnSocket": NettyCnxnSocket,
		"zookeeper.ssl.keyStore.location": "/sys/ks.jks", "zookeeper.ssl.keyStore.password": "syspw",
		"zookeeper.ssl.trustStore.location": "/sys/ts.p12", "zookeeper.ssl.hostnameVerification": "false",
		"zookeeper.ssl.ciphersuites": "TLS_A , TLS_B", "zookeeper.ssl.crl": "true"}
	z = load(t, map[string]string{}).ZkClientTLS(jvm)
	if !z.Enabled || !z.ClientAuthReady() || z.SSL.KeystoreLocation != "/sys/ks.jks" || z.SSL.KeystorePassword != "syspw" ||
		z.SSL.TruststoreLocation != "/sys/ts.p12" || z.SSL.EndpointIdentification != "" || !z.CRL ||
		!reflect.DeepEqual(z.SSL.CipherSuites, []string{"TLS_A", "TLS_B"}) {
		t.Fatalf("from system properties %+v", z)
	}
	z = load(t, map[string]string{"zookeeper.ssl.client.enable": "false", "zookeeper.ssl.keystore.location": "/k/ks.jks",
		"zookeeper.ssl.endpoint.identification.algorithm": "https", "zookeeper.ssl.protocol": "TLSv1.3",
		"zookeeper.ssl.crl.enable": "false"}).ZkClientTLS(jvm)
	if z.Enabled || z.SSL.KeystoreLocation != "/k/ks.jks" || z.SSL.EndpointIdentification != "HTTPS" || z.CRL ||
		!reflect.DeepEqual(z.SSL.EnabledProtocols, []string{"TLSv1.3"}) {
		t.Fatalf("given keys %+v", z)
	}
}

// TestAuthorizerZkClientTLS: AclAuthorizer's client is on when authorizer.zookeeper.ssl.client.enable says so, else
// as the broker's; on, it takes the broker's settings with the authorizer.* keys laid over them as ZooKeeper client
// properties (an overlaid protocol is also the only one enabled when no list is given).
func TestAuthorizerZkClientTLS(t *testing.T) {
	z, overlaid, err := load(t, map[string]string{}).AuthorizerZkClientTLS(nil)
	if err != nil || z.Enabled || overlaid {
		t.Fatalf("defaults %+v %v %v", z, overlaid, err)
	}
	broker := map[string]string{"zookeeper.ssl.client.enable": "true", "zookeeper.clientCnxnSocket": NettyCnxnSocket,
		"zookeeper.ssl.keystore.location": "/k/broker.jks", "zookeeper.ssl.keystore.password": "brokerpw",
		"zookeeper.ssl.truststore.location": "/k/trust.jks"}
	c := load(t, broker)
	if z, overlaid, err = c.AuthorizerZkClientTLS(nil); err != nil || overlaid || !reflect.DeepEqual(z, c.ZkClientTLS(nil)) {
		t.Fatalf("no overlays: %+v %v %v, want the broker's %+v", z, overlaid, err, c.ZkClientTLS(nil))
	}

	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range broker {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	c = load(t, with(map[string]string{"authorizer.zookeeper.ssl.keystore.location": "/k/acl.p12",
		"authorizer.zookeeper.ssl.keystore.password": "aclpw", "authorizer.zookeeper.ssl.protocol": "TLSv1.3",
		"authorizer.zookeeper.ssl.endpoint.identification.algorithm": "", "authorizer.zookeeper.ssl.crl.enable": "TRUE",
		"authorizer.zookeeper.ssl.cipher.suites": "TLS_A, TLS_B"}))
	z, overlaid, err = c.AuthorizerZkClientTLS(nil)
	if err != nil || !overlaid || !z.Enabled || z.SSL.KeystoreLocation != "/k/acl.p12" || z.SSL.KeystorePassword != "aclpw" ||
		z.SSL.TruststoreLocation != "/k/trust.jks" || z.CnxnSocket != NettyCnxnSocket || z.SSL.EndpointIdentification != "" ||
		!z.CRL || !reflect.DeepEqual(z.SSL.EnabledProtocols, []string{"TLSv1.3"}) ||
		!reflect.DeepEqual(z.SSL.CipherSuites, []string{"TLS_A", "TLS_B"}) {
		t.Fatalf("overlaid %+v %v %v", z, overlaid, err)
	}
	if b := c.ZkClientTLS(nil); b.SSL.KeystoreLocation != "/k/broker.jks" || b.CRL {
		t.Fatalf("the broker's own settings changed: %+v", b)
	}
	if len(c.Unknown) != 0 {
		t.Errorf("authorizer keys warned about: %v", c.Unknown)
	}

	// The authorizer's switch wins either way; Scala's toBoolean refuses anything else.
	if z, _, err = load(t, with(map[string]string{"authorizer.zookeeper.ssl.client.enable": "False"})).AuthorizerZkClientTLS(nil); err != nil || z.Enabled {
		t.Fatalf("switched off: %+v %v", z, err)
	}
	z, _, err = load(t, map[string]string{"zookeeper.ssl.truststore.location": "/k/trust.jks",
		"authorizer.zookeeper.ssl.client.enable": "true"}).AuthorizerZkClientTLS(nil)
	if err != nil || !z.Enabled || z.SSL.TruststoreLocation != "/k/trust.jks" {
		t.Fatalf("switched on over a plain broker: %+v %v", z, err)
	}
	if _, _, err = load(t, map[string]string{"authorizer.zookeeper.ssl.client.enable": "yes"}).AuthorizerZkClientTLS(nil); err == nil {
		t.Fatal("authorizer.zookeeper.ssl.client.enable=yes accepted")
	}
}
