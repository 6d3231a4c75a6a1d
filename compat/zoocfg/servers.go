package zoocfg

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"
)

// Role is a server's learner type in a server.N line.
type Role string

const (
	RoleParticipant Role = "participant"
	RoleObserver    Role = "observer"
)

// HostPort is one host:quorumPort:electionPort triple of a server.N line.
type HostPort struct {
	Host         string
	QuorumPort   int
	ElectionPort int
}

// Server is one parsed server.N line: N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort].
type Server struct {
	ID int64
	// Addrs has one entry, or several separated by '|' when multiAddress.enabled is true.
	Addrs []HostPort
	Role  Role
	// ClientHost/ClientPort come from the part after ';'. ClientPort 0 means the line has none; ClientHost is
	// "0.0.0.0" when only a port is given (as Apache).
	ClientHost string
	ClientPort int
	// Raw is the value as written.
	Raw string
}

// Host, QuorumPort and ElectionPort of the first address.
func (s Server) Host() string      { return s.Addrs[0].Host }
func (s Server) QuorumPort() int   { return s.Addrs[0].QuorumPort }
func (s Server) ElectionPort() int { return s.Addrs[0].ElectionPort }

// String renders the server the way QuorumServer.toString does (used in zoo.cfg.dynamic files and `conf`).
func (s Server) String() string {
	var b strings.Builder
	for i, a := range s.Addrs {
		if i > 0 {
			b.WriteByte('|')
		}
		fmt.Fprintf(&b, "%s:%d:%d", delimitHost(a.Host), a.QuorumPort, a.ElectionPort)
	}
	b.WriteString(":" + string(s.Role))
	if s.ClientPort != 0 {
		fmt.Fprintf(&b, ";%s:%d", delimitHost(s.ClientHost), s.ClientPort)
	}
	return b.String()
}

func delimitHost(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

const wrongFormat = " does not have the form server_config or server_config;client_config where " +
	"server_config is the pipe separated list of host:port:port or host:port:port:type and client_config is " +
	"port or host:port"

// javaSplit is String.split with a literal separator: trailing empty strings are dropped.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// hostAndPort is ConfigUtils.getHostAndPort: "[v6]:a:b" keeps the brackets' content as one part.
func hostAndPort(s string) ([]string, error) {
	if !strings.HasPrefix(s, "[") {
		return javaSplit(s, ":"), nil
	}
	i := strings.Index(s, "]")
	if i < 0 {
		return nil, fmt.Errorf("%s starts with '[' but has no matching ']:'", s)
	}
	if i+2 == len(s) {
		return nil, fmt.Errorf("%s doesn't have a port after colon", s)
	}
	if i+2 < len(s) {
		return append([]string{s[1:i]}, javaSplit(s[i+2:], ":")...), nil
	}
	return []string{strings.NewReplacer("[", "", "]", "").Replace(s)}, nil
}

// parsePort is Integer.parseInt followed by InetSocketAddress's range check.
func parsePort(host, s string) (int, error) {
	p, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("Address unresolved: %s:%s", host, s)
	}
	if p < 0 || p > 65535 {
		return 0, fmt.Errorf("port out of range:%d", p)
	}
	return int(p), nil
}

// ParseServer parses the value of a server.<id> line as QuorumPeer.QuorumServer does. The value is used
// untrimmed, as Apache does (a trailing blank after a port is an error there too).
func ParseServer(id int64, value string, multiAddressEnabled bool) (Server, error) {
	s := Server{ID: id, Role: RoleParticipant, Raw: value}
	serverClient := javaSplit(value, ";")
	if len(serverClient) == 0 {
		return s, fmt.Errorf("%s%s", value, wrongFormat)
	}
	if len(serverClient) == 2 {
		cp, err := hostAndPort(serverClient[1])
		if err != nil {
			return s, err
		}
		if len(cp) > 2 || len(cp) == 0 {
			return s, fmt.Errorf("%s%s", value, wrongFormat)
		}
		s.ClientHost = "0.0.0.0"
		if len(cp) == 2 {
			s.ClientHost = cp[0]
		}
		port, err := parsePort(s.ClientHost, cp[len(cp)-1])
		if err != nil {
			return s, err
		}
		s.ClientPort = port
	}
	addrs := javaSplit(serverClient[0], "|")
	if !multiAddressEnabled && len(addrs) > 1 {
		return s, fmt.Errorf("Multiple address feature is disabled, but multiple addresses were specified for sid %d", id)
	}
	var role Role
	for _, a := range addrs {
		parts, err := hostAndPort(a)
		if err != nil {
			return s, err
		}
		if len(serverClient) > 2 || len(parts) < 3 || len(parts) > 4 {
			return s, fmt.Errorf("%s%s", value, wrongFormat)
		}
		qp, err := parsePort(parts[0], parts[1])
		if err != nil {
			return s, err
		}
		ep, err := parsePort(parts[0], parts[2])
		if err != nil {
			return s, err
		}
		if qp == ep {
			return s, fmt.Errorf("Client and election port must be different! Please update the configuration file on server.%d", id)
		}
		if len(parts) == 4 {
			r, err := parseRole(parts[3])
			if err != nil {
				return s, err
			}
			if role == "" {
				role = r
			} else if role != r {
				return s, fmt.Errorf("Multiple addresses should have similar roles: %s vs %s", role, r)
			}
		}
		s.Addrs = append(s.Addrs, HostPort{Host: parts[0], QuorumPort: qp, ElectionPort: ep})
	}
	if len(s.Addrs) == 0 {
		return s, fmt.Errorf("%s%s", value, wrongFormat)
	}
	if role != "" {
		s.Role = role
	}
	return s, nil
}

