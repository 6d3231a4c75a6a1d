package acl

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Store is where the ACLs live: ZooKeeper's /kafka-acl and /kafka-acl-extended (zkstore.go), one znode per
// pattern holding its entries, updated by version.
type Store interface {
	// Get reads a pattern's entries and znode version; exists is false when it has no znode.
	Get(p Pattern) (entries []Entry, version int32, exists bool, err error)
	// Create makes a pattern's znode; ok is false when one exists already.
	Create(p Pattern, entries []Entry) (ok bool, err error)
	// Set replaces a pattern's entries if its znode is at version; ok is false when it is not or is gone.
	Set(p Pattern, entries []Entry, version int32) (newVersion int32, ok bool, err error)
	// Delete removes a pattern's znode if it is at version (or already gone); ok is false when it is not.
	Delete(p Pattern, version int32) (ok bool, err error)
	// Notify tells every broker that a pattern's entries changed (an acl_changes_ notification).
	Notify(p Pattern) error
	// Patterns lists every pattern with a znode.
	Patterns() ([]Pattern, error)
}

// Config is AclAuthorizer's configuration.
type Config struct {
	// SuperUsers are the principals of super.users, allowed everything.
	SuperUsers []string
	// AllowEveryoneIfNoACLFound is allow.everyone.if.no.acl.found.
	AllowEveryoneIfNoACLFound bool
	// ExtendedACLs is inter.broker.protocol.version ≥ 2.0-IV1: prefixed patterns can be created.
	ExtendedACLs bool
	Store        Store
	// Sleep waits between update retries; nil sleeps.
	Sleep  func(time.Duration)
	Logger *slog.Logger
}

// versioned is VersionedAcls: a pattern's entries and its znode's version.
type versioned struct {
	entries []Entry
	version int32
}

// Authorizer is AclAuthorizer. Decisions read an immutable snapshot of the cache; updates are serialized and
// replace it.
type Authorizer struct {
	cfg    Config
	super  map[string]bool
	logger *slog.Logger

	mu    sync.Mutex // serializes updates and reloads (AclAuthorizer's lock)
	cache atomic.Pointer[map[Pattern]versioned]
}

// maxUpdateRetries is how often an update is retried on a version conflict before it fails.
const maxUpdateRetries = 10

// New returns an authorizer with an empty cache; Load fills it.
func New(cfg Config) *Authorizer {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Sleep == nil {
		cfg.Sleep = time.Sleep
	}
	a := &Authorizer{cfg: cfg, super: map[string]bool{}, logger: cfg.Logger}
	for _, s := range cfg.SuperUsers {
		a.super[s] = true
	}
	empty := map[Pattern]versioned{}
	a.cache.Store(&empty)
	return a
}

