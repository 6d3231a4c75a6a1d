package admin

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/compat/javafmt"
	"github.com/zkafka/zkafka/zkserver/session"
)

// Options tunes the four-letter words.
type Options struct {
	// Whitelist says whether a word may run (4lw.commands.whitelist). nil
	// means Apache's default: srvr only. See ParseWhitelist.
	Whitelist func(word string) bool
	// LegacySrvrDate prints srvr/stat's build date as MM/dd/yyyy HH:mm GMT,
	// the 3.5/3.6 form go-zookeeper's FLWSrvr regex requires.
	LegacySrvrDate bool
	Logger         *slog.Logger
	// Location is the zone dump prints expiry dates in (Java's default
	// zone); nil means time.Local.
	Location *time.Location
}

// notServing is Apache's AbstractFourLetterCommand.ZK_NOT_SERVING.
const notServing = "This ZooKeeper instance is not currently serving requests"

// words are the four-letter words Apache 3.8 knows (FourLetterCommands).
var words = []string{
	"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srvr", "srst", "stat",
	"wchc", "wchp", "wchs", "mntr", "isro", "hash",
}

// IsWord reports whether w is a known four-letter word.
func IsWord(w string) bool { return slices.Contains(words, w) }

// ParseWhitelist builds a whitelist from 4lw.commands.whitelist as Apache
// reads it: a comma-separated list, "*" for every word, srvr always allowed
// (zkServer.sh status needs it), isro too when read-only mode is enabled.
func ParseWhitelist(list string, readOnlyMode bool) func(word string) bool {
	allowed := map[string]bool{"srvr": true}
	if readOnlyMode {
		allowed["isro"] = true
	}
	for _, w := range strings.Split(list, ",") {
		w = strings.TrimSpace(w)
		if w == "*" {
			for _, k := range words {
				allowed[k] = true
			}
			continue
		}
		if w != "" {
			allowed[w] = true
		}
	}
	return func(word string) bool { return allowed[word] }
}

// FourLetter returns the answer to a four-letter word (the conn layer writes
// it and closes); known=false for an unknown word. arg is stmk's 8-byte mask.
func FourLetter(src Source, opt Options, word string, arg int64) (out string, known bool) {
	if !IsWord(word) {
		return "", false
	}
	allowed := opt.Whitelist
	if allowed == nil {
		allowed = ParseWhitelist("", false)
	}
	if !allowed(word) {
		if opt.Logger != nil {
			opt.Logger.Debug("four-letter word not in whitelist", "word", word)
		}
		return word + " is not executed because it is not in the whitelist.\n", true
	}
	if opt.Logger != nil {
		opt.Logger.Info("processing four-letter word", "word", word)
	}
	serving := src.ServingRequests()
	var b strings.Builder
	switch word {
	case "ruok":
		b.WriteString("imok")
	case "isro":
		switch {
		case !serving:
			b.WriteString("null")
		case src.ReadOnly():
			b.WriteString("ro")
		default:
			b.WriteString("rw")
		}
	case "envi":
		b.WriteString("Environment:\n")
		writeKVs(&b, src.Env())
	case "gtmk":
		b.WriteString(strconv.FormatInt(traceMask(src), 10))
	case "stmk":
		if tm, ok := src.(TraceMasker); ok {
			tm.SetTraceMask(arg)
		}
		b.WriteString(strconv.FormatInt(arg, 10))
	case "hash":
		if !serving {
			b.WriteString(notServing)
			break
		}
		for _, d := range src.DigestLog() {
			fmt.Fprintf(&b, "%s: %d\n", javaHex(d.Zxid), d.Digest)
		}
	default:
		if !serving {
			b.WriteString(notServing + "\n")
			break
		}
		switch word {
		case "srvr", "stat":
			writeStat(&b, src, opt, word == "stat")
		case "cons":
			for _, c := range src.Connections() {
				writeConn(&b, c, false)
				b.WriteByte('\n')
			}
			b.WriteByte('\n')
		case "conf":
			writeKVs(&b, src.Conf())
			if m := src.Membership(); m != "" {
				b.WriteString("membership: \n")
				b.WriteString(m)
			}
		case "crst":
			src.ResetConnectionStats()
			b.WriteString("Connection stats reset.\n")
		case "srst":
			src.ResetStats()
			b.WriteString("Server stats reset.\n")
		case "dirs":
			fmt.Fprintf(&b, "datadir_size: %d\nlogdir_size: %d\n", src.DataDirSize(), src.LogDirSize())
		case "dump":
			writeDump(&b, src, opt.Location)
		case "wchs":
			conns, paths, total := src.WatchSummary()
			fmt.Fprintf(&b, "%d connections watching %d paths\nTotal watches:%d\n", conns, paths, total)
		case "wchc":
			m := src.WatchesBySession()
			for _, id := range sortedKeys(m) {
				fmt.Fprintf(&b, "0x%s\n", javaHex(id))
				for _, p := range sorted(m[id]) {
					fmt.Fprintf(&b, "\t%s\n", p)
				}
			}
			b.WriteByte('\n')
		case "wchp":
			m := src.WatchesByPath()
			for _, p := range sortedKeys(m) {
				fmt.Fprintf(&b, "%s\n", p)
				for _, id := range sorted(m[p]) {
					fmt.Fprintf(&b, "\t0x%s\n", javaHex(id))
				}
			}
			b.WriteByte('\n')
		case "mntr":
			for _, v := range MonitorValues(src) {
				b.WriteString("zk_")
				b.WriteString(v.Key)
				b.WriteByte('\t')
				b.WriteString(formatValue(v.Value))
				b.WriteByte('\n')
			}
		}
	}
	return b.String(), true
}

