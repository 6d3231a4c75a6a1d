package admin

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// command is one AdminServer command (Apache's admin/Commands.java).
type command struct {
	names          []string // primary name first, then aliases
	serverRequired bool     // answers the not-serving error when the server is down
	run            func(src Source, kwargs map[string]string, resp *jobj)
}

// commands is Apache 3.8's command table.
var commands = []command{
	{[]string{"connection_stat_reset", "crst"}, true, func(src Source, _ map[string]string, _ *jobj) {
		src.ResetConnectionStats()
	}},
	{[]string{"configuration", "conf", "config"}, true, func(src Source, _ map[string]string, r *jobj) {
		confJSON(src, r)
	}},
	{[]string{"connections", "cons"}, true, func(src Source, _ map[string]string, r *jobj) {
		plain, secure := splitSecure(src.Connections())
		r.put("connections", connsJSON(plain, false))
		r.put("secure_connections", connsJSON(secure, false))
	}},
	{[]string{"hash"}, true, func(src Source, _ map[string]string, r *jobj) {
		var ds []any
		for _, d := range src.DigestLog() {
			ds = append(ds, jobj{{"zxid", d.Zxid}, {"digest", d.Digest}, {"digest_version", int64(d.DigestVersion)}})
		}
		r.put("digests", nonNil(ds))
	}},
	{[]string{"dirs"}, true, func(src Source, _ map[string]string, r *jobj) {
		r.put("datadir_size", src.DataDirSize())
		r.put("logdir_size", src.LogDirSize())
	}},
	{[]string{"dump"}, true, func(src Source, _ map[string]string, r *jobj) {
		expiry := sessionExpiryMap(src)
		ex := jobj{}
		for _, t := range sortedKeys(expiry) {
			ex = append(ex, jfield{strconv.FormatInt(t, 10), sorted(expiry[t])})
		}
		r.put("expiry_time_to_session_ids", ex)
		eph := src.EphemeralsBySession()
		ep := jobj{}
		for _, id := range sortedKeys(eph) {
			ep = append(ep, jfield{strconv.FormatInt(id, 10), sorted(eph[id])})
		}
		r.put("session_id_to_ephemeral_paths", ep)
	}},
	{[]string{"environment", "env", "envi"}, false, func(src Source, _ map[string]string, r *jobj) {
		for _, kv := range src.Env() {
			r.put(kv.Key, kv.Value)
		}
	}},
	{[]string{"get_trace_mask", "gtmk"}, false, func(src Source, _ map[string]string, r *jobj) {
		r.put("tracemask", traceMask(src))
	}},
	{[]string{"initial_configuration", "icfg"}, true, func(src Source, _ map[string]string, r *jobj) {
		var cfg any // Apache answers null when it has no initial config
		if ic, ok := src.(InitialConfiger); ok {
			cfg = ic.InitialConfig()
		}
		r.put("initial_configuration", cfg)
	}},
	{[]string{"is_read_only", "isro"}, true, func(src Source, _ map[string]string, r *jobj) {
		r.put("read_only", src.ReadOnly())
	}},
	{[]string{"last_snapshot", "lsnp"}, true, func(src Source, _ map[string]string, r *jobj) {
		zxid, ts := int64(-1), int64(-1)
		if si, ok := src.(SnapshotInfoer); ok {
			if z, t, ok := si.LastSnapshot(); ok {
				zxid, ts = z, t
			}
		}
		r.put("zxid", javaHex(zxid))
		r.put("timestamp", ts)
	}},
	{[]string{"leader", "lead"}, true, func(src Source, _ map[string]string, r *jobj) {
		// A standalone server is not a QuorumZooKeeperServer.
		r.put("error", "server is not initialized")
	}},
	{[]string{"monitor", "mntr"}, false, func(src Source, _ map[string]string, r *jobj) {
		for _, v := range MonitorValues(src) {
			r.put(v.Key, v.Value)
		}
	}},
	{[]string{"observer_connection_stat_reset", "orst"}, true, func(src Source, _ map[string]string, _ *jobj) {
		if f, ok := src.(ObserverFeeder); ok {
			f.ResetObserverStats()
		}
	}},
	{[]string{"ruok"}, true, func(Source, map[string]string, *jobj) {}},
	{[]string{"set_trace_mask", "stmk"}, false, func(src Source, kw map[string]string, r *jobj) {
		s, ok := kw["traceMask"]
		if !ok {
			r.put("error", "setTraceMask requires long traceMask argument")
			return
		}
		mask, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			r.put("error", "setTraceMask requires long traceMask argument, got "+s)
			return
		}
		if tm, ok := src.(TraceMasker); ok {
			tm.SetTraceMask(mask)
		}
		r.put("tracemask", mask)
	}},
	{[]string{"server_stats", "srvr"}, true, func(src Source, _ map[string]string, r *jobj) {
		srvrJSON(src, r)
	}},
	{[]string{"stats", "stat"}, true, func(src Source, _ map[string]string, r *jobj) {
		srvrJSON(src, r)
		plain, secure := splitSecure(src.Connections())
		r.put("connections", connsJSON(plain, true))
		r.put("secure_connections", connsJSON(secure, true))
	}},
	{[]string{"stat_reset", "srst"}, true, func(src Source, _ map[string]string, _ *jobj) {
		src.ResetStats()
	}},
	{[]string{"observers", "obsr"}, true, func(src Source, _ map[string]string, r *jobj) {
		// SyncedObserverConsCommand: a leader's observing learners or a follower's observer master's observers.
		var infos []ObserverInfo
		if f, ok := src.(ObserverFeeder); ok {
			infos = f.ObserversInfo()
		}
		// Apache collects them in a HashSet: no order of its own; ours by sid.
		slices.SortFunc(infos, func(a, b ObserverInfo) int { return cmp.Compare(a.Sid, b.Sid) })
		list := make([]any, 0, len(infos))
		for _, o := range infos {
			list = append(list, jobj{
				{"remote_socket_address", o.RemoteAddress},
				{"sid", o.Sid},
				{"established", millis(o.Established)},
				{"queued_packets", o.QueuedPackets},
				{"queued_packets_size", o.QueuedPacketsSize},
				{"packets_received", o.PacketsReceived},
				{"packets_sent", o.PacketsSent},
				{"requests", o.Requests},
				{"last_zxid", o.LastZxid},
			})
		}
		r.put("synced_observers", int64(len(infos)))
		r.put("observers", list)
	}},
	{[]string{"system_properties", "sysp"}, false, func(src Source, _ map[string]string, r *jobj) {
		// Apache lists the JVM's system properties sorted by name; a Go
		// server's counterpart is its environment facts.
		env := slices.Clone(src.Env())
		slices.SortStableFunc(env, func(a, b KV) int { return strings.Compare(a.Key, b.Key) })
		for _, kv := range env {
			r.put(kv.Key, kv.Value)
		}
	}},
	{[]string{"voting_view"}, true, func(_ Source, _ map[string]string, r *jobj) {
		r.put("current_config", jobj{})
	}},
	{[]string{"watches", "wchc"}, true, func(src Source, _ map[string]string, r *jobj) {
		m := src.WatchesBySession()
		o := jobj{}
		for _, id := range sortedKeys(m) {
			o = append(o, jfield{strconv.FormatInt(id, 10), sorted(m[id])})
		}
		r.put("session_id_to_watched_paths", o)
	}},
	{[]string{"watches_by_path", "wchp"}, true, func(src Source, _ map[string]string, r *jobj) {
		m := src.WatchesByPath()
		o := jobj{}
		for _, p := range sortedKeys(m) {
			o = append(o, jfield{p, sorted(m[p])})
		}
		r.put("path_to_session_ids", o)
	}},
	{[]string{"watch_summary", "wchs"}, true, func(src Source, _ map[string]string, r *jobj) {
		conns, paths, total := src.WatchSummary()
		r.put("num_connections", int64(conns))
		r.put("num_paths", int64(paths))
		r.put("num_total_watches", int64(total))
	}},
	{[]string{"zabstate"}, false, func(_ Source, _ map[string]string, r *jobj) {
		r.put("voting", false)
		r.put("zabstate", "")
	}},
}

