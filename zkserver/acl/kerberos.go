package acl

import (
	"errors"
	"regexp"
	"strings"
)

// kerberosName is how ZooKeeper's KerberosName splits a principal: service[/host]@realm.
var kerberosName = regexp.MustCompile(`^([^/@]*)(/([^/@]*))?@([^/@]*)$`)

// KerberosName is a principal name split as Apache's KerberosName splits it. Host and Realm are nil when absent.
type KerberosName struct {
	Service     string
	Host, Realm *string
}

// ErrMalformedKerberosName is a name with an '@' that is not service[/host]@realm.
var ErrMalformedKerberosName = errors.New("malformed Kerberos name")

// ParseKerberosName splits name: service[/host]@realm, or, without any '@', the whole name as the service.
func ParseKerberosName(name string) (KerberosName, error) {
	m := kerberosName.FindStringSubmatchIndex(name)
	if m == nil {
		if strings.Contains(name, "@") {
			return KerberosName{}, ErrMalformedKerberosName
		}
		return KerberosName{Service: name}, nil
	}
	k := KerberosName{Service: name[m[2]:m[3]]}
	if m[6] >= 0 {
		h := name[m[6]:m[7]]
		k.Host = &h
	}
	r := name[m[8]:m[9]]
	k.Realm = &r
	return k, nil
}

// saslValid is SASLAuthenticationProvider.isValid: a sasl ACL id must parse as a Kerberos name.
func saslValid(id string) bool {
	_, err := ParseKerberosName(id)
	return err == nil
}
