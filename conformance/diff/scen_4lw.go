package diff

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// kvLines splits "k<sep>v" lines; lines without sep are returned under "".
func kvLines(out, sep string) (keys []string, kv map[string]string) {
	kv = map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		k, v, ok := strings.Cut(l, sep)
		if !ok {
			k, v = "", l
		}
		if _, dup := kv[k]; !dup {
			keys = append(keys, k)
		}
		kv[k] = v
	}
	return keys, kv
}

// latencyShape is "min/avg/max" with avg as Java prints a double: a small
// average comes out as 5.0E-4.
var latencyShape = regexp.MustCompile(`^\d+/\d+(\.\d+)?(E-?\d+)?/\d+$`)

// srvrShape renders srvr/stat output: key order, the values that two
// correct standalone servers share, and the rest masked.
func srvrShape(r *R, c *Client, out string) []string {
	var res []string
	keys, kv := kvLines(out, ": ")
	res = append(res, "keys: "+strings.Join(keys, ", "))
	for _, k := range keys {
		v := kv[k]
		switch k {
		case "Zookeeper version":
			res = append(res, fmt.Sprintf("%s: 3.8.x=%v", k, strings.HasPrefix(v, "3.8.")))
		case "Latency min/avg/max":
			res = append(res, fmt.Sprintf("%s: shape ok=%v", k, latencyShape.MatchString(v)))
		case "Received", "Sent":
			_, err := strconv.ParseInt(v, 10, 64)
			res = append(res, fmt.Sprintf("%s: integer=%v", k, err == nil))
		case "Zxid":
			z, err := strconv.ParseInt(strings.TrimPrefix(v, "0x"), 16, 64)
			res = append(res, fmt.Sprintf("%s: hex=%v rel=%s", k, err == nil && strings.HasPrefix(v, "0x"), r.n.zx(z)))
		case "Node count":
			n, _ := strconv.Atoi(v)
			res = append(res, fmt.Sprintf("%s: minus walked=%d", k, n-c.walkCount("/")))
		case "":
			res = append(res, "line: "+maskClientLine(v))
		default:
			res = append(res, k+": "+v)
		}
	}
	return res
}

var clientLine = regexp.MustCompile(`^ /127\.0\.0\.1:\d+\[(\d)\]\((.*)\)$`)

