package acl

import (
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	topic    = kmsg.ACLResourceTypeTopic
	group    = kmsg.ACLResourceTypeGroup
	cluster  = kmsg.ACLResourceTypeCluster
	literal  = kmsg.ACLResourcePatternTypeLiteral
	prefixed = kmsg.ACLResourcePatternTypePrefixed
	allow    = kmsg.ACLPermissionTypeAllow
	deny     = kmsg.ACLPermissionTypeDeny
	read     = kmsg.ACLOperationRead
	write    = kmsg.ACLOperationWrite
	describe = kmsg.ACLOperationDescribe
)

var quiet = slog.New(slog.DiscardHandler)

func newAuthorizer(t *testing.T, cfg Config, bs ...Binding) (*Authorizer, *MemStore) {
	t.Helper()
	st := NewMemStore()
	cfg.Store, cfg.ExtendedACLs, cfg.Sleep, cfg.Logger = st, true, func(time.Duration) {}, quiet
	a := New(cfg)
	for i, err := range a.CreateACLs(bs) {
		if err != nil {
			t.Fatalf("create %v: %v", bs[i], err)
		}
	}
	return a, st
}

func bind(rt ResourceType, name string, pt PatternType, principal, host string, op Operation, perm Permission) Binding {
	return Binding{Pattern{rt, name, pt}, Entry{principal, host, op, perm}}
}

func check(t *testing.T, a *Authorizer, principal, host string, op Operation, rt ResourceType, name string, want bool) {
	t.Helper()
	got := a.Authorize(Request{Principal: principal, Host: host}, []Action{{Operation: op, Resource: Literal(rt, name)}})[0]
	if got != want {
		t.Errorf("%s from %s: %s on %s %q = %v, want %v", principal, host, OperationName(op), ResourceTypeName(rt), name, got, want)
	}
}

func TestAuthorize(t *testing.T) {
	a, _ := newAuthorizer(t, Config{SuperUsers: []string{"User:admin"}},
		bind(topic, "orders", literal, "User:alice", "*", read, allow),
		bind(topic, "orders", literal, "User:bob", "10.0.0.1", write, allow),
		bind(topic, "*", literal, "User:carol", "*", describe, allow),
		bind(topic, "pay", prefixed, "User:*", "*", kmsg.ACLOperationAll, allow),
		bind(topic, "pay-secret", prefixed, "User:dave", "*", read, deny),
		bind(group, "g", literal, "User:alice", "*", read, allow),
	)
	check(t, a, "User:alice", "1.2.3.4", read, topic, "orders", true)
	check(t, a, "User:alice", "1.2.3.4", describe, topic, "orders", true) // implied by READ
	check(t, a, "User:alice", "1.2.3.4", write, topic, "orders", false)
	check(t, a, "User:bob", "10.0.0.1", write, topic, "orders", true)
	check(t, a, "User:bob", "10.0.0.2", write, topic, "orders", false) // host
	check(t, a, "User:carol", "h", describe, topic, "anything", true)  // wildcard resource
	check(t, a, "User:carol", "h", read, topic, "anything", false)
	check(t, a, "User:dave", "h", write, topic, "payments", true) // prefixed, wildcard principal, ALL
	check(t, a, "User:dave", "h", read, topic, "pay-secret-1", false)
	check(t, a, "User:erin", "h", read, topic, "pay-secret-1", true)
	check(t, a, "User:alice", "h", read, topic, "unknown", false)                      // no ACLs: denied by default
	check(t, a, "User:admin", "h", kmsg.ACLOperationAlter, cluster, ClusterName, true) // super user
	check(t, a, "User:alice", "h", read, group, "g", true)
	check(t, a, "User:alice", "h", kmsg.ACLOperationDelete, group, "g", false)
	check(t, a, "User:alice", "h", describe, group, "g", true)
}

func TestAllowEveryoneIfNoACLFound(t *testing.T) {
	a, _ := newAuthorizer(t, Config{AllowEveryoneIfNoACLFound: true},
		bind(topic, "guarded", literal, "User:alice", "*", read, allow))
	check(t, a, "User:bob", "h", read, topic, "open", true)
	check(t, a, "User:bob", "h", read, topic, "guarded", false) // ACLs exist: the rule does not apply
	check(t, a, "User:alice", "h", read, topic, "guarded", true)
}

