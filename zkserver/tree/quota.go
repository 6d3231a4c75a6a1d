package tree

import (
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
	p := QuotaPath + prefix + "/" + statNode
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
	sp := QuotaPath + path + "/" + statNode
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
	if t.nodes[QuotaPath] == nil {
		return
	}
	var walk func(p string)
	walk = func(p string) {
		n := t.nodes[p]
		if n == nil {
			return
		}
		if len(n.Children) == 0 {
			end := "/" + limitNode
			if strings.HasSuffix(p, end) {
				real := p[len(QuotaPath):strings.Index(p, end)]
				t.updateQuotaForPath(real)
				if real != "" {
					t.quotas[trieKey(real)] = struct{}{}
				}
			}
			return
		}
		for _, c := range sortedKeys(n.Children) {
			walk(p + "/" + c)
		}
	}
	walk(QuotaPath)
}
