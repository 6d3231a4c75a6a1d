// Package tree is ZooKeeper 3.8's data tree: znodes with their stats, the
// reference-counted ACL cache, ephemerals per session, container and TTL
// sets, quota stat nodes, and the incremental tree digest. It applies txns
// exactly as Apache's DataTree.processTxn does and fires watches through a
// watch.Manager.
//
// A Tree is not safe for concurrent use: one goroutine applies txns and serves
// reads (or callers serialize access). The watch.Manager it fires is.
package tree

import (
	"hash/crc32"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/watch"
)

// Built-in paths (Quotas, ZooDefs).
const (
	ProcPath   = "/zookeeper"
	QuotaPath  = "/zookeeper/quota"
	ConfigPath = "/zookeeper/config"
	// digestExcluded is ZooDefs.ZOOKEEPER_NODE_SUBTREE: nodes below it are
	// left out of the digest (/zookeeper itself is in).
	digestExcluded = "/zookeeper/"
	limitNode      = "zookeeper_limits"
	// StatNode is Quotas.statNode, the node under a quota's path that holds its usage.
	StatNode = "zookeeper_stats"
)

// Ephemeral owners with special meaning (EphemeralType).
const (
	ContainerOwner int64 = math.MinInt64
	extendedMask   int64 = -0x0100000000000000 // 0xff00000000000000
	reservedMask   int64 = 0x00ffff0000000000
	// MaxTTL is the largest TTL a TTL owner can carry (2^40-1 ms).
	MaxTTL int64 = 0x000000ffffffffff
)

// Node is one znode. Keep it small: a tree may hold millions.
type Node struct {
	Data     []byte
	ACL      int64              // index in the tree's ACL cache; -1 = OPEN_ACL_UNSAFE
	Stat     jute.StatPersisted // internal cversion (counts creates), raw ephemeralOwner
	Children map[string]struct{}
	digest   uint32 // this node's CRC32 as counted in the tree digest (0 if excluded)
}

// Result is the outcome of one txn (Apache's ProcessTxnResult).
type Result struct {
	Type  int32     // txn type as applied (a multi's converted ops are OpError)
	Err   jute.Err  // error of this txn (an ErrorTxn carries one)
	Path  string    // created path / affected path
	Stat  jute.Stat // client stat after the change (creates, setData, setACL)
	Multi []Result  // per-op results of a MultiTxn, in order
	// SnapshotDigestMismatch: this txn is the one the loaded snapshot's digest was taken at, and the tree's digest
	// after it differs (DataTree.compareSnapshotDigests reports a digest mismatch).
	SnapshotDigestMismatch bool
}

// Options are the JVM properties that change how the tree classifies nodes.
type Options struct {
	// ExtendedTypes is zookeeper.extendedTypesEnabled: only then is an owner
	// with the top byte 0xff a TTL node; otherwise it is a plain ephemeral.
	ExtendedTypes bool
	// Emulate353TTL is zookeeper.emulate353TTLNodes (with ExtendedTypes): any other negative owner but a
	// container's is a TTL node too, as ZooKeeper 3.5.3 encoded them (EphemeralTypeEmulate353).
	Emulate353TTL bool
	// DisableDigest is zookeeper.digest.enabled=false: Digest stays 0.
	DisableDigest bool
	// NamespaceStats, when set, counts the tree's writes (and the reads its users note) by top-level name.
	NamespaceStats *NamespaceStats
}

// Tree is the data tree.
type Tree struct {
	opts       Options
	w          *watch.Manager
	nodes      map[string]*Node // every node but the root alias "/"
	root       *Node
	acls       aclCache
	ephemerals map[int64]*javaStringSet
	containers map[string]struct{}
	ttls       map[string]struct{}
	quotas     map[string]struct{} // Apache's pTrie: paths with a zookeeper_limits node
	dataSize   int64               // cachedApproximateDataSize
	digest     int64
	lastZxid   int64
	digests    digests
}

// New returns a tree holding the built-in nodes, with Apache's defaults.
func New(w *watch.Manager) *Tree { return NewWithOptions(w, Options{}) }