// CommandNames returns the primary names of the admin commands, sorted, as
// GET /commands lists them.
func CommandNames() []string {
	names := make([]string, 0, len(commands))
	for _, c := range commands {
		names = append(names, c.names[0])
	}
	slices.Sort(names)
	return names
}

func lookupCommand(name string) *command {
	for i := range commands {
		if slices.Contains(commands[i].names, name) {
			return &commands[i]
		}
	}
	return nil
}

// RunCommand runs an admin command by name or alias and returns its response
// object as Apache's CommandResponse.toMap orders it: the command's fields,
// then "command" and "error" (a field the command set itself keeps its place).
func RunCommand(src Source, name string, kwargs map[string]string) string {
	return jacksonJSON(runCommand(src, name, kwargs))
}

func runCommand(src Source, name string, kwargs map[string]string) jobj {
	cmd := lookupCommand(name)
	if cmd == nil {
		return jobj{{"command", name}, {"error", "Unknown command: " + name}}
	}
	if cmd.serverRequired && !src.ServingRequests() {
		return jobj{{"command", name}, {"error", notServing}}
	}
	data := jobj{}
	cmd.run(src, kwargs, &data)
	out := slices.Clone(data)
	out.put("command", cmd.names[0])
	if _, ok := data.get("error"); !ok {
		out.put("error", nil)
	}
	return out
}

