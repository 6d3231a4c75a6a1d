package zoocfg

import (
	"fmt"
	"os"
	"strings"
)

// X509ProviderClass is Apache's x509 auth provider, the one TLS client connections authenticate with.
const X509ProviderClass = x509Provider

// NettyFactory is the connection factory Apache needs for a secure client port (NIOServerCnxnFactory refuses TLS).
const NettyFactory = "org.apache.zookeeper.server.NettyServerCnxnFactory"

// TLSSettings are one X509Util's settings: ClientX509Util's zookeeper.ssl.* system properties for the client ports,
// QuorumX509Util's zookeeper.ssl.quorum.* for the quorum and election ports (zoo.cfg lines ssl.* become them too),
// with X509Util's defaults.
type TLSSettings struct {
	KeystoreLocation, KeystorePassword, KeystoreType       string
	TruststoreLocation, TruststorePassword, TruststoreType string
	// ClientAuth is X509Util.ClientAuth: "need" (the default), "want" or "none".
	ClientAuth       string
	EnabledProtocols []string // ssl.enabledProtocols, else ssl.protocol (default TLSv1.2) alone
	CipherSuites     []string // ssl.ciphersuites, else X509Util's list for Java 9+
	// HostnameVerification is ssl.hostnameVerification (default true): the quorum peers check each other's
	// certificate against the address they connected to or were connected from (ZKTrustManager).
	HostnameVerification bool
	// CRL and OCSP are ssl.crl and ssl.ocsp (revocation checks); ContextSupplier is ssl.context.supplier.class.
	CRL, OCSP       bool
	ContextSupplier string
	// OCSPEnabled is whether a revocation check asks OCSP responders first: X509Util sets the JVM-wide security
	// property ocsp.enable for a group with ocsp=true and a trust store, and from then on every group checking
	// revocation (crl or ocsp) uses OCSP, the client ports' and the quorum's alike.
	OCSPEnabled bool
	// AuthScheme is ssl.authProvider (default x509); AuthClass the provider class registered for it. Client ports
	// only, as the next two.
	AuthScheme, AuthClass string
	// X509SuperUser is zookeeper.X509AuthenticationProvider.superUser: the certificate name that is also super.
	X509SuperUser string
	// ServerCnxnFactory is zookeeper.serverCnxnFactory (Apache's default, NIO, cannot serve TLS).
	ServerCnxnFactory string
}

// DefaultCipherSuites is X509Util's cipher list on Java 9 and later: GCM first, then CBC.
var DefaultCipherSuites = []string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
}

// ClientTLS reads the client ports' settings (zookeeper.ssl.*).
func (c *Config) ClientTLS() (TLSSettings, error) {
	t, err := c.x509Settings("zookeeper.ssl.")
	if err != nil {
		return t, err
	}
	t.AuthScheme = "x509"
	if v := c.Props["zookeeper.ssl.authProvider"]; v != "" {
		t.AuthScheme = v
	}
	t.AuthClass = c.Props["zookeeper.authProvider."+t.AuthScheme]
	t.X509SuperUser = c.Props["zookeeper.X509AuthenticationProvider.superUser"]
	t.ServerCnxnFactory = c.Props["zookeeper.serverCnxnFactory"]
	return t, nil
}

// QuorumTLS reads the quorum and election ports' settings (zookeeper.ssl.quorum.*), used with sslQuorum.
func (c *Config) QuorumTLS() (TLSSettings, error) { return c.x509Settings("zookeeper.ssl.quorum.") }

// x509Settings reads the settings under prefix. Passwords given by a passwordPath file win over the property, as
// X509Util.getPasswordFromConfigPropertyOrFile; a store's type, when not set, follows its file name's extension.
func (c *Config) x509Settings(prefix string) (TLSSettings, error) {
	prop := func(k string) string { return c.Props[prefix+k] }
	t := TLSSettings{
		KeystoreLocation: prop("keyStore.location"), TruststoreLocation: prop("trustStore.location"),
		ClientAuth: "need", CipherSuites: DefaultCipherSuites, HostnameVerification: true,
	}
	var err error
	if t.KeystorePassword, err = password(prop("keyStore.password"), prop("keyStore.passwordPath")); err != nil {
		return t, err
	}
	if t.TruststorePassword, err = password(prop("trustStore.password"), prop("trustStore.passwordPath")); err != nil {
		return t, err
	}
	if t.KeystoreLocation != "" {
		if t.KeystoreType, err = StoreType(prop("keyStore.type"), t.KeystoreLocation); err != nil {
			return t, err
		}
	}
	if t.TruststoreLocation != "" {
		if t.TruststoreType, err = StoreType(prop("trustStore.type"), t.TruststoreLocation); err != nil {
			return t, err
		}
	}
	if v := prop("clientAuth"); v != "" {
		switch strings.ToLower(v) {
		case "need", "want", "none":
			t.ClientAuth = strings.ToLower(v)
		default:
			return t, fmt.Errorf("No enum constant org.apache.zookeeper.common.X509Util.ClientAuth.%s", strings.ToUpper(v))
		}
	}
	protocol := "TLSv1.2"
	if v, ok := c.Props[prefix+"protocol"]; ok {
		protocol = v
	}
	t.EnabledProtocols = []string{protocol}
	if v, ok := c.Props[prefix+"enabledProtocols"]; ok {
		t.EnabledProtocols = strings.Split(v, ",")
	}
	if v, ok := c.Props[prefix+"ciphersuites"]; ok {
		t.CipherSuites = strings.Split(v, ",")
	}
	t.CRL = javaBool(strings.TrimSpace(prop("crl")))
	t.OCSP = javaBool(strings.TrimSpace(prop("ocsp")))
	for _, p := range []string{"zookeeper.ssl.", "zookeeper.ssl.quorum."} {
		if javaBool(strings.TrimSpace(c.Props[p+"ocsp"])) && c.Props[p+"trustStore.location"] != "" {
			t.OCSPEnabled = true
		}
	}
	t.ContextSupplier = prop("context.supplier.class")
	if v, ok := c.Props[prefix+"hostnameVerification"]; ok {
		t.HostnameVerification = javaBool(strings.TrimSpace(v)) // ZKConfig.getBoolean
	}
	return t, nil
}

// password is the property's value, or the file at path when one is named (SecretUtils.readSecret: its text
// without one trailing line separator).
func password(value, path string) (string, error) {
	if path == "" {
		return value, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read password file %s: %w", path, err)
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// StoreType is KeyStoreFileType.fromPropertyValueOrFileName: the property (any case), else the extension.
func StoreType(value, path string) (string, error) {
	if value != "" {
		switch v := strings.ToUpper(value); v {
		case "JKS", "PEM", "PKCS12":
			return v, nil
		case "BCFKS":
			return "", fmt.Errorf("key store %s: BCFKS stores are not supported (JKS, PKCS12 or PEM)", path)
		default:
			return "", fmt.Errorf("No enum constant org.apache.zookeeper.common.KeyStoreFileType.%s", v)
		}
	}
	for ext, t := range map[string]string{".jks": "JKS", ".pem": "PEM", ".p12": "PKCS12"} {
		if strings.HasSuffix(strings.ToLower(path), ext) {
			return t, nil
		}
	}
	return "", fmt.Errorf("Unable to auto-detect store file type from file name: %s", path)
}
