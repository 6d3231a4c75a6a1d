package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/serverprops"
	kafkasasl "github.com/zkafka/zkafka/kafkaserver/sasl"
	"github.com/zkafka/zkafka/kafkaserver/tlsconf"
)

// The Admin client's security keys (CommonClientConfigs, SslConfigs, SaslConfigs) that --command-config can set.
const (
	securityProtocolKey = "security.protocol"
	saslMechanismKey    = "sasl.mechanism"
	saslJaasConfigKey   = "sasl.jaas.config"
	// kafkaClientContext is the JAAS file section clients log in with (JaasContext GLOBAL_CONTEXT_NAME_CLIENT).
	kafkaClientContext = "KafkaClient"
)

// clientSecurity returns the kgo options that connect as a Kafka 2.8 Admin client configured by props (the
// --command-config file) does: TLS for SSL and SASL_SSL, a SASL login for SASL_PLAINTEXT and SASL_SSL; jvm are
// the JVM's system properties (KAFKA_OPTS), where the JAAS file is named. Errors are the exceptions
// KafkaAdminClient.createInternal wraps.
func clientSecurity(props, jvm map[string]string) ([]kgo.Opt, error) {
	proto := serverprops.Plaintext
	if v, ok := props[securityProtocolKey]; ok {
		// SecurityProtocol.forName upper-cases the name.
		proto = strings.ToUpper(v)
	}
	var opts []kgo.Opt
	switch proto {
	case serverprops.Plaintext, serverprops.SaslPlaintext:
	case serverprops.SSL, serverprops.SaslSSL:
		cfg, err := tlsconf.Client(clientSSL(props))
		if err != nil {
			return nil, &uncaughtError{class: "org.apache.kafka.common.KafkaException", msg: err.Error()}
		}
		opts = append(opts, kgo.Dialer(tlsDialer(cfg)))
	default:
		return nil, &uncaughtError{class: "java.lang.IllegalArgumentException",
			msg: "No enum constant org.apache.kafka.common.security.auth.SecurityProtocol." + proto}
	}
	if proto == serverprops.SaslPlaintext || proto == serverprops.SaslSSL {
		mech, err := clientSASL(props, jvm)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(mech))
	}
	return opts, nil
}

// tlsDialer dials TLS naming the broker's host for the certificate check, as Java's SSLEngine is created with the
// peer's host.
func tlsDialer(cfg *tls.Config) func(ctx context.Context, network, host string) (net.Conn, error) {
	return func(ctx context.Context, network, host string) (net.Conn, error) {
		c := cfg.Clone()
		if h, _, err := net.SplitHostPort(host); err == nil {
			c.ServerName = h
		}
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: c}
		return d.DialContext(ctx, network, host)
	}
}

