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