// maskClientLine reduces a stat/cons connection line to its keys.
func maskClientLine(l string) string {
	m := clientLine.FindStringSubmatch(l)
	if m == nil {
		return "unparsed " + strconv.Quote(l)
	}
	var keys []string
	for _, kv := range strings.Split(m[2], ",") {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
	}
	// m[1] (interest ops) depends on the moment: not shown.
	return "client keys=" + strings.Join(keys, ",")
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// watchSetup registers watches of every kind from a second session.
func watchSetup(r *R, c *Client) *Client {
	c.Create(r.P("a"), "", persistent, nil)
	c.Create(r.P("b"), "", persistent, nil)
	c2 := r.Connect("c2")
	c2.Get(r.P("a"), true)
	c2.Children(r.P("a"), true)
	c2.Exists(r.P("missing"), true)
	c2.Children(r.P("b"), true)
	c.Get(r.P("b"), true)
	c2.AddWatch(r.P("p"), jute.AddWatchPersistent)
	c2.AddWatch(r.P("rec"), jute.AddWatchPersistentRecursive)
	return c2
}

var fourLetterScenarios = []Scenario{
	{"4lw/ruok", func(r *R, c *Client) { r.FourLetterLog("ruok", nil) }},
	{"4lw/isro", func(r *R, c *Client) { r.FourLetterLog("isro", nil) }},
	{"4lw/not-whitelisted", func(r *R, c *Client) {
		r.FourLetterLog("gtmk", nil)
		r.FourLetterLog("ruok", nil)
	}},
	{"4lw/unknown-word", func(r *R, c *Client) {
		r.FourLetterLog("abcd", nil)
		r.FourLetterLog("RUOK", nil)
		c.Exists(r.Root(), false)
	}},
	{"4lw/word-after-handshake", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.WriteFrame([]byte("ruok"), "ruok on a session")
		c2.WaitClosed(5 * time.Second)
		c3 := c2.Reattach("c2b")
		c3.Exists(r.Root(), false)
	}},
	{"4lw/conf-keys", func(r *R, c *Client) {
		r.FourLetterLog("conf", func(out string) []string {
			keys, kv := kvLines(out, "=")
			res := []string{"keys: " + strings.Join(keys, ", ")}
			for _, k := range []string{"tickTime", "maxClientCnxns", "minSessionTimeout", "maxSessionTimeout", "serverId"} {
				res = append(res, k+"="+kv[k])
			}
			res = append(res, fmt.Sprintf("clientPort is ours=%v", kv["clientPort"] == portOf(r.addr)))
			res = append(res, fmt.Sprintf("dataDir ends version-2=%v", strings.HasSuffix(kv["dataDir"], "version-2")))
			return res
		})
	}},
	{"4lw/srvr-shape", func(r *R, c *Client) {
		c.Create(r.P("x"), "", persistent, nil)
		r.FourLetterLogStable(c, "srvr", func(out string) []string { return srvrShape(r, c, out) })
	}},
	{"4lw/stat-shape", func(r *R, c *Client) {
		c.Create(r.P("x"), "", persistent, nil)
		r.Connect("c2")
		r.FourLetterLogStable(c, "stat", func(out string) []string {
			head, rest, _ := strings.Cut(out, "\nClients:\n")
			clients, tail, _ := strings.Cut(rest, "\n\n")
			res := []string{"head: " + strings.Join(srvrShape(r, c, head), " | ")}
			var cl []string
			for _, l := range strings.Split(clients, "\n") {
				if l != "" {
					cl = append(cl, maskClientLine(l))
				}
			}
			sort.Strings(cl)
			res = append(res, cl...)
			res = append(res, srvrShape(r, c, tail)...)
			return res
		})
	}},
	{"4lw/cons-shape", func(r *R, c *Client) {
		r.Connect("c2")
		// Connections of earlier scenarios go as the server notices their close, later on a loaded machine: wait
		// (bounded) until only this one's are listed (c, c2 and the cons itself).
		for range 40 {
			if out, _ := r.FourLetter("cons"); strings.Count(strings.TrimSpace(out), "\n") == 2 {
				break
			}
			r.Sleep(50 * time.Millisecond)
		}
		r.FourLetterLog("cons", func(out string) []string {
			var res []string
			for _, l := range strings.Split(out, "\n") {
				if l != "" {
					res = append(res, maskClientLine(l))
				}
			}
			sort.Strings(res)
			return res
		})
	}},
	{"4lw/wchs", func(r *R, c *Client) {
		r.FourLetterLog("wchs", nil)
		watchSetup(r, c)
		r.FourLetterLog("wchs", nil)
	}},
	{"4lw/wchc", func(r *R, c *Client) {
		watchSetup(r, c)
		r.FourLetterLog("wchc", func(out string) []string { return r.groupedSorted(out) })
	}},
	{"4lw/wchp", func(r *R, c *Client) {
		c2 := watchSetup(r, c)
		r.FourLetterLog("wchp", func(out string) []string { return r.groupedSorted(out) })
		sid := fmt.Sprintf("0x%x", c2.c.SessionID())
		c2.Close()
		// Apache drops a closed connection's watches just after the close
		// reply: wait (bounded) for that before comparing.
		for i := 0; i < 40; i++ {
			if out, _ := r.FourLetter("wchp"); !strings.Contains(out, sid) {
				break
			}
			r.Sleep(25 * time.Millisecond)
		}
		r.FourLetterLog("wchp", func(out string) []string { return r.groupedSorted(out) })
	}},
	{"4lw/dump-ephemerals", func(r *R, c *Client) {
		c.Create(r.P("e1"), "", ephemeral, nil)
		c2 := r.Connect("c2")
		c2.Create(r.P("e2"), "", ephemeral, nil)
		c2.Create(r.P("e3-"), "", eseq, nil)
		r.Connect("c3")
		r.FourLetterLog("dump", func(out string) []string {
			_, eph, ok := strings.Cut(out, "ephemeral nodes dump:\n")
			if !ok {
				return []string{"no ephemeral section"}
			}
			eph, _, _ = strings.Cut(eph, "Connections dump:")
			return r.groupedSorted(eph)
		})
	}},
	{"4lw/envi-first-line", func(r *R, c *Client) {
		r.FourLetterLog("envi", func(out string) []string {
			first, rest, _ := strings.Cut(out, "\n")
			_, kv := kvLines(rest, "=")
			return []string{"first: " + strconv.Quote(first),
				fmt.Sprintf("zookeeper.version 3.8.x=%v", strings.HasPrefix(kv["zookeeper.version"], "3.8."))}
		})
	}},
	{"4lw/crst-srst-dirs", func(r *R, c *Client) {
		r.FourLetterLog("crst", nil)
		r.FourLetterLog("srst", nil)
		r.FourLetterLog("dirs", func(out string) []string {
			keys, _ := kvLines(out, ": ")
			return []string{"keys: " + strings.Join(keys, ", ")}
		})
	}},
	// read_per_namespace and write_per_namespace: the sizes DataTree records for the scenario's own top-level name.
	{"4lw/mntr-per-namespace", func(r *R, c *Client) {
		c.Create(r.P("a"), "12345", persistent, nil)
		c.Create(r.P("a/b"), "", persistent, nil)
		c.Create(r.P("é"), "x", persistent, nil) // lengths in UTF-16 units
		c.Set(r.P("a"), "123", -1)
		c.Get(r.P("a"), false)
		c.Get(r.P("missing"), false)
		c.Exists(r.P("a/b"), false)
		c.Exists(r.P("missing"), false)
		c.Children(r.P("a"), false)
		c.Children2(r.P(""), false)
		c.MultiRead(MGet(r.P("a")), MChildren(r.P("")))
		c.Delete(r.P("a/b"), -1)
		ns := strings.TrimPrefix(r.Root(), "/")
		r.FourLetterLog("mntr", func(out string) []string {
			keys, kv := kvLines(out, "\t")
			var res []string
			for _, k := range keys {
				if strings.Contains(k, "_"+ns+"_read_per_namespace") || strings.Contains(k, "_"+ns+"_write_per_namespace") {
					res = append(res, strings.Replace(k, "_"+ns+"_", "_ROOT_", 1)+"="+kv[k])
				}
			}
			return res
		})
	}},
	// The traffic counters and latency counts a workload adds, between two mntr words on a connection of its own
	// (the scenario's clients do not ping in it): packets and bytes received (each 4lw word counting 4), the
	// FinalRequestProcessor answers' bytes (pings, connect and auth answers left out), connect requests, and the
	// requests split into readlatency and updatelatency by whether they carry a txn (failed writes too).
	{"4lw/mntr-traffic", func(r *R, c *Client) {
		keys := []string{"zk_packets_received", "zk_bytes_received_count", "zk_response_bytes",
			"zk_connection_request_count", "zk_cnt_readlatency", "zk_cnt_updatelatency", "zk_cnt_propagation_latency"}
		r.mntrDeltas(keys, func() {
			c.Create(r.P("a"), "12345", persistent, nil)
			c.Create(r.P("a"), "dup", persistent, nil) // NodeExists: an ErrorTxn
			c.Get(r.P("a"), false)
			c.Get(r.P("missing"), false)
			c.Exists(r.P("a"), true)
			c.Set(r.P("a"), strings.Repeat("x", 300), -1)
			c.WaitEvents(1, 2*time.Second)
			c.Children2(r.P(""), false)
			c.Sync(r.P("a"))
			c.Multi(MCreate(r.P("m"), "", persistent), MDelete(r.P("m"), -1))
			c.MultiRead(MGet(r.P("a")), MChildren(r.P("")))
			c.AddAuth("digest", "u:p")
			c2 := r.Connect("c2")
			c2.Delete(r.P("a"), -1)
			c2.Close()
			r.FourLetterLog("srvr", func(string) []string { return nil })
		})
	}},
	{"4lw/mntr-processors", func(r *R, c *Client) {
		var keys []string
		for _, k := range []string{"prep_processor_queue_size", "prep_processor_queue_time_ms", "prep_process_time",
			"proposal_process_time", "close_session_prep_time", "sync_processor_queue_size",
			"sync_processor_queue_time_ms", "sync_process_time", "sync_processor_batch_size",
			"sync_processor_queue_flush_time_ms", "sync_processor_queue_and_flush_time_ms",
			"request_throttle_queue_time_ms", "fsynctime", "read_final_proc_time_ms", "write_final_proc_time_ms"} {
			keys = append(keys, "zk_cnt_"+k)
		}
		keys = append(keys, "zk_prep_processor_request_queued", "zk_sync_processor_request_queued",
			"zk_outstanding_changes_queued", "zk_outstanding_changes_removed")
		r.mntrDeltas(keys, func() {
			c.Create(r.P("a"), "12345", persistent, nil)
			c.Create(r.P("a"), "dup", persistent, nil) // NodeExists: an ErrorTxn
			c.Get(r.P("a"), false)
			c.Exists(r.P("a"), true)
			c.Set(r.P("a"), "x", -1)
			c.WaitEvents(1, 2*time.Second)
			c.Sync(r.P("a"))
			c.Multi(MCreate(r.P("m"), "", persistent), MDelete(r.P("m"), -1))
			c.MultiRead(MGet(r.P("a")), MChildren(r.P("")))
			c2 := r.Connect("c2")
			c2.Create(r.P("e"), "", ephemeral, nil)
			c2.Delete(r.P("a"), -1)
			c2.Close()
			c.Multi(MCreate(r.P("f"), "", persistent), MCreate(r.P("f"), "", persistent)) // rolled back
			c.Multi(MCreate(r.P("g"), "", persistent), MSet(r.P("g"), "1", -1), MCheck(r.P("g"), 1))
			c.SetACL(r.P("g"), aclList(acl(jute.PermAll, "world", "anyone")), -1)
			c.AddAuth("digest", "u:p") // answered before the processors
			r.RawPipeline("raw", 300*time.Millisecond, RawReq{Xid: jute.XidPing, Op: jute.OpPing},
				RawReq{Xid: 1, Op: jute.OpExists, Req: &jute.ExistsRequest{Path: r.P("g")}},
				RawReq{Xid: 2, Op: jute.OpCloseSession})
			c3 := r.Connect("c3")
			c3.Raw(999, nil) // Request.isValid refuses it: not prepped
			c3.WaitClosed(time.Second)
			r.FourLetterLog("srvr", func(string) []string { return nil })
		})
	}},
	// The watch triggers (node_*_watch_count: the watchers each table's trigger reached, those an ACL keeps the event
	// from counted too), the notifications' bytes and the getData / getChildren2 response caches a workload adds.
	{"4lw/mntr-watches-caches", func(r *R, c *Client) {
		var keys []string
		for _, ev := range []string{"created", "deleted", "changed", "children"} {
			keys = append(keys, "zk_cnt_node_"+ev+"_watch_count", "zk_sum_node_"+ev+"_watch_count")
		}
		keys = append(keys, "zk_watch_bytes", "zk_response_packet_cache_hits", "zk_response_packet_cache_misses",
			"zk_response_packet_get_children_cache_hits", "zk_response_packet_get_children_cache_misses")
		r.mntrDeltas(keys, func() {
			c2 := r.Connect("c2")
			c.AddAuth("digest", "u:p")
			c.Exists(r.P("a"), true)
			c2.Exists(r.P("a"), true)
			c.Create(r.P("a"), "1", persistent, nil) // created: 2 watchers
			c.Get(r.P("a"), true)
			c.Children(r.P("a"), true)
			c2.Children2(r.P("a"), true)
			c.Create(r.P("a/b"), "", persistent, nil) // children of /a: 2
			c.Set(r.P("a"), "2", -1)                  // changed: 1
			c2.AddWatch(r.P(""), jute.AddWatchPersistentRecursive)
			c.Create(r.P("a/b/c"), "", persistent, nil) // created: 1 (recursive); children of /a/b: none
			c.Delete(r.P("a/b/c"), -1)                  // deleted: data table 1, child table the same watcher again
			c.Create(r.P("s"), "", persistent, aclList(acl(jute.PermAll, "digest", DigestID("u", "p"))))
			c2.Set(r.P("s"), "x", -1) // NoAuth
			c.Set(r.P("s"), "x", -1)  // changed: c2's recursive watch, counted but not sent (no READ)
			c.Get(r.P("a"), false)    // the data cache: miss, hit, then a changed node misses
			c2.Get(r.P("a"), false)
			c.Set(r.P("a"), "3", -1)
			c.Get(r.P("a"), false)
			c.Get(r.P("missing"), false)
			c.Children2(r.P("a"), false) // the children cache: miss, hit, a new child misses
			c2.Children2(r.P("a"), false)
			c.Create(r.P("a/d"), "", persistent, nil)
			c.Children2(r.P("a"), false)
			c.Children(r.P("a"), false) // getChildren has no cache
			c.MultiRead(MGet(r.P("a"))) // nor a multiRead
			c2.Close()
		})
	}},
	// Connect requests that resume a session (connection_revalidate_count: one that finds it expired too) and the
	// sessions the tracker expires (stale_sessions_expired).
	{"4lw/mntr-sessions", func(r *R, c *Client) {
		r.mntrDeltas([]string{"zk_connection_request_count", "zk_connection_revalidate_count",
			"zk_stale_sessions_expired"}, func() {
			c2 := r.Connect("c2", ConnOpts{Timeout: 1000 * time.Millisecond})
			c2.Create(r.P("e"), "", ephemeral, nil)
			c.Exists(r.P("e"), true)
			c2.Drop()
			c3 := c2.Reattach("c2b", ConnOpts{Timeout: 1000 * time.Millisecond})
			c3.Exists(r.P("e"), false)
			c3.Drop()
			c.WaitEvents(1, 20*time.Second) // the session expired: its ephemeral is gone
			c3.Reattach("c2c")              // SessionExpired
		})
	}},
	{"4lw/mntr-core", func(r *R, c *Client) {
		c.Create(r.P("e"), "", ephemeral, nil)
		r.FourLetterLog("mntr", func(out string) []string {
			_, kv := kvLines(out, "\t")
			var res []string
			for _, k := range []string{"zk_server_state", "zk_ephemerals_count", "zk_watch_count", "zk_outstanding_requests"} {
				res = append(res, k+"="+kv[k])
			}
			res = append(res, fmt.Sprintf("zk_version 3.8.x=%v", strings.HasPrefix(kv["zk_version"], "3.8.")))
			n, err := strconv.Atoi(kv["zk_znode_count"])
			res = append(res, fmt.Sprintf("zk_znode_count minus walked=%d (%v)", n-c.walkCount("/"), err == nil))
			return res
		})
	}},
}