// NewWithOptions returns a tree holding the built-in nodes: the root (""
// and "/"), /zookeeper, /zookeeper/quota and /zookeeper/config (READ_ACL_UNSAFE).
func NewWithOptions(w *watch.Manager, opts Options) *Tree {
	if w == nil {
		w = watch.NewManager()
	}
	t := &Tree{opts: opts, w: w}
	t.reset()
	proc := &Node{Data: []byte{}, ACL: openACLIndex}
	t.root.Children = map[string]struct{}{"zookeeper": {}}
	t.putNode(ProcPath, proc)
	quota := &Node{Data: []byte{}, ACL: openACLIndex}
	t.putNode(QuotaPath, quota)
	cfg := &Node{Data: []byte{}, ACL: openACLIndex}
	proc.Children = map[string]struct{}{"quota": {}, "config": {}}
	t.putNode(ConfigPath, cfg)
	// Apache sets it with setACL(path, READ_ACL_UNSAFE, -1): aversion -1.
	cfg.ACL = t.acls.convert(jute.ReadACLUnsafe)
	cfg.Stat.Aversion = -1
	t.dataSize = t.computeDataSize()
	return t
}

// reset empties the tree down to a bare root.
func (t *Tree) reset() {
	t.nodes = map[string]*Node{}
	t.acls = newACLCache()
	t.ephemerals = map[int64]*javaStringSet{}
	t.containers = map[string]struct{}{}
	t.ttls = map[string]struct{}{}
	t.quotas = map[string]struct{}{}
	t.digest = 0
	t.digests = digests{}
	t.dataSize = 0
	t.root = &Node{Data: []byte{}, ACL: openACLIndex}
	t.putNode("", t.root)
}

// Watches returns the manager the tree fires.
func (t *Tree) Watches() *watch.Manager { return t.w }

// Node returns the node at path, nil if absent; "" and "/" are the root.
func (t *Tree) Node(path string) *Node {
	if path == "/" {
		return t.root
	}
	return t.nodes[path]
}

// ACL returns the node's ACL list. It is nil only if the node's index is
// missing from the cache (Apache throws there): callers must then deny.
func (t *Tree) ACL(n *Node) []jute.ACL {
	acl, _ := t.acls.lookup(n.ACL)
	return acl
}

// ACLIndex adds a usage of acl to the cache and returns its index
// (convertAcls). Pair with ReleaseACL.
func (t *Tree) ACLIndex(acl []jute.ACL) int64 { return t.acls.convert(acl) }

// ReleaseACL drops one usage of an index (removeUsage).
func (t *Tree) ReleaseACL(idx int64) { t.acls.removeUsage(idx) }

// ACLCacheSize is the number of distinct cached ACL lists (aclCacheSize).
func (t *Tree) ACLCacheSize() int { return len(t.acls.byIndex) }

// ACLRefs returns the reference count of an index (0 if not cached).
func (t *Tree) ACLRefs(idx int64) int64 {
	if e := t.acls.byIndex[idx]; e != nil {
		return e.refs
	}
	return 0
}

// ephemeralType classifies an owner as EphemeralType.get does.
type ephemeralType uint8

const (
	typeVoid ephemeralType = iota
	typeNormal
	typeContainer
	typeTTL
)

func (t *Tree) ownerType(owner int64) ephemeralType { return t.opts.ownerType(owner) }

// NormalEphemeral tells whether owner is a session's (EphemeralType.NORMAL): not 0, a container's or a TTL's.
func (o Options) NormalEphemeral(owner int64) bool { return o.ownerType(owner) == typeNormal }

func (o Options) ownerType(owner int64) ephemeralType {
	if o.ExtendedTypes && o.Emulate353TTL && owner < 0 && owner != ContainerOwner {
		return typeTTL // 3.5.3's TTL_MASK (the sign bit) | ttl; the value is still the low 40 bits
	}
	if o.ExtendedTypes && owner&extendedMask == extendedMask {
		if owner&reservedMask == 0 {
			return typeTTL
		}
		// Apache throws on an unknown extended feature; keep it a plain owner.
		return typeNormal
	}
	switch owner {
	case ContainerOwner:
		return typeContainer
	case 0:
		return typeVoid
	}
	return typeNormal
}

