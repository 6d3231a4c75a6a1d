package zkclient

import (
	"errors"
	"fmt"

	"github.com/zkafka/zkafka/jute"
)

// call runs one request and turns a non-zero reply code into a jute.Err.
func (c *Conn) call(op int32, req, resp jute.Record) error {
	hdr, err := c.Do(op, req, resp)
	if err != nil {
		return err
	}
	return errCode(hdr.Err)
}

// Create creates a znode with opcode create (1) and returns its name.
func (c *Conn) Create(path string, data []byte, acl []jute.ACL, flags int32) (string, error) {
	var resp jute.CreateResponse
	req := &jute.CreateRequest{Path: c.serverPath(path), Data: data, ACL: acl, Flags: flags}
	if err := c.call(jute.OpCreate, req, &resp); err != nil {
		return "", err
	}
	return c.stripChroot(resp.Path), nil
}

// Create2 creates a znode with opcode create2 (15), which also returns its Stat.
func (c *Conn) Create2(path string, data []byte, acl []jute.ACL, flags int32) (string, jute.Stat, error) {
	return c.create2(jute.OpCreate2, &jute.CreateRequest{Path: c.serverPath(path), Data: data, ACL: acl, Flags: flags})
}

// CreateContainer creates a container znode with opcode createContainer (19).
func (c *Conn) CreateContainer(path string, data []byte, acl []jute.ACL) (string, jute.Stat, error) {
	return c.create2(jute.OpCreateContainer, &jute.CreateRequest{Path: c.serverPath(path), Data: data, ACL: acl, Flags: jute.ModeContainer})
}

// CreateTTL creates a TTL znode with opcode createTTL (21); flags is
// ModePersistentWithTTL or ModePersistentSequentialWithTTL.
func (c *Conn) CreateTTL(path string, data []byte, acl []jute.ACL, flags int32, ttl int64) (string, jute.Stat, error) {
	return c.create2(jute.OpCreateTTL, &jute.CreateTTLRequest{Path: c.serverPath(path), Data: data, ACL: acl, Flags: flags, TTL: ttl})
}

func (c *Conn) create2(op int32, req jute.Record) (string, jute.Stat, error) {
	var resp jute.Create2Response
	if err := c.call(op, req, &resp); err != nil {
		return "", jute.Stat{}, err
	}
	return c.stripChroot(resp.Path), resp.Stat, nil
}

// Delete deletes a znode (version -1 matches any version).
func (c *Conn) Delete(path string, version int32) error {
	return c.call(jute.OpDelete, &jute.DeleteRequest{Path: c.serverPath(path), Version: version}, nil)
}

// Exists returns the node's Stat and true, or false when it does not exist
// (with watch set, the server then leaves a watch for its creation).
func (c *Conn) Exists(path string, watch bool) (jute.Stat, bool, error) {
	var resp jute.ExistsResponse
	err := c.call(jute.OpExists, &jute.ExistsRequest{Path: c.serverPath(path), Watch: watch}, &resp)
	if errors.Is(err, jute.ErrNoNode) {
		return jute.Stat{}, false, nil
	}
	if err != nil {
		return jute.Stat{}, false, err
	}
	return resp.Stat, true, nil
}

// Get returns a node's data (nil when the server stored null) and Stat.
func (c *Conn) Get(path string, watch bool) ([]byte, jute.Stat, error) {
	var resp jute.GetDataResponse
	if err := c.call(jute.OpGetData, &jute.GetDataRequest{Path: c.serverPath(path), Watch: watch}, &resp); err != nil {
		return nil, jute.Stat{}, err
	}
	return resp.Data, resp.Stat, nil
}

// Set replaces a node's data.
func (c *Conn) Set(path string, data []byte, version int32) (jute.Stat, error) {
	var resp jute.SetDataResponse
	if err := c.call(jute.OpSetData, &jute.SetDataRequest{Path: c.serverPath(path), Data: data, Version: version}, &resp); err != nil {
		return jute.Stat{}, err
	}
	return resp.Stat, nil
}