// mntrDeltas logs what workload adds to each of mntr's keys. Apache adds an answer to response_bytes after sending
// it, so a client can read an answer (the harness's create of the scenario's root, a closeSession) and ask mntr
// before it is counted: each count is taken once two readings 300 ms apart differ by their own mntr word only. The
// clients' pings are held meanwhile: a slow run would otherwise count more of them.
func (r *R) mntrDeltas(keys []string, workload func()) {
	counts := func() (map[string]int64, error) {
		out, _ := r.FourLetter("mntr")
		_, kv := kvLines(out, "\t")
		m := map[string]int64{}
		for _, k := range append([]string{"zk_packets_received", "zk_response_bytes"}, keys...) {
			n, err := strconv.ParseInt(kv[k], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q", k, kv[k])
			}
			m[k] = n
		}
		return m, nil
	}
	settled := func() (map[string]int64, error) {
		for range 20 {
			first, err := counts()
			if err != nil {
				return nil, err
			}
			time.Sleep(300 * time.Millisecond)
			m, err := counts()
			if err != nil || m["zk_response_bytes"] == first["zk_response_bytes"] &&
				m["zk_packets_received"] == first["zk_packets_received"]+1 {
				return m, err
			}
		}
		return nil, errors.New("the counters never stood still")
	}
	r.holdPings(true)
	defer r.holdPings(false)
	before, err := settled()
	workload()
	after, err2 := settled()
	if err != nil || err2 != nil {
		r.add(fmt.Sprintf("mntr: %v %v", err, err2))
		return
	}
	for _, k := range keys {
		r.add(fmt.Sprintf("mntr %s +%d", k, after[k]-before[k]))
	}
}