// clientSSL reads the client's ssl.* keys with SslConfigs' defaults: JKS stores and host-name verification.
func clientSSL(props map[string]string) serverprops.SSLSettings {
	list := func(k string) []string {
		var out []string
		for _, s := range strings.Split(props[k], ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	withDefault := func(k, def string) string {
		if v, ok := props[k]; ok {
			return v
		}
		return def
	}
	return serverprops.SSLSettings{
		Protocol:                 withDefault(serverprops.SSLProtocol, "TLSv1.3"),
		EnabledProtocols:         list(serverprops.SSLEnabledProtocols),
		CipherSuites:             list(serverprops.SSLCipherSuites),
		KeystoreType:             withDefault(serverprops.SSLKeystoreType, "JKS"),
		KeystoreLocation:         props[serverprops.SSLKeystoreLocation],
		KeystorePassword:         props[serverprops.SSLKeystorePassword],
		KeyPassword:              props[serverprops.SSLKeyPassword],
		KeystoreKey:              props[serverprops.SSLKeystoreKey],
		KeystoreCertificateChain: props[serverprops.SSLKeystoreCertificateChain],
		TruststoreType:           withDefault(serverprops.SSLTruststoreType, "JKS"),
		TruststoreLocation:       props[serverprops.SSLTruststoreLocation],
		TruststorePassword:       props[serverprops.SSLTruststorePassword],
		TruststoreCertificates:   props[serverprops.SSLTruststoreCertificates],
		EndpointIdentification:   withDefault(serverprops.SSLEndpointIdentification, "https"),
	}
}

// clientSASL logs in as JaasContext.loadClientContext does: sasl.jaas.config (exactly one login module), else the
// JAAS file's KafkaClient section; PLAIN and SCRAM take the module's username and password options.
func clientSASL(props, jvm map[string]string) (kgosasl.Mechanism, error) {
	mech := "GSSAPI" // SaslConfigs.DEFAULT_SASL_MECHANISM
	if v, ok := props[saslMechanismKey]; ok {
		mech = v
	}
	// JaasContext's exceptions reach KafkaAdminClient as they are; login failures come wrapped by
	// SaslChannelBuilder.configure in a KafkaException named after them.
	fail := func(class, msg string) error { return &uncaughtError{class: class, msg: msg} }
	loginFailed := func(class, msg string) error {
		return &uncaughtError{class: "org.apache.kafka.common.KafkaException", msg: class + ": " + msg}
	}
	var mods []jaas.LoginModule
	if v, ok := props[saslJaasConfigKey]; ok {
		var err error
		if mods, err = jaas.ParseConfig(v); err != nil {
			return nil, fail("java.lang.IllegalArgumentException", err.Error())
		}
		switch len(mods) {
		case 0:
			return nil, fail("java.lang.IllegalArgumentException", "JAAS config property does not contain any login modules")
		case 1:
		default:
			return nil, fail("java.lang.IllegalArgumentException",
				fmt.Sprintf("JAAS config property contains %d login modules, should be 1 module", len(mods)))
		}
	} else {
		path, set := jvm[serverprops.JavaLoginConfig]
		if set {
			f, err := jaas.LoadFile(path, jvm)
			if err != nil {
				return nil, fail("java.lang.SecurityException", err.Error())
			}
			mods = f.Contexts[kafkaClientContext]
		}
		if mods == nil {
			where := "not set"
			if set {
				where = path
			}
			return nil, fail("java.lang.IllegalArgumentException", "Could not find a '"+kafkaClientContext+
				"' entry in the JAAS configuration. System property '"+serverprops.JavaLoginConfig+"' is "+where)
		}
	}
	if mech == kafkasasl.MechanismOAuthBearer {
		return clientOAuthBearer(mods, loginFailed)
	}
	if mech == kafkasasl.MechanismGSSAPI {
		return clientGSSAPI(props, jvm, mods, loginFailed)
	}
	user, okU := jaas.Option(mods, "username", "")
	pass, okP := jaas.Option(mods, "password", "")
	switch mech {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	default:
		return nil, loginFailed("javax.security.auth.login.LoginException",
			"zkafka's kafka-topics implements SASL mechanisms GSSAPI, PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER, not "+mech)
	}
	if !okU || !okP {
		return nil, loginFailed("javax.security.auth.login.LoginException",
			"the "+kafkaClientContext+" login module has no username and password options")
	}
	switch mech {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	default:
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	}
}

// clientGSSAPI logs in as a Java client's KerberosLogin: the service name from sasl.kerberos.service.name or the
// module's serviceName, the module's keytab or ticket cache, a ticket-granting ticket from the KDC at once.
func clientGSSAPI(props, jvm map[string]string, mods []jaas.LoginModule, loginFailed func(class, msg string) error) (kgosasl.Mechanism, error) {
	conf, set := props[serverprops.SaslKerberosServiceName]
	service, err := kafkasasl.ServiceName(mods, conf, set)
	if err != nil {
		return nil, loginFailed("java.lang.IllegalArgumentException", err.Error())
	}
	login, err := kerberos.FromContext(mods, jvm)
	if err != nil {
		return nil, loginFailed("javax.security.auth.login.LoginException", err.Error())
	}
	g := kafkasasl.NewGSSAPIClient(login, service)
	if err := g.Login(); err != nil {
		return nil, loginFailed("javax.security.auth.login.LoginException", err.Error())
	}
	return g, nil
}

// clientOAuthBearer logs in as a Java client's OAuthBearerLoginModule with the default unsecured login callback
// handler: a token made from the module's unsecuredLogin* options, fresh for each connection.
func clientOAuthBearer(mods []jaas.LoginModule, loginFailed func(class, msg string) error) (kgosasl.Mechanism, error) {
	if len(mods) != 1 {
		return nil, loginFailed("java.lang.IllegalArgumentException",
			fmt.Sprintf("Must supply exactly 1 non-null JAAS mechanism configuration (size was %d)", len(mods)))
	}
	m, ok, err := kafkasasl.UnsecuredLoginClient(mods[0].Options)
	if err != nil {
		return nil, loginFailed("javax.security.auth.login.LoginException",
			"An internal error occurred while retrieving token from callback handler")
	}
	if !ok {
		// Kafka logs in without a token and fails each connection.
		return nil, loginFailed("javax.security.auth.login.LoginException",
			"the "+kafkaClientContext+" login module has no unsecuredLogin options: no token to log in with")
	}
	return m, nil
}

// securityError is the exception a Java client's call fails with when its connection could not authenticate: the
// broker's SaslAuthenticate message (SaslClientAuthenticator throws it as the exception's message), or
// SslAuthenticationException's "SSL handshake failed" when TLS did not complete. Other errors are returned as they are.
func securityError(err error) error {
	if errors.Is(err, kerr.SaslAuthenticationFailed) {
		// franz-go puts the broker's message after the error's text: "<kerr>: <message>".
		text := err.Error()
		prefix := kerr.SaslAuthenticationFailed.Error() + ": "
		if i := strings.LastIndex(text, prefix); i >= 0 {
			return &commandError{text[i+len(prefix):]}
		}
		_, msg, _ := strings.Cut(kerr.SaslAuthenticationFailed.Description, ": ")
		return &commandError{msg}
	}
	var verify *tls.CertificateVerificationError
	var op *net.OpError
	if errors.As(err, &verify) || (errors.As(err, &op) && op.Op == "remote error" && strings.HasPrefix(op.Err.Error(), "tls: ")) {
		return &commandError{"SSL handshake failed"}
	}
	return err
}
