package tree

import (
	"strings"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/watch"
)

// Apply applies one txn exactly as DataTree.processTxn does, fires watches,
// and advances LastZxid. A txn that cannot apply (as can happen in replay)
// yields an Err instead of a panic; the tree keeps whatever Apache would.
// Apply takes ownership of the byte slices in txn.
func (t *Tree) Apply(hdr *jute.TxnHeader, txn jute.Record) Result {
	rc := t.apply(hdr, txn)
	if hdr.Zxid > t.lastZxid {
		t.lastZxid = hdr.Zxid
	}
	rc.SnapshotDigestMismatch = t.afterTxn(hdr.Zxid)
	return rc
}

func (t *Tree) apply(hdr *jute.TxnHeader, txn jute.Record) (rc Result) {
	rc.Type = hdr.Type
	switch hdr.Type {
	case jute.OpCreate, jute.OpCreate2:
		c, ok := txn.(*jute.CreateTxn)
		if !ok || c == nil {
			rc.Err = jute.ErrMarshallingError
			return rc
		}
		rc.Path = c.Path
		var owner int64
		if c.Ephemeral {
			owner = hdr.ClientID
		}
		rc.Stat, rc.Err = t.createNode(c.Path, c.Data, c.ACL, owner, c.ParentCVersion, hdr.Zxid, hdr.Time)
		// Replay fuzz (DataTree.processTxn): a create meeting an existing
		// node still moves the parent's cversion and pzxid forward.
		if hdr.Type == jute.OpCreate && rc.Err == jute.ErrNodeExists {
			if i := strings.LastIndexByte(c.Path, '/'); i >= 0 {
				if err := t.setCversionPzxid(c.Path[:i], c.ParentCVersion, hdr.Zxid); err != 0 {
					rc.Err = err
				}
			}
		}
	case jute.OpCreateTTL:
		c, ok := txn.(*jute.CreateTTLTxn)
		if !ok || c == nil {
			rc.Err = jute.ErrMarshallingError
			return rc
		}
		rc.Path = c.Path
		owner, ok := TTLOwner(c.TTL)
		if !ok {
			rc.Err = jute.ErrBadArguments
			return rc
		}
		rc.Stat, rc.Err = t.createNode(c.Path, c.Data, c.ACL, owner, c.ParentCVersion, hdr.Zxid, hdr.Time)
	case jute.OpCreateContainer:
		c, ok := txn.(*jute.CreateContainerTxn)
		if !ok || c == nil {
			rc.Err = jute.ErrMarshallingError
			return rc
		}
		rc.Path = c.Path
		rc.Stat, rc.Err = t.createNode(c.Path, c.Data, c.ACL, ContainerOwner, c.ParentCVersion, hdr.Zxid, hdr.Time)
	case jute.OpDelete, jute.OpDeleteContainer:
		d, ok := txn.(*jute.DeleteTxn)
		if !ok || d == nil {
			rc.Err = jute.ErrMarshallingError
			return rc
		}
		rc.Path = d.Path
		rc.Err = t.deleteNode(d.Path, hdr.Zxid)
	case jute.OpSetData, jute.OpReconfig:
		s, ok := txn.(*jute.SetDataTxn)
		if !ok || s == nil {
			rc.Err = jute.ErrMarshallingError
			return rc
		}
		rc.Path = s.Path
		rc.Stat, rc.Err = t.setData(s.Path, s.Data, s.Version, hdr.Zxid, hdr.Time)
	case jute.OpSetACL:
		s, ok := txn.(*jute.SetACLTxn)
		if !ok || s == nil {
			rc.Err = jute.ErrMarshallingError
			return rc
		}
		rc.Path = s.Path
		rc.Stat, rc.Err = t.setACL(s.Path, s.ACL, s.Version)
	case jute.OpCloseSession:
		if c, ok := txn.(*jute.CloseSessionTxn); ok && c != nil {
			t.killSession(hdr.ClientID, hdr.Zxid, c.Paths2Delete, true)
		} else {
			t.killSession(hdr.ClientID, hdr.Zxid, nil, false)
		}
	case jute.OpError:
		if e, ok := txn.(*jute.ErrorTxn); ok && e != nil {
			rc.Err = jute.Err(e.Err)
		}
	case jute.OpCheck:
		if c, ok := txn.(*jute.CheckVersionTxn); ok && c != nil {
			rc.Path = c.Path
		}
	case jute.OpMulti:
		m, ok := txn.(*jute.MultiTxn)
		if !ok || m == nil {
			rc.Err = jute.ErrMarshallingError
			return rc
		}
		t.applyMulti(hdr, m, &rc)
	}
	return rc
}

