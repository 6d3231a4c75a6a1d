package kerbname_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/kerbname"
)

// ruleCase is a principal mapped with one dialect's rules. err is the Java exception class expected ("" for a
// short name), msg its message when the test pins it.
type ruleCase struct {
	kafka  bool
	realm  string
	rules  string   // ZooKeeper's rule string
	list   []string // Kafka's rule list
	name   string
	want   string
	err    string
	msg    string
	no09   bool // Kafka 2.8 behaviour that Kafka 0.9 (the differential test's jar) lacks
	goOnly bool // a pattern Java runs but Go cannot: ours fails, Java's is not compared
}

const (
	noRule = "NoMatchingRule"
	iae    = "IllegalArgumentException"
	bad    = "BadFormatString"
)

func zk(realm, rules, name, want string) ruleCase {
	return ruleCase{realm: realm, rules: rules, name: name, want: want}
}

func kf(realm string, list []string, name, want string) ruleCase {
	return ruleCase{kafka: true, realm: realm, list: list, name: name, want: want}
}

func (c ruleCase) fails(class, msg string) ruleCase {
	c.err, c.msg = class, msg
	return c
}

func (c ruleCase) only28() ruleCase {
	c.no09 = true
	return c
}

func (c ruleCase) unsupported() ruleCase {
	c.goOnly, c.err = true, "PatternSyntaxException"
	return c
}

const (
	stripRealm = `RULE:[1:$1@$0](.*@EXAMPLE\.COM)s/@.*//`
	hostRule   = `RULE:[2:$1@$0](.*@EXAMPLE\.COM)s/@.*//`
)

