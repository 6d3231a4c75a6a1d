// Package acl is Kafka 2.8's AclAuthorizer: ACL bindings (a resource pattern and an access control entry), their
// JSON in ZooKeeper, the filters of DescribeAcls and DeleteAcls, and the authorization decision over a cache of the
// stored ACLs. The ZooKeeper reads and writes go through a Store, so the decisions are testable without one.
package acl

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The enum types are kmsg's, whose codes are Kafka's (AclOperation, ResourceType, PatternType, AclPermissionType).
type (
	Operation    = kmsg.ACLOperation
	ResourceType = kmsg.ACLResourceType
	PatternType  = kmsg.ACLResourcePatternType
	Permission   = kmsg.ACLPermissionType
)

const (
	// Wildcard is the resource name, principal name and host that match every one (ResourcePattern.WILDCARD_RESOURCE,
	// AclEntry.WildcardHost).
	Wildcard = "*"
	// WildcardPrincipal is AclEntry.WildcardPrincipalString.
	WildcardPrincipal = "User:*"
	// ClusterName is the one cluster resource's name (Resource.CLUSTER_NAME).
	ClusterName = "kafka-cluster"
)

// operationEnum, resourceTypeEnum, patternTypeEnum and permissionEnum are the Java enums' names by code, in order:
// the stored JSON and notifications use them, Pascal-cased (SecurityUtils) or as they are (Enum.toString).
var (
	operationEnum = []string{"UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
		"CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"}
	resourceTypeEnum = []string{"UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN"}
	patternTypeEnum  = []string{"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"}
	permissionEnum   = []string{"UNKNOWN", "ANY", "DENY", "ALLOW"}
)

// pascal is SecurityUtils.toPascalCase: CLUSTER_ACTION → ClusterAction.
func pascal(name string) string {
	var b strings.Builder
	up := true
	for _, c := range name {
		switch {
		case c == '_':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(c)))
			up = false
		default:
			b.WriteString(strings.ToLower(string(c)))
		}
	}
	return b.String()
}

func enumName(names []string, code int8) string {
	if code < 0 || int(code) >= len(names) {
		return names[0]
	}
	return names[code]
}

// fromPascal is SecurityUtils.valueFromMap: the Pascal-case name, or the upper-case one without underscores
// mapped through its upper-cased Pascal form ("clusteraction" → CLUSTER_ACTION); 0 (UNKNOWN) when neither.
func fromPascal(names []string, s string) int8 {
	for i, n := range names {
		p := pascal(n)
		if s == p || s == strings.ToUpper(p) || strings.ToUpper(s) == strings.ToUpper(p) {
			return int8(i)
		}
	}
	return 0
}

// fromEnum is the Java enums' fromString: the constant's name in any case; 0 (UNKNOWN) otherwise.
func fromEnum(names []string, s string) int8 {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return int8(i)
		}
	}
	return 0
}

// OperationName is SecurityUtils.operationName (Read, ClusterAction, ...).
func OperationName(op Operation) string { return pascal(enumName(operationEnum, int8(op))) }

// ResourceTypeName is SecurityUtils.resourceTypeName (Topic, TransactionalId, ...): ZooKeeper paths use it.
func ResourceTypeName(rt ResourceType) string { return pascal(enumName(resourceTypeEnum, int8(rt))) }

// PermissionName is SecurityUtils.permissionTypeName (Allow, Deny).
func PermissionName(p Permission) string { return pascal(enumName(permissionEnum, int8(p))) }

// ParseOperation is SecurityUtils.operation; UNKNOWN for an unknown name.
func ParseOperation(s string) Operation { return Operation(fromPascal(operationEnum, s)) }

// ParseResourceType is SecurityUtils.resourceType; UNKNOWN for an unknown name.
func ParseResourceType(s string) ResourceType { return ResourceType(fromPascal(resourceTypeEnum, s)) }

// ParsePermission is SecurityUtils.permissionType; UNKNOWN for an unknown name.
func ParsePermission(s string) Permission { return Permission(fromPascal(permissionEnum, s)) }

// Pattern is a ResourcePattern: a resource type, a name and how the name matches (LITERAL or PREFIXED).
type Pattern struct {
	Type        ResourceType
	Name        string
	PatternType PatternType
}

// Literal is the literal pattern of one resource, what an authorization asks about.
func Literal(rt ResourceType, name string) Pattern {
	return Pattern{Type: rt, Name: name, PatternType: kmsg.ACLResourcePatternTypeLiteral}
}

func (p Pattern) String() string {
	return fmt.Sprintf("ResourcePattern(resourceType=%s, name=%s, patternType=%s)",
		enumName(resourceTypeEnum, int8(p.Type)), p.Name, enumName(patternTypeEnum, int8(p.PatternType)))
}

// Entry is an AccessControlEntry: who (a principal "Type:name"), from where (a host address or *), what
// operation, allowed or denied.
type Entry struct {
	Principal  string
	Host       string
	Operation  Operation
	Permission Permission
}

// Binding is an AclBinding: an entry on a pattern.
type Binding struct {
	Pattern Pattern
	Entry   Entry
}

// Unknown is AclBinding.isUnknown: any element UNKNOWN.
func (b Binding) Unknown() bool {
	return b.Pattern.Type == kmsg.ACLResourceTypeUnknown || b.Pattern.PatternType == kmsg.ACLResourcePatternTypeUnknown ||
		b.Entry.Operation == kmsg.ACLOperationUnknown || b.Entry.Permission == kmsg.ACLPermissionTypeUnknown
}

// SupportedOperations is AclEntry.supportedOperations: the operations a resource type has, in the order
// authorizedOperations asks them.
func SupportedOperations(rt ResourceType) []Operation {
	switch rt {
	case kmsg.ACLResourceTypeTopic:
		return []Operation{kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationCreate,
			kmsg.ACLOperationDescribe, kmsg.ACLOperationDelete, kmsg.ACLOperationAlter,
			kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs}
	case kmsg.ACLResourceTypeGroup:
		return []Operation{kmsg.ACLOperationRead, kmsg.ACLOperationDescribe, kmsg.ACLOperationDelete}
	case kmsg.ACLResourceTypeCluster:
		return []Operation{kmsg.ACLOperationCreate, kmsg.ACLOperationClusterAction, kmsg.ACLOperationDescribeConfigs,
			kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationIdempotentWrite, kmsg.ACLOperationAlter,
			kmsg.ACLOperationDescribe}
	case kmsg.ACLResourceTypeTransactionalId:
		return []Operation{kmsg.ACLOperationDescribe, kmsg.ACLOperationWrite}
	case kmsg.ACLResourceTypeDelegationToken:
		return []Operation{kmsg.ACLOperationDescribe}
	}
	return nil
}

// OperationBits is Utils.to32BitField of the operations: bit code set for each (the authorized-operations fields
// of Metadata, DescribeGroups and DescribeCluster).
func OperationBits(ops []Operation) int32 {
	var bits int32
	for _, op := range ops {
		bits |= 1 << uint(op)
	}
	return bits
}

// cutPrincipal is SecurityUtils.parseKafkaPrincipal: "Type:name", both parts after the first colon.
func cutPrincipal(s string) (typ, name string, ok bool) {
	if s == "" {
		return "", "", false
	}
	return strings.Cut(s, ":")
}
