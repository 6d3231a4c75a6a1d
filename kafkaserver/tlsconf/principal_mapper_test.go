package tlsconf

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
)

func TestPrincipalMapper(t *testing.T) {
	ca := keystoretest.NewCA(t, "ca")
	cert := func(n pkix.Name) *x509.Certificate { return ca.Issue(n).Cert }
	serviceUser := cert(pkix.Name{CommonName: "Duke", OrganizationalUnit: []string{"ServiceUsers"},
		Organization: []string{"Org"}, Country: []string{"US"}})
	full := cert(pkix.Name{CommonName: "Duke", OrganizationalUnit: []string{"JavaSoft"}, Organization: []string{"Sun"},
		Locality: []string{"Cupertino"}, Province: []string{"CA"}, Country: []string{"US"}})
	short := cert(pkix.Name{CommonName: "Duke.2", OrganizationalUnit: []string{"JavaSoft"}, Country: []string{"US"}})
	noCN := cert(pkix.Name{OrganizationalUnit: []string{"JavaSoft"}, Country: []string{"US"}})

	// Kafka's documented example: service users by CN, others as cn@ou lower-cased, then any CN, then DEFAULT.
	m, err := NewPrincipalMapper(`RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/ ,
		RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,
		RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, DEFAULT`)
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[*x509.Certificate]string{serviceUser: "Duke", full: "duke@javasoft", short: "DUKE.2",
		noCN: "OU=JavaSoft,C=US"} {
		if got, err := m.Name(c); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", c.Subject, got, err, want)
		}
	}
	if got := m.String(); !strings.HasPrefix(got, "[RULE:^CN=(.*?),OU=ServiceUsers.*$/$1, RULE:") || !strings.HasSuffix(got, "/$1/U, DEFAULT]") {
		t.Errorf("String %s", got)
	}

	// Without DEFAULT a subject no rule applies to fails.
	m, _ = NewPrincipalMapper(`RULE:^CN=([^,]*),.*$/$1/`)
	if _, err := m.Name(noCN); err == nil || !strings.Contains(err.Error(), "No rules apply to OU=JavaSoft,C=US") {
		t.Errorf("no rule: %v", err)
	}
	// Replacements as Java reads them: \ quotes, $12 is group 1 then "2" with fewer groups, $5 past them is literal.
	m, _ = NewPrincipalMapper(`RULE:^CN=([^,]*),(.*)$/$12-\$1-$5-$0/`)
	if got, err := m.Name(short); err != nil || got != `Duke.22-$1-$5-CN=Duke.2,OU=JavaSoft,C=US` {
		t.Errorf("replacement: %q %v", got, err)
	}
	// A pattern without groups and a $1: Java fails the mapping.
	m, _ = NewPrincipalMapper(`RULE:^CN=.*$/$1/`)
	if _, err := m.Name(short); err == nil {
		t.Error("$1 without groups mapped")
	}
	// Empty rules are ignored; "" is DEFAULT.
	for _, rules := range []string{"", "DEFAULT", " , DEFAULT"} {
		m, err := NewPrincipalMapper(rules)
		if err != nil {
			t.Fatalf("%q: %v", rules, err)
		}
		if got, _ := m.Name(full); got != "CN=Duke,OU=JavaSoft,O=Sun,L=Cupertino,ST=CA,C=US" {
			t.Errorf("%q: %q", rules, got)
		}
	}
	for rules, want := range map[string]string{
		"RULE:a/b":      "Invalid rule: `RULE:a/b`, unmatched substring: `RULE:a/b`",
		"RULE:a/b/X":    "Invalid rule: `RULE:a/b/X`, unmatched substring: `X`",
		"DEFAULTS":      "Invalid rule: `DEFAULTS`, unmatched substring: `S`",
		`RULE:(a)\1/b/`: "ssl.principal.mapping.rules: pattern",
	} {
		if _, err := NewPrincipalMapper(rules); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", rules, err, want)
		}
	}
}

// Kafka quotes $n past the groups, inserting at the index it found the reference at in the unedited text.
func TestEscapeLiteralBackReferences(t *testing.T) {
	for _, c := range []struct {
		in     string
		groups int
		want   string
	}{
		{"$5-$6", 0, "$5-$6"},
		{"$12-$5", 2, `$12-\$5`},
		{"$0$9", 1, `$0\$9`},
		{"$5-$6", 1, `\$5\-$6`},
		{"ü$5", 1, `ü\$5`},
	} {
		if got, err := escapeLiteralBackReferences(c.in, c.groups); err != nil || got != c.want {
			t.Errorf("escape(%q, %d) = %q, %v; want %q", c.in, c.groups, got, err, c.want)
		}
	}
}
