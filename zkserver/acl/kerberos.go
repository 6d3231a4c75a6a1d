package acl

import "github.com/zkafka/zkafka/compat/kerbname"

// saslValid is SASLAuthenticationProvider.isValid: a sasl ACL id must parse as a Kerberos name. Apache builds a
// KerberosName, whose class initializer also parses zookeeper.security.auth_to_local: with bad rules its request
// thread dies there; we only check the name.
func saslValid(id string) bool {
	_, err := kerbname.Parse(id)
	return err == nil
}