// applyMulti is processTxn's multi case: if any op is an ErrorTxn the whole
// multi failed, and every other op is applied as ErrorTxn(0) before the first
// error and ErrorTxn(RuntimeInconsistency) after it. rc.Err is the first
// non-zero op error.
func (t *Tree) applyMulti(hdr *jute.TxnHeader, m *jute.MultiTxn, rc *Result) {
	failed := false
	for _, sub := range m.Txns {
		if sub.Type == jute.OpError {
			failed = true
			break
		}
	}
	rc.Multi = make([]Result, 0, len(m.Txns))
	postFailed := false
	for _, sub := range m.Txns {
		var rec jute.Record
		switch sub.Type {
		case jute.OpCreate, jute.OpCreate2:
			rec = &jute.CreateTxn{}
		case jute.OpCreateTTL:
			rec = &jute.CreateTTLTxn{}
		case jute.OpCreateContainer:
			rec = &jute.CreateContainerTxn{}
		case jute.OpDelete, jute.OpDeleteContainer:
			rec = &jute.DeleteTxn{}
		case jute.OpSetData:
			rec = &jute.SetDataTxn{}
		case jute.OpError:
			rec = &jute.ErrorTxn{}
			postFailed = true
		case jute.OpCheck:
			rec = &jute.CheckVersionTxn{}
		default:
			// Apache aborts the rest of the multi with an IOException.
			return
		}
		d := jute.NewDecoder(sub.Data)
		d.Max = 0
		rec.Decode(d)
		if d.Err() != nil {
			return
		}
		typ := sub.Type
		if failed && typ != jute.OpError {
			code := jute.ErrOK
			if postFailed {
				code = jute.ErrRuntimeInconsistency
			}
			typ = jute.OpError
			rec = &jute.ErrorTxn{Err: int32(code)}
		}
		subHdr := jute.TxnHeader{ClientID: hdr.ClientID, Cxid: hdr.Cxid, Zxid: hdr.Zxid, Time: hdr.Time, Type: typ}
		sr := t.apply(&subHdr, rec)
		rc.Multi = append(rc.Multi, sr)
		if sr.Err != 0 && rc.Err == 0 {
			rc.Err = sr.Err
		}
	}
}

func parentOf(path string) (parent, child string, ok bool) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", "", false
	}
	return path[:i], path[i+1:], true
}

// watchPath maps the root's map key "" to the "/" watchers register on.
func watchPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// lookup finds path, treating "/" as the root.
func (t *Tree) lookup(path string) *Node {
	if path == "/" {
		return t.root
	}
	return t.nodes[path]
}

