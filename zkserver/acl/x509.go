package acl

import (
	"encoding/asn1"
	"encoding/hex"
	"strings"
)

// x500Keywords are the attribute keywords X500Principal's parser (sun.security.x509.AVAKeyword) accepts in a
// distinguished name string, upper-cased.
var x500Keywords = map[string]bool{
	"CN": true, "C": true, "L": true, "S": true, "ST": true, "O": true, "OU": true, "T": true, "IP": true,
	"STREET": true, "DC": true, "DNQUALIFIER": true, "DNQ": true, "SURNAME": true, "GIVENNAME": true,
	"INITIALS": true, "GENERATION": true, "EMAIL": true, "EMAILADDRESS": true, "UID": true, "SERIALNUMBER": true,
}

// x500Valid is X509AuthenticationProvider.isValid: whether new X500Principal(id) parses. A name is a list of
// key=value pairs separated by ',' or ';' (or '+' within one RDN); the key is a keyword or an OID (digits and
// dots, optionally "OID."-prefixed); the value may be quoted, escaped with '\', or '#' and the hex of one DER value.
// The empty name is valid.
func x500Valid(id string) bool {
	if strings.TrimSpace(id) == "" {
		return true
	}
	var parts []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range id {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ';' || r == '+'):
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if quoted || escaped {
		return false
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || !x500Key(k) {
			return false
		}
		if v = strings.TrimSpace(v); strings.HasPrefix(v, "#") && !derValue(v[1:]) {
			return false
		}
	}
	return true
}

func x500Key(k string) bool {
	if x500Keywords[strings.ToUpper(k)] {
		return true
	}
	if len(k) > 4 && strings.EqualFold(k[:4], "OID.") {
		k = k[4:]
	}
	if k == "" || k[0] == '.' || k[len(k)-1] == '.' || !strings.Contains(k, ".") {
		return false
	}
	for _, r := range k {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}

// derValue reports whether a '#'-prefixed value's hex is one whole DER value, as Java decodes it.
func derValue(h string) bool {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) == 0 {
		return false
	}
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(b, &v)
	return err == nil && len(rest) == 0
}