var ruleCases = []ruleCase{
	// ZooKeeper: DEFAULT and the default realm.
	zk("EXAMPLE.COM", "DEFAULT", "alice@EXAMPLE.COM", "alice"),
	zk("EXAMPLE.COM", "DEFAULT", "zookeeper/host1@EXAMPLE.COM", "zookeeper"),
	zk("EXAMPLE.COM", "DEFAULT", "alice", "alice"),
	zk("EXAMPLE.COM", "DEFAULT", "alice@OTHER.COM", "").fails(noRule, "No rules applied to alice@OTHER.COM"),
	zk("", "DEFAULT", "alice@", "alice"),
	zk("", "DEFAULT", "alice@EXAMPLE.COM", "").fails(noRule, "No rules applied to alice@EXAMPLE.COM"),
	zk("EXAMPLE.COM", "DEFAULT", "a@b@EXAMPLE.COM", "").fails(iae, "Malformed Kerberos name: a@b@EXAMPLE.COM"),
	zk("EXAMPLE.COM", "DEFAULT", "a/b/c@EXAMPLE.COM", "").fails(iae, "Malformed Kerberos name: a/b/c@EXAMPLE.COM"),
	zk("EXAMPLE.COM", "DEFAULT", "a/b/c", "a/b/c"),
	zk("EXAMPLE.COM", "DEFAULT", "host/", "host/"),
	// ZooKeeper: rules, matched and not.
	zk("", stripRealm+" DEFAULT", "alice@EXAMPLE.COM", "alice"),
	zk("", stripRealm, "alice@OTHER.COM", "").fails(noRule, "No rules applied to alice@OTHER.COM"),
	zk("", stripRealm, "zk/h@EXAMPLE.COM", "").fails(noRule, "No rules applied to zk/h@EXAMPLE.COM"),
	zk("", stripRealm+"\n"+hostRule, "zk/h@EXAMPLE.COM", "zk"),
	zk("", stripRealm+hostRule, "zk/h@EXAMPLE.COM", "zk"),
	zk("", "RULE:[2:$2]", "zk/host1@R", "host1"),
	zk("", "RULE:[2:$1;$2;$0]", "zk/host1@R", "zk;host1;R"),
	zk("", "RULE:[1:x$1$1y]", "ab@R", "xababy"),
	zk("", "RULE:[1:$1]", "ab@R/", "").fails(iae, "Malformed Kerberos name: ab@R/"),
	zk("", "RULE:[1:$0$1]", "a@R", "Ra"),
	zk("", "RULE:[1:$1@$0]", "a@R", "").fails(noRule, "Non-simple name a@R after auth_to_local rule RULE:[1:$1@$0]"),
	zk("", "RULE:[1:$1@$0] DEFAULT", "a@", "").fails(noRule, "Non-simple name a@ after auth_to_local rule RULE:[1:$1@$0]"),
	zk("", "RULE:[1:$1](a.*)", "bob@R", "").fails(noRule, "No rules applied to bob@R"),
	zk("", "RULE:[1:$1](a.*) DEFAULT", "bob@", "bob"),
	zk("", "RULE:[1:$1](b.)", "bob@R", "").fails(noRule, ""),
	zk("", "RULE:[1:$1]s/o/0/", "boob@R", "b0ob"),
	zk("", "RULE:[1:$1]s/o/0/g", "boob@R", "b00b"),
	zk("", "RULE:[1:$1]s/(o+)/<$1>/g", "boob@R", "b<oo>b"),
	zk("", `RULE:[1:$1]s/(o)/\$1/g`, "boob@R", "b$1$1b"),
	zk("", "RULE:[1:$1]s/x*/-/g", "xab@R", "--a-b-"),
	zk("", "RULE:[1:$1]s/a*/-/g", "abc@R", "--b-c-"),
	zk("", "RULE:[1:$1]s/(o)/$2/g", "boob@R", "").fails("IndexOutOfBoundsException", "No group 2"),
	zk("", "RULE:[1:$1]s/o/$x/", "boob@R", "").fails(iae, "Illegal group reference"),
	zk("", "RULE:[1:$1]s/q/$x/", "boob@R", "boob"),
	zk("", `RULE:[1:$1]s/o/\/`, "boob@R", "").fails(iae, "character to be escaped is missing"),
	zk("", "RULE:[1:$1]s/o/$/", "boob@R", "").fails(iae, "Illegal group reference: group index is missing"),
	zk("", "RULE:[1:$1]s/(?<v>o)/${v}!/g", "boob@R", "bo!o!b"),
	zk("", "RULE:[1:$1]s/./-/g", "a\rb@R", "-\r-"),
	zk("", `RULE:[1:$1]s/\s/_/g`, "a\vb c@R", "a_b_c"),
	zk("", `RULE:[1:$1]s/\p{Lower}/-/g`, "aBc@R", "-B-"),
	zk("", "RULE:[1:$1]s/(?i)B/-/g", "aBcb@R", "a-c-"),
	// ZooKeeper: $n out of range.
	zk("", "RULE:[1:$2]", "a@R", "").fails("ArrayIndexOutOfBoundsException", "Index 2 out of bounds for length 2"),
	zk("", "RULE:[1:$3]", "a@R", "").fails(bad, "index 3 from $3 is outside of the valid range 0 to 1"),
	zk("", "RULE:[1:$]", "a@R", "").fails(bad, "bad format in username mapping in "),
	zk("", "RULE:[1:$x]", "a@R", "").fails(bad, "bad format in username mapping in "),
	zk("", "RULE:[1:$99999999999]", "a@R", "").fails(bad, "bad format in username mapping in 99999999999"),
	zk("", "RULE:[2:$1]", "a@R", "").fails(noRule, "No rules applied to a@R"),
	// ZooKeeper: bad rules.
	zk("", "DEFAULT junk", "a@R", "").fails(iae, "Invalid rule:  junk"),
	zk("", "DEFAULTjunk", "a@R", "").fails(iae, "Invalid rule: junk"),
	zk("", "RULE:[1:$1]/L", "a@R", "").fails(iae, "Invalid rule: /L"),
	zk("", "RULE:[:$1]", "a@R", "").fails("NumberFormatException", `For input string: ""`),
	zk("", "RULE:[99999999999:$1]", "a@R", "").fails("NumberFormatException", `For input string: "99999999999"`),
	zk("", "RULE:[1:$1](a(b)", "a@R", "").fails("PatternSyntaxException", ""),
	zk("", "RULE:[1:$1]s/(a)\\1//", "a@R", "").unsupported(),
	zk("", "RULE:[1:$1]s/(?=a)//", "a@R", "").unsupported(),
	zk("", "RULE:[1:$1]s/[a[b]]//", "a@R", "").unsupported(),
	zk("", "  ", "a@R", "").fails(noRule, "No rules applied to a@R"),
	zk("", "", "a", "a"),

	// Kafka: DEFAULT, rules, and the list.
	kf("EXAMPLE.COM", nil, "alice@EXAMPLE.COM", "alice"),
	kf("EXAMPLE.COM", []string{"DEFAULT"}, "kafka/broker1@EXAMPLE.COM", "kafka"),
	kf("EXAMPLE.COM", []string{"DEFAULT"}, "alice", "alice"),
	kf("EXAMPLE.COM", []string{"DEFAULT"}, "alice@OTHER.COM", "").
		fails(noRule, "No rules apply to alice@OTHER.COM, rules [DEFAULT]"),
	kf("EXAMPLE.COM", []string{}, "alice@EXAMPLE.COM", "").fails(noRule, "No rules apply to alice@EXAMPLE.COM, rules []"),
	kf("", []string{stripRealm, "DEFAULT"}, "alice@EXAMPLE.COM", "alice"),
	kf("", []string{stripRealm, hostRule}, "kafka/h@EXAMPLE.COM", "kafka"),
	kf("", []string{stripRealm}, "bob@OTHER", "").
		fails(noRule, `No rules apply to bob@OTHER, rules [RULE:[1:$1@$0](.*@EXAMPLE\.COM)s/@.*//]`),
	kf("", []string{"RULE:[1:$1]s/o/0/g"}, "boob@R", "b00b"),
	kf("", []string{"RULE:[1:$1]s/x*/-/g"}, "xab@R", "--a-b-"),
	kf("", []string{"RULE:[1:$1@$0]"}, "a@R", "").
		fails(noRule, "Non-simple name a@R after auth_to_local rule RULE:[1:$1@$0]"),
	kf("EXAMPLE.COM", []string{"DEFAULT"}, "a/b@c@EXAMPLE.COM", "").fails(iae, "Malformed Kerberos name: a/b@c@EXAMPLE.COM"),
	// Kafka: /L and /U (2.8).
	kf("", []string{stripRealm + "/L"}, "Alice@EXAMPLE.COM", "alice").only28(),
	kf("", []string{stripRealm + "/U"}, "Alice@EXAMPLE.COM", "ALICE").only28(),
	kf("", []string{"RULE:[1:$1]/L"}, "AbC@R", "abc").only28(),
	kf("", []string{"RULE:[1:$1]L"}, "AbC@R", "abc").only28(),
	kf("", []string{"RULE:[1:$1]/"}, "AbC@R", "AbC").only28(),
	kf("", []string{"RULE:[1:$1]s/b/x/gU"}, "abab@R", "AXAX").only28(),
	kf("", []string{"RULE:[1:$1]s/b/ß/g/U"}, "ab@R", "ASS").only28(),
	kf("", []string{"RULE:[1:$1@$0]/L"}, "A@R", "").only28().
		fails(noRule, "Non-simple name A@R after auth_to_local rule RULE:[1:$1@$0]/L"),
	kf("", []string{"RULE:[1:$1]/U"}, "x@R", "X").only28(),
	// Kafka: $n out of range is checked in 2.8.
	kf("", []string{"RULE:[1:$2]"}, "a@R", "").only28().
		fails(bad, "index 2 from $2 is outside of the valid range 0 to 1"),
	kf("", []string{"RULE:[2:$3]"}, "a/b@R", "").fails(bad, "index 3 from $3 is outside of the valid range 0 to 2").only28(),
	kf("", []string{"RULE:[1:$]"}, "a@R", "").fails(bad, "bad format in username mapping in "),
	// Kafka: bad rules.
	kf("", []string{"DEFAULT junk"}, "a@R", "").fails(iae, "Invalid rule: `DEFAULT junk`, unmatched substring: ` junk`"),
	kf("", []string{" DEFAULT"}, "a@R", "").fails(iae, "Invalid rule:  DEFAULT"),
	kf("", []string{"DEFAULT", ""}, "a@R", "").fails(iae, "Invalid rule: "),
	kf("", []string{"RULE:[1:$1]/X"}, "a@R", "").fails(iae, "Invalid rule: `RULE:[1:$1]/X`, unmatched substring: `X`").only28(),
	kf("", []string{"RULE:[1:$1]/L/U"}, "a@R", "").only28().
		fails(iae, "Invalid rule: `RULE:[1:$1]/L/U`, unmatched substring: `/U`"),
	kf("", []string{"RULE:[x:$1]"}, "a@R", "").fails(iae, "Invalid rule: RULE:[x:$1]"),
	kf("", []string{"RULE:[:$1]"}, "a@R", "").fails("NumberFormatException", `For input string: ""`),
	kf("", []string{"RULE:[1:$1](*)"}, "a@R", "").fails("PatternSyntaxException", ""),
	kf("", []string{"RULE:[1:$1](a++)"}, "a@R", "").unsupported(),
}

