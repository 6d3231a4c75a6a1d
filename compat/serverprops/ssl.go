package serverprops

// SSL settings (Kafka's SslConfigs and BrokerSecurityConfigs) as one listener sees them.
const (
	SSLProtocol                 = "ssl.protocol"
	SSLEnabledProtocols         = "ssl.enabled.protocols"
	SSLCipherSuites             = "ssl.cipher.suites"
	SSLKeystoreType             = "ssl.keystore.type"
	SSLKeystoreLocation         = "ssl.keystore.location"
	SSLKeystorePassword         = "ssl.keystore.password"
	SSLKeyPassword              = "ssl.key.password"
	SSLKeystoreKey              = "ssl.keystore.key"
	SSLKeystoreCertificateChain = "ssl.keystore.certificate.chain"
	SSLTruststoreType           = "ssl.truststore.type"
	SSLTruststoreLocation       = "ssl.truststore.location"
	SSLTruststorePassword       = "ssl.truststore.password"
	SSLTruststoreCertificates   = "ssl.truststore.certificates"
	SSLClientAuth               = "ssl.client.auth"
	SSLEndpointIdentification   = "ssl.endpoint.identification.algorithm"
	SSLPrincipalMappingRules    = "ssl.principal.mapping.rules"
)

// SSLSettings holds the ssl.* values of one listener: each listener.name.<l>.ssl.* over the broker-wide key, as Kafka's
// ChannelBuilders take them (valuesWithPrefixOverride). Empty strings are unset keys.
type SSLSettings struct {
	Protocol                                                      string
	EnabledProtocols, CipherSuites                                []string
	KeystoreType, KeystoreLocation, KeystorePassword, KeyPassword string
	KeystoreKey, KeystoreCertificateChain                         string
	TruststoreType, TruststoreLocation, TruststorePassword        string
	TruststoreCertificates                                        string
	ClientAuth                                                    string // none, requested or required
	EndpointIdentification                                        string // "https" checks the peer's host name; "" does not
	PrincipalMappingRules                                         string
}

// ListenerSSL returns the SSL settings of a listener (its name, e.g. "SSL" or "INTERNAL").
func (c *Config) ListenerSSL(listener string) SSLSettings {
	get := func(name string) string { v, _ := c.ListenerConfig(listener, name); return v }
	s := SSLSettings{
		Protocol:                 get(SSLProtocol),
		EnabledProtocols:         c.listenerList(listener, SSLEnabledProtocols),
		CipherSuites:             c.listenerList(listener, SSLCipherSuites),
		KeystoreType:             get(SSLKeystoreType),
		KeystoreLocation:         get(SSLKeystoreLocation),
		KeystorePassword:         get(SSLKeystorePassword),
		KeyPassword:              get(SSLKeyPassword),
		KeystoreKey:              get(SSLKeystoreKey),
		KeystoreCertificateChain: get(SSLKeystoreCertificateChain),
		TruststoreType:           get(SSLTruststoreType),
		TruststoreLocation:       get(SSLTruststoreLocation),
		TruststorePassword:       get(SSLTruststorePassword),
		TruststoreCertificates:   get(SSLTruststoreCertificates),
		ClientAuth:               get(SSLClientAuth),
		EndpointIdentification:   get(SSLEndpointIdentification),
		PrincipalMappingRules:    get(SSLPrincipalMappingRules),
	}
	return s
}

// UsesTLS tells whether a security protocol runs over TLS.
func UsesTLS(protocol string) bool { return protocol == SSL || protocol == SaslSSL }
