package serverprops

import (
	"regexp"
	"strings"
)

// ZkClientTLS is how the broker reaches ZooKeeper over TLS, resolved as Kafka 2.8's KafkaConfig does: each
// zookeeper.ssl.* key of server.properties, else the ZooKeeper client's own system property
// (-Dzookeeper.client.secure, -Dzookeeper.ssl.keyStore.location, ... in KAFKA_OPTS), else Kafka's default.
type ZkClientTLS struct {
	// Enabled is zookeeper.ssl.client.enable (zookeeper.client.secure).
	Enabled bool
	// CnxnSocket is zookeeper.clientCnxnSocket: TLS needs org.apache.zookeeper.ClientCnxnSocketNetty.
	CnxnSocket string
	// SSL are the stores, protocols and ciphers. Store types may be empty: ZooKeeper's client then goes by the
	// file name's extension. EndpointIdentification is "HTTPS" or "".
	SSL SSLSettings
	// CRL and OCSP are zookeeper.ssl.crl.enable / zookeeper.ssl.ocsp.enable.
	CRL, OCSP bool
}

// NettyCnxnSocket is the ZooKeeper client connection class that speaks TLS.
const NettyCnxnSocket = "org.apache.zookeeper.ClientCnxnSocketNetty"

// zkTLSSystemProperty maps each Kafka key to the ZooKeeper client system property it falls back to.
var zkTLSSystemProperty = map[string]string{
	"zookeeper.ssl.client.enable":                     "zookeeper.client.secure",
	"zookeeper.clientCnxnSocket":                      "zookeeper.clientCnxnSocket",
	"zookeeper.ssl.keystore.location":                 "zookeeper.ssl.keyStore.location",
	"zookeeper.ssl.keystore.password":                 "zookeeper.ssl.keyStore.password",
	"zookeeper.ssl.keystore.type":                     "zookeeper.ssl.keyStore.type",
	"zookeeper.ssl.truststore.location":               "zookeeper.ssl.trustStore.location",
	"zookeeper.ssl.truststore.password":               "zookeeper.ssl.trustStore.password",
	"zookeeper.ssl.truststore.type":                   "zookeeper.ssl.trustStore.type",
	"zookeeper.ssl.protocol":                          "zookeeper.ssl.protocol",
	"zookeeper.ssl.enabled.protocols":                 "zookeeper.ssl.enabledProtocols",
	"zookeeper.ssl.cipher.suites":                     "zookeeper.ssl.ciphersuites",
	"zookeeper.ssl.endpoint.identification.algorithm": "zookeeper.ssl.hostnameVerification",
	"zookeeper.ssl.crl.enable":                        "zookeeper.ssl.crl",
	"zookeeper.ssl.ocsp.enable":                       "zookeeper.ssl.ocsp",
}

var listSeparator = regexp.MustCompile(`\s*,\s*`)

// ZkClientTLS resolves the broker's ZooKeeper TLS settings; jvm are the JVM system properties (KAFKA_OPTS).
func (c *Config) ZkClientTLS(jvm map[string]string) ZkClientTLS {
	provided := func(k string) bool { _, ok := c.static[k]; return ok }
	sys := func(k string) (string, bool) { v, ok := jvm[zkTLSSystemProperty[k]]; return v, ok }
	// A boolean or a defaulted string: the given key, else the system property, else the default.
	boolean := func(k string) bool {
		if !provided(k) {
			if v, ok := sys(k); ok {
				return v == "true"
			}
		}
		return c.Bool(k)
	}
	withDefault := func(k string) string {
		if !provided(k) {
			if v, ok := sys(k); ok {
				return v
			}
		}
		return c.String(k)
	}
	// An optional string or list: the key's value when set, else the system property.
	optional := func(k string) string {
		if v := c.String(k); v != "" {
			return v
		}
		v, _ := sys(k)
		return v
	}
	list := func(k string) []string {
		if v := c.List(k); v != nil {
			return v
		}
		if v, ok := sys(k); ok {
			return listSeparator.Split(v, -1)
		}
		return nil
	}
	z := ZkClientTLS{
		Enabled:    boolean("zookeeper.ssl.client.enable"),
		CnxnSocket: optional("zookeeper.clientCnxnSocket"),
		CRL:        boolean("zookeeper.ssl.crl.enable"),
		OCSP:       boolean("zookeeper.ssl.ocsp.enable"),
		SSL: SSLSettings{
			Protocol:           withDefault("zookeeper.ssl.protocol"),
			EnabledProtocols:   list("zookeeper.ssl.enabled.protocols"),
			CipherSuites:       list("zookeeper.ssl.cipher.suites"),
			KeystoreType:       optional("zookeeper.ssl.keystore.type"),
			KeystoreLocation:   optional("zookeeper.ssl.keystore.location"),
			KeystorePassword:   optional("zookeeper.ssl.keystore.password"),
			TruststoreType:     optional("zookeeper.ssl.truststore.type"),
			TruststoreLocation: optional("zookeeper.ssl.truststore.location"),
			TruststorePassword: optional("zookeeper.ssl.truststore.password"),
		},
	}
	// hostnameVerification is true or false where Kafka's key says HTTPS or nothing.
	const eia = "zookeeper.ssl.endpoint.identification.algorithm"
	z.SSL.EndpointIdentification = c.String(eia)
	if !provided(eia) {
		if v, ok := sys(eia); ok {
			z.SSL.EndpointIdentification = ""
			if v == "true" {
				z.SSL.EndpointIdentification = "HTTPS"
			}
		}
	}
	if strings.EqualFold(z.SSL.EndpointIdentification, "HTTPS") {
		z.SSL.EndpointIdentification = "HTTPS"
	} else {
		z.SSL.EndpointIdentification = ""
	}
	if len(z.SSL.EnabledProtocols) == 0 {
		// ZooKeeper's X509Util enables just the configured protocol.
		z.SSL.EnabledProtocols = []string{z.SSL.Protocol}
	}
	return z
}

// ClientAuthReady is KafkaConfig.zkTlsClientAuthEnabled: TLS on, the Netty socket named and a key store given,
// which is what zookeeper.set.acl needs when there is no SASL.
func (z ZkClientTLS) ClientAuthReady() bool {
	return z.Enabled && z.CnxnSocket != "" && z.SSL.KeystoreLocation != ""
}