func TestRules(t *testing.T) {
	for _, c := range ruleCases {
		got, err := c.run()
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("%s: got %q, %v; want %q", c, got, err, c.want)
			}
			continue
		}
		var ke *kerbname.Error
		if !errors.As(err, &ke) {
			t.Errorf("%s: got %q, %v; want %s", c, got, err, c.err)
			continue
		}
		if ke.Class != c.err || c.msg != "" && ke.Msg != c.msg {
			t.Errorf("%s: got %s %q; want %s %q", c, ke.Class, ke.Msg, c.err, c.msg)
		}
		if c.err == noRule && !errors.Is(err, kerbname.ErrNoMatchingRule) {
			t.Errorf("%s: %v is not ErrNoMatchingRule", c, err)
		}
		if c.goOnly && !errors.Is(err, kerbname.ErrInvalidRule) {
			t.Errorf("%s: %v is not ErrInvalidRule", c, err)
		}
	}
}

func (c ruleCase) String() string {
	if c.kafka {
		return "kafka " + strings.Join(c.list, ",") + " realm " + c.realm + " name " + c.name
	}
	return "zookeeper " + c.rules + " realm " + c.realm + " name " + c.name
}

// run maps the name as our package does.
func (c ruleCase) run() (string, error) {
	var s *kerbname.ShortNamer
	var err error
	if c.kafka {
		s, err = kerbname.NewKafkaShortNamer(c.realm, c.list)
	} else {
		s, err = kerbname.NewZooKeeperShortNamer(c.realm, c.rules)
	}
	if err != nil {
		return "", err
	}
	return s.ShortName(c.name)
}

