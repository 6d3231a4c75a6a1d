package jaas

import (
	"reflect"
	"strings"
	"testing"
)

const plainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"

func TestParseConfig(t *testing.T) {
	mods, err := ParseConfig(`org.apache.kafka.common.security.plain.PlainLoginModule required
		username="admin" password="admin-secret" /* comment */ user_admin="admin-secret" // more
		user_alice='alice "quoted"\tsecret' user_bob=bob-secret;`)
	if err != nil {
		t.Fatal(err)
	}
	want := []LoginModule{{Class: plainLoginModule, Flag: FlagRequired, Options: map[string]string{
		"username": "admin", "password": "admin-secret", "user_admin": "admin-secret",
		"user_alice": "alice \"quoted\"\tsecret", "user_bob": "bob-secret",
	}}}
	if !reflect.DeepEqual(mods, want) {
		t.Fatalf("got %+v", mods)
	}
	if v, ok := Option(mods, "user_alice", plainLoginModule); !ok || v != "alice \"quoted\"\tsecret" {
		t.Errorf("option %q %v", v, ok)
	}
	for in, msg := range map[string]string{
		``:                      "Login module not specified in JAAS config",
		`a.B`:                   "Login module control flag not specified in JAAS config",
		`a.B mandatory;`:        "Invalid login module control flag 'mandatory' in JAAS config",
		`a.B required k=;`:      "Value not specified for key 'k' in JAAS config",
		`a.B required k=123;`:   "Value not specified for key 'k' in JAAS config",
		`a.B required k "v";`:   "Value not specified for key 'k' in JAAS config",
		`a.B required k="v"`:    "JAAS config entry not terminated by semi-colon",
		`a.B Optional k="v"; c`: "Login module control flag not specified in JAAS config",
	} {
		_, err := ParseConfig(in)
		if err == nil || err.Error() != msg {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
	two, err := ParseConfig(`a.B required; c.D sufficient x="1";`)
	if err != nil || len(two) != 2 || two[1].Flag != FlagSufficient || two[1].Options["x"] != "1" {
		t.Fatalf("two modules: %+v %v", two, err)
	}
}

const serverJaas = `
// a ZooKeeper server's JAAS file
Server {
   org.apache.zookeeper.server.auth.DigestLoginModule required
   user_super="adminsecret"
   user_bob="${bob.pw}";
};

/* Kafka's documented broker sections */
KafkaServer {
   org.apache.kafka.common.security.plain.PlainLoginModule required
   username="admin"
   password="admin-secret"
   user_admin="admin-secret";
};

Client {
   org.apache.zookeeper.server.auth.DigestLoginModule required
   username="kafka" password="x";
};
`

func TestParseFile(t *testing.T) {
	ctxs, err := ParseFile(serverJaas, map[string]string{"bob.pw": "bob-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ctxs) != 3 {
		t.Fatalf("contexts %v", ctxs)
	}
	if v, _ := Option(ctxs["Server"], "user_bob", ""); v != "bob-secret" {
		t.Errorf("expanded %q", v)
	}
	if _, err := ParseFile(serverJaas, nil); err == nil || !strings.Contains(err.Error(), "unable to expand property bob.pw") {
		t.Errorf("undefined property: %v", err)
	}
	for in, frag := range map[string]string{
		"A { x.Y required; };\nA { x.Y required; };": "multiple entries for A",
		"A { x.Y always; };":                         "Invalid control flag, always",
		"A { x.Y required k=\"v\" };":                "expected [option key], found [}]",
		"A { x.Y required k \"v\"; };":               "expected [=], found [v]",
		"A { x.Y required; }":                        "expected [;], read [end of file]",
	} {
		if _, err := ParseFile(in, nil); err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("%q: %v, want %q", in, err, frag)
		}
	}
}