// GetACL returns a node's ACL and Stat.
func (c *Conn) GetACL(path string) ([]jute.ACL, jute.Stat, error) {
	var resp jute.GetACLResponse
	if err := c.call(jute.OpGetACL, &jute.GetACLRequest{Path: c.serverPath(path)}, &resp); err != nil {
		return nil, jute.Stat{}, err
	}
	return resp.ACL, resp.Stat, nil
}

// SetACL replaces a node's ACL (version is the expected aversion).
func (c *Conn) SetACL(path string, acl []jute.ACL, version int32) (jute.Stat, error) {
	var resp jute.SetACLResponse
	if err := c.call(jute.OpSetACL, &jute.SetACLRequest{Path: c.serverPath(path), ACL: acl, Version: version}, &resp); err != nil {
		return jute.Stat{}, err
	}
	return resp.Stat, nil
}

// Children lists a node's children (getChildren, 8), in server order.
func (c *Conn) Children(path string, watch bool) ([]string, error) {
	var resp jute.GetChildrenResponse
	if err := c.call(jute.OpGetChildren, &jute.GetChildrenRequest{Path: c.serverPath(path), Watch: watch}, &resp); err != nil {
		return nil, err
	}
	return resp.Children, nil
}

// Children2 lists a node's children with its Stat (getChildren2, 12).
func (c *Conn) Children2(path string, watch bool) ([]string, jute.Stat, error) {
	var resp jute.GetChildren2Response
	if err := c.call(jute.OpGetChildren2, &jute.GetChildren2Request{Path: c.serverPath(path), Watch: watch}, &resp); err != nil {
		return nil, jute.Stat{}, err
	}
	return resp.Children, resp.Stat, nil
}

// Sync asks the server to catch up with the leader and returns the path.
func (c *Conn) Sync(path string) (string, error) {
	var resp jute.SyncResponse
	if err := c.call(jute.OpSync, &jute.SyncRequest{Path: c.serverPath(path)}, &resp); err != nil {
		return "", err
	}
	return c.stripChroot(resp.Path), nil
}

// Multi runs ops atomically (opcode 14). On failure the results are still
// returned (ErrorResult entries) along with the failing op's jute.Err. Apache
// 3.8 leaves the reply header's code 0 for a failed multi, so, like the Java
// client, the error is taken from the first non-zero ErrorResult.
func (c *Conn) Multi(ops ...jute.Op) ([]jute.OpResult, error) {
	res, err := c.multi(jute.OpMulti, ops)
	if err != nil {
		return res, err
	}
	for _, r := range res {
		if r.Type == jute.OpError && r.Err != 0 {
			return res, jute.Err(r.Err)
		}
	}
	return res, nil
}

// MultiRead runs getData/getChildren ops in one request (opcode 22); each
// result succeeds or fails on its own.
func (c *Conn) MultiRead(ops ...jute.Op) ([]jute.OpResult, error) {
	return c.multi(jute.OpMultiRead, ops)
}

func (c *Conn) multi(op int32, ops []jute.Op) ([]jute.OpResult, error) {
	req := &jute.MultiRequest{Ops: make([]jute.Op, len(ops))}
	for i, o := range ops {
		req.Ops[i] = jute.Op{Type: o.Type, Rec: c.chrootRecord(o.Rec)}
	}
	hdr, body, err := c.DoRaw(op, req)
	if err != nil {
		return nil, err
	}
	var resp jute.MultiResponse
	// Apache sends the results even when the multi failed.
	if len(body) > 0 {
		if derr := jute.Unmarshal(body, &resp); derr != nil {
			return nil, fmt.Errorf("zkclient: decode multi reply: %w", derr)
		}
	}
	for i := range resp.Results {
		switch r := resp.Results[i].Rec.(type) {
		case *jute.CreateResponse:
			r.Path = c.stripChroot(r.Path)
		case *jute.Create2Response:
			r.Path = c.stripChroot(r.Path)
		}
	}
	return resp.Results, errCode(hdr.Err)
}

