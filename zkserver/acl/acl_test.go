package acl

import (
	"encoding/hex"
	"net"
	"slices"
	"testing"

	"github.com/zkafka/zkafka/compat/javahash"
	"github.com/zkafka/zkafka/jute"
)

// Expected values below were printed by Apache ZooKeeper 3.8.0's own
// providers (IPAuthenticationProvider, DigestAuthenticationProvider) and by
// OpenJDK 17 for the Java library behaviour.

func TestGenerateDigest(t *testing.T) {
	cases := []struct{ in, want string }{
		{"super:test", "super:D/InIHSb7yEEbrWz8b9l71RjZJU="},
		{"bob:secret", "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="},
		{"nocolon", "nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g="},
		{":", ":BaefBs8/Z/cm2uaNGKIpD2yaUMk="},
		{"", ":2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
		{"a:b:c", "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0="},
		{"ünï:cødé", "ünï:xQllqDAJT4MXfIfWHQyzwXoGn8M="},
		{"😀:x", "😀:REqPFl+hNWT76jWOnLhc6nLqmrk="},
	}
	for _, c := range cases {
		if got := GenerateDigest(c.in); got != c.want {
			t.Errorf("GenerateDigest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Auth payloads that are not UTF-8: Java decodes them with replacement
// characters before hashing.
func TestDigestOfRawBytes(t *testing.T) {
	cases := []struct{ hex, want string }{
		{"ff3a61", "\ufffd:qe9GTNmT450B6621S0Y8MczQau0="},
		{"753ae28241", "u:xTUlw24VLK3odVsim0/cDwtF+iE="},
		{"753a8080", "u:tBXHUAUzZXYCqAcMeZihzl82Xwo="},
		{"753aeda080", "u:NP+S9gihaPOxs49p+sWDO0/R0ac="},
		{"753af09f98", "u:NP+S9gihaPOxs49p+sWDO0/R0ac="},
	}
	c := NewChecker(DefaultConfig())
	for _, tc := range cases {
		raw, _ := hex.DecodeString(tc.hex)
		ids, err := c.Authenticate("digest", raw)
		if err != jute.ErrOK || len(ids) != 1 || ids[0] != (jute.Id{Scheme: "digest", ID: tc.want}) {
			t.Errorf("Authenticate(%s) = %v %v, want digest:%q", tc.hex, ids, err, tc.want)
		}
	}
}

// UTF-16 code units Java's decoder produced for ill-formed input.
func TestJavaString(t *testing.T) {
	cases := []struct{ hex, want string }{
		{"eda080", "\ufffd"},
		{"f09f98", "\ufffd"},
		{"f09f9841", "\ufffdA"},
		{"e28241", "\ufffdA"},
		{"e282", "\ufffd"},
		{"8080", "\ufffd\ufffd"},
		{"c0af", "\ufffd\ufffd"},
		{"c241", "\ufffdA"},
		{"e0808041", "\ufffd\ufffd\ufffdA"},
		{"f4908080", "\ufffd\ufffd\ufffd\ufffd"},
		{"f8888080", "\ufffd\ufffd\ufffd\ufffd"},
		{"ff", "\ufffd"},
		{"eda0", "\ufffd"},
		{"edbfbf41", "\ufffdA"},
		{"f0", "\ufffd"},
		{"f09f", "\ufffd"},
		{"e0a0", "\ufffd"},
		{"e0a041", "\ufffdA"},
		{"f5", "\ufffd"},
		{"c2", "\ufffd"},
		{"f48f", "\ufffd"},
		{"f48fbf", "\ufffd"},
		{"f0908080", "\U00010000"},
	}
	for _, c := range cases {
		raw, _ := hex.DecodeString(c.hex)
		if got := javaString(raw); got != c.want {
			t.Errorf("javaString(%s) = %q, want %q", c.hex, got, c.want)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	super := "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
	c := NewChecker(Config{SuperDigest: super, DigestAuthEnabled: true})
	ids, err := c.Authenticate("digest", []byte("super:test"))
	want := []jute.Id{{Scheme: "super", ID: ""}, {Scheme: "digest", ID: super}}
	if err != jute.ErrOK || !slices.Equal(ids, want) {
		t.Fatalf("super auth: %v %v", ids, err)
	}
	ids, err = c.Authenticate("digest", []byte("bob:secret"))
	if err != jute.ErrOK || !slices.Equal(ids, []jute.Id{{Scheme: "digest", ID: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}}) {
		t.Fatalf("bob auth: %v %v", ids, err)
	}
	// Empty payload is a valid (if odd) digest; a null one is a Java NPE.
	if _, err := c.Authenticate("digest", []byte{}); err != jute.ErrOK {
		t.Fatalf("empty digest: %v", err)
	}
	if _, err := c.Authenticate("digest", nil); err != jute.ErrAuthFailed {
		t.Fatalf("null digest: %v", err)
	}
	if ids, err := c.Authenticate("ip", nil); err != jute.ErrOK || len(ids) != 0 {
		t.Fatalf("ip: %v %v", ids, err)
	}
	for _, s := range []string{"world", "super", "auth", "sasl", "x509", ""} {
		if _, err := c.Authenticate(s, []byte("a:b")); err != jute.ErrAuthFailed {
			t.Errorf("scheme %q: %v", s, err)
		}
	}
	off := NewChecker(Config{SuperDigest: super})
	if _, err := off.Authenticate("digest", []byte("super:test")); err != jute.ErrAuthFailed {
		t.Fatalf("digest disabled: %v", err)
	}
}

func TestIPValid(t *testing.T) {
	cases := []struct {
		id   string
		want bool
	}{
		{"127.0.0.1", true},
		{"10.0.0.0/8", true},
		{"10.0.0.0/0", true},
		{"10.0.0.0/32", true},
		{"10.0.0.0/33", false},
		{"10.0.0.0/-1", false},
		{"1.2.3", false},
		{"1.2.3.4.5", false},
		{"256.1.1.1", false},
		{"-0.1.1.1", true},
		{"+1.2.3.4", true},
		{"01.02.03.004", true},
		{"1.2.3.4/", false},
		{"1.2.3.4/+8", true},
		{"1.2.3.4/8/9", false},
		{"", false},
		{"1..2.3", false},
		{"::1", false},
		{"0:0:0:0:0:0:0:1", false},
		{"fe80::1/64", false},
		{"a.b.c.d", false},
		{"1.2.3.4 ", false},
		{" 1.2.3.4", false},
		{"1.2.3.99999999999", false},
	}
	for _, c := range cases {
		if got := IPValid(c.id, false); got != c.want {
			t.Errorf("IPValid(%q) = %v, want %v (3.8)", c.id, got, c.want)
		}
	}
	v6 := []struct {
		id   string
		want bool
	}{
		{"::1", true},
		{"::", true},
		{"0:0:0:0:0:0:0:1", true},
		{"fe80::1/64", true},
		{"fe80::1/128", true},
		{"fe80::1/129", false},
		{"1:2:3:4:5:6:7", false},
		{"1:2:3:4:5:6:7:8:9", false},
		{"1::2::3", false},
		{"1:2:3:4::5:6:7:8", false},
		{"12345::1", false},
		{"g::1", false},
		{"::ffff:1.2.3.4", false},
		{":::", false},
		{"127.0.0.1/24", true},
		{"localhost", false},
	}
	for _, c := range v6 {
		if got := IPValid(c.id, true); got != c.want {
			t.Errorf("IPValid(%q, ipv6) = %v, want %v", c.id, got, c.want)
		}
	}
}

func TestIPMatches(t *testing.T) {
	// aclID, remote, Apache 3.8 result
	cases := []struct {
		acl, remote string
		want        bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.2", false},
		{"10.0.0.0/8", "10.200.3.4", true},
		{"10.0.0.0/8", "11.0.0.1", false},
		{"10.1.2.3/8", "10.9.9.9", true},
		{"192.168.1.0/23", "192.168.0.77", true},
		{"192.168.1.0/23", "192.168.2.1", false},
		{"0.0.0.0/0", "8.8.8.8", true},
		{"1.2.3.4/33", "1.2.3.4", false},
		{"1.2.3.4", "0:0:0:0:0:0:0:1", false},
		{"::1", "0:0:0:0:0:0:0:1", false},
		{"1.2.3.255/31", "1.2.3.254", true},
		{"1.2.3.4/+32", "1.2.3.4", true},
		{"+1.2.3.4", "1.2.3.4", true},
	}
	for _, c := range cases {
		if got := ipMatches(c.acl, c.remote, false); got != c.want {
			t.Errorf("ipMatches(%q, %q) = %v, want %v (3.8)", c.acl, c.remote, got, c.want)
		}
	}
	v6 := []struct {
		acl, remote string
		want        bool
	}{
		{"::1", "0:0:0:0:0:0:0:1", true},
		{"0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:1", true},
		{"fe80::/10", "fe80:0:0:0:1:2:3:4", true},
		{"fe80::/10", "fec0:0:0:0:1:2:3:4", false},
		{"2001:db8::/32", "2001:db8:ffff:0:0:0:0:1", true},
		{"2001:db8::/33", "2001:db8:ffff:0:0:0:0:1", false},
		{"::/0", "1:2:3:4:5:6:7:8", true},
		// never across families, even with a zero prefix
		{"0.0.0.0/0", "0:0:0:0:0:0:0:1", false},
		{"::/0", "1.2.3.4", false},
		{"10.0.0.0/8", "10.1.1.1", true},
	}
	for _, c := range v6 {
		if got := IPMatches(c.acl, c.remote); got != c.want {
			t.Errorf("IPMatches(%q, %q) = %v, want %v", c.acl, c.remote, got, c.want)
		}
	}
}

func TestIPID(t *testing.T) {
	cases := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 5}, "127.0.0.1"},
		{&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3).To16(), Port: 5}, "10.1.2.3"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 5}, "0:0:0:0:0:0:0:1"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::ab:0"), Port: 5}, "2001:db8:0:0:0:0:ab:0"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 5, Zone: "eth0"}, "fe80:0:0:0:0:0:0:1%eth0"},
		{&net.UDPAddr{IP: net.ParseIP("192.168.0.1")}, "192.168.0.1"},
		{&net.IPAddr{IP: net.ParseIP("192.168.0.2")}, "192.168.0.2"},
		{fakeAddr("[::1]:2181"), "0:0:0:0:0:0:0:1"},
		{fakeAddr("1.2.3.4:2181"), "1.2.3.4"},
	}
	for _, c := range cases {
		if got := IPID(c.addr); got != (jute.Id{Scheme: "ip", ID: c.want}) {
			t.Errorf("IPID(%v) = %v, want ip:%s", c.addr, got, c.want)
		}
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

func TestDigestIDRules(t *testing.T) {
	cases := []struct {
		id    string
		valid bool
		user  string
	}{
		{"user:hash", true, "user"},
		{"user:", false, "user"},
		{"user:hash:", true, "user"},
		{"user:hash::", true, "user"},
		{"user", false, "user"},
		{"", false, ""},
		{":", false, ""}, // Java throws in getUserName; we answer ""
		{":hash", true, ""},
		{"a::b", false, "a"},
		{"a:b:c", false, "a"},
		{"::", false, ""},
		{"user:hash:\n", false, "user"},
	}
	for _, c := range cases {
		if got := digestValid(c.id); got != c.valid {
			t.Errorf("digestValid(%q) = %v, want %v", c.id, got, c.valid)
		}
		if got := digestUser(c.id); got != c.user {
			t.Errorf("digestUser(%q) = %q, want %q", c.id, got, c.user)
		}
	}
}

func TestMaskDigests(t *testing.T) {
	cases := []struct{ in, want string }{
		{"user:hash", "user:x"},
		{"nocolon", "nocolon"},
		{"a:b:c", "a:x"},
		{"a:b\nc:d", "a:x\nc:x"},
		{"a:b\r\nc", "a:x\r\nc"},
		{"x:\u2028y:z", "x:x\u2028y:x"},
		{":", ":x"},
		{"", ""},
	}
	for _, c := range cases {
		in := []jute.ACL{
			{Perms: jute.PermRead, ID: jute.Id{Scheme: "digest", ID: c.in}},
			{Perms: jute.PermAll, ID: jute.Id{Scheme: "ip", ID: "1.2.3.4:5"}},
		}
		got := MaskDigests(in)
		if got[0].ID.ID != c.want || got[0].Perms != jute.PermRead {
			t.Errorf("MaskDigests(%q) = %q, want %q", c.in, got[0].ID.ID, c.want)
		}
		if got[1] != in[1] {
			t.Errorf("non-digest entry changed: %v", got[1])
		}
		if in[0].ID.ID != c.in {
			t.Error("input modified")
		}
	}
}

func acl(perms int32, scheme, id string) jute.ACL {
	return jute.ACL{Perms: perms, ID: jute.Id{Scheme: scheme, ID: id}}
}

func TestCheck(t *testing.T) {
	bob := jute.Id{Scheme: "digest", ID: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}
	ip := jute.Id{Scheme: "ip", ID: "10.1.2.3"}
	sup := jute.Id{Scheme: "super", ID: ""}
	c := NewChecker(DefaultConfig())
	cases := []struct {
		name string
		acl  []jute.ACL
		perm int32
		ids  []jute.Id
		want bool
	}{
		{"empty acl", nil, jute.PermAdmin, nil, true},
		{"world anyone", jute.OpenACLUnsafe, jute.PermWrite, []jute.Id{ip}, true},
		{"world read only", jute.ReadACLUnsafe, jute.PermWrite, []jute.Id{ip}, false},
		{"world other id", []jute.ACL{acl(31, "world", "someone")}, jute.PermRead, []jute.Id{ip}, false},
		{"super passes", []jute.ACL{acl(1, "digest", "x:y")}, jute.PermAdmin, []jute.Id{ip, sup}, true},
		{"digest equal", []jute.ACL{acl(31, "digest", bob.ID)}, jute.PermDelete, []jute.Id{ip, bob}, true},
		{"digest other", []jute.ACL{acl(31, "digest", "bob:other")}, jute.PermDelete, []jute.Id{ip, bob}, false},
		{"digest perm missing", []jute.ACL{acl(jute.PermRead, "digest", bob.ID)}, jute.PermWrite, []jute.Id{bob}, false},
		{"any bit of perm", []jute.ACL{acl(jute.PermRead, "digest", bob.ID)}, jute.PermRead | jute.PermAdmin, []jute.Id{bob}, true},
		{"ip prefix", []jute.ACL{acl(31, "ip", "10.0.0.0/8")}, jute.PermRead, []jute.Id{ip}, true},
		{"ip other", []jute.ACL{acl(31, "ip", "11.0.0.0/8")}, jute.PermRead, []jute.Id{ip}, false},
		{"ip acl vs digest id", []jute.ACL{acl(31, "ip", "10.1.2.3")}, jute.PermRead, []jute.Id{{Scheme: "digest", ID: "10.1.2.3"}}, false},
		{"auth scheme never matches", []jute.ACL{acl(31, "auth", "")}, jute.PermRead, []jute.Id{{Scheme: "auth", ID: ""}}, false},
		{"unknown scheme", []jute.ACL{acl(31, "x509", "CN=a")}, jute.PermRead, []jute.Id{{Scheme: "x509", ID: "CN=a"}}, false},
		{"second entry", []jute.ACL{acl(1, "ip", "1.1.1.1"), acl(31, "digest", bob.ID)}, jute.PermCreate, []jute.Id{ip, bob}, true},
		{"no ids", []jute.ACL{acl(31, "digest", bob.ID)}, jute.PermRead, nil, false},
	}
	for _, tc := range cases {
		if got := c.Check(tc.acl, tc.perm, tc.ids); got != tc.want {
			t.Errorf("%s: Check = %v, want %v", tc.name, got, tc.want)
		}
	}

	skip := NewChecker(Config{SkipACL: true})
	if !skip.Check([]jute.ACL{acl(1, "digest", "a:b")}, jute.PermAdmin, nil) {
		t.Error("SkipACL did not allow")
	}
	noDigest := NewChecker(Config{})
	if noDigest.Check([]jute.ACL{acl(31, "digest", bob.ID)}, jute.PermRead, []jute.Id{bob}) {
		t.Error("digest matched with the digest provider disabled")
	}
	extra := NewChecker(Config{ExtraSchemes: []string{"x509"}})
	if !extra.Check([]jute.ACL{acl(31, "x509", "CN=a")}, jute.PermRead, []jute.Id{{Scheme: "x509", ID: "CN=a"}}) {
		t.Error("extra scheme did not match by equality")
	}
	ip6 := jute.Id{Scheme: "ip", ID: "0:0:0:0:0:0:0:1"}
	if c.Check([]jute.ACL{acl(31, "ip", "::1")}, jute.PermRead, []jute.Id{ip6}) {
		t.Error("3.8 mode matched an IPv6 ACL")
	}
	if !NewChecker(Config{IPv6: true}).Check([]jute.ACL{acl(31, "ip", "::1")}, jute.PermRead, []jute.Id{ip6}) {
		t.Error("IPv6 mode did not match")
	}
}

func TestFixupACL(t *testing.T) {
	bob := jute.Id{Scheme: "digest", ID: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}
	amy := jute.Id{Scheme: "digest", ID: "amy:hash"}
	ip := jute.Id{Scheme: "ip", ID: "10.1.2.3"}
	sup := jute.Id{Scheme: "super", ID: ""}
	c := NewChecker(DefaultConfig())
	cases := []struct {
		name string
		acl  []jute.ACL
		ids  []jute.Id
		want []jute.ACL // nil = InvalidACL
	}{
		{"open", jute.OpenACLUnsafe, nil, jute.OpenACLUnsafe},
		{"empty", []jute.ACL{}, []jute.Id{bob}, nil},
		{"nil", nil, []jute.Id{bob}, nil},
		{"world other", []jute.ACL{acl(31, "world", "everyone")}, nil, nil},
		{"duplicates", []jute.ACL{acl(31, "world", "anyone"), acl(1, "ip", "1.2.3.4"), acl(31, "world", "anyone")},
			nil, []jute.ACL{acl(31, "world", "anyone"), acl(1, "ip", "1.2.3.4")}},
		{"same id other perms kept", []jute.ACL{acl(1, "ip", "1.2.3.4"), acl(2, "ip", "1.2.3.4")},
			nil, []jute.ACL{acl(1, "ip", "1.2.3.4"), acl(2, "ip", "1.2.3.4")}},
		{"auth expands digest only", jute.CreatorAllACL, []jute.Id{ip, sup, bob, amy},
			[]jute.ACL{{Perms: 31, ID: bob}, {Perms: 31, ID: amy}}},
		{"auth id text ignored", []jute.ACL{acl(5, "auth", "whatever")}, []jute.Id{bob}, []jute.ACL{{Perms: 5, ID: bob}}},
		{"auth without digest", jute.CreatorAllACL, []jute.Id{ip, sup}, nil},
		{"auth no ids", jute.CreatorAllACL, nil, nil},
		{"auth twice not deduplicated after expansion", []jute.ACL{acl(31, "auth", ""), {Perms: 31, ID: bob}}, []jute.Id{bob},
			[]jute.ACL{{Perms: 31, ID: bob}, {Perms: 31, ID: bob}}},
		{"digest valid", []jute.ACL{acl(3, "digest", "u:h")}, nil, []jute.ACL{acl(3, "digest", "u:h")}},
		{"digest invalid", []jute.ACL{acl(3, "digest", "u")}, nil, nil},
		{"digest three parts", []jute.ACL{acl(3, "digest", "u:h:x")}, nil, nil},
		{"ip invalid", []jute.ACL{acl(3, "ip", "1.2.3.4/40")}, nil, nil},
		{"ipv6 in 3.8", []jute.ACL{acl(3, "ip", "::1")}, nil, nil},
		{"super scheme", []jute.ACL{acl(31, "super", "")}, []jute.Id{sup}, nil},
		{"unknown scheme", []jute.ACL{acl(31, "sasl", "bob")}, nil, nil},
		{"invalid after valid", []jute.ACL{acl(31, "world", "anyone"), acl(31, "ip", "x")}, nil, nil},
	}
	for _, tc := range cases {
		got, err := c.FixupACL(tc.acl, tc.ids)
		if tc.want == nil {
			if err != jute.ErrInvalidACL || got != nil {
				t.Errorf("%s: got %v %v, want InvalidACL", tc.name, got, err)
			}
			continue
		}
		if err != jute.ErrOK || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v %v, want %v", tc.name, got, err, tc.want)
		}
	}

	if _, err := NewChecker(Config{}).FixupACL([]jute.ACL{acl(3, "digest", "u:h")}, nil); err != jute.ErrInvalidACL {
		t.Error("digest ACL accepted with the digest provider disabled")
	}
	x := NewChecker(Config{DigestAuthEnabled: true, ExtraSchemes: []string{"x509"}, IPv6: true})
	cert := jute.Id{Scheme: "x509", ID: "CN=a"}
	got, err := x.FixupACL([]jute.ACL{acl(31, "auth", ""), acl(1, "ip", "fe80::/10")}, []jute.Id{ip, cert})
	if err != jute.ErrOK || !slices.Equal(got, []jute.ACL{{Perms: 31, ID: cert}, acl(1, "ip", "fe80::/10")}) {
		t.Errorf("extra scheme / IPv6: %v %v", got, err)
	}
}

func TestClientInfo(t *testing.T) {
	ids := []jute.Id{
		{Scheme: "ip", ID: "127.0.0.1"},
		{Scheme: "super", ID: ""},
		{Scheme: "digest", ID: "super:D/InIHSb7yEEbrWz8b9l71RjZJU="},
		{Scheme: "x509", ID: "CN=a,O=b"},
	}
	want := []jute.ClientInfo{
		{AuthScheme: "ip", User: "127.0.0.1"},
		{AuthScheme: "super", User: ""},
		{AuthScheme: "digest", User: "super"},
		{AuthScheme: "x509", User: "CN=a,O=b"},
	}
	if got := ClientInfo(ids); !slices.Equal(got, want) {
		t.Fatalf("ClientInfo = %v", got)
	}
	if got := ClientInfo(nil); got == nil || len(got) != 0 {
		t.Fatal("ClientInfo(nil) must be an empty list")
	}
}

func TestAddAuthInfoOrder(t *testing.T) {
	// Each step's order as Apache's ConcurrentHashMap-backed auth set iterates
	// it (printed by Java with the 3.8 jute Id class).
	steps := []struct {
		add  jute.Id
		want []string
	}{
		{jute.Id{Scheme: "ip", ID: "127.0.0.1"}, []string{"ip:127.0.0.1"}},
		{jute.Id{Scheme: "super", ID: ""}, []string{"super:", "ip:127.0.0.1"}},
		{jute.Id{Scheme: "digest", ID: "super:D/InIHSb7yEEbrWz8b9l71RjZJU="}, []string{"super:", "ip:127.0.0.1", "digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU="}},
		{jute.Id{Scheme: "digest", ID: "bob:abc"}, []string{"super:", "digest:bob:abc", "ip:127.0.0.1", "digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU="}},
		{jute.Id{Scheme: "digest", ID: "alice:xyz"}, []string{"digest:alice:xyz", "super:", "digest:bob:abc", "ip:127.0.0.1", "digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU="}},
		{jute.Id{Scheme: "ip", ID: "10.0.0.7"}, []string{"digest:alice:xyz", "super:", "ip:10.0.0.7", "digest:bob:abc", "ip:127.0.0.1", "digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU="}},
		{jute.Id{Scheme: "digest", ID: "u1:p"}, []string{"digest:alice:xyz", "digest:u1:p", "super:", "ip:10.0.0.7", "digest:bob:abc", "ip:127.0.0.1", "digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU="}},
		{jute.Id{Scheme: "digest", ID: "u2:p"}, []string{"digest:alice:xyz", "digest:u1:p", "super:", "ip:10.0.0.7", "digest:u2:p", "digest:bob:abc", "ip:127.0.0.1", "digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU="}},
		{jute.Id{Scheme: "x509", ID: "CN=a"}, []string{"digest:alice:xyz", "digest:u1:p", "super:", "ip:10.0.0.7", "digest:u2:p", "x509:CN=a", "digest:bob:abc", "ip:127.0.0.1", "digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU="}},
	}
	var set []jute.Id
	for i, s := range steps {
		set = AddAuthInfo(set, s.add)
		set = AddAuthInfo(set, s.add) // duplicates are ignored
		got := make([]string, len(set))
		for j, id := range set {
			got[j] = id.Scheme + ":" + id.ID
		}
		if !slices.Equal(got, s.want) {
			t.Fatalf("step %d: %v, want %v", i, got, s.want)
		}
	}
	hashes := map[jute.Id]int32{
		{Scheme: "ip", ID: "127.0.0.1"}:                              1506146057,
		{Scheme: "super", ID: ""}:                                    -232294480,
		{Scheme: "digest", ID: "super:D/InIHSb7yEEbrWz8b9l71RjZJU="}: 413673494,
		{Scheme: "digest", ID: "u2:p"}:                               -2032592176,
	}
	for id, h := range hashes {
		if got := idHash(id); got != h {
			t.Errorf("idHash(%v) = %d, want %d", id, got, h)
		}
	}
}

func TestJavaHashSupplementary(t *testing.T) {
	// "😀".hashCode() in Java: surrogates D83D DE00 -> 0xD83D*31 + 0xDE00
	if got := javahash.String("😀"); got != 0xD83D*31+0xDE00 {
		t.Fatalf("javahash.String = %d", got)
	}
}

// TestSASLScheme is SASLAuthenticationProvider: registered only through an auth provider, ids valid when they
// parse as Kerberos names, matched by equality, by a sasl id "super", or by any sasl id for the
// zookeeper.letAnySaslUserDoX entry.
func TestSASLScheme(t *testing.T) {
	entry := func(id string) []jute.ACL { return []jute.ACL{acl(31, "sasl", id)} }
	bob := []jute.Id{{Scheme: "sasl", ID: "bob"}}
	if _, e := NewChecker(DefaultConfig()).FixupACL(entry("bob"), nil); e != jute.ErrInvalidACL {
		t.Errorf("sasl without its provider: %v", e)
	}
	anyone := "everyone"
	c := NewChecker(Config{ExtraSchemes: []string{"sasl"}, LetAnySaslUserDoX: &anyone})
	for id, valid := range map[string]bool{"bob": true, "bob@EXAMPLE.COM": true, "bob/host@R": true, "a/b": true,
		"": true, "@": true, "a@b@c": false, "a/b/c@R": false, "a@b/c": false} {
		if _, e := c.FixupACL(entry(id), nil); (e == jute.ErrOK) != valid {
			t.Errorf("sasl:%s valid = %v", id, e == jute.ErrOK)
		}
	}
	for _, tc := range []struct {
		acl string
		ids []jute.Id
		ok  bool
	}{
		{"bob", bob, true},
		{"carol", bob, false},
		{"carol", []jute.Id{{Scheme: "sasl", ID: "super"}}, true},
		{"everyone", bob, true},
		{"bob", []jute.Id{{Scheme: "digest", ID: "bob"}}, false},
	} {
		if got := c.Check(entry(tc.acl), jute.PermRead, tc.ids); got != tc.ok {
			t.Errorf("sasl:%s for %v: %v", tc.acl, tc.ids, got)
		}
	}
	if NewChecker(Config{ExtraSchemes: []string{"sasl"}}).Check(entry("everyone"), jute.PermRead, bob) {
		t.Error("letAnySaslUserDoX unset matched")
	}
	if out, e := c.FixupACL([]jute.ACL{acl(5, "auth", "")}, append(bob, jute.Id{Scheme: "ip", ID: "127.0.0.1"})); e != jute.ErrOK ||
		len(out) != 1 || out[0].ID != bob[0] {
		t.Errorf("auth expansion: %v %v", out, e)
	}
}
