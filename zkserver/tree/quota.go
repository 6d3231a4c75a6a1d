package tree

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Quotas: a path P has a quota when /zookeeper/quota/P/zookeeper_limits
// exists; /zookeeper/quota/P/zookeeper_stats then holds "count=N,bytes=M"
// for P's subtree, updated on every create, delete and setData below P.

// trieKey normalizes a path the way PathTrie splits it (empty and blank
// components dropped).
func trieKey(p string) string {
	var b strings.Builder
	for _, c := range strings.Split(p, "/") {
		if strings.TrimSpace(c) == "" {
			continue
		}
		b.WriteByte('/')
		b.WriteString(c)
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// maxQuotaPrefix is getMaxPrefixWithQuota: the deepest quota path that is
// path or an ancestor of it; ok false when none (or only the root).
func (t *Tree) maxQuotaPrefix(path string) (string, bool) {
	if len(t.quotas) == 0 {
		return "", false
	}
	k := trieKey(path)
	for {
		if _, ok := t.quotas[k]; ok && k != "/" {
			return k, true
		}
		i := strings.LastIndexByte(k, '/')
		if i <= 0 {
			return "", false
		}
		k = k[:i]
	}
}

// statsTrack is Apache's StatsTrack: "count=N,bytes=M" then, if other keys
// exist, "=;k=v" pairs sorted by key.
type statsTrack map[string]int64

func parseStats(b []byte) statsTrack {
	st := statsTrack{}
	for _, kv := range strings.FieldsFunc(string(b), func(r rune) bool { return r == ',' || r == ';' }) {
		parts := strings.Split(kv, "=")
		for len(parts) > 0 && parts[len(parts)-1] == "" { // Java's split drops trailing empties
			parts = parts[:len(parts)-1]
		}
		if len(parts) == 0 {
			continue
		}
		v := int64(-1)
		if len(parts) > 1 {
			n, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil {
				continue // Apache throws; skip the bad pair
			}
			v = n
		}
		st[parts[0]] = v
	}
	return st
}

// parseStatsStrict parses as StatsTrack's constructor does, failing where it throws: pairs split on runs of ','
// and ';' (a leading separator makes an empty pair), each pair on '=' with trailing empty parts dropped, so a pair
// needs a second part; an empty second part ("count==5") reads as -1; the value must parse as a long.
func parseStatsStrict(b []byte) (statsTrack, bool) {
	st := statsTrack{}
	if len(b) == 0 {
		return st, true
	}
	s := strings.TrimRight(string(b), ",;") // Java's split drops trailing empty strings (all of a separators-only string)
	var pairs []string
	for s != "" {
		i := strings.IndexAny(s, ",;")
		if i < 0 {
			pairs = append(pairs, s)
			break
		}
		pairs = append(pairs, s[:i])
		s = strings.TrimLeft(s[i:], ",;")
	}
	for _, kv := range pairs {
		parts := strings.Split(kv, "=")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) < 2 {
			return nil, false
		}
		v := int64(-1)
		if parts[1] != "" {
			n, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil {
				return nil, false
			}
			v = n
		}
		st[parts[0]] = v
	}
	return st, true
}

func (st statsTrack) get(k string) int64 {
	if v, ok := st[k]; ok {
		return v
	}
	return -1
}

func (st statsTrack) bytes() []byte {
	var b strings.Builder
	b.WriteString("count=")
	b.WriteString(strconv.FormatInt(st.get("count"), 10))
	b.WriteString(",bytes=")
	b.WriteString(strconv.FormatInt(st.get("bytes"), 10))
	var keys []string
	for k := range st {
		if k != "count" && k != "bytes" {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		b.WriteByte('=')
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteByte(';')
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(strconv.FormatInt(st[k], 10))
		}
	}
	return []byte(b.String())
}

// updateQuotaStat is DataTree.updateQuotaStat. Like Apache it does not touch
// the data-size counter (the stat node is below /zookeeper/, so no digest).
func (t *Tree) updateQuotaStat(prefix string, bytesDiff int64, countDiff int64) {
	p := QuotaPath + prefix + "/" + StatNode
	n := t.nodes[p]
	if n == nil {
		return
	}
	st := parseStats(n.Data)
	st["count"] = st.get("count") + countDiff
	st["bytes"] = st.get("bytes") + bytesDiff
	n.Data = st.bytes()
}

// updateQuotaForPath recounts path's subtree into its stat node.
func (t *Tree) updateQuotaForPath(path string) {
	var count, size int64
	var walk func(p string)
	walk = func(p string) {
		n := t.nodes[p]
		if n == nil {
			return
		}
		count++
		size += int64(len(n.Data))
		for c := range n.Children {
			walk(p + "/" + c)
		}
	}
	walk(path)
	sp := QuotaPath + path + "/" + StatNode
	n := t.nodes[sp]
	if n == nil {
		return
	}
	n.Data = statsTrack{"count": count, "bytes": size}.bytes()
	t.changed(sp, n)
}

// setupQuota rebuilds the quota set and stat nodes after a snapshot load:
// every leaf under /zookeeper/quota named zookeeper_limits marks its path.
func (t *Tree) setupQuota() {
	end := "/" + limitNode
	t.eachQuotaLeaf(func(p string, _ *Node) {
		if strings.HasSuffix(p, end) {
			real := p[len(QuotaPath):strings.Index(p, end)]
			t.updateQuotaForPath(real)
			if real != "" {
				t.quotas[trieKey(real)] = struct{}{}
			}
		}
	})
}

// eachQuotaLeaf calls f, in path order, for every node under /zookeeper/quota without children: where Apache's
// setupQuota and QuotaMetricsUtils look for limits and stats nodes.
func (t *Tree) eachQuotaLeaf(f func(p string, n *Node)) {
	var walk func(p string)
	walk = func(p string) {
		n := t.nodes[p]
		if n == nil {
			return
		}
		if len(n.Children) == 0 {
			f(p, n)
			return
		}
		for _, c := range sortedKeys(n.Children) {
			walk(p + "/" + c)
		}
	}
	walk(QuotaPath)
}

// QuotaCheck is the outcome of CheckQuota.
type QuotaCheck struct {
	// Prefix is the quota path that applies ("" when none does).
	Prefix string
	// Exceeded: a hard limit (countHardLimit, byteHardLimit) would be passed; the request fails with
	// QuotaExceeded.
	Exceeded bool
	// Warnings are the messages Apache logs for each limit passed, soft or hard, e.g.
	// "Quota exceeded: /q [current count=4, hardCountLimit=3]".
	Warnings []string
	// Malformed: the limits or stats node does not parse as a StatsTrack (a pair without a value, a value that is
	// not a long). Apache's parser throws, and the request fails with MarshallingError.
	Malformed bool
}

// CheckQuota is ZooKeeperServer.checkQuota (zookeeper.enforceQuota): would adding countDiff nodes and bytesDiff
// bytes at path pass the limits of the deepest quota above it? Like Apache it reads the applied tree's stat node,
// not the changes of requests still in flight, and a hard limit, when set, replaces the soft one.
func (t *Tree) CheckQuota(path string, bytesDiff, countDiff int64) QuotaCheck {
	prefix, ok := t.maxQuotaPrefix(path)
	if !ok {
		return QuotaCheck{}
	}
	qc := QuotaCheck{Prefix: prefix}
	limitN := t.nodes[QuotaPath+prefix+"/"+limitNode]
	if limitN == nil {
		return qc
	}
	limits, ok := parseStatsStrict(limitN.Data)
	if !ok {
		qc.Malformed = true
		return qc
	}
	checkCount := countDiff != 0 && (limits.get("count") > -1 || limits.get("countHardLimit") > -1)
	checkBytes := bytesDiff != 0 && (limits.get("bytes") > -1 || limits.get("byteHardLimit") > -1)
	if !checkCount && !checkBytes {
		return qc
	}
	statN := t.nodes[QuotaPath+prefix+"/"+StatNode]
	if statN == nil {
		return qc
	}
	current, ok := parseStatsStrict(statN.Data)
	if !ok {
		qc.Malformed = true
		return qc
	}
	check := func(key, hardKey, limitName string, diff int64) {
		limit, kind := limits.get(key), "soft"
		if hard := limits.get(hardKey); hard > -1 {
			limit, kind = hard, "hard"
		}
		if n := current.get(key) + diff; n > limit {
			qc.Warnings = append(qc.Warnings, fmt.Sprintf("Quota exceeded: %s [current %s=%d, %s%s=%d]",
				prefix, key, n, kind, limitName, limit))
			qc.Exceeded = qc.Exceeded || kind == "hard"
		}
	}
	if checkCount {
		check("count", "countHardLimit", "CountLimit", countDiff)
		if qc.Exceeded {
			return qc // Apache throws at the count check before looking at bytes
		}
	}
	if checkBytes {
		check("bytes", "byteHardLimit", "ByteLimit", bytesDiff)
	}
	return qc
}

// QuotaNamespaces are the gauge sets of QuotaMetricsUtils, keyed by top-level znode name: the count and byte
// limits (the hard limit where set, else the soft one) and usages of every quota below that name, summed.
type QuotaNamespaces struct {
	CountLimit, BytesLimit, CountUsage, BytesUsage map[string]int64
}

// QuotaMetrics walks /zookeeper/quota as QuotaMetricsUtils does: each leaf zookeeper_limits node adds its
// limits and each zookeeper_stats node its usage to its path's top-level name.
func (t *Tree) QuotaMetrics() QuotaNamespaces {
	m := QuotaNamespaces{CountLimit: map[string]int64{}, BytesLimit: map[string]int64{},
		CountUsage: map[string]int64{}, BytesUsage: map[string]int64{}}
	t.eachQuotaLeaf(func(p string, n *Node) {
		isLimit, isStat := strings.HasSuffix(p, "/"+limitNode), strings.HasSuffix(p, "/"+StatNode)
		if !isLimit && !isStat {
			return
		}
		ns := TopNamespace(strings.TrimPrefix(p, QuotaPath)) // Apache's trimQuotaPath: a root quota counts as "zookeeper_limits"
		if ns == "" {
			return
		}
		st := parseStats(n.Data)
		if isLimit {
			m.CountLimit[ns] += hardOrSoft(st.get("countHardLimit"), st.get("count"))
			m.BytesLimit[ns] += hardOrSoft(st.get("byteHardLimit"), st.get("bytes"))
		} else {
			m.CountUsage[ns] += st.get("count")
			m.BytesUsage[ns] += st.get("bytes")
		}
	})
	return m
}

func hardOrSoft(hard, soft int64) int64 {
	if hard > -1 {
		return hard
	}
	return soft
}

// TopNamespace is PathUtils.getTopNamespace: the first component of an absolute path ("" for "/" or a
// relative path).
func TopNamespace(path string) string {
	if !strings.HasPrefix(path, "/") || path == "/" {
		return ""
	}
	ns, _, _ := strings.Cut(path[1:], "/")
	return ns
}