// chrootRecord returns a copy of a multi op record with the chroot applied.
func (c *Conn) chrootRecord(r jute.Record) jute.Record {
	if c.chroot == "" {
		return r
	}
	switch v := r.(type) {
	case *jute.CreateRequest:
		n := *v
		n.Path = c.serverPath(n.Path)
		return &n
	case *jute.CreateTTLRequest:
		n := *v
		n.Path = c.serverPath(n.Path)
		return &n
	case *jute.DeleteRequest:
		n := *v
		n.Path = c.serverPath(n.Path)
		return &n
	case *jute.SetDataRequest:
		n := *v
		n.Path = c.serverPath(n.Path)
		return &n
	case *jute.CheckVersionRequest:
		n := *v
		n.Path = c.serverPath(n.Path)
		return &n
	case *jute.GetChildrenRequest:
		n := *v
		n.Path = c.serverPath(n.Path)
		return &n
	case *jute.GetDataRequest:
		n := *v
		n.Path = c.serverPath(n.Path)
		return &n
	}
	return r
}

// CreateOp is a create for Multi; flags are CreateMode values.
func CreateOp(path string, data []byte, acl []jute.ACL, flags int32) jute.Op {
	return jute.Op{Type: jute.OpCreate, Rec: &jute.CreateRequest{Path: path, Data: data, ACL: acl, Flags: flags}}
}

// Create2Op is a create2 for Multi (its result carries a Stat).
func Create2Op(path string, data []byte, acl []jute.ACL, flags int32) jute.Op {
	return jute.Op{Type: jute.OpCreate2, Rec: &jute.CreateRequest{Path: path, Data: data, ACL: acl, Flags: flags}}
}

// DeleteOp is a delete for Multi.
func DeleteOp(path string, version int32) jute.Op {
	return jute.Op{Type: jute.OpDelete, Rec: &jute.DeleteRequest{Path: path, Version: version}}
}

// SetDataOp is a setData for Multi.
func SetDataOp(path string, data []byte, version int32) jute.Op {
	return jute.Op{Type: jute.OpSetData, Rec: &jute.SetDataRequest{Path: path, Data: data, Version: version}}
}

// CheckOp is a version check for Multi.
func CheckOp(path string, version int32) jute.Op {
	return jute.Op{Type: jute.OpCheck, Rec: &jute.CheckVersionRequest{Path: path, Version: version}}
}

// GetDataOp is a getData for MultiRead.
func GetDataOp(path string) jute.Op {
	return jute.Op{Type: jute.OpGetData, Rec: &jute.GetDataRequest{Path: path}}
}

// GetChildrenOp is a getChildren for MultiRead.
func GetChildrenOp(path string) jute.Op {
	return jute.Op{Type: jute.OpGetChildren, Rec: &jute.GetChildrenRequest{Path: path}}
}

// AddWatch adds a persistent (jute.AddWatchPersistent) or persistent
// recursive (jute.AddWatchPersistentRecursive) watch.
func (c *Conn) AddWatch(path string, mode int32) error {
	// The reply body is an ErrorResponse; its code mirrors the header's.
	hdr, body, err := c.DoRaw(jute.OpAddWatch, &jute.AddWatchRequest{Path: c.serverPath(path), Mode: mode})
	if err != nil {
		return err
	}
	if hdr.Err != 0 {
		return jute.Err(hdr.Err)
	}
	var er jute.ErrorResponse
	if len(body) > 0 {
		if err := jute.Unmarshal(body, &er); err != nil {
			return fmt.Errorf("zkclient: decode addWatch reply: %w", err)
		}
	}
	return errCode(er.Err)
}

// RemoveWatches removes this session's watches of a type (jute.WatcherChildren,
// WatcherData, WatcherAny) on path; jute.ErrNoWatcher if there were none.
func (c *Conn) RemoveWatches(path string, typ int32) error {
	return c.call(jute.OpRemoveWatches, &jute.RemoveWatchesRequest{Path: c.serverPath(path), Type: typ}, nil)
}

// CheckWatches asks whether this session has watches of a type on path;
// jute.ErrNoWatcher if not.
func (c *Conn) CheckWatches(path string, typ int32) error {
	return c.call(jute.OpCheckWatches, &jute.CheckWatchesRequest{Path: c.serverPath(path), Type: typ}, nil)
}

// setWatchesMaxLength is ClientCnxn's SET_WATCHES_MAX_LENGTH: batches are cut
// once their paths add up to this many characters.
const setWatchesMaxLength = 128 * 1024

