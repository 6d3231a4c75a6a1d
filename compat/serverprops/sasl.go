package serverprops

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"
)

// JavaLoginConfig is the JVM system property naming the JAAS file; Kafka's scripts pass it in KAFKA_OPTS as
// -Djava.security.auth.login.config=/path/kafka_server_jaas.conf.
const JavaLoginConfig = "java.security.auth.login.config"

// Config keys read per listener and mechanism by a SASL listener.
const (
	SaslJaasConfig           = "sasl.jaas.config"
	SaslServerMaxReceiveSize = "sasl.server.max.receive.size"

	SaslServerCallbackHandlerClass = "sasl.server.callback.handler.class"
	SaslLoginClass                 = "sasl.login.class"
	SaslLoginCallbackHandlerClass  = "sasl.login.callback.handler.class"
)

// JVMSystemProperties returns the -Dname=value options in KAFKA_OPTS-style text (words split on white space,
// single and double quotes grouping, as a shell passes them to java). -Dname alone is the empty string.
func JVMSystemProperties(opts string) map[string]string {
	out := map[string]string{}
	for _, w := range shellWords(opts) {
		if !strings.HasPrefix(w, "-D") || len(w) == 2 {
			continue
		}
		k, v, _ := strings.Cut(w[2:], "=")
		out[k] = v
	}
	return out
}

func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	in := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// listenerOverride is a listener.name.<lower-case listener>.<name> value without falling back to <name>.
func (c *Config) listenerOverride(listener, name string) (string, bool) {
	key := ConfigPrefix(listener) + name
	for _, m := range []map[string]string{c.dynBroker, c.dynDefault, c.static} {
		if v, ok := m[key]; ok {
			return v, true
		}
	}
	return "", false
}

// ListenerSaslMechanisms is sasl.enabled.mechanisms as a listener sees it (listener.name.<l>.sasl.enabled.mechanisms
// over the broker-wide list).
func (c *Config) ListenerSaslMechanisms(listener string) []string {
	return c.listenerList(listener, SaslEnabledMechanisms)
}

// ListenerJaasConfig is the JAAS configuration a listener uses for one mechanism when given in server.properties:
// listener.name.<l>.<mechanism>.sasl.jaas.config (JaasContext.loadServerContext). A broker-wide sasl.jaas.config is
// ignored by Kafka brokers (with a warning); ok is false when there is none and the JAAS file applies.
func (c *Config) ListenerJaasConfig(listener, mechanism string) (value string, ok bool) {
	return c.listenerOverride(listener, strings.ToLower(mechanism)+"."+SaslJaasConfig)
}

// ListenerMechanismConfig is a per-listener, per-mechanism SASL setting, listener.name.<l>.<mechanism>.<name>, which
// Kafka reads only in that form (the callback handler and login classes).
func (c *Config) ListenerMechanismConfig(listener, mechanism, name string) (string, bool) {
	return c.listenerOverride(listener, strings.ToLower(mechanism)+"."+name)
}

// ListenerMaxReauthMs is connections.max.reauth.ms for a listener and mechanism
// (SaslChannelBuilder.createConnectionsMaxReauthMsMap): listener.name.<l>.<mechanism>.connections.max.reauth.ms, else
// listener.name.<l>.connections.max.reauth.ms, else the broker-wide value.
func (c *Config) ListenerMaxReauthMs(listener, mechanism string) (int64, error) {
	for _, name := range []string{strings.ToLower(mechanism) + "." + ConnectionsMaxReauthMs, ConnectionsMaxReauthMs} {
		if v, ok := c.listenerOverride(listener, name); ok {
			n, err := strconv.ParseInt(javastr.Trim(v), 10, 64)
			if err != nil {
				return 0, &ConfigError{Key: ConfigPrefix(listener) + name, Message: fmt.Sprintf(
					"Invalid value %s for configuration %s: Not a number of type LONG", v, name)}
			}
			return n, nil
		}
	}
	n, _ := c.Long(ConnectionsMaxReauthMs)
	return n, nil
}

// ListenerSaslMaxReceiveSize is sasl.server.max.receive.size as a listener sees it.
func (c *Config) ListenerSaslMaxReceiveSize(listener string) (int32, error) {
	if v, ok := c.listenerOverride(listener, SaslServerMaxReceiveSize); ok {
		n, err := strconv.ParseInt(javastr.Trim(v), 10, 32)
		if err != nil {
			return 0, &ConfigError{Key: ConfigPrefix(listener) + SaslServerMaxReceiveSize, Message: fmt.Sprintf(
				"Invalid value %s for configuration %s: Not a number of type INT", v, SaslServerMaxReceiveSize)}
		}
		return int32(n), nil
	}
	n, _ := c.Int(SaslServerMaxReceiveSize)
	return n, nil
}
