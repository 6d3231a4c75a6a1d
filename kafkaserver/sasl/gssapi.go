package sasl

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/kerbname"
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kwire"
)

// MechanismGSSAPI is the Kerberos mechanism's name.
const MechanismGSSAPI = "GSSAPI"

// GSSAPI accepts Kerberos clients on a listener as Kafka's GSSAPI SaslServer does, logged in with the JAAS
// context's Krb5LoginModule (KerberosLogin), and names them as DefaultKafkaPrincipalBuilder: User:<short name>
// under sasl.kerberos.principal.to.local.rules.
type GSSAPI struct {
	acceptor *kerberos.Acceptor
	namer    *kerbname.ShortNamer
	logger   *slog.Logger
}

// GSSAPIFromJaas checks and performs the listener's Kerberos login as Kafka's KerberosLogin does at start: the
// service name from the JAAS serviceName option or sasl.kerberos.service.name (they must agree), then the
// module's login (with the KDC, unless isInitiator=false).
func GSSAPIFromJaas(cfg *serverprops.Config, listener string, mods []jaas.LoginModule, jvm map[string]string,
	logger *slog.Logger) (*GSSAPI, error) {
	if _, err := KerberosServiceName(cfg, listener, mods); err != nil {
		return nil, err
	}
	login, err := kerberos.FromContext(mods, jvm)
	if err != nil {
		return nil, err
	}
	if _, err := login.StartLogin(); err != nil {
		return nil, fmt.Errorf("Could not login: %w", err)
	}
	acc, err := login.Acceptor()
	if err != nil {
		return nil, err
	}
	if name, err := kerbname.Parse(login.Principal); err != nil || (login.Principal != "*" && !name.HasHost) {
		// A principal without a host makes Kafka's SaslServer accept any principal in the keytab.
		acc = kerberos.NewAcceptor(login.Keytab, "*")
	}
	namer, err := kerbname.NewKafkaShortNamer(login.Realm(), cfg.List(serverprops.SaslKerberosPrincipalToLocalRules))
	if err != nil {
		return nil, err
	}
	return &GSSAPI{acceptor: acc, namer: namer, logger: logger}, nil
}

// KerberosServiceName is KerberosLogin.getServiceName for a listener: the JAAS serviceName option or the
// listener's sasl.kerberos.service.name, which must agree when both are set.
func KerberosServiceName(cfg *serverprops.Config, listener string, mods []jaas.LoginModule) (string, error) {
	v, ok := cfg.ListenerConfig(listener, serverprops.SaslKerberosServiceName)
	return ServiceName(mods, v, ok)
}

// ServiceName is KerberosLogin.getServiceName: the first serviceName option of the JAAS context, or the
// sasl.kerberos.service.name config (conf, set when confSet); both set must agree.
func ServiceName(mods []jaas.LoginModule, conf string, confSet bool) (string, error) {
	jaasName, inJaas := "", false
	for _, m := range mods {
		if v, ok := m.Options["serviceName"]; ok {
			jaasName, inJaas = v, true
			break
		}
	}
	switch {
	case inJaas && confSet && jaasName != conf:
		return "", fmt.Errorf("Conflicting serviceName values found in JAAS and Kafka configs value in JAAS file %s, "+
			"value in Kafka config %s", jaasName, conf)
	case inJaas:
		return jaasName, nil
	case confSet:
		return conf, nil
	}
	return "", errors.New("No serviceName defined in either JAAS or Kafka config")
}

// NewServer starts one client's exchange.
func (g *GSSAPI) NewServer() kwire.SASLServer {
	return &gssapiServer{g: g, s: g.acceptor.NewSASLServer()}
}

type gssapiServer struct {
	g            *GSSAPI
	s            *kerberos.SASLServer
	id           string
	principalErr error
}

func (x *gssapiServer) Evaluate(token []byte) ([]byte, bool, error) {
	ch, done, err := x.s.Step(token)
	if err != nil || !done {
		return ch, false, err
	}
	// Kafka's SaslServerCallbackHandler authorizes the authenticated principal whatever authzid the client sent.
	peer := x.s.Peer()
	x.g.logger.Info("Successfully authenticated client", "authenticationID", peer, "authorizationID", x.s.AuthzID())
	// A principal no rule maps fails only later, when Kafka builds it for the first request.
	x.id, x.principalErr = x.g.namer.KafkaPrincipal(peer)
	return ch, true, nil
}

func (x *gssapiServer) AuthorizationID() string { return x.id }

// PrincipalError is why the authenticated client has no principal (no rule maps its name), nil when it has one.
func (x *gssapiServer) PrincipalError() error { return x.principalErr }
