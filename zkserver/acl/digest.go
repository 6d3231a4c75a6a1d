package acl

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"
)

// GenerateDigest is DigestAuthenticationProvider.generateDigest: the text
// before the first ':' (all of it if there is none), a ':', and the base64
// SHA-1 of the whole "user:password" string.
func GenerateDigest(idPassword string) string {
	user, _, _ := strings.Cut(idPassword, ":")
	sum := sha1.Sum([]byte(idPassword))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// digestValid is DigestAuthenticationProvider.isValid: Java's split(":")
// yields exactly two parts, so "a:b:" is valid and "a:" or "a:b:c" are not.
func digestValid(id string) bool { return len(javaSplit(id, ":")) == 2 }

// digestUser is DigestAuthenticationProvider.getUserName.
func digestUser(id string) string {
	parts := javaSplit(id, ":")
	if len(parts) == 0 {
		return ""
	}
	return parts[0]
}
