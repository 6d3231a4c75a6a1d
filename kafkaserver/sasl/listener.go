package sasl

import (
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"strings"
	"time"

	"github.com/zkafka/zkafka/compat/javastr"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/javahash"
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kwire"
)

// ServerContextName is the JAAS login context a broker reads (optionally prefixed "<listener>.").
const ServerContextName = "KafkaServer"

// ListenerOptions is what a SASL listener needs besides server.properties.
type ListenerOptions struct {
	// JaasFile is the -Djava.security.auth.login.config value, "" when not set.
	JaasFile string
	// SystemProps resolves ${name} in the JAAS file (the JVM's -D options).
	SystemProps map[string]string
	// Credentials holds the SCRAM users (from /config/users); nil refuses every SCRAM login.
	Credentials *Credentials
	// Tokens is the delegation token cache; nil refuses every token login.
	Tokens TokenCredentials
	Logger *slog.Logger
}

// Implemented reports whether zkafka implements a SASL mechanism.
func Implemented(mechanism string) bool {
	return mechanism == MechanismPlain || mechanism == MechanismOAuthBearer || mechanism == MechanismGSSAPI ||
		IsScram(mechanism)
}

// ForListener builds the SASL setup of a SASL_PLAINTEXT listener as Kafka's ChannelBuilders does: the listener's
// sasl.enabled.mechanisms, and for each implemented mechanism its JAAS login context, from
// listener.name.<l>.<mechanism>.sasl.jaas.config or else the JAAS file's "<l>.KafkaServer" or "KafkaServer"
// section. Mechanisms zkafka does not implement stay listed and are refused per connection with
// UNSUPPORTED_SASL_MECHANISM.
func ForListener(cfg *serverprops.Config, listener string, opts ListenerOptions) (*kwire.SASLConfig, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	mechs := cfg.ListenerSaslMechanisms(listener)
	if len(mechs) == 0 {
		return nil, fmt.Errorf("listener %s: No SASL mechanisms are enabled", listener)
	}
	out := &kwire.SASLConfig{
		Mechanisms:                JavaHashSetOrder(mechs),
		MaxReauth:                 map[string]time.Duration{},
		FailedAuthenticationDelay: time.Duration(cfg.FailedAuthenticationDelayMs) * time.Millisecond,
	}
	var err error
	if out.MaxReceiveSize, err = cfg.ListenerSaslMaxReceiveSize(listener); err != nil {
		return nil, fmt.Errorf("listener %s: %w", listener, err)
	}
	var file *jaas.File
	servers := map[string]interface{ NewServer() kwire.SASLServer }{}
	for _, mech := range out.Mechanisms {
		ms, err := cfg.ListenerMaxReauthMs(listener, mech)
		if err != nil {
			return nil, fmt.Errorf("listener %s: %w", listener, err)
		}
		out.MaxReauth[mech] = time.Duration(ms) * time.Millisecond
		if !Implemented(mech) {
			logger.Warn("SASL mechanism is not implemented; clients asking for it get UNSUPPORTED_SASL_MECHANISM",
				"listener", listener, "mechanism", mech)
			continue
		}
		if err := checkCallbackClasses(cfg, listener, mech); err != nil {
			return nil, fmt.Errorf("listener %s, mechanism %s: %w", listener, mech, err)
		}
		mods, err := loadServerContext(cfg, listener, mech, opts, &file)
		if err != nil {
			return nil, fmt.Errorf("listener %s, mechanism %s: %w", listener, mech, err)
		}
		if mech == MechanismOAuthBearer {
			ob, err := OAuthBearerFromJaas(mods)
			if err != nil {
				return nil, fmt.Errorf("listener %s, mechanism %s: %w", listener, mech, err)
			}
			// Kafka's server login makes a token from the module's options at start; one it cannot make fails
			// the start.
			if _, _, err := UnsecuredLoginToken(mods[0].Options, time.Now()); err != nil {
				return nil, fmt.Errorf("listener %s, mechanism %s: An internal error occurred while retrieving token "+
					"from callback handler: %w", listener, mech, err)
			}
			servers[mech] = ob
			continue
		}
		if mech == MechanismGSSAPI {
			g, err := GSSAPIFromJaas(cfg, listener, mods, opts.SystemProps, logger)
			if err != nil {
				return nil, fmt.Errorf("listener %s, mechanism %s: %w", listener, mech, err)
			}
			servers[mech] = g
			continue
		}
		if IsScram(mech) {
			// SCRAM users come from ZooKeeper; the login context only has to exist, as in Kafka.
			creds := opts.Credentials
			if creds == nil {
				creds = NewCredentials()
			}
			sc, err := NewScram(mech, creds)
			if err != nil {
				return nil, err
			}
			servers[mech] = sc.WithTokens(opts.Tokens)
			continue
		}
		p := PlainFromJaas(mods)
		if len(p.users) == 0 {
			logger.Warn("no user_<name> options in the PLAIN login context: every PLAIN login will fail",
				"listener", listener)
		}
		servers[mech] = p
	}
	out.NewServer = func(mech string) kwire.SASLServer {
		if p, ok := servers[mech]; ok {
			return p.NewServer()
		}
		return nil
	}
	return out, nil
}

