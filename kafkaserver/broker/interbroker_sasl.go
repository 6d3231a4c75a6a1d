package broker

import (
	"errors"
	"fmt"
	"strings"

	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/sasl"
)

// interBrokerSASL is the SASL mechanism of the broker's own client (controller requests, ControlledShutdown)
// when the inter-broker listener is SASL_PLAINTEXT or SASL_SSL, nil otherwise. As Kafka's inter-broker channel
// builder does (JaasContext.Type.SERVER), it logs in with the username and password options of the listener's
// server login context: listener.name.<l>.<mechanism>.sasl.jaas.config, else the JAAS file's "<l>.KafkaServer" or
// "KafkaServer" section.
func interBrokerSASL(cfg *serverprops.Config, jvm map[string]string) (kgosasl.Mechanism, error) {
	if p := cfg.InterBrokerSecurityProtocol; p != serverprops.SaslPlaintext && p != serverprops.SaslSSL {
		return nil, nil
	}
	mech := cfg.SaslMechanismInterBrokerProtocol
	if !sasl.Implemented(mech) {
		return nil, fmt.Errorf("%s=%s: zkafka implements only %s, %s, %s, %s and %s", serverprops.SaslMechanismInterBroker, mech,
			sasl.MechanismPlain, sasl.MechanismScramSHA256, sasl.MechanismScramSHA512, sasl.MechanismOAuthBearer,
			sasl.MechanismGSSAPI)
	}
	mods, err := serverLoginContext(cfg, cfg.InterBrokerListenerName, mech, jvm)
	if err != nil {
		return nil, fmt.Errorf("inter-broker SASL on listener %s: %w", cfg.InterBrokerListenerName, err)
	}
	if mech == sasl.MechanismOAuthBearer {
		return interBrokerOAuthBearer(cfg.InterBrokerListenerName, mods)
	}
	if mech == sasl.MechanismGSSAPI {
		m, err := sasl.GSSAPIClientFromJaas(cfg, cfg.InterBrokerListenerName, mods, jvm)
		if err != nil {
			return nil, fmt.Errorf("inter-broker SASL on listener %s: %w", cfg.InterBrokerListenerName, err)
		}
		return m, nil
	}
	user, okU := jaas.Option(mods, "username", "")
	pass, okP := jaas.Option(mods, "password", "")
	if !okU || !okP {
		return nil, fmt.Errorf("inter-broker SASL on listener %s: the %s login module has no username and "+
			"password options", cfg.InterBrokerListenerName, mech)
	}
	switch mech {
	case sasl.MechanismScramSHA256:
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	case sasl.MechanismScramSHA512:
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	}
	return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
}

// interBrokerOAuthBearer logs the broker's clients in with an unsecured token made from the login module's
// unsecuredLogin* options, as Kafka's OAuthBearerRefreshingLogin does; a fresh token for each connection stands
// for Kafka's refresh before expiry. A module without options has no token, and Kafka's inter-broker connections
// would then fail one by one: that is refused at start instead.
func interBrokerOAuthBearer(listener string, mods []jaas.LoginModule) (kgosasl.Mechanism, error) {
	if len(mods) != 1 {
		return nil, fmt.Errorf("inter-broker SASL on listener %s: JAAS login context has %d login modules, should be 1", listener, len(mods))
	}
	m, ok, err := sasl.UnsecuredLoginClient(mods[0].Options)
	if err == nil && !ok {
		err = errors.New("no unsecuredLogin options: the login has no token for the broker's own connections")
	}
	if err != nil {
		return nil, fmt.Errorf("inter-broker SASL on listener %s: %w", listener, err)
	}
	return m, nil
}

// serverLoginContext finds the login modules of a listener's server context as JaasContext.loadServerContext.
func serverLoginContext(cfg *serverprops.Config, listener, mech string, jvm map[string]string) ([]jaas.LoginModule, error) {
	if v, ok := cfg.ListenerJaasConfig(listener, mech); ok {
		mods, err := jaas.ParseConfig(v)
		if err != nil {
			return nil, err
		}
		if len(mods) != 1 {
			return nil, fmt.Errorf("JAAS config property contains %d login modules, should be 1 module", len(mods))
		}
		return mods, nil
	}
	path := jvm[serverprops.JavaLoginConfig]
	listenerCtx := strings.ToLower(listener) + "." + sasl.ServerContextName
	if path != "" {
		f, err := jaas.LoadFile(path, jvm)
		if err != nil {
			return nil, err
		}
		for _, name := range []string{listenerCtx, sasl.ServerContextName} {
			if mods, ok := f.Contexts[name]; ok {
				return mods, nil
			}
		}
	}
	return nil, errors.New("no '" + sasl.ServerContextName + "' or '" + listenerCtx + "' entry in the JAAS configuration")
}