// confKeys maps conf's lines to ZooKeeperServerConf.toMap's keys, in its
// order, and says which are numbers.
var confKeys = []struct {
	line, json string
	number     bool
}{
	{"clientPort", "client_port", true},
	{"dataDir", "data_dir", false},
	{"dataLogDir", "data_log_dir", false},
	{"tickTime", "tick_time", true},
	{"maxClientCnxns", "max_client_cnxns", true},
	{"minSessionTimeout", "min_session_timeout", true},
	{"maxSessionTimeout", "max_session_timeout", true},
	{"serverId", "server_id", true},
	{"clientPortListenBacklog", "client_port_listen_backlog", true},
}

func confJSON(src Source, r *jobj) {
	lines := map[string]string{}
	for _, kv := range src.Conf() {
		lines[kv.Key] = kv.Value
	}
	for _, k := range confKeys {
		v, ok := lines[k.line]
		if !ok {
			continue
		}
		if k.number {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				r.put(k.json, n)
				continue
			}
		}
		r.put(k.json, v)
	}
}

// srvrJSON is SrvrCommand's fields; server_stats is Jackson's rendering of
// ServerStats's getters, in the order Apache 3.8 prints them.
func srvrJSON(src Source, r *jobj) {
	vals := map[string]any{}
	for _, v := range MonitorValues(src) {
		vals[v.Key] = v.Value
	}
	var extra map[string]any
	if m, ok := src.(ServerMetricser); ok {
		extra = m.ServerMetrics()
	}
	clientResponse := func() jobj {
		return jobj{
			{"last_buffer_size", vals["last_client_response_size"]},
			{"min_buffer_size", vals["min_client_response_size"]},
			{"max_buffer_size", vals["max_client_response_size"]},
		}
	}
	minLat, avgLat, maxLat := src.Latency()
	stats := jobj{
		{"packets_sent", src.PacketsSent()},
		{"packets_received", src.PacketsReceived()},
		{"fsync_threshold_exceed_count", int64Of(extra["fsync_threshold_exceed_count"], 0)},
		{"client_response_stats", clientResponse()},
		{"data_dir_size", src.DataDirSize()},
		{"log_dir_size", src.LogDirSize()},
		{"provider_null", false},
		{"server_state", src.ServerState()},
		{"last_processed_zxid", src.LastZxid()},
		{"outstanding_requests", src.Outstanding()},
		{"avg_latency", avgLat},
		{"max_latency", maxLat},
		{"min_latency", minLat},
		{"num_alive_client_connections", int64(len(src.Connections()))},
		{"uptime", src.Uptime().Milliseconds()},
		{"auth_failed_count", vals["auth_failed_count"]},
		{"non_mtlsremote_conn_count", vals["non_mtls_remote_conn_count"]},
		{"non_mtlslocal_conn_count", vals["non_mtls_local_conn_count"]},
	}
	r.put("version", src.Version())
	r.put("read_only", src.ReadOnly())
	r.put("server_stats", stats)
	r.put("client_response", clientResponse())
	if src.ServerState() == "leader" {
		last, lo, hi := proposalSizes(src)
		r.put("proposal_stats", jobj{{"last_buffer_size", last}, {"min_buffer_size", lo}, {"max_buffer_size", hi}})
	}
	r.put("node_count", int64(src.NodeCount()))
}