// createNode is DataTree.createNode.
func (t *Tree) createNode(path string, data []byte, acl []jute.ACL, owner int64, parentCVersion int32, zxid, time int64) (jute.Stat, jute.Err) {
	parentName, childName, ok := parentOf(path)
	if !ok {
		return jute.Stat{}, jute.ErrNoNode
	}
	parent := t.nodes[parentName]
	if parent == nil {
		return jute.Stat{}, jute.ErrNoNode
	}
	parentACL := t.ACL(parent)
	// The ACL is counted before the existence check, as Apache does for
	// fuzzy-snapshot replays; an existing node takes the txn's ACL.
	aclIdx := t.acls.convert(acl)
	if existing := t.lookup(path); existing != nil {
		// Apache overwrites the index without releasing the old usage; we
		// release it so reference counts stay true.
		t.acls.removeUsage(existing.ACL)
		existing.ACL = aclIdx
		return jute.Stat{}, jute.ErrNodeExists
	}
	if parentCVersion == -1 {
		parentCVersion = parent.Stat.Cversion + 1
	}
	// Replaying a create whose node came and went inside a fuzzy snapshot
	// must not move cversion/pzxid backwards.
	if parentCVersion > parent.Stat.Cversion {
		parent.Stat.Cversion = parentCVersion
		parent.Stat.Pzxid = zxid
	}
	child := &Node{Data: data, ACL: aclIdx, Stat: jute.StatPersisted{
		Czxid: zxid, Mzxid: zxid, Pzxid: zxid, Ctime: time, Mtime: time, EphemeralOwner: owner,
	}}
	if parent.Children == nil {
		parent.Children = make(map[string]struct{}, 1)
	}
	parent.Children[childName] = struct{}{}
	t.changed(parentName, parent)
	t.dataSize += nodeSize(path, data)
	t.putNode(path, child)
	switch t.ownerType(owner) {
	case typeContainer:
		t.containers[path] = struct{}{}
	case typeTTL:
		t.ttls[path] = struct{}{}
	case typeNormal:
		t.addEphemeral(owner, path)
	}
	st := t.ClientStat(child)

	if strings.HasPrefix(parentName, QuotaPath) {
		real := parentName[len(QuotaPath):]
		if childName == limitNode && real != "" {
			t.quotas[trieKey(real)] = struct{}{}
		}
		if childName == StatNode {
			t.updateQuotaForPath(real)
		}
	}
	if prefix, ok := t.maxQuotaPrefix(path); ok {
		t.updateQuotaStat(prefix, int64(len(data)), 1)
	}
	t.noteWrite(path, len(data))
	if acl == nil {
		acl = jute.OpenACLUnsafe
	}
	t.w.Trigger(path, jute.EventNodeCreated, acl)
	t.w.Trigger(watchPath(parentName), jute.EventNodeChildrenChanged, parentACL)
	return st, 0
}

// deleteNode is DataTree.deleteNode. It does not check for children: the
// request pipeline does (NotEmpty), and replay must follow the log.
func (t *Tree) deleteNode(path string, zxid int64) jute.Err {
	parentName, childName, ok := parentOf(path)
	if !ok {
		return jute.ErrNoNode
	}
	parent := t.nodes[parentName]
	if parent == nil {
		return jute.ErrNoNode
	}
	// The parent is updated before the child is looked up: a child already
	// gone in a fuzzy snapshot still moves pzxid.
	delete(parent.Children, childName)
	if len(parent.Children) == 0 {
		parent.Children = nil
	}
	if zxid > parent.Stat.Pzxid {
		parent.Stat.Pzxid = zxid
	}
	t.changed(parentName, parent)

	node := t.nodes[path]
	if node == nil {
		return jute.ErrNoNode
	}
	t.removeNode(path)
	acl := t.ACL(node)
	t.acls.removeUsage(node.ACL)
	t.dataSize -= nodeSize(path, node.Data)
	parentACL := t.ACL(parent)
	owner := node.Stat.EphemeralOwner
	switch t.ownerType(owner) {
	case typeContainer:
		delete(t.containers, path)
	case typeTTL:
		delete(t.ttls, path)
	case typeNormal:
		if e := t.ephemerals[owner]; e != nil {
			e.remove(path)
		}
	}
	if strings.HasPrefix(parentName, ProcPath) && childName == limitNode && len(parentName) > len(QuotaPath) {
		delete(t.quotas, trieKey(parentName[len(QuotaPath):]))
	}
	if prefix, ok := t.maxQuotaPrefix(path); ok {
		t.updateQuotaStat(prefix, -int64(len(node.Data)), -1)
	}
	t.noteWrite(path, 0)
	t.w.Trigger(path, jute.EventNodeDeleted, acl)
	t.w.Trigger(watchPath(parentName), jute.EventNodeChildrenChanged, parentACL)
	return 0
}

// setData is DataTree.setData; version is the new version from the txn.
func (t *Tree) setData(path string, data []byte, version int32, zxid, time int64) (jute.Stat, jute.Err) {
	n := t.lookup(path)
	if n == nil {
		return jute.Stat{}, jute.ErrNoNode
	}
	acl := t.ACL(n)
	last := n.Data
	n.Data = data
	n.Stat.Mtime = time
	n.Stat.Mzxid = zxid
	n.Stat.Version = version
	t.changed(path, n)
	st := t.ClientStat(n)
	if prefix, ok := t.maxQuotaPrefix(path); ok {
		t.updateQuotaStat(prefix, int64(len(data)-len(last)), 0)
	}
	t.dataSize += nodeSize(path, data) - nodeSize(path, last)
	t.noteWrite(path, len(data))
	t.w.Trigger(path, jute.EventNodeDataChanged, acl)
	return st, 0
}

