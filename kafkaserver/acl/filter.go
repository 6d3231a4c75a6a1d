package acl

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// PatternFilter is a ResourcePatternFilter: ANY type, a nil name and ANY pattern type match every one; MATCH
// matches the patterns that would apply to the named resource (literal, wildcard, prefixes).
type PatternFilter struct {
	Type        ResourceType
	Name        *string
	PatternType PatternType
}

// Matches is ResourcePatternFilter.matches.
func (f PatternFilter) Matches(p Pattern) bool {
	if f.Type != kmsg.ACLResourceTypeAny && f.Type != p.Type {
		return false
	}
	anyPT, match := f.PatternType == kmsg.ACLResourcePatternTypeAny, f.PatternType == kmsg.ACLResourcePatternTypeMatch
	if !anyPT && !match && f.PatternType != p.PatternType {
		return false
	}
	if f.Name == nil {
		return true
	}
	if anyPT || f.PatternType == p.PatternType {
		return *f.Name == p.Name
	}
	switch p.PatternType {
	case kmsg.ACLResourcePatternTypeLiteral:
		return *f.Name == p.Name || p.Name == Wildcard
	case kmsg.ACLResourcePatternTypePrefixed:
		return strings.HasPrefix(*f.Name, p.Name)
	}
	return false
}

// indefinite is findIndefiniteField != null: the filter may match more than one pattern.
func (f PatternFilter) indefinite() bool {
	return f.Type == kmsg.ACLResourceTypeAny || f.Type == kmsg.ACLResourceTypeUnknown || f.Name == nil ||
		f.PatternType == kmsg.ACLResourcePatternTypeMatch || f.PatternType == kmsg.ACLResourcePatternTypeUnknown
}

// EntryFilter is an AccessControlEntryFilter: nil principal and host, ANY operation and permission match all.
type EntryFilter struct {
	Principal  *string
	Host       *string
	Operation  Operation
	Permission Permission
}

// Matches is AccessControlEntryFilter.matches.
func (f EntryFilter) Matches(e Entry) bool {
	return (f.Principal == nil || *f.Principal == e.Principal) && (f.Host == nil || *f.Host == e.Host) &&
		(f.Operation == kmsg.ACLOperationAny || f.Operation == e.Operation) &&
		(f.Permission == kmsg.ACLPermissionTypeAny || f.Permission == e.Permission)
}

func (f EntryFilter) indefinite() bool {
	return f.Principal == nil || f.Host == nil || f.Operation == kmsg.ACLOperationAny ||
		f.Operation == kmsg.ACLOperationUnknown || f.Permission == kmsg.ACLPermissionTypeAny ||
		f.Permission == kmsg.ACLPermissionTypeUnknown
}

// Filter is an AclBindingFilter.
type Filter struct {
	Pattern PatternFilter
	Entry   EntryFilter
}

// Matches is AclBindingFilter.matches.
func (f Filter) Matches(b Binding) bool {
	return f.Pattern.Matches(b.Pattern) && f.Entry.Matches(b.Entry)
}

// Unknown is AclBindingFilter.isUnknown: an element of the filter is UNKNOWN.
func (f Filter) Unknown() bool {
	return f.Pattern.Type == kmsg.ACLResourceTypeUnknown || f.Pattern.PatternType == kmsg.ACLResourcePatternTypeUnknown ||
		f.Entry.Operation == kmsg.ACLOperationUnknown || f.Entry.Permission == kmsg.ACLPermissionTypeUnknown
}

// exactPatterns are the patterns a filter that names at most one resource can match (filterToResources): the
// stored pattern is looked at even when the cache has not seen it yet.
func (f Filter) exactPatterns() []Pattern {
	if f.Pattern.indefinite() {
		return nil
	}
	name := *f.Pattern.Name
	switch f.Pattern.PatternType {
	case kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed:
		return []Pattern{{f.Pattern.Type, name, f.Pattern.PatternType}}
	case kmsg.ACLResourcePatternTypeAny:
		return []Pattern{Literal(f.Pattern.Type, name), {f.Pattern.Type, name, kmsg.ACLResourcePatternTypePrefixed}}
	}
	return nil
}
