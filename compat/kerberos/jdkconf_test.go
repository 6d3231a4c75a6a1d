package kerberos

import (
	"testing"
)

// jdkConf is a krb5.conf whose readings differ between the JDK's Config and gokrb5's parser; the expectations
// are what JDK 17's KerberosPrincipal(KRB_NT_SRV_HST) gave for the same text.
const jdkConf = `# a comment
[ LibDefaults ]
 default_realm = "A.TEST"
 dns_canonicalize_hostname = fallback
[Domain_Realm]
 ZK.UPPER.TEST = UPPER.TEST
 .Mixed.Test = MIXED.TEST
 dup.test = FIRST.TEST
 dup.test = SECOND.TEST
 quoted.test = "Q.TEST"
 comment.test = C.TEST # x
 ; a comment
 .b.test = B.TEST
`

// TestParseConfigLikeJDK reads [domain_realm] and default_realm as the JDK does: keys as written, first value,
// quotes dropped, a trailing comment kept, section names in any case.
func TestParseConfigLikeJDK(t *testing.T) {
	conf, err := ParseConfig(jdkConf)
	if err != nil {
		t.Fatal(err)
	}
	checkRealms(t, conf, map[string]string{
		"zk.upper.test": "A.TEST", // the upper-case key never matches the lower-cased host
		"zk.mixed.test": "A.TEST",
		"dup.test":      "FIRST.TEST",
		"quoted.test":   "Q.TEST",
		"comment.test":  "C.TEST # x",
		"zk.b.test":     "B.TEST",
		"x":             "A.TEST",
	})
	if !conf.LibDefaults.DNSCanonicalizeHostname {
		t.Error("dns_canonicalize_hostname = fallback turned canonicalization off")
	}
}

// TestParseConfigDefaultRealmKey: the JDK reads default_realm only in lower case; without it no realm.
func TestParseConfigDefaultRealmKey(t *testing.T) {
	conf, err := ParseConfig("[libdefaults]\n Default_Realm = A.TEST\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := ServiceRealm(conf, "zk.test"); got != "" {
		t.Errorf("ServiceRealm = %q, want none", got)
	}
}

// TestParseConfigCanonicalize: only "false" and "no" (any case) turn dns_canonicalize_hostname off, the first
// line counting, the key in lower case only.
func TestParseConfigCanonicalize(t *testing.T) {
	for text, want := range map[string]bool{
		"":                                  true,
		"dns_canonicalize_hostname = false": false,
		"dns_canonicalize_hostname = No":    false,
		"dns_canonicalize_hostname = 0":     true,
		"dns_canonicalize_hostname = n":     true,
		"DNS_Canonicalize_Hostname = false": true,
		"dns_canonicalize_hostname = true\n dns_canonicalize_hostname = false": true,
		"dns_canonicalize_hostname = false\n dns_canonicalize_hostname = true": false,
	} {
		conf, err := ParseConfig("[libdefaults]\n default_realm = A.TEST\n " + text + "\n")
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if got := conf.LibDefaults.DNSCanonicalizeHostname; got != want {
			t.Errorf("%q: canonicalize %v, want %v", text, got, want)
		}
	}
}