// ParseSuperUsers is AclAuthorizer's reading of super.users: principals separated by semicolons, each
// "Type:name".
func ParseSuperUsers(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(s, ";") {
		p = strings.TrimSpace(p)
		if _, _, ok := cutPrincipal(p); !ok {
			return nil, fmt.Errorf("super.users: expected a string in format principalType:principalName but got %s", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// Load reads every stored pattern into the cache (loadCache).
func (a *Authorizer) Load() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	ps, err := a.cfg.Store.Patterns()
	if err != nil {
		return fmt.Errorf("load ACLs: %w", err)
	}
	next := map[Pattern]versioned{}
	for _, p := range ps {
		entries, version, exists, err := a.cfg.Store.Get(p)
		if err != nil {
			return fmt.Errorf("load ACLs of %s: %w", p, err)
		}
		if exists && len(entries) > 0 {
			next[p] = versioned{entries, version}
		}
	}
	a.cache.Store(&next)
	return nil
}

// Changed rereads one pattern after a change notification (processAclChangeNotification).
func (a *Authorizer) Changed(p Pattern) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	entries, version, exists, err := a.cfg.Store.Get(p)
	if err != nil {
		return fmt.Errorf("reload ACLs of %s: %w", p, err)
	}
	if !exists {
		entries = nil
	}
	a.logger.Info("processing ACL change notification", "resource", p.String(), "acls", len(entries), "zk_version", version)
	a.update(p, versioned{entries, version})
	return nil
}

// update replaces one pattern's cached entries; the caller holds mu.
func (a *Authorizer) update(p Pattern, v versioned) {
	next := maps.Clone(*a.cache.Load())
	if len(v.entries) == 0 {
		delete(next, p)
	} else {
		next[p] = v
	}
	a.cache.Store(&next)
}

// Request is who asks: the principal ("Type:name") and client address of AuthorizableRequestContext, and the API
// for the audit log.
type Request struct {
	Principal string
	Host      string
	API       int16
}

// Action is one question: an operation on a resource (literal), and whether the answer is logged.
type Action struct {
	Operation    Operation
	Resource     Pattern
	LogIfAllowed bool
	LogIfDenied  bool
}

// Authorize answers each action (authorize): a super user is allowed everything; otherwise no matching deny
// entry and a matching allow entry (DESCRIBE is implied by READ, WRITE, DELETE and ALTER, DESCRIBE_CONFIGS by
// ALTER_CONFIGS), or no entries at all on the resource with allow.everyone.if.no.acl.found. Entries match on
// the principal or User:*, the host or *, the operation or ALL, and on the literal name, the wildcard name or a
// prefix of it.
func (a *Authorizer) Authorize(req Request, actions []Action) []bool {
	out := make([]bool, len(actions))
	snap := *a.cache.Load()
	for i, act := range actions {
		out[i] = a.super[req.Principal] || a.allowed(snap, req, act)
		a.audit(req, act, out[i])
	}
	return out
}

func (a *Authorizer) allowed(snap map[Pattern]versioned, req Request, act Action) bool {
	rt, name := act.Resource.Type, act.Resource.Name
	var found [][]Entry
	found = append(found, snap[Literal(rt, Wildcard)].entries, snap[Literal(rt, name)].entries)
	for i := 1; i <= len(name); i++ {
		found = append(found, snap[Pattern{Type: rt, Name: name[:i], PatternType: kmsg.ACLResourcePatternTypePrefixed}].entries)
	}
	empty := true
	for _, es := range found {
		if len(es) > 0 {
			empty = false
			break
		}
	}
	if empty {
		return a.cfg.AllowEveryoneIfNoACLFound
	}
	matches := func(op Operation, perm Permission) bool {
		for _, es := range found {
			for _, e := range es {
				if e.Permission == perm && (e.Principal == req.Principal || e.Principal == WildcardPrincipal) &&
					(e.Operation == op || e.Operation == kmsg.ACLOperationAll) && (e.Host == req.Host || e.Host == Wildcard) {
					return true
				}
			}
		}
		return false
	}
	if matches(act.Operation, kmsg.ACLPermissionTypeDeny) {
		return false
	}
	for _, op := range impliedBy(act.Operation) {
		if matches(op, kmsg.ACLPermissionTypeAllow) {
			return true
		}
	}
	return false
}

// impliedBy lists the operations whose allowance allows op.
func impliedBy(op Operation) []Operation {
	switch op {
	case kmsg.ACLOperationDescribe:
		return []Operation{kmsg.ACLOperationDescribe, kmsg.ACLOperationRead, kmsg.ACLOperationWrite,
			kmsg.ACLOperationDelete, kmsg.ACLOperationAlter}
	case kmsg.ACLOperationDescribeConfigs:
		return []Operation{kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs}
	}
	return []Operation{op}
}

// AuthorizeByResourceType is authorizeByResourceType: whether the principal may do op on some resource of the
// type, judged without a name: a literal deny on the wildcard name denies; else allow.everyone.if.no.acl.found
// allows; else an allow entry (literal or prefixed) not overridden by a deny on the same name or a prefix of it.
// Only op itself and ALL match (no implied operations).
func (a *Authorizer) AuthorizeByResourceType(req Request, op Operation, rt ResourceType) bool {
	if a.super[req.Principal] {
		return true
	}
	act := Action{Operation: op, Resource: Pattern{Type: rt, Name: "NONE", PatternType: kmsg.ACLResourcePatternTypeUnknown},
		LogIfAllowed: true, LogIfDenied: true}
	ok := a.allowedByType(req, op, rt)
	a.audit(req, act, ok)
	return ok
}

func (a *Authorizer) allowedByType(req Request, op Operation, rt ResourceType) bool {
	snap := *a.cache.Load()
	names := func(perm Permission, pt PatternType) map[string]bool {
		out := map[string]bool{}
		for p, v := range snap {
			if p.Type != rt || p.PatternType != pt {
				continue
			}
			for _, e := range v.entries {
				if e.Permission == perm && (e.Principal == req.Principal || e.Principal == WildcardPrincipal) &&
					(e.Operation == op || e.Operation == kmsg.ACLOperationAll) && (e.Host == req.Host || e.Host == Wildcard) {
					out[p.Name] = true
					break
				}
			}
		}
		return out
	}
	lit, pre := kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed
	denyLit := names(kmsg.ACLPermissionTypeDeny, lit)
	if denyLit[Wildcard] {
		return false
	}
	if a.cfg.AllowEveryoneIfNoACLFound {
		return true
	}
	denyPre := names(kmsg.ACLPermissionTypeDeny, pre)
	allowLit, allowPre := names(kmsg.ACLPermissionTypeAllow, lit), names(kmsg.ACLPermissionTypeAllow, pre)
	dominated := func(name string) bool { // hasDominantPrefixedDeny
		for i := 1; i <= len(name); i++ {
			if denyPre[name[:i]] {
				return true
			}
		}
		return false
	}
	for p := range allowPre {
		if !dominated(p) {
			return true
		}
	}
	for l := range allowLit {
		if l == Wildcard || (!denyLit[l] && !dominated(l)) {
			return true
		}
	}
	return false
}

// audit is logAuditMessage: denials asked for explicitly at info, the rest at debug.
func (a *Authorizer) audit(req Request, act Action, ok bool) {
	if ok && !act.LogIfAllowed || !ok && !act.LogIfDenied {
		return
	}
	level, result := slog.LevelDebug, "Allowed"
	if !ok {
		level, result = slog.LevelInfo, "Denied"
	}
	a.logger.Log(nil, level, "authorization", "principal", req.Principal, "result", result,
		"operation", OperationName(act.Operation), "host", req.Host,
		"resource", ResourceTypeName(act.Resource.Type)+":"+enumName(patternTypeEnum, int8(act.Resource.PatternType))+":"+act.Resource.Name,
		"api", req.API)
}

// ACLs returns the cached bindings the filter matches (acls).
func (a *Authorizer) ACLs(f Filter) []Binding {
	var out []Binding
	for p, v := range *a.cache.Load() {
		for _, e := range v.entries {
			b := Binding{p, e}
			if f.Matches(b) {
				out = append(out, b)
			}
		}
	}
	return out
}

// ErrInvalidBinding is why a binding with an unknown element is refused (validateAclBinding).
var ErrInvalidBinding = errors.New("ACL binding contains unknown elements")

// ErrPrefixedUnsupported refuses prefixed patterns below inter.broker.protocol.version 2.0-IV1.
var ErrPrefixedUnsupported = errors.New("Adding ACLs on prefixed resource patterns requires inter.broker.protocol.version of 2.0-IV1 or greater")

// CreateACLs adds each binding to its pattern's stored entries (createAcls); the error per binding is nil on
// success. ErrInvalidBinding and ErrPrefixedUnsupported come back for bindings refused before any write.
func (a *Authorizer) CreateACLs(bs []Binding) []error {
	errs := make([]error, len(bs))
	byPattern := map[Pattern][]int{}
	var order []Pattern
	for i, b := range bs {
		switch {
		case !a.cfg.ExtendedACLs && b.Pattern.PatternType == kmsg.ACLResourcePatternTypePrefixed:
			errs[i] = ErrPrefixedUnsupported
		case b.Unknown():
			errs[i] = ErrInvalidBinding
		default:
			if _, ok := byPattern[b.Pattern]; !ok {
				order = append(order, b.Pattern)
			}
			byPattern[b.Pattern] = append(byPattern[b.Pattern], i)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range order {
		idx := byPattern[p]
		err := a.updatePattern(p, func(cur []Entry) []Entry {
			out := cur
			for _, i := range idx {
				out = addEntry(out, bs[i].Entry)
			}
			return out
		})
		for _, i := range idx {
			errs[i] = err
		}
	}
	return errs
}

// Deleted is one binding a delete filter removed, with the error of its pattern's update.
type Deleted struct {
	Binding Binding
	Err     error
}

// DeleteACLs removes the bindings each filter matches (deleteAcls): the patterns in the cache and, for filters
// that name one pattern exactly, that pattern as stored. A binding matched by several filters is reported
// under the first.
func (a *Authorizer) DeleteACLs(fs []Filter) [][]Deleted {
	a.mu.Lock()
	defer a.mu.Unlock()
	candidates := map[Pattern]bool{}
	for p := range *a.cache.Load() {
		candidates[p] = true
	}
	for _, f := range fs {
		for _, p := range f.exactPatterns() {
			candidates[p] = true
		}
	}
	out := make([][]Deleted, len(fs))
	for p := range candidates {
		var matching []int
		for i, f := range fs {
			if f.Pattern.Matches(p) {
				matching = append(matching, i)
			}
		}
		if len(matching) == 0 {
			continue
		}
		type hit struct {
			e      Entry
			filter int
		}
		var hits []hit
		err := a.updatePattern(p, func(cur []Entry) []Entry {
			hits = hits[:0]
			var keep []Entry
			for _, e := range cur {
				filter := -1
				for _, i := range matching {
					if fs[i].Entry.Matches(e) {
						filter = i
						break
					}
				}
				if filter < 0 {
					keep = append(keep, e)
				} else {
					hits = append(hits, hit{e, filter})
				}
			}
			return keep
		})
		for _, h := range hits {
			out[h.filter] = append(out[h.filter], Deleted{Binding{p, h.e}, err})
		}
	}
	return out
}

// addEntry adds e unless the entries hold it already (a set, as Kafka's).
func addEntry(es []Entry, e Entry) []Entry {
	for _, x := range es {
		if x == e {
			return es
		}
	}
	return append(append([]Entry(nil), es...), e)
}

// updatePattern is updateResourceAcls: read (cache, else store), transform, write by version, retrying with the
// stored state on a conflict; the cache is updated and a change notification written when the entries changed.
// The caller holds mu.
func (a *Authorizer) updatePattern(p Pattern, change func([]Entry) []Entry) error {
	cur, cached := (*a.cache.Load())[p]
	exists := cached
	if !cached {
		entries, version, ok, err := a.cfg.Store.Get(p)
		if err != nil {
			return err
		}
		cur, exists = versioned{entries, version}, ok
	}
	for retries := 0; ; retries++ {
		next := change(cur.entries)
		var (
			ok      bool
			version int32
			err     error
		)
		switch {
		case len(next) > 0 && exists:
			version, ok, err = a.cfg.Store.Set(p, next, cur.version)
		case len(next) > 0:
			ok, err = a.cfg.Store.Create(p, next)
		default:
			ok, err = a.cfg.Store.Delete(p, cur.version)
		}
		if err != nil {
			return err
		}
		if ok {
			changed := !sameEntries(cur.entries, next)
			a.update(p, versioned{next, version})
			if changed {
				a.logger.Info("updated ACLs", "resource", p.String(), "zk_version", version)
				return a.cfg.Store.Notify(p)
			}
			return nil
		}
		if retries >= maxUpdateRetries {
			return fmt.Errorf("failed to update ACLs for %s after trying a maximum of %d times", p, maxUpdateRetries)
		}
		a.cfg.Sleep(time.Duration(100+rand.IntN(50)) * time.Millisecond)
		entries, version, ok, err := a.cfg.Store.Get(p)
		if err != nil {
			return err
		}
		cur, exists = versioned{entries, version}, ok
	}
}

// sameEntries compares two entry sets.
func sameEntries(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[Entry]bool{}
	for _, e := range a {
		set[e] = true
	}
	for _, e := range b {
		if !set[e] {
			return false
		}
	}
	return true
}
