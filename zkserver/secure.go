package zkserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/jsse"
	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/x509util"
)

// SecureConfig is the secure client port (secureClientPort): TLS from the zookeeper.ssl.* settings, and the
// x509 auth of client certificates (Apache's X509AuthenticationProvider).
type SecureConfig struct {
	// Addr is the secure client port; "" when only the unified client port takes TLS.
	Addr string
	// Unified is client.portUnification: the plain client port takes TLS clients too, telling them by their first
	// byte (a TLS handshake record) as Apache's DualModeSslHandler does.
	Unified bool
	TLS     *tls.Config
	// SuperUser is zookeeper.X509AuthenticationProvider.superUser: a certificate of that name is also super.
	SuperUser string
	// noTrustStore: Apache's x509 provider, without a trust store of its own, fails every certificate.
	noTrustStore bool
}

// SecureFromZooCfg is the TLS client access zoo.cfg configures: the secure client port (secureClientPort) and
// port unification (client.portUnification, or -Dzookeeper.client.portUnification); nil with neither. As Apache,
// both need the Netty connection factory (with NIO, portUnification is ignored), and TLS clients authenticate with
// the x509 provider.
func SecureFromZooCfg(zc *zoocfg.Config) (*SecureConfig, error) {
	unified := strings.EqualFold(zc.Props["zookeeper.client.portUnification"], "true")
	if zc.SecureClientPort == 0 && !unified {
		return nil, nil
	}
	t, err := zc.ClientTLS()
	if err != nil {
		return nil, err
	}
	if t.ServerCnxnFactory != zoocfg.NettyFactory {
		if zc.SecureClientPort == 0 {
			return nil, nil // NIOServerCnxnFactory never reads the unification property
		}
		// NIOServerCnxnFactory.configure refuses a secure port; Apache does not start.
		return nil, fmt.Errorf("secureClientPort needs serverCnxnFactory=%s: SSL isn't supported in NIOServerCnxn",
			zoocfg.NettyFactory)
	}
	if t.AuthClass != zoocfg.X509ProviderClass {
		return nil, fmt.Errorf("ssl.authProvider %s (%s): only %s is supported", t.AuthScheme, t.AuthClass,
			zoocfg.X509ProviderClass)
	}
	if t.KeystoreLocation == "" {
		if zc.SecureClientPort == 0 {
			return nil, errors.New("client.portUnification needs a key store: set ssl.keyStore.location")
		}
		return nil, errors.New("secureClientPort needs a key store: set ssl.keyStore.location")
	}
	cfg, err := x509util.Load(t, "ssl.")
	if err != nil {
		return nil, fmt.Errorf("secure client port: %w", err)
	}
	sc := &SecureConfig{Unified: unified, TLS: cfg, SuperUser: t.X509SuperUser, noTrustStore: t.TruststoreLocation == ""}
	if zc.SecureClientPort != 0 {
		sc.Addr = net.JoinHostPort(zc.SecureClientPortAddress, strconv.Itoa(zc.SecureClientPort))
	}
	return sc, nil
}

// certIDs are the ids X509AuthenticationProvider gives a verified client certificate: super when its name is the
// super user's, then x509 with the subject as X500Principal.getName() writes it.
func (sc *SecureConfig) certIDs(chain []*x509.Certificate) ([]jute.Id, error) {
	if sc.noTrustStore {
		return nil, errors.New("no trust manager (ssl.trustStore.location) to authenticate the certificate")
	}
	name := jsse.PrincipalName(chain[0])
	if sc.SuperUser != "" && name == sc.SuperUser {
		return []jute.Id{{Scheme: "super", ID: name}, {Scheme: "x509", ID: name}}, nil
	}
	return []jute.Id{{Scheme: "x509", ID: name}}, nil
}