// TTLOwner is EphemeralType.TTL.toEphemeralOwner; ok is false when ttl is not
// in 1..MaxTTL.
func TTLOwner(ttl int64) (owner int64, ok bool) {
	if ttl <= 0 || ttl > MaxTTL {
		return 0, false
	}
	return extendedMask | ttl, true
}

// TTLOf returns the TTL of a TTL node's owner (0 if it is not one).
func (t *Tree) TTLOf(n *Node) int64 {
	if t.ownerType(n.Stat.EphemeralOwner) != typeTTL {
		return 0
	}
	return n.Stat.EphemeralOwner & MaxTTL
}

// IsContainer reports whether n is a container node.
func (t *Tree) IsContainer(n *Node) bool { return t.ownerType(n.Stat.EphemeralOwner) == typeContainer }

// IsEphemeral reports whether n is a session ephemeral (not container/TTL).
func (t *Tree) IsEphemeral(n *Node) bool { return t.ownerType(n.Stat.EphemeralOwner) == typeNormal }

// ClientStat is DataNode.copyStat: the stat clients see. The visible cversion
// is internal*2 - numChildren (creates counted twice, minus children still
// present), and container/TTL owners show as 0.
func (t *Tree) ClientStat(n *Node) jute.Stat {
	s := &n.Stat
	nc := int32(len(n.Children))
	owner := s.EphemeralOwner
	if t.ownerType(owner) != typeNormal {
		owner = 0
	}
	return jute.Stat{
		Czxid: s.Czxid, Mzxid: s.Mzxid, Ctime: s.Ctime, Mtime: s.Mtime,
		Version: s.Version, Cversion: s.Cversion*2 - nc, Aversion: s.Aversion,
		EphemeralOwner: owner, DataLength: int32(len(n.Data)), NumChildren: nc,
		Pzxid: s.Pzxid,
	}
}

// ChildNames returns the node's child names, sorted.
func (t *Tree) ChildNames(n *Node) []string {
	out := make([]string, 0, len(n.Children))
	for c := range n.Children {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// NodeCount is getNodeCount: Apache's map holds the root twice ("" and "/"),
// so a fresh tree counts 5.
func (t *Tree) NodeCount() int { return len(t.nodes) + 1 }

// ApproximateDataSize is cachedApproximateDataSize (mntr
// zk_approximate_data_size): Java path lengths plus data lengths over every
// map entry (the root alias included), kept incrementally on create, delete
// and setData like Apache (quota stat rewrites are not counted, as there).
func (t *Tree) ApproximateDataSize() int64 { return t.dataSize }

func (t *Tree) computeDataSize() int64 {
	sz := nodeSize("/", t.root.Data)
	for p, n := range t.nodes {
		sz += nodeSize(p, n.Data)
	}
	return sz
}

// nodeSize is getNodeSize: String.length() of the path (UTF-16 units) plus
// the data length.
func nodeSize(path string, data []byte) int64 {
	return int64(javaLen(path)) + int64(len(data))
}

func javaLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			n := 0
			for _, r := range s {
				n++
				if r >= 0x10000 {
					n++
				}
			}
			return n
		}
	}
	return len(s)
}

// EphemeralPaths returns a session's ephemeral paths in the order Apache's
// getEphemerals gives them (a clone of the session's HashSet), the order
// getEphemerals answers with and closeSession lists them in its txn.
func (t *Tree) EphemeralPaths(session int64) []string {
	return t.ephemerals[session].cloneOrder()
}

func (t *Tree) addEphemeral(owner int64, path string) {
	s := t.ephemerals[owner]
	if s == nil {
		s = &javaStringSet{}
		t.ephemerals[owner] = s
	}
	s.add(path)
}

// EphemeralCount is getEphemeralsCount.
func (t *Tree) EphemeralCount() int {
	n := 0
	for _, s := range t.ephemerals {
		n += s.size
	}
	return n
}