// setACL is DataTree.setACL; it fires no watch.
func (t *Tree) setACL(path string, acl []jute.ACL, version int32) (jute.Stat, jute.Err) {
	n := t.lookup(path)
	if n == nil {
		return jute.Stat{}, jute.ErrNoNode
	}
	t.acls.removeUsage(n.ACL)
	n.Stat.Aversion = version
	n.ACL = t.acls.convert(acl)
	t.changed(path, n)
	return t.ClientStat(n), 0
}

// setCversionPzxid is DataTree.setCversionPzxid.
func (t *Tree) setCversionPzxid(path string, cversion int32, zxid int64) jute.Err {
	path = strings.TrimSuffix(path, "/")
	n := t.nodes[path]
	if n == nil {
		return jute.ErrNoNode
	}
	if cversion == -1 {
		cversion = n.Stat.Cversion + 1
	}
	if cversion > n.Stat.Cversion {
		n.Stat.Cversion = cversion
		n.Stat.Pzxid = zxid
		t.changed(path, n)
	}
	return 0
}

// KillSession deletes the session's ephemerals (closeSession of an old log
// with no CloseSessionTxn) and returns the deleted paths.
func (t *Tree) KillSession(session int64, zxid int64) []string {
	return t.killSession(session, zxid, nil, false)
}

// killSession is DataTree.killSession: the txn's paths first (whoever owns
// them, NoNode ignored), then any ephemerals of the session the txn missed.
func (t *Tree) killSession(session, zxid int64, inTxn []string, haveTxn bool) []string {
	var deleted []string
	if haveTxn {
		for _, p := range inTxn {
			if t.deleteNode(p, zxid) == 0 {
				deleted = append(deleted, p)
			}
		}
	}
	// Then what the txn missed, in the session set's HashSet order.
	rest := t.ephemerals[session].order()
	delete(t.ephemerals, session)
	for _, p := range rest {
		if t.deleteNode(p, zxid) == 0 {
			deleted = append(deleted, p)
		}
	}
	return deleted
}

// SetWatches is DataTree.setWatches (reconnect): each watch either fires at
// once (with a nil ACL: Apache does not filter these) or is re-registered.
func (t *Tree) SetWatches(relativeZxid int64, data, exist, child, persistent, recursive []string, w watch.Watcher) {
	fire := func(typ int32, p string) {
		w.Process(jute.WatcherEvent{Type: typ, State: jute.StateSyncConnected, Path: p}, nil)
	}
	for _, p := range data {
		n := t.lookup(p)
		switch {
		case n == nil:
			fire(jute.EventNodeDeleted, p)
		case n.Stat.Mzxid > relativeZxid:
			fire(jute.EventNodeDataChanged, p)
		default:
			t.w.AddData(p, w)
		}
	}
	for _, p := range exist {
		if t.lookup(p) != nil {
			fire(jute.EventNodeCreated, p)
		} else {
			t.w.AddData(p, w)
		}
	}
	for _, p := range child {
		n := t.lookup(p)
		switch {
		case n == nil:
			fire(jute.EventNodeDeleted, p)
		case n.Stat.Pzxid > relativeZxid:
			fire(jute.EventNodeChildrenChanged, p)
		default:
			t.w.AddChild(p, w)
		}
	}
	for _, p := range persistent {
		t.w.AddPersistent(p, w, false)
	}
	for _, p := range recursive {
		t.w.AddPersistent(p, w, true)
	}
}

// InitConfig is DataTree.setData as ZKDatabase.initConfigInZKDatabase calls it, outside any txn: /zookeeper/config
// holds the active quorum config with version -1 and the config's version as mzxid. A tree without the node (from
// a snapshot of a release before 3.5) is left so.
func (t *Tree) InitConfig(data []byte, version, time int64) {
	_, _ = t.setData(ConfigPath, data, -1, version, time)
}