// SetWatches re-registers watches relative to relZxid, as a reconnecting Java
// client does: batches of at most ~128 KiB of paths, each sent as setWatches
// (101) unless it carries persistent watches, then setWatches2 (105).
func (c *Conn) SetWatches(relZxid int64, data, exist, child, persistent, persistentRecursive []string) error {
	lists := [5][]string{data, exist, child, persistent, persistentRecursive}
	for i := range lists {
		l := make([]string, len(lists[i]))
		for j, p := range lists[i] {
			l[j] = c.serverPath(p)
		}
		lists[i] = l
	}
	for {
		var batch [5][]string
		n, size := 0, 0
		for k := 0; k < 5 && size < setWatchesMaxLength; k++ {
			for len(lists[k]) > 0 && size < setWatchesMaxLength {
				p := lists[k][0]
				lists[k] = lists[k][1:]
				batch[k] = append(batch[k], p)
				size += len(p)
				n++
			}
		}
		if n == 0 {
			return nil
		}
		var err error
		if len(batch[3]) == 0 && len(batch[4]) == 0 {
			err = c.call(jute.OpSetWatches, &jute.SetWatches{RelativeZxid: relZxid,
				DataWatches: batch[0], ExistWatches: batch[1], ChildWatches: batch[2]}, nil)
		} else {
			err = c.call(jute.OpSetWatches2, &jute.SetWatches2{RelativeZxid: relZxid,
				DataWatches: batch[0], ExistWatches: batch[1], ChildWatches: batch[2],
				PersistentWatches: batch[3], PersistentRecursiveWatches: batch[4]}, nil)
		}
		if err != nil {
			return err
		}
	}
}

// GetEphemerals lists this session's ephemeral nodes whose path starts with
// prefix ("/" for all).
func (c *Conn) GetEphemerals(prefix string) ([]string, error) {
	var resp jute.GetEphemeralsResponse
	if err := c.call(jute.OpGetEphemerals, &jute.GetEphemeralsRequest{PrefixPath: c.serverPath(prefix)}, &resp); err != nil {
		return nil, err
	}
	out := make([]string, len(resp.Ephemerals))
	for i, p := range resp.Ephemerals {
		out[i] = c.stripChroot(p)
	}
	return out, nil
}

// GetAllChildrenNumber counts all descendants of path.
func (c *Conn) GetAllChildrenNumber(path string) (int32, error) {
	var resp jute.GetAllChildrenNumberResponse
	if err := c.call(jute.OpGetAllChildrenNumber, &jute.GetAllChildrenNumberRequest{Path: c.serverPath(path)}, &resp); err != nil {
		return 0, err
	}
	return resp.TotalNumber, nil
}

// WhoAmI returns the auth ids of this session.
func (c *Conn) WhoAmI() ([]jute.ClientInfo, error) {
	var resp jute.WhoAmIResponse
	if err := c.call(jute.OpWhoAmI, nil, &resp); err != nil {
		return nil, err
	}
	return resp.ClientInfo, nil
}

// Reconfig sends a reconfig request; the reply is the new config data and
// the Stat of /zookeeper/config. fromConfig -1 skips the version check. An
// empty newMembers is sent as null, as Apache's client sends an incremental
// change.
func (c *Conn) Reconfig(joining, leaving, newMembers string, fromConfig int64) ([]byte, jute.Stat, error) {
	var resp jute.GetDataResponse
	req := &jute.ReconfigRequest{JoiningServers: joining, LeavingServers: leaving, CurConfigID: fromConfig}
	if newMembers != "" {
		req.NewMembers = &newMembers
	}
	if err := c.call(jute.OpReconfig, req, &resp); err != nil {
		return nil, jute.Stat{}, err
	}
	return resp.Data, resp.Stat, nil
}

// AddAuth adds an auth id to the session (xid -4). A refused auth returns
// jute.ErrAuthFailed; the server then closes the connection.
func (c *Conn) AddAuth(scheme string, auth []byte) error {
	return c.call(jute.OpAuth, &jute.AuthPacket{Type: 0, Scheme: scheme, Auth: auth}, nil)
}
