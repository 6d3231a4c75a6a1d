package diff

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/jute"
)

// norm turns server-specific values (zxids, session ids, times) into values
// that two correct servers agree on.
type norm struct {
	// bases[0] is the first zxid observed in the scenario; later entries
	// start new segments after time-driven server actions (Resync), whose
	// zxid count may legitimately vary.
	bases []int64
	// floors[k] is the largest reply zxid seen before segment k began: the
	// zxids between it and bases[k] are the time-driven action's, rendered
	// as the segment's start whatever their number.
	floors   []int64
	seen     int64
	sessions map[int64]string // session id -> label
}

// observe records the first positive zxid as the scenario's base.
func (n *norm) observe(z int64) {
	if len(n.bases) == 0 && z > 0 {
		n.bases = append(n.bases, z)
		n.floors = append(n.floors, 0)
	}
	n.seen = max(n.seen, z)
}

// newSegment starts a zxid segment at base (Client.Resync).
func (n *norm) newSegment(base int64) {
	n.floors = append(n.floors, n.seen)
	n.observe(base)
	n.bases = append(n.bases, base)
}

// zx renders a zxid relative to the scenario's base ("+d", or "+k:d" in
// segment k). Values that precede the scenario depend on earlier scenarios,
// so only "pre" is kept for them.
func (n *norm) zx(z int64) string {
	if z <= 0 {
		return strconv.FormatInt(z, 10)
	}
	if len(n.bases) == 0 || z < n.bases[0] {
		return "pre"
	}
	k := len(n.bases) - 1
	for z < n.bases[k] {
		k--
	}
	if k+1 < len(n.bases) && z > n.floors[k+1] {
		// A txn of the time-driven action before segment k+1 (a container's
		// delete, whose retries vary in number): only its segment is kept.
		return fmt.Sprintf("+%d:0", k+1)
	}
	if k == 0 {
		return "+" + strconv.FormatInt(z-n.bases[0], 10)
	}
	return fmt.Sprintf("+%d:%d", k, z-n.bases[k])
}

const ttlMask = -1 << 56 // 0xFF00000000000000

func (n *norm) owner(o int64) string {
	// Sessions of this scenario first: a server whose session ids look like
	// TTL owners shows up in session/id-format, not in every scenario.
	if l, ok := n.sessions[o]; ok {
		return l
	}
	switch {
	case o == 0:
		return "0"
	case o == -1<<63:
		return "container"
	case o&ttlMask == ttlMask:
		return fmt.Sprintf("ttl(%d)", o&^ttlMask)
	}
	return "foreign-session"
}

func (n *norm) stat(s *jute.Stat) string {
	// Only what a correct server guarantees: an unmodified node has
	// ctime == mtime; after a change mtime >= ctime (they may still be equal
	// within one millisecond).
	var tm string
	switch {
	case s.Mzxid == s.Czxid && s.Ctime == s.Mtime:
		tm = "c=m"
	case s.Mzxid == s.Czxid:
		tm = "c!=m(unmodified)"
	case s.Ctime <= s.Mtime:
		tm = "c<=m"
	default:
		tm = "c>m"
	}
	return fmt.Sprintf("{cz=%s mz=%s pz=%s %s v=%d cv=%d av=%d owner=%s len=%d nch=%d}",
		n.zx(s.Czxid), n.zx(s.Mzxid), n.zx(s.Pzxid), tm, s.Version, s.Cversion, s.Aversion,
		n.owner(s.EphemeralOwner), s.DataLength, s.NumChildren)
}

func data(b []byte) string {
	if b == nil {
		return "nil"
	}
	if len(b) <= 80 {
		return strconv.Quote(string(b))
	}
	h := sha256.Sum256(b)
	return fmt.Sprintf("<%d bytes sha256:%x>", len(b), h[:6])
}