func TestDescribeConfigsImpliedByAlterConfigs(t *testing.T) {
	a, _ := newAuthorizer(t, Config{},
		bind(cluster, ClusterName, literal, "User:ops", "*", kmsg.ACLOperationAlterConfigs, allow))
	check(t, a, "User:ops", "h", kmsg.ACLOperationDescribeConfigs, cluster, ClusterName, true)
	check(t, a, "User:ops", "h", describe, cluster, ClusterName, false)
}

func TestDenyOverridesAllow(t *testing.T) {
	a, _ := newAuthorizer(t, Config{},
		bind(topic, "*", literal, "User:*", "*", read, allow),
		bind(topic, "t", literal, "User:mallory", "*", read, deny),
		bind(topic, "t", literal, "User:eve", "6.6.6.6", kmsg.ACLOperationAll, deny))
	check(t, a, "User:alice", "h", read, topic, "t", true)
	check(t, a, "User:mallory", "h", read, topic, "t", false)
	check(t, a, "User:eve", "6.6.6.6", read, topic, "t", false)
	check(t, a, "User:eve", "7.7.7.7", read, topic, "t", true)
}

func TestAuthorizeByResourceType(t *testing.T) {
	cases := []struct {
		name     string
		cfg      Config
		bindings []Binding
		want     bool
	}{
		{"none", Config{}, nil, false},
		{"allow everyone", Config{AllowEveryoneIfNoACLFound: true}, nil, true},
		{"literal allow", Config{}, []Binding{bind(topic, "t", literal, "User:a", "*", write, allow)}, true},
		{"other operation", Config{}, []Binding{bind(topic, "t", literal, "User:a", "*", read, allow)}, false},
		{"other type", Config{}, []Binding{bind(group, "t", literal, "User:a", "*", write, allow)}, false},
		{"prefixed allow", Config{}, []Binding{bind(topic, "p", prefixed, "User:*", "*", write, allow)}, true},
		{"literal denied by name", Config{}, []Binding{bind(topic, "t", literal, "User:a", "*", write, allow),
			bind(topic, "t", literal, "User:a", "*", write, deny)}, false},
		{"literal denied by prefix", Config{}, []Binding{bind(topic, "abc", literal, "User:a", "*", write, allow),
			bind(topic, "ab", prefixed, "User:a", "*", write, deny)}, false},
		{"wildcard deny", Config{AllowEveryoneIfNoACLFound: true}, []Binding{bind(topic, "*", literal, "User:a", "*", write, deny)}, false},
		{"one of two allowed", Config{}, []Binding{bind(topic, "x", literal, "User:a", "*", write, allow),
			bind(topic, "y", literal, "User:a", "*", write, allow), bind(topic, "x", literal, "User:a", "*", write, deny)}, true},
		{"wildcard allow beats named deny", Config{}, []Binding{bind(topic, "*", literal, "User:a", "*", write, allow),
			bind(topic, "x", literal, "User:a", "*", write, deny)}, true},
		{"super user", Config{SuperUsers: []string{"User:a"}}, nil, true},
	}
	for _, c := range cases {
		a, _ := newAuthorizer(t, c.cfg, c.bindings...)
		if got := a.AuthorizeByResourceType(Request{Principal: "User:a", Host: "h"}, write, topic); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCreateAndDelete(t *testing.T) {
	a, st := newAuthorizer(t, Config{},
		bind(topic, "t", literal, "User:a", "*", read, allow),
		bind(topic, "t", literal, "User:a", "*", read, allow), // a set: once
		bind(topic, "t", literal, "User:b", "*", write, allow),
		bind(topic, "t", prefixed, "User:c", "*", read, allow),
		bind(group, "g", literal, "User:a", "*", read, allow))
	if got := len(a.ACLs(Filter{PatternFilter{kmsg.ACLResourceTypeAny, nil, kmsg.ACLResourcePatternTypeAny},
		EntryFilter{nil, nil, kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny}})); got != 4 {
		t.Fatalf("%d bindings", got)
	}
	if len(st.Notified) != 3 {
		t.Errorf("notifications %v", st.Notified)
	}
	name := "t"
	match := Filter{PatternFilter{topic, &name, kmsg.ACLResourcePatternTypeMatch}, EntryFilter{nil, nil, kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny}}
	if got := len(a.ACLs(match)); got != 3 { // the literal pattern's two and the prefixed one
		t.Errorf("MATCH t: %d, want 3", got)
	}
	principal := "User:a"
	res := a.DeleteACLs([]Filter{
		{PatternFilter{kmsg.ACLResourceTypeAny, nil, kmsg.ACLResourcePatternTypeAny}, EntryFilter{&principal, nil, kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny}},
		{PatternFilter{kmsg.ACLResourceTypeAny, nil, kmsg.ACLResourcePatternTypeAny}, EntryFilter{&principal, nil, read, kmsg.ACLPermissionTypeAny}},
	})
	if len(res[0]) != 2 || len(res[1]) != 0 {
		t.Fatalf("deleted %v", res)
	}
	if _, _, ok, _ := st.Get(Literal(group, "g")); ok {
		t.Error("the group pattern's znode stays with no entries")
	}
	check(t, a, "User:a", "h", read, topic, "t", false)
	check(t, a, "User:b", "h", write, topic, "t", true)
}

func TestCreateRefusals(t *testing.T) {
	a := New(Config{Store: NewMemStore(), Logger: quiet})
	errs := a.CreateACLs([]Binding{
		bind(topic, "p", prefixed, "User:a", "*", read, allow),
		bind(topic, "t", literal, "User:a", "*", kmsg.ACLOperationUnknown, allow),
	})
	if errs[0] != ErrPrefixedUnsupported || errs[1] != ErrInvalidBinding {
		t.Errorf("errs %v", errs)
	}
}

// Another broker's write between our read and write: the update retries on the stored version.
func TestUpdateRetriesOnConflict(t *testing.T) {
	st := NewMemStore()
	a := New(Config{Store: st, Sleep: func(time.Duration) {}, Logger: quiet})
	b := New(Config{Store: st, Sleep: func(time.Duration) {}, Logger: quiet})
	if errs := a.CreateACLs([]Binding{bind(topic, "t", literal, "User:a", "*", read, allow)}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if errs := b.CreateACLs([]Binding{bind(topic, "t", literal, "User:b", "*", read, allow)}); errs[0] != nil {
		t.Fatal(errs[0]) // b's cache has no "t": Create fails, then b reads the stored znode and sets it
	}
	if errs := a.CreateACLs([]Binding{bind(topic, "t", literal, "User:c", "*", read, allow)}); errs[0] != nil {
		t.Fatal(errs[0]) // a's cached version is stale: Set fails, a rereads
	}
	entries, _, _, _ := st.Get(Literal(topic, "t"))
	if len(entries) != 3 {
		t.Errorf("stored %v", entries)
	}
	if err := b.Changed(Literal(topic, "t")); err != nil {
		t.Fatal(err)
	}
	check(t, b, "User:c", "h", read, topic, "t", true)
}

func TestNames(t *testing.T) {
	for op, name := range map[Operation]string{read: "Read", kmsg.ACLOperationClusterAction: "ClusterAction",
		kmsg.ACLOperationIdempotentWrite: "IdempotentWrite", kmsg.ACLOperationAll: "All"} {
		if OperationName(op) != name || ParseOperation(name) != op {
			t.Errorf("%d: %s / %d", op, OperationName(op), ParseOperation(name))
		}
	}
	if ParseOperation("CLUSTER_ACTION") != kmsg.ACLOperationUnknown || ParseOperation("CLUSTERACTION") != kmsg.ACLOperationClusterAction ||
		ParseOperation("read") != read {
		t.Error("upper-case or lower-case names")
	}
	if ResourceTypeName(kmsg.ACLResourceTypeTransactionalId) != "TransactionalId" || ParseResourceType("Topic") != topic {
		t.Error("resource type names")
	}
	if PermissionName(allow) != "Allow" || ParsePermission("Deny") != deny {
		t.Error("permission names")
	}
	if p, err := DecodeChange(true, []byte("Topic:a:b")); err != nil || p != Literal(topic, "a:b") {
		t.Errorf("0.9 literal change: %v %v", p, err)
	}
	if p, err := DecodeChange(true, []byte("TRANSACTIONAL_ID:x")); err != nil || p != Literal(kmsg.ACLResourceTypeTransactionalId, "x") {
		t.Errorf("literal change: %v %v", p, err)
	}
	if p, err := DecodeChange(false, []byte(`{"version":1,"resourceType":"GROUP","name":"g","patternType":"PREFIXED"}`)); err != nil ||
		p != (Pattern{group, "g", prefixed}) {
		t.Errorf("extended change: %v %v", p, err)
	}
}
