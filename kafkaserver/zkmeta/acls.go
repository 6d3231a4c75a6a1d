package zkmeta

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-zookeeper/zk"
)

// ACL znodes (ZkData's ZkAclStore and ZkAclChangeStore): literal patterns under /kafka-acl/<ResourceType>/<name>,
// others under /kafka-acl-extended/<pattern type, lower case>/<ResourceType>/<name>; a change to either is
// announced by a sequential acl_changes_ node under its change path.
const (
	ACLLiteralPath         = "/kafka-acl"
	ACLLiteralChangesPath  = "/kafka-acl-changes"
	ACLExtendedPath        = "/kafka-acl-extended"
	ACLExtendedChangesPath = "/kafka-acl-extended-changes"
	ACLChangeSeqPrefix     = "acl_changes_"
)

// ACLEntry is one entry of a resource's ACL znode, its fields as stored (AclEntry.toMap).
type ACLEntry struct {
	Principal      string
	PermissionType string
	Operation      string
	Host           string
}

// EncodeACLs writes {"version":1,"acls":[{"principal":...,"permissionType":...,"operation":...,"host":...}]}.
func EncodeACLs(es []ACLEntry) []byte {
	var w jw
	w.object([]string{"version", "acls"}, func(k string) {
		if k == "version" {
			w.int(1)
			return
		}
		w.raw("[")
		for i, e := range es {
			if i > 0 {
				w.raw(",")
			}
			w.object([]string{"principal", "permissionType", "operation", "host"}, func(k string) {
				switch k {
				case "principal":
					w.str(e.Principal)
				case "permissionType":
					w.str(e.PermissionType)
				case "operation":
					w.str(e.Operation)
				default:
					w.str(e.Host)
				}
			})
		}
		w.raw("]")
	})
	return w.b
}