func writeKVs(b *strings.Builder, kvs []KV) {
	for _, kv := range kvs {
		b.WriteString(kv.Key)
		b.WriteByte('=')
		b.WriteString(kv.Value)
		b.WriteByte('\n')
	}
}

// writeStat is StatCommand: srvr, and stat with its client list.
func writeStat(b *strings.Builder, src Source, opt Options, withClients bool) {
	version := src.Version()
	if opt.LegacySrvrDate {
		version = legacyBuildDate(version)
	}
	fmt.Fprintf(b, "Zookeeper version: %s\n", version)
	if src.ReadOnly() {
		b.WriteString("READ-ONLY mode; serving only read-only clients\n")
	}
	conns := src.Connections()
	if withClients {
		b.WriteString("Clients:\n")
		for _, c := range conns {
			writeConn(b, c, true)
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	minLat, avgLat, maxLat := src.Latency()
	fmt.Fprintf(b, "Latency min/avg/max: %d/%s/%d\n", minLat, javafmt.Double(avgLat), maxLat)
	fmt.Fprintf(b, "Received: %d\n", src.PacketsReceived())
	fmt.Fprintf(b, "Sent: %d\n", src.PacketsSent())
	fmt.Fprintf(b, "Connections: %d\n", len(conns))
	fmt.Fprintf(b, "Outstanding: %d\n", src.Outstanding())
	fmt.Fprintf(b, "Zxid: 0x%s\n", javaHex(src.LastZxid()))
	fmt.Fprintf(b, "Mode: %s\n", src.ServerState())
	fmt.Fprintf(b, "Node count: %d\n", src.NodeCount())
	if src.ServerState() == "leader" {
		last, lo, hi := proposalSizes(src)
		fmt.Fprintf(b, "Proposal sizes last/min/max: %d/%d/%d\n", last, lo, hi)
	}
}

// interestOps stands in for the NIO selection key Apache prints: 1 (read)
// for a connection with a session, 0 for one without (the four-letter-word
// connection asking shows 0 on Apache too) and for a throttled one, which
// Apache's selector does not read.
func interestOps(c ConnInfo) int {
	if c.SessionID != 0 && !c.Throttled {
		return 1
	}
	return 0
}

// writeConn is ServerCnxn.dumpConnectionInfo.
func writeConn(b *strings.Builder, c ConnInfo, brief bool) {
	fmt.Fprintf(b, " %s[%x](queued=%d,recved=%d,sent=%d", c.Remote, interestOps(c), c.Queued, c.Received, c.Sent)
	if !brief && c.SessionID != 0 {
		fmt.Fprintf(b, ",sid=0x%s,lop=%s,est=%d,to=%d", javaHex(c.SessionID), lastOp(c), millis(c.Established), c.Timeout)
		if c.LastCxid >= 0 {
			fmt.Fprintf(b, ",lcxid=0x%s", javaHex(c.LastCxid))
		}
		fmt.Fprintf(b, ",lzxid=0x%s,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			javaHex(c.LastZxid), millis(c.LastResponse), c.LastLatency, c.MinLatency, int64(c.AvgLatency), c.MaxLatency)
	}
	b.WriteByte(')')
}

func lastOp(c ConnInfo) string {
	if c.LastOp == "" {
		return "NA"
	}
	return c.LastOp
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// defaultCnxnExpiry is NIOServerCnxnFactory's default expiry interval
// (zookeeper.nio.sessionlessCnxnTimeout), which also rounds every
// connection's expiry time.
const defaultCnxnExpiry = 10 * time.Second

// writeSessions is the session tracker's dumpSessions: a LearnerSessionTracker lists its global sessions with their
// timeouts, a leader's or standalone server's tracker its expiry sets; the local sessions' sets come first, each
// part prefixed as LeaderSessionTracker and LearnerSessionTracker prefix them.
func writeSessions(b *strings.Builder, src Source, loc *time.Location) {
	st, _ := src.(SessionTrackers)
	var local bool
	if st != nil {
		var expiry map[int64][]int64
		var n int
		if expiry, n, local = st.LocalSessionExpiry(); local {
			b.WriteString("Local ")
			writeSessionSets(b, expiry, n, loc)
		}
		if timeouts, ok := st.LearnerSessions(); ok {
			fmt.Fprintf(b, "Global Sessions(%d):\n", len(timeouts))
			for _, id := range sortedKeys(timeouts) {
				fmt.Fprintf(b, "0x%s\t%dms\n", javaHex(id), timeouts[id])
			}
			return
		}
	}
	if local {
		b.WriteString("Global ")
	}
	writeSessionSets(b, src.SessionExpiry(), src.SessionCount(), loc)
}

// writeSessionSets is SessionTrackerImpl.dumpSessions: its ExpiryQueue's sets, by expiry time.
func writeSessionSets(b *strings.Builder, expiry map[int64][]int64, count int, loc *time.Location) {
	fmt.Fprintf(b, "Session Sets (%d)/(%d):\n", len(expiry), count)
	for _, t := range sortedKeys(expiry) {
		ids := sorted(expiry[t])
		fmt.Fprintf(b, "%d expire at %s:\n", len(ids), time.UnixMilli(t).In(loc).Format(javaDateLayout))
		for _, id := range ids {
			fmt.Fprintf(b, "\t0x%s\n", javaHex(id))
		}
	}
}

// writeDump is DumpCommand: session expiry sets, ephemerals, connection sets.
func writeDump(b *strings.Builder, src Source, loc *time.Location) {
	if loc == nil {
		loc = time.Local
	}
	b.WriteString("SessionTracker dump:\n")
	writeSessions(b, src, loc)
	b.WriteString("ephemeral nodes dump:\n")
	eph := src.EphemeralsBySession()
	fmt.Fprintf(b, "Sessions with Ephemerals (%d):\n", len(eph))
	for _, id := range sortedKeys(eph) {
		fmt.Fprintf(b, "0x%s:\n", javaHex(id))
		for _, p := range sorted(eph[id]) {
			fmt.Fprintf(b, "\t%s\n", p)
		}
	}
	b.WriteString("Connections dump:\n")
	interval := defaultCnxnExpiry.Milliseconds()
	if ce, ok := src.(CnxnExpiry); ok {
		if interval = ce.CnxnExpiryInterval().Milliseconds(); interval <= 0 {
			return // Netty's factory: DumpCommand dumps NIO's connections only
		}
	}
	// Apache keeps connections in an expiry queue touched on every packet:
	// last activity plus the session timeout (the interval without a
	// session), rounded up to the next multiple of the interval.
	conns := src.Connections()
	sets := map[int64][]ConnInfo{}
	for _, c := range conns {
		base := c.LastResponse
		if base.IsZero() {
			base = c.Established
		}
		if base.IsZero() {
			base = time.Now()
		}
		timeout := int64(c.Timeout)
		if timeout <= 0 || c.SessionID == 0 {
			timeout = interval
		}
		exp := session.RoundToNextInterval(base.UnixMilli()+timeout, interval)
		sets[exp] = append(sets[exp], c)
	}
	fmt.Fprintf(b, "Connections Sets (%d)/(%d):\n", len(sets), len(conns))
	for _, t := range sortedKeys(sets) {
		fmt.Fprintf(b, "%d expire at %s:\n", len(sets[t]), time.UnixMilli(t).In(loc).Format(javaDateLayout))
		for _, c := range sets[t] {
			fmt.Fprintf(b, "\tip: %s sessionId: 0x%s\n", c.Remote, javaHex(c.SessionID))
		}
	}
}

func traceMask(src Source) int64 {
	if tm, ok := src.(TraceMasker); ok {
		return tm.TraceMask()
	}
	return defaultTraceMask
}

// proposalSizes is the leader's BufferStats (-1 until a proposal is sent).
func proposalSizes(src Source) (last, lo, hi int64) {
	last, lo, hi = -1, -1, -1
	if m, ok := src.(ServerMetricser); ok {
		vals := m.ServerMetrics()
		last = int64Of(vals["last_proposal_size"], last)
		lo = int64Of(vals["min_proposal_size"], lo)
		hi = int64Of(vals["max_proposal_size"], hi)
	}
	return
}

func int64Of(v any, def int64) int64 {
	if n, ok := numberLike(v, def).(int64); ok {
		return n
	}
	return def
}

func sortedKeys[K int64 | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sorted[T int64 | string](s []T) []T {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
