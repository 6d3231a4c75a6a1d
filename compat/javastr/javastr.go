// Package javastr holds java.lang.String's behaviours that Apache's config and protocol parsing rely on.
package javastr

import "strings"

// Trim is String.trim: every char up to ' ' (spaces and all ASCII controls) off both ends.
func Trim(s string) string { return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }) }
