package acl

import "testing"

// The answers of Apache 3.8's X509AuthenticationProvider.isValid (through creates with x509 ACLs; see
// conformance/javaclient's TestSecureClientPort) and of X500Principal for a few more.
func TestX500Valid(t *testing.T) {
	for id, want := range map[string]bool{
		"CN=alice": true, "cn=lower": true, "": true, "OID.2.5.4.3=a": true, "2.5.4.3=#0c0161": true,
		"CN=a;OU=b+O=c": true, `CN=alice,O=zkafka\, inc`: true, `CN="quoted, name"`: true,
		"not-a-dn": false, "XX=a": false, `CN="open`: false, "2.5.4.3=#0c01": false, "CN=a,foo": false,
		"2.5.4.3=#0c": false,
	} {
		if got := x500Valid(id); got != want {
			t.Errorf("x500Valid(%q) = %v, want %v", id, got, want)
		}
	}
}