// DecodeACLs reads an ACL znode (AclEntry.fromBytes): empty data is no entries; the version must be 1.
func DecodeACLs(b []byte) ([]ACLEntry, error) {
	if len(b) == 0 {
		return nil, nil
	}
	o, err := parseObj("acls", b)
	if err != nil {
		return nil, err
	}
	v, err := o.int32("version")
	if err != nil {
		return nil, fmt.Errorf("acls: %w", err)
	}
	if v != 1 {
		return nil, fmt.Errorf("acls: %w: version %d", ErrMalformed, v)
	}
	var items []jsonObj
	if err := json.Unmarshal(o["acls"], &items); err != nil {
		return nil, fmt.Errorf("acls: %w: %v", ErrMalformed, err)
	}
	out := make([]ACLEntry, 0, len(items))
	for _, it := range items {
		var e ACLEntry
		for _, f := range []struct {
			key string
			dst *string
		}{{"principal", &e.Principal}, {"permissionType", &e.PermissionType}, {"operation", &e.Operation}, {"host", &e.Host}} {
			if *f.dst, err = it.str(f.key); err != nil {
				return nil, fmt.Errorf("acls: %w", err)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// ACLStorePath is the root a pattern type's ACLs are stored under ("LITERAL", "PREFIXED").
func ACLStorePath(patternType string) string {
	if patternType == "LITERAL" {
		return ACLLiteralPath
	}
	return ACLExtendedPath + "/" + strings.ToLower(patternType)
}

// ACLResourcePath is the znode of one pattern's ACLs; resourceType is Pascal-cased (Topic, TransactionalId).
func ACLResourcePath(patternType, resourceType, name string) string {
	return ACLStorePath(patternType) + "/" + resourceType + "/" + name
}

// EncodeLiteralACLChange is the data of a /kafka-acl-changes notification: "<RESOURCE_TYPE>:<name>", the type
// as its Java enum constant.
func EncodeLiteralACLChange(resourceTypeEnum, name string) []byte {
	return []byte(resourceTypeEnum + ":" + name)
}

// DecodeLiteralACLChange splits a literal notification; the type comes back as written (Kafka 0.9's tools write
// the Pascal-case name).
func DecodeLiteralACLChange(b []byte) (resourceType, name string, err error) {
	t, n, ok := strings.Cut(string(b), ":")
	if !ok {
		return "", "", fmt.Errorf("acl change: %w: expected a string in format ResourceType:ResourceName but got %q", ErrMalformed, b)
	}
	return t, n, nil
}

// ExtendedACLChange is a /kafka-acl-extended-changes notification (ExtendedAclChangeEvent), the types as their
// Java enum constants.
type ExtendedACLChange struct {
	ResourceType string
	Name         string
	PatternType  string
}

// EncodeExtendedACLChange writes {"version":1,"resourceType":...,"name":...,"patternType":...}.
func EncodeExtendedACLChange(c ExtendedACLChange) []byte {
	var w jw
	w.object([]string{"version", "resourceType", "name", "patternType"}, func(k string) {
		switch k {
		case "version":
			w.int(1)
		case "resourceType":
			w.str(c.ResourceType)
		case "name":
			w.str(c.Name)
		default:
			w.str(c.PatternType)
		}
	})
	return w.b
}

// DecodeExtendedACLChange reads an extended notification; versions above 1 are refused.
func DecodeExtendedACLChange(b []byte) (ExtendedACLChange, error) {
	var c ExtendedACLChange
	o, err := parseObj("acl change", b)
	if err != nil {
		return c, err
	}
	v, err := o.int32("version")
	if err != nil {
		return c, fmt.Errorf("acl change: %w", err)
	}
	if v > 1 {
		return c, fmt.Errorf("acl change: %w: unsupported version %d", ErrMalformed, v)
	}
	if c.ResourceType, err = o.str("resourceType"); err == nil {
		if c.Name, err = o.str("name"); err == nil {
			c.PatternType, err = o.str("patternType")
		}
	}
	if err != nil {
		return c, fmt.Errorf("acl change: %w", err)
	}
	return c, nil
}

// GetACLs reads a pattern's ACL znode: its entries and version; exists false when there is none.
func (c *Client) GetACLs(path string) (es []ACLEntry, version int32, exists bool, err error) {
	b, st, err := c.GetDataAndStat(path)
	if err != nil || st == nil {
		return nil, -1, false, err
	}
	es, err = DecodeACLs(b)
	if err != nil {
		return nil, -1, false, fmt.Errorf("read %s: %w", path, err)
	}
	return es, st.Version, true, nil
}

// CreateACLs creates a pattern's ACL znode (parents included); false when it exists already
// (createAclsForResourceIfNotExists).
func (c *Client) CreateACLs(path string, es []ACLEntry) (bool, error) {
	err := c.createRecursive(path, EncodeACLs(es), true)
	if errors.Is(err, zk.ErrNodeExists) {
		return false, nil
	}
	return err == nil, err
}

// SetACLs replaces a pattern's entries if its znode is at version (conditionalSetAclsForResource); false on a
// version mismatch or a missing znode.
func (c *Client) SetACLs(path string, es []ACLEntry, version int32) (int32, bool, error) {
	st, err := c.Set(path, EncodeACLs(es), version)
	switch {
	case errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode):
		return -1, false, nil
	case err != nil:
		return -1, false, err
	}
	return st.Version, true, nil
}

// DeleteACLs deletes a pattern's znode if at version (conditionalDelete): true when deleted or already gone.
func (c *Client) DeleteACLs(path string, version int32) (bool, error) {
	err := c.Delete(path, version)
	switch {
	case err == nil || errors.Is(err, zk.ErrNoNode):
		return true, nil
	case errors.Is(err, zk.ErrBadVersion):
		return false, nil
	}
	return false, err
}

// CreateACLChangeNotification writes a sequential acl_changes_ node under changesPath (made at start).
func (c *Client) CreateACLChangeNotification(changesPath string, data []byte) error {
	_, err := c.Create(changesPath+"/"+ACLChangeSeqPrefix, data, zk.FlagSequence)
	return err
}