func perms(p int32) string {
	var b strings.Builder
	for _, f := range []struct {
		bit int32
		c   byte
	}{{jute.PermCreate, 'c'}, {jute.PermDelete, 'd'}, {jute.PermRead, 'r'}, {jute.PermWrite, 'w'}, {jute.PermAdmin, 'a'}} {
		if p&f.bit != 0 {
			b.WriteByte(f.c)
		}
	}
	if rest := p &^ jute.PermAll; rest != 0 {
		fmt.Fprintf(&b, "+0x%x", rest)
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

func acls(a []jute.ACL) string {
	if a == nil {
		return "nil"
	}
	parts := make([]string, len(a))
	for i, x := range a {
		parts[i] = fmt.Sprintf("%s:%s:%s", x.ID.Scheme, x.ID.ID, perms(x.Perms))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func sortedList(v []string) string {
	if v == nil {
		return "nil"
	}
	s := append([]string(nil), v...)
	sort.Strings(s)
	return "[" + strings.Join(s, " ") + "]"
}

func errName(code int32) string {
	if code == 0 {
		return "OK"
	}
	e := jute.Err(code)
	if n := e.Error(); n != "UnknownError" {
		return n
	}
	return fmt.Sprintf("Err(%d)", code)
}

var opNames = map[int32]string{
	jute.OpCreate: "create", jute.OpDelete: "delete", jute.OpExists: "exists", jute.OpGetData: "getData",
	jute.OpSetData: "setData", jute.OpGetACL: "getACL", jute.OpSetACL: "setACL", jute.OpGetChildren: "getChildren",
	jute.OpSync: "sync", jute.OpPing: "ping", jute.OpGetChildren2: "getChildren2", jute.OpCheck: "check",
	jute.OpMulti: "multi", jute.OpCreate2: "create2", jute.OpReconfig: "reconfig",
	jute.OpCheckWatches: "checkWatches", jute.OpRemoveWatches: "removeWatches",
	jute.OpCreateContainer: "createContainer", jute.OpDeleteContainer: "deleteContainer",
	jute.OpCreateTTL: "createTTL", jute.OpMultiRead: "multiRead", jute.OpAuth: "auth",
	jute.OpSetWatches: "setWatches", jute.OpSASL: "sasl", jute.OpGetEphemerals: "getEphemerals",
	jute.OpGetAllChildrenNumber: "getAllChildrenNumber", jute.OpSetWatches2: "setWatches2",
	jute.OpAddWatch: "addWatch", jute.OpWhoAmI: "whoAmI", jute.OpCreateSession: "createSession",
	jute.OpCloseSession: "closeSession", jute.OpError: "error",
}

func opName(op int32) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("op%d", op)
}

var eventNames = map[int32]string{
	jute.EventNone: "None", jute.EventNodeCreated: "NodeCreated", jute.EventNodeDeleted: "NodeDeleted",
	jute.EventNodeDataChanged: "NodeDataChanged", jute.EventNodeChildrenChanged: "NodeChildrenChanged",
	jute.EventDataWatchRemoved: "DataWatchRemoved", jute.EventChildWatchRemoved: "ChildWatchRemoved",
	jute.EventPersistentWatchRemoved: "PersistentWatchRemoved",
}

func eventName(t int32) string {
	if n, ok := eventNames[t]; ok {
		return n
	}
	return fmt.Sprintf("Event(%d)", t)
}

func stateName(s int32) string {
	switch s {
	case jute.StateSyncConnected:
		return "SyncConnected"
	case 0:
		return "Disconnected"
	case -112:
		return "Expired"
	}
	return fmt.Sprintf("State(%d)", s)
}

// multiResult renders the per-op results of a multi or multiRead.
func (n *norm) multiResult(m *jute.MultiResponse) string {
	parts := make([]string, len(m.Results))
	for i, r := range m.Results {
		var s string
		switch rec := r.Rec.(type) {
		case nil:
			if r.Type == jute.OpError {
				s = "error " + errName(r.Err)
			} else {
				s = opName(r.Type) + " OK"
			}
		case *jute.CreateResponse:
			s = fmt.Sprintf("%s path=%s", opName(r.Type), rec.Path)
		case *jute.Create2Response:
			s = fmt.Sprintf("%s path=%s stat=%s", opName(r.Type), rec.Path, n.stat(&rec.Stat))
		case *jute.SetDataResponse:
			s = fmt.Sprintf("%s stat=%s", opName(r.Type), n.stat(&rec.Stat))
		case *jute.GetChildrenResponse:
			s = fmt.Sprintf("%s children=%s", opName(r.Type), sortedList(rec.Children))
		case *jute.GetDataResponse:
			s = fmt.Sprintf("%s data=%s stat=%s", opName(r.Type), data(rec.Data), n.stat(&rec.Stat))
		default:
			s = fmt.Sprintf("%s %+v", opName(r.Type), rec)
		}
		parts[i] = s
	}
	return "[" + strings.Join(parts, " | ") + "]"
}