// connsJSON is ServerCnxn.getConnectionInfo for each connection.
func connsJSON(conns []ConnInfo, brief bool) []any {
	out := make([]any, 0, len(conns))
	for _, c := range conns {
		o := jobj{
			{"remote_socket_address", jacksonAddr(c.Remote)},
			{"interest_ops", int64(interestOps(c))},
			{"outstanding_requests", c.Queued},
			{"packets_received", c.Received},
			{"packets_sent", c.Sent},
		}
		if !brief {
			o = append(o,
				jfield{"session_id", c.SessionID},
				jfield{"last_operation", lastOp(c)},
				jfield{"established", millis(c.Established)},
				jfield{"session_timeout", int64(c.Timeout)},
				jfield{"last_cxid", c.LastCxid},
				jfield{"last_zxid", c.LastZxid},
				jfield{"last_response_time", millis(c.LastResponse)},
				jfield{"last_latency", c.LastLatency},
				jfield{"min_latency", c.MinLatency},
				jfield{"avg_latency", int64(c.AvgLatency)},
				jfield{"max_latency", c.MaxLatency})
		}
		out = append(out, o)
	}
	return out
}

// jacksonAddr turns Java's InetSocketAddress.toString ("host/ip:port" or
// "/ip:port") into Jackson's rendering ("ip:port", "[v6]:port").
func jacksonAddr(remote string) string {
	if i := strings.LastIndexByte(remote, '/'); i >= 0 {
		remote = remote[i+1:]
	}
	host, port, ok := cutLast(remote, ':')
	if ok && strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return "[" + host + "]:" + port
	}
	return remote
}

func cutLast(s string, sep byte) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

func nonNil(a []any) []any {
	if a == nil {
		return []any{}
	}
	return a
}

// splitSecure separates the client port's connections from the secure client port's, as Apache lists each
// factory's apart.
func splitSecure(cs []ConnInfo) (plain, secure []ConnInfo) {
	for _, c := range cs {
		if c.Secure {
			secure = append(secure, c)
		} else {
			plain = append(plain, c)
		}
	}
	return plain, secure
}

// sessionExpiryMap is ZooKeeperServer.getSessionExpiryMap: empty on a learner (LearnerSessionTracker keeps no expiry);
// on a leader with local sessions the local sets overlaid by the global ones at the same times
// (LeaderSessionTracker's putAll).
func sessionExpiryMap(src Source) map[int64][]int64 {
	st, ok := src.(SessionTrackers)
	if !ok {
		return src.SessionExpiry()
	}
	if _, learner := st.LearnerSessions(); learner {
		return map[int64][]int64{}
	}
	out, _, _ := st.LocalSessionExpiry()
	if out == nil {
		out = map[int64][]int64{}
	}
	for t, ids := range src.SessionExpiry() {
		out[t] = ids
	}
	return out
}
