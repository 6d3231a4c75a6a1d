package serverprops

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"
)

// Security protocols (org.apache.kafka.common.security.auth.SecurityProtocol).
const (
	Plaintext     = "PLAINTEXT"
	SSL           = "SSL"
	SaslPlaintext = "SASL_PLAINTEXT"
	SaslSSL       = "SASL_SSL"
)

var securityProtocols = []string{Plaintext, SSL, SaslPlaintext, SaslSSL}

// Listener is one entry of listeners or advertised.listeners (kafka.cluster.EndPoint).
type Listener struct {
	Name             string // normalised to upper case
	Host             string // "" when the URI had no host: bind all interfaces / advertise the canonical host name
	Port             int32
	SecurityProtocol string
}

// Address is host:port for net.Listen ("" host binds every interface; IPv6 gets brackets).
func (l Listener) Address() string {
	return net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
}

// String is EndPoint.connectionString: NAME://host:port, NAME://[v6]:port, or NAME://:port without a host.
func (l Listener) String() string {
	if l.Host == "" {
		return fmt.Sprintf("%s://:%d", l.Name, l.Port)
	}
	return l.Name + "://" + l.Address()
}

// ConfigPrefix is ListenerName.configPrefix: per-listener overrides are listener.name.<lower-case name>.<config>.
func ConfigPrefix(listenerName string) string {
	return "listener.name." + strings.ToLower(listenerName) + "."
}

// uriParse is EndPoint's uriParseExp, anchored at both ends as Scala's pattern match is.
var uriParse = regexp.MustCompile(`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$`)

func parseEndPoint(s string, protoMap map[string]string) (Listener, error) {
	m := uriParse.FindStringSubmatch(s)
	if m == nil {
		return Listener{}, fmt.Errorf("Unable to parse %s to a broker endpoint", s)
	}
	name := strings.ToUpper(m[1])
	port, err := strconv.ParseInt(m[3], 10, 32)
	if err != nil {
		return Listener{}, fmt.Errorf("For input string: \"%s\"", m[3])
	}
	proto, ok := protoMap[name]
	if !ok {
		return Listener{}, fmt.Errorf("No security protocol defined for listener %s", name)
	}
	return Listener{Name: name, Host: m[2], Port: int32(port), SecurityProtocol: proto}, nil
}

// ParseListeners is CoreUtils.listenerListToEndPoints: a comma-separated list of NAME://host:port, each name
// mapped through protoMap; names must be distinct and, when requireDistinctPorts, so must non-zero ports.
func ParseListeners(key, value string, protoMap map[string]string, requireDistinctPorts bool) ([]Listener, error) {
	var out []Listener
	for _, s := range parseCsvList(value) {
		l, err := parseEndPoint(s, protoMap)
		if err != nil {
			return nil, &ConfigError{Key: key, Message: fmt.Sprintf(
				"Error creating broker listeners from '%s': %s", value, err.Error())}
		}
		out = append(out, l)
	}
	names := map[string]bool{}
	ports := map[int32]bool{}
	for _, l := range out {
		if names[l.Name] {
			return nil, requirement(key, "Each listener must have a different name, listeners: "+value)
		}
		names[l.Name] = true
		if requireDistinctPorts && l.Port != 0 {
			if ports[l.Port] {
				return nil, requirement(key, "Each listener must have a different port, listeners: "+value)
			}
			ports[l.Port] = true
		}
	}
	return out, nil
}

// ParseSecurityProtocolMap parses listener.security.protocol.map (NAME:PROTOCOL,...); names are upper-cased,
// protocols must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL (any case).
func ParseSecurityProtocolMap(value string) (map[string]string, error) {
	raw, err := parseCsvMap(value)
	if err != nil {
		return nil, &ConfigError{Key: ListenerSecurityProtocolMapProp, Message: fmt.Sprintf(
			"Error parsing configuration property '%s': %s", ListenerSecurityProtocolMapProp, err.Error())}
	}
	out := make(map[string]string, len(raw))
	for _, kv := range raw {
		proto, err := securityProtocol(kv[1], ListenerSecurityProtocolMapProp)
		if err != nil {
			return nil, err
		}
		out[strings.ToUpper(kv[0])] = proto
	}
	return out, nil
}

func securityProtocol(name, key string) (string, error) {
	up := strings.ToUpper(name)
	for _, p := range securityProtocols {
		if p == up {
			return p, nil
		}
	}
	return "", &ConfigError{Key: key, Message: fmt.Sprintf("Invalid security protocol `%s` defined in %s", name, key)}
}

// parseCsvList is CoreUtils.parseCsvList: split on commas with surrounding whitespace, drop empty entries.
func parseCsvList(s string) []string {
	var out []string
	for _, p := range commaWithWhitespace.Split(s, -1) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseCsvMap is CoreUtils.parseCsvMap: k:v pairs split at the last ':' (so keys may hold colons), trimmed; the
// order of entries is kept (later duplicates win when the caller builds a map).
func parseCsvMap(s string) ([][2]string, error) {
	if s == "" {
		return nil, nil
	}
	var out [][2]string
	for _, kv := range javaSplit(commaWithWhitespace, s) {
		i := strings.LastIndex(kv, ":")
		if i < 0 {
			return nil, fmt.Errorf("begin 0, end -1, length %d", len(kv))
		}
		out = append(out, [2]string{javastr.Trim(kv[:i]), javastr.Trim(kv[i+1:])})
	}
	return out, nil
}
