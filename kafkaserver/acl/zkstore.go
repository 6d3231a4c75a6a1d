package acl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// ZKStore is the Store in ZooKeeper at Kafka's paths (ZkAclStore, ZkAclChangeStore).
type ZKStore struct {
	ZK     *zkmeta.Client
	Logger *slog.Logger
}

// storedPatternTypes are the pattern types with a store (PatternType.isSpecific).
var storedPatternTypes = []PatternType{kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed}

// concreteTypes are AclEntry.ResourceTypes: every type but UNKNOWN and ANY.
var concreteTypes = []ResourceType{kmsg.ACLResourceTypeTopic, kmsg.ACLResourceTypeGroup, kmsg.ACLResourceTypeCluster,
	kmsg.ACLResourceTypeTransactionalId, kmsg.ACLResourceTypeDelegationToken}

func patternTypeEnumName(pt PatternType) string { return enumName(patternTypeEnum, int8(pt)) }

func (s *ZKStore) path(p Pattern) string {
	return zkmeta.ACLResourcePath(patternTypeEnumName(p.PatternType), ResourceTypeName(p.Type), p.Name)
}

// CreatePaths makes the ACL and change paths (createAclPaths), as the authorizer does when it starts.
func (s *ZKStore) CreatePaths() error {
	for _, pt := range storedPatternTypes {
		root := zkmeta.ACLStorePath(patternTypeEnumName(pt))
		for _, rt := range concreteTypes {
			if err := s.ZK.MakeSurePersistentPathExists(root + "/" + ResourceTypeName(rt)); err != nil {
				return fmt.Errorf("create ACL paths: %w", err)
			}
		}
	}
	for _, p := range []string{zkmeta.ACLLiteralChangesPath, zkmeta.ACLExtendedChangesPath} {
		if err := s.ZK.MakeSurePersistentPathExists(p); err != nil {
			return fmt.Errorf("create ACL paths: %w", err)
		}
	}
	return nil
}

func (s *ZKStore) Get(p Pattern) ([]Entry, int32, bool, error) {
	stored, version, exists, err := s.ZK.GetACLs(s.path(p))
	if err != nil || !exists {
		return nil, -1, false, err
	}
	entries := make([]Entry, 0, len(stored))
	for _, e := range stored {
		entry, err := entryFromStored(e)
		if err != nil {
			return nil, -1, false, fmt.Errorf("ACLs of %s: %w", p, err)
		}
		entries = append(entries, entry)
	}
	return entries, version, true, nil
}

// entryFromStored is AclEntry.fromBytes for one entry: the principal must be "Type:name".
func entryFromStored(e zkmeta.ACLEntry) (Entry, error) {
	if _, _, ok := cutPrincipal(e.Principal); !ok {
		return Entry{}, fmt.Errorf("expected a string in format principalType:principalName but got %s", e.Principal)
	}
	return Entry{Principal: e.Principal, Host: e.Host, Operation: ParseOperation(e.Operation),
		Permission: ParsePermission(e.PermissionType)}, nil
}

func toStored(es []Entry) []zkmeta.ACLEntry {
	out := make([]zkmeta.ACLEntry, len(es))
	for i, e := range es {
		out[i] = zkmeta.ACLEntry{Principal: e.Principal, PermissionType: PermissionName(e.Permission),
			Operation: OperationName(e.Operation), Host: e.Host}
	}
	return out
}

func (s *ZKStore) Create(p Pattern, entries []Entry) (bool, error) {
	return s.ZK.CreateACLs(s.path(p), toStored(entries))
}

func (s *ZKStore) Set(p Pattern, entries []Entry, version int32) (int32, bool, error) {
	return s.ZK.SetACLs(s.path(p), toStored(entries), version)
}

func (s *ZKStore) Delete(p Pattern, version int32) (bool, error) {
	return s.ZK.DeleteACLs(s.path(p), version)
}

// Notify writes the pattern's change notification: "TOPIC:name" for literal patterns, the JSON event for others.
func (s *ZKStore) Notify(p Pattern) error {
	rt := enumName(resourceTypeEnum, int8(p.Type))
	if p.PatternType == kmsg.ACLResourcePatternTypeLiteral {
		return s.ZK.CreateACLChangeNotification(zkmeta.ACLLiteralChangesPath, zkmeta.EncodeLiteralACLChange(rt, p.Name))
	}
	return s.ZK.CreateACLChangeNotification(zkmeta.ACLExtendedChangesPath, zkmeta.EncodeExtendedACLChange(
		zkmeta.ExtendedACLChange{ResourceType: rt, Name: p.Name, PatternType: patternTypeEnumName(p.PatternType)}))
}

// Patterns lists the stored patterns (loadCache's walk): resource type directories that name no type are skipped
// with a warning.
func (s *ZKStore) Patterns() ([]Pattern, error) {
	var out []Pattern
	for _, pt := range storedPatternTypes {
		root := zkmeta.ACLStorePath(patternTypeEnumName(pt))
		types, err := s.ZK.Children(root)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, t := range types {
			rt := ParseResourceType(t)
			if rt == kmsg.ACLResourceTypeUnknown {
				s.logger().Warn("ignoring unknown ACL resource type", "type", t)
				continue
			}
			names, err := s.ZK.Children(root + "/" + t)
			if err != nil && !errors.Is(err, zk.ErrNoNode) {
				return nil, err
			}
			for _, n := range names {
				out = append(out, Pattern{Type: rt, Name: n, PatternType: pt})
			}
		}
	}
	return out, nil
}

func (s *ZKStore) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// DecodeChange is the pattern a change notification names: literal ("TYPE:name", the type as the Java enum's
// fromString reads it) or extended (the JSON event).
func DecodeChange(literal bool, data []byte) (Pattern, error) {
	if literal {
		t, n, err := zkmeta.DecodeLiteralACLChange(data)
		if err != nil {
			return Pattern{}, err
		}
		return Literal(ResourceType(fromEnum(resourceTypeEnum, t)), n), nil
	}
	c, err := zkmeta.DecodeExtendedACLChange(data)
	if err != nil {
		return Pattern{}, err
	}
	return Pattern{Type: ResourceType(fromEnum(resourceTypeEnum, c.ResourceType)), Name: c.Name,
		PatternType: PatternType(fromEnum(patternTypeEnum, c.PatternType))}, nil
}

// Watch runs the two change listeners (startZkChangeListeners): every notification rereads its pattern into a.
// It returns when ctx ends.
func (s *ZKStore) Watch(ctx context.Context, a *Authorizer) error {
	errs := make(chan error, 2)
	for _, literal := range []bool{true, false} {
		path := zkmeta.ACLExtendedChangesPath
		if literal {
			path = zkmeta.ACLLiteralChangesPath
		}
		l := &zkmeta.NotificationListener{ZK: s.ZK, Path: path, Prefix: zkmeta.ACLChangeSeqPrefix, Logger: s.logger(),
			Handle: func(data []byte) error {
				p, err := DecodeChange(literal, data)
				if err != nil {
					return err
				}
				return a.Changed(p)
			}}
		go func() { errs <- l.Run(ctx) }()
	}
	err := <-errs
	return errors.Join(err, <-errs)
}
