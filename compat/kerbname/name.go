// Package kerbname is Kerberos principal names as Apache ZooKeeper 3.8 and Kafka 2.8 read them, and their
// auth_to_local rules, which map a principal to a short (local) name: ZooKeeper's dialect
// (zookeeper.security.auth_to_local, org.apache.zookeeper.server.auth.KerberosName) and Kafka's
// (sasl.kerberos.principal.to.local.rules, KerberosShortNamer / KerberosRule). Errors say what Apache's say, and
// name Apache's exception class (see Error).
package kerbname

import (
	"errors"
	"regexp"
	"strings"
)

// Name is a principal split as both KerberosName classes split it: service[/host]@realm, or, without any '@',
// the whole name as the service.
type Name struct {
	Service string
	// Host is the second component; HasHost tells "absent" (Java's null) from "".
	Host    string
	HasHost bool
	// Realm; HasRealm tells "absent" (a name without '@') from "".
	Realm    string
	HasRealm bool
}

// nameParser is the split both Apache classes use (Matcher.matches over the whole name).
var nameParser = regexp.MustCompile(`\A([^/@]*)(?:/([^/@]*))?@([^/@]*)\z`)

// Parse splits a principal name. A name with '@' that is not service[/host]@realm (two '/' or two '@') is an
// error (IllegalArgumentException "Malformed Kerberos name: <name>" in both Apache classes), errors.Is
// ErrMalformedName.
func Parse(name string) (Name, error) {
	m := nameParser.FindStringSubmatchIndex(name)
	if m == nil {
		if strings.Contains(name, "@") {
			return Name{}, &Error{Class: "IllegalArgumentException", Msg: "Malformed Kerberos name: " + name,
				kind: ErrMalformedName}
		}
		return Name{Service: name}, nil
	}
	n := Name{Service: name[m[2]:m[3]], Realm: name[m[6]:m[7]], HasRealm: true}
	if m[4] >= 0 {
		n.Host, n.HasHost = name[m[4]:m[5]], true
	}
	return n, nil
}

// String puts the name back together (KerberosName.toString).
func (n Name) String() string {
	s := n.Service
	if n.HasHost {
		s += "/" + n.Host
	}
	if n.HasRealm {
		s += "@" + n.Realm
	}
	return s
}

// Kinds of errors, for errors.Is.
var (
	// ErrMalformedName is a principal Parse refuses.
	ErrMalformedName = errors.New("malformed Kerberos name")
	// ErrNoMatchingRule is a principal no rule maps, or one a rule maps to a name with '/' or '@'
	// (Apache's NoMatchingRule).
	ErrNoMatchingRule = errors.New("no auth_to_local rule applies")
	// ErrBadFormat is a rule's $n format that cannot be filled in (BadFormatString).
	ErrBadFormat = errors.New("bad auth_to_local rule format")
	// ErrInvalidRule is a rule that does not parse or compile.
	ErrInvalidRule = errors.New("invalid auth_to_local rule")
	// ErrRuntime is what Apache fails with as an unchecked exception while applying a rule (a $n one past the
	// components in ZooKeeper's dialect, a bad replacement in s///).
	ErrRuntime = errors.New("auth_to_local rule failed")
)

// Error is an error Apache's classes throw.
type Error struct {
	// Class is the Java exception's simple name: NoMatchingRule or BadFormatString (both IOExceptions, which
	// ZooKeeper's and Kafka's callers catch), or a runtime exception (IllegalArgumentException,
	// NumberFormatException, ArrayIndexOutOfBoundsException, IndexOutOfBoundsException), or
	// PatternSyntaxException for a regex that does not compile.
	Class string
	// Msg is the exception's message (ours for a pattern Go cannot compile).
	Msg  string
	kind error
	err  error
}

func (e *Error) Error() string { return e.Msg }

// Is matches the Err* kind of e.
func (e *Error) Is(target error) bool { return target == e.kind }

// Unwrap is the cause (a regex compile error).
func (e *Error) Unwrap() error { return e.err }

// Checked reports whether Java throws it as an IOException (NoMatchingRule, BadFormatString): the exceptions
// ZooKeeper's SaslServerCallbackHandler and Kafka's DefaultKafkaPrincipalBuilder catch.
func (e *Error) Checked() bool { return e.Class == "NoMatchingRule" || e.Class == "BadFormatString" }