func parseRole(v string) (Role, error) {
	switch strings.ToLower(javastr.Trim(v)) {
	case "observer":
		return RoleObserver, nil
	case "participant":
		return RoleParticipant, nil
	}
	return "", fmt.Errorf("Unrecognised peertype: %s", v)
}

// quorum is what QuorumMaj / QuorumHierarchical extract from server.*, group.*, weight.* and version keys.
type quorum struct {
	servers      []Server
	groups       map[int64][]int64
	weights      map[int64]int64
	version      int64
	hasVersion   bool
	hierarchical bool
}

// parseQuorum reads the membership keys of props (already deduplicated, last wins). In the dynamic file
// (dynamic=true) any other key is an error, as in parseDynamicConfig.
func parseQuorum(props []Property, dynamic, multiAddressEnabled bool, log *slog.Logger) (*quorum, error) {
	q := &quorum{}
	for _, p := range props {
		key := javastr.Trim(p.Key)
		switch {
		case strings.HasPrefix(key, "group") || strings.HasPrefix(key, "weight"):
			q.hierarchical = true
		case dynamic && !strings.HasPrefix(key, "server.") && key != "version":
			return nil, fmt.Errorf("Unrecognised parameter: %s", key)
		}
	}
	for _, p := range props {
		key, value := p.Key, p.Value // QuorumMaj uses them untrimmed
		switch {
		case strings.HasPrefix(key, "server."):
			idStr := key[strings.IndexByte(key, '.')+1:]
			id, err := strconv.ParseInt(idStr, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: server id %q is not a number", key, idStr)
			}
			s, err := ParseServer(id, value, multiAddressEnabled)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			q.servers = append(q.servers, s)
		case key == "version":
			v, err := strconv.ParseInt(value, 16, 64)
			if err != nil {
				return nil, fmt.Errorf("version: %q is not a hex number", value)
			}
			q.version, q.hasVersion = v, true
		case q.hierarchical && strings.HasPrefix(key, "group."):
			gid, err := strconv.ParseInt(key[len("group."):], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: group id is not a number", key)
			}
			var members []int64
			for _, m := range javaSplit(value, ":") {
				sid, err := strconv.ParseInt(m, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("%s: server id %q is not a number", key, m)
				}
				members = append(members, sid)
			}
			if q.groups == nil {
				q.groups = make(map[int64][]int64)
			}
			q.groups[gid] = members
		case q.hierarchical && strings.HasPrefix(key, "weight."):
			sid, err := strconv.ParseInt(key[len("weight."):], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: server id is not a number", key)
			}
			w, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: weight %q is not a number", key, value)
			}
			if q.weights == nil {
				q.weights = make(map[int64]int64)
			}
			q.weights[sid] = w
		}
	}
	// "server.1" and "server.01" name the same id; Apache's map silently keeps one, we keep the later line.
	seen := make(map[int64]int, len(q.servers))
	uniq := q.servers[:0]
	for _, s := range q.servers {
		if i, ok := seen[s.ID]; ok {
			log.Warn("server id defined twice, keeping the later line", "id", s.ID)
			uniq[i] = s
			continue
		}
		seen[s.ID] = len(uniq)
		uniq = append(uniq, s)
	}
	q.servers = uniq
	sort.Slice(q.servers, func(i, j int) bool { return q.servers[i].ID < q.servers[j].ID })
	if q.hierarchical {
		// Hierarchical quorums give every server a weight, 1 unless set (QuorumHierarchical).
		for _, s := range q.servers {
			if _, ok := q.weights[s.ID]; !ok {
				if q.weights == nil {
					q.weights = make(map[int64]int64)
				}
				q.weights[s.ID] = 1
			}
		}
	}
	return q, nil
}

func (q *quorum) voting() int {
	n := 0
	for _, s := range q.servers {
		if s.Role == RoleParticipant {
			n++
		}
	}
	return n
}

// versionFromFilename is QuorumPeerConfig.getVersionFromFilename: the hex suffix after the last '.'.
func versionFromFilename(name string) (int64, bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(name[i+1:], 16, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// readNextDynamicFile loads the ".next" file as QuorumPeerConfig.parse does: its server lines and version as a
// QuorumMaj or QuorumHierarchical, without parseDynamicConfig's checks; no file (or one that cannot be read) is no
// config, a file that does not parse stops the start.
func readNextDynamicFile(path string, multiAddress bool, log *slog.Logger) (*QuorumVerifier, error) {
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			log.Warn("NextQuorumVerifier is initiated to null", "file", path, "err", err)
		}
		return nil, nil
	}
	defer f.Close()
	props, err := ParseProperties(f)
	if err != nil {
		log.Warn("NextQuorumVerifier is initiated to null", "file", path, "err", err)
		return nil, nil
	}
	q, err := parseQuorum(dedupe(props), false, multiAddress, log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &QuorumVerifier{Servers: q.servers, Groups: q.groups, Weights: q.weights, Version: q.version}, nil
}

// readDynamicFile loads the server list file named by dynamicConfigFile.
func readDynamicFile(path string) ([]Property, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dynamicConfigFile: %w", err)
	}
	defer f.Close()
	props, err := ParseProperties(f)
	if err != nil {
		return nil, fmt.Errorf("dynamicConfigFile %s: %w", path, err)
	}
	for _, p := range props {
		if p.Key == "version" {
			return nil, fmt.Errorf("dynamicConfigFile %s: dynamic file shouldn't have version inside", path)
		}
	}
	if v, ok := versionFromFilename(filepath.Base(path)); ok {
		props = append(props, Property{Key: "version", Value: strconv.FormatInt(v, 16)})
	}
	return props, nil
}
