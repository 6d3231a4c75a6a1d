package serverprops

import (
	"fmt"
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
	return c.zkClientTLS(jvm).withDefaults()
}

// zkClientTLS is ZkClientTLS before ZooKeeper's client fills in what no setting gives.
func (c *Config) zkClientTLS(jvm map[string]string) ZkClientTLS {
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
	return z
}

// withDefaults is what ZooKeeper's client takes when no enabled protocols are given: X509Util enables just the
// configured protocol.
func (z ZkClientTLS) withDefaults() ZkClientTLS {
	if len(z.SSL.EnabledProtocols) == 0 {
		z.SSL.EnabledProtocols = []string{z.SSL.Protocol}
	}
	return z
}

// authorizerPrefix is AclAuthorizer's prefix for the keys of its own ZooKeeper client.
const authorizerPrefix = "authorizer."

// AuthorizerZkClientTLS is the TLS of AclAuthorizer's own ZooKeeper client, as Kafka 2.8's
// zkClientConfigFromKafkaConfigAndMap makes it: on when authorizer.zookeeper.ssl.client.enable says so, else when
// the broker's is; then the broker's settings, each authorizer.<key> of the zookeeper.ssl.* keys (and
// authorizer.zookeeper.clientCnxnSocket) laid over them as the ZooKeeper client property it sets. overlaid
// reports whether any of those keys is given, so that the authorizer's client differs from the broker's.
func (c *Config) AuthorizerZkClientTLS(jvm map[string]string) (z ZkClientTLS, overlaid bool, err error) {
	base := c.zkClientTLS(jvm)
	for k := range zkTLSSystemProperty {
		if _, ok := c.Raw[authorizerPrefix+k]; ok {
			overlaid = true
		}
	}
	enable := base.Enabled
	const enableKey = authorizerPrefix + "zookeeper.ssl.client.enable"
	if v, ok := c.Raw[enableKey]; ok {
		// Scala's String.toBoolean: true or false in any case, anything else throws.
		switch {
		case strings.EqualFold(v, "true"):
			enable = true
		case strings.EqualFold(v, "false"):
			enable = false
		default:
			return ZkClientTLS{}, false, fmt.Errorf("%s: java.lang.IllegalArgumentException: For input string: %q", enableKey, v)
		}
	}
	if !enable {
		return ZkClientTLS{}, overlaid, nil
	}
	base.Enabled = true
	set := func(k string, apply func(v string)) {
		if v, ok := c.Raw[authorizerPrefix+k]; ok {
			apply(v)
		}
	}
	// The values are ZooKeeper client properties from here: lists split on commas, booleans Boolean.parseBoolean.
	set("zookeeper.clientCnxnSocket", func(v string) { base.CnxnSocket = v })
	set("zookeeper.ssl.keystore.location", func(v string) { base.SSL.KeystoreLocation = v })
	set("zookeeper.ssl.keystore.password", func(v string) { base.SSL.KeystorePassword = v })
	set("zookeeper.ssl.keystore.type", func(v string) { base.SSL.KeystoreType = v })
	set("zookeeper.ssl.truststore.location", func(v string) { base.SSL.TruststoreLocation = v })
	set("zookeeper.ssl.truststore.password", func(v string) { base.SSL.TruststorePassword = v })
	set("zookeeper.ssl.truststore.type", func(v string) { base.SSL.TruststoreType = v })
	set("zookeeper.ssl.protocol", func(v string) { base.SSL.Protocol = v })
	set("zookeeper.ssl.enabled.protocols", func(v string) { base.SSL.EnabledProtocols = listSeparator.Split(v, -1) })
	set("zookeeper.ssl.cipher.suites", func(v string) { base.SSL.CipherSuites = listSeparator.Split(v, -1) })
	set("zookeeper.ssl.endpoint.identification.algorithm", func(v string) {
		base.SSL.EndpointIdentification = ""
		if strings.ToUpper(v) == "HTTPS" {
			base.SSL.EndpointIdentification = "HTTPS"
		}
	})
	set("zookeeper.ssl.crl.enable", func(v string) { base.CRL = strings.EqualFold(v, "true") })
	set("zookeeper.ssl.ocsp.enable", func(v string) { base.OCSP = strings.EqualFold(v, "true") })
	return base.withDefaults(), overlaid, nil
}

// ClientAuthReady is KafkaConfig.zkTlsClientAuthEnabled: TLS on, the Netty socket named and a key store given,
// which is what zookeeper.set.acl needs when there is no SASL.
func (z ZkClientTLS) ClientAuthReady() bool {
	return z.Enabled && z.CnxnSocket != "" && z.SSL.KeystoreLocation != ""
}