// SessionsWithEphemerals maps each session to its ephemeral paths.
// Like Apache's map, a session whose ephemerals were all deleted one by one
// stays listed (empty) until its closeSession.
func (t *Tree) SessionsWithEphemerals() map[int64][]string {
	out := make(map[int64][]string, len(t.ephemerals))
	for s, ps := range t.ephemerals {
		out[s] = ps.order()
	}
	return out
}

// Containers returns the container paths, sorted.
func (t *Tree) Containers() []string { return sortedKeys(t.containers) }

// TTLs returns the TTL node paths, sorted.
func (t *Tree) TTLs() []string { return sortedKeys(t.ttls) }

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CountDescendants is getAllChildrenNumber: for "/" every node but the root
// (the built-ins included); otherwise the number of nodes below path (0 when
// path does not exist).
func (t *Tree) CountDescendants(path string) int {
	if path == "/" {
		return t.NodeCount() - 2
	}
	if path == "" {
		// Apache counts the keys starting with path+"/" in a map that holds
		// the root under both "" and "/", so "" counts the "/" alias too.
		return t.NodeCount() - 1
	}
	n := t.nodes[path]
	if n == nil {
		return 0
	}
	count := 0
	var walk func(p string, n *Node)
	walk = func(p string, n *Node) {
		for c := range n.Children {
			cp := p + "/" + c
			if cn := t.nodes[cp]; cn != nil {
				count++
				walk(cp, cn)
			}
		}
	}
	walk(path, n)
	return count
}

// LastZxid is the zxid of the last applied txn (lastProcessedZxid).
func (t *Tree) LastZxid() int64 { return t.lastZxid }

// SetLastZxid sets lastProcessedZxid, e.g. from a snapshot's name on restore.
func (t *Tree) SetLastZxid(zxid int64) { t.lastZxid = zxid }

// Digest is the current tree digest (DigestCalculator version 2).
func (t *Tree) Digest() int64 { return t.digest }

// DigestVersion is the digest version written next to digests.
const DigestVersion = 2

// nodeDigest is DigestCalculator.calculateDigest: CRC32 of the path ("/" as
// ""), the data and a 60-byte big-endian block of stat fields.
func nodeDigest(path string, n *Node) uint32 {
	if path == "/" {
		path = ""
	}
	s := &n.Stat
	var b [60]byte
	be64(b[0:], s.Czxid)
	be64(b[8:], s.Mzxid)
	be64(b[16:], s.Pzxid)
	be64(b[24:], s.Ctime)
	be64(b[32:], s.Mtime)
	be32(b[40:], s.Version)
	be32(b[44:], s.Cversion)
	be32(b[48:], s.Aversion)
	be64(b[52:], s.EphemeralOwner)
	c := crc32.Update(0, crc32.IEEETable, []byte(path))
	c = crc32.Update(c, crc32.IEEETable, n.Data)
	return crc32.Update(c, crc32.IEEETable, b[:])
}

func be64(b []byte, v int64) {
	u := uint64(v)
	b[0], b[1], b[2], b[3] = byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32)
	b[4], b[5], b[6], b[7] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
}

func be32(b []byte, v int32) {
	u := uint32(v)
	b[0], b[1], b[2], b[3] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
}

func digested(path string) bool { return !strings.HasPrefix(path, digestExcluded) }

// putNode inserts n at path and counts its digest (NodeHashMap.put).
func (t *Tree) putNode(path string, n *Node) {
	if old := t.nodes[path]; old != nil {
		t.digest -= int64(old.digest)
	}
	t.nodes[path] = n
	n.digest = 0
	if !t.opts.DisableDigest && digested(path) {
		n.digest = nodeDigest(path, n)
		t.digest += int64(n.digest)
	}
}

// removeNode deletes path and uncounts its digest.
func (t *Tree) removeNode(path string) {
	if n := t.nodes[path]; n != nil {
		t.digest -= int64(n.digest)
		delete(t.nodes, path)
	}
}

// changed recomputes n's digest after an in-place change
// (preChange/postChange collapsed: the old value is cached in the node).
func (t *Tree) changed(path string, n *Node) {
	if t.opts.DisableDigest || !digested(path) {
		return
	}
	t.digest -= int64(n.digest)
	n.digest = nodeDigest(path, n)
	t.digest += int64(n.digest)
}