var parseCases = []struct {
	name                string
	service, host, real string
	hasHost, hasRealm   bool
	err                 bool
}{
	{name: "alice", service: "alice"},
	{name: "", service: ""},
	{name: "alice@R", service: "alice", real: "R", hasRealm: true},
	{name: "zk/h1@R", service: "zk", host: "h1", real: "R", hasHost: true, hasRealm: true},
	{name: "zk/@", service: "zk", hasHost: true, hasRealm: true},
	{name: "@", hasRealm: true},
	{name: "a/b/c", service: "a/b/c"},
	{name: "a/b", service: "a/b"},
	{name: "a@b@c", err: true},
	{name: "a/b/c@R", err: true},
	{name: "a@R/x", err: true},
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		n, err := kerbname.Parse(c.name)
		if c.err {
			if !errors.Is(err, kerbname.ErrMalformedName) || err.Error() != "Malformed Kerberos name: "+c.name {
				t.Errorf("Parse(%q): %v, want Malformed", c.name, err)
			}
			continue
		}
		want := kerbname.Name{Service: c.service, Host: c.host, HasHost: c.hasHost, Realm: c.real, HasRealm: c.hasRealm}
		if err != nil || n != want || n.String() != c.name {
			t.Errorf("Parse(%q) = %+v (%q), %v; want %+v", c.name, n, n, err, want)
		}
	}
}

func TestKafkaPrincipal(t *testing.T) {
	s, err := kerbname.NewKafkaShortNamer("EXAMPLE.COM", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.KafkaPrincipal("kafka/h@EXAMPLE.COM"); err != nil || got != "kafka" {
		t.Errorf("KafkaPrincipal = %q, %v", got, err)
	}
	_, err = s.KafkaPrincipal("kafka/h@OTHER")
	want := "Failed to set name for 'kafka/h@OTHER' based on Kerberos authentication rules."
	if !errors.Is(err, kerbname.ErrNoMatchingRule) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("KafkaPrincipal of an unmatched name: %v", err)
	}
}