// Kafka's default classes for a mechanism's server callback handler, login and login callback handler; zkafka
// cannot load others.
var defaultSaslClasses = map[string]map[string]string{
	serverprops.SaslServerCallbackHandlerClass: {
		MechanismPlain:       "org.apache.kafka.common.security.plain.internals.PlainServerCallbackHandler",
		MechanismScramSHA256: "org.apache.kafka.common.security.scram.internals.ScramServerCallbackHandler",
		MechanismScramSHA512: "org.apache.kafka.common.security.scram.internals.ScramServerCallbackHandler",
		MechanismOAuthBearer: "org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler",
		MechanismGSSAPI:      "org.apache.kafka.common.security.authenticator.SaslServerCallbackHandler",
	},
	serverprops.SaslLoginClass: {
		MechanismPlain:       "org.apache.kafka.common.security.authenticator.DefaultLogin",
		MechanismScramSHA256: "org.apache.kafka.common.security.authenticator.DefaultLogin",
		MechanismScramSHA512: "org.apache.kafka.common.security.authenticator.DefaultLogin",
		MechanismOAuthBearer: "org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerRefreshingLogin",
		MechanismGSSAPI:      "org.apache.kafka.common.security.kerberos.KerberosLogin",
	},
	serverprops.SaslLoginCallbackHandlerClass: {
		MechanismPlain:       "org.apache.kafka.common.security.authenticator.AbstractLogin$DefaultLoginCallbackHandler",
		MechanismScramSHA256: "org.apache.kafka.common.security.authenticator.AbstractLogin$DefaultLoginCallbackHandler",
		MechanismScramSHA512: "org.apache.kafka.common.security.authenticator.AbstractLogin$DefaultLoginCallbackHandler",
		MechanismOAuthBearer: "org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredLoginCallbackHandler",
		MechanismGSSAPI:      "org.apache.kafka.common.security.authenticator.AbstractLogin$DefaultLoginCallbackHandler",
	},
}

// checkCallbackClasses refuses a listener.name.<l>.<mechanism>.sasl.{server.callback.handler,login,login.callback.handler}.class
// other than Kafka's default for the mechanism (a custom validator, for example): zkafka would otherwise log
// clients in with the default and ignore the operator's class.
func checkCallbackClasses(cfg *serverprops.Config, listener, mech string) error {
	for _, name := range []string{serverprops.SaslServerCallbackHandlerClass, serverprops.SaslLoginClass,
		serverprops.SaslLoginCallbackHandlerClass} {
		v, ok := cfg.ListenerMechanismConfig(listener, mech, name)
		if v = javastr.Trim(v); !ok || v == "" || v == defaultSaslClasses[name][mech] {
			continue
		}
		return fmt.Errorf("%s: java.lang.ClassNotFoundException: %s",
			serverprops.ConfigPrefix(listener)+strings.ToLower(mech)+"."+name, v)
	}
	return nil
}

// loadServerContext is JaasContext.loadServerContext. *file caches the JAAS file across mechanisms.
func loadServerContext(cfg *serverprops.Config, listener, mech string, opts ListenerOptions, file **jaas.File) ([]jaas.LoginModule, error) {
	if v, ok := cfg.ListenerJaasConfig(listener, mech); ok {
		mods, err := jaas.ParseConfig(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", serverprops.ConfigPrefix(listener)+strings.ToLower(mech)+"."+serverprops.SaslJaasConfig, err)
		}
		if len(mods) != 1 {
			return nil, fmt.Errorf("JAAS config property contains %d login modules, should be 1 module", len(mods))
		}
		return mods, nil
	}
	listenerCtx := strings.ToLower(listener) + "." + ServerContextName
	if *file == nil && opts.JaasFile != "" {
		f, err := jaas.LoadFile(opts.JaasFile, opts.SystemProps)
		if err != nil {
			return nil, err
		}
		*file = f
	}
	if *file != nil {
		if mods, ok := (*file).Contexts[listenerCtx]; ok {
			return mods, nil
		}
		if mods, ok := (*file).Contexts[ServerContextName]; ok {
			return mods, nil
		}
	}
	where := "not set"
	if opts.JaasFile != "" {
		where = opts.JaasFile
	}
	return nil, errors.New("Could not find a '" + ServerContextName + "' or '" + listenerCtx +
		"' entry in the JAAS configuration. System property '" + serverprops.JavaLoginConfig + "' is " + where)
}

// JavaHashSetOrder is new ArrayList<>(new HashSet<>(list)): duplicates dropped, in java.util.HashMap's iteration
// order, which is the order Kafka lists enabled mechanisms in SaslHandshake responses.
func JavaHashSetOrder(list []string) []string {
	// HashSet(Collection) sizes the table to max(size/.75+1, 16), rounded up to a power of two; no resize follows.
	want := max(int(float32(len(list))/0.75)+1, 16)
	n := 1 << bits.Len(uint(want-1))
	buckets := make([][]string, n)
	seen := map[string]bool{}
	for _, s := range list {
		if seen[s] {
			continue
		}
		seen[s] = true
		i := int(javahash.Spread(javahash.String(s)) & uint32(n-1))
		buckets[i] = append(buckets[i], s)
	}
	out := make([]string, 0, len(seen))
	for _, b := range buckets {
		out = append(out, b...)
	}
	return out
}
