package zkclient

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// ValidatePath checks a path the way the Java client does before sending a
// request (PathUtils.validatePath), with the same messages. sequential
// validates path+"1", as for sequential creates. The typed helpers of Conn do
// not call it, so tests can send invalid paths to a server; zkcli does.
func ValidatePath(path string, sequential bool) error {
	if sequential {
		path += "1"
	}
	if path == "" {
		return errors.New("Path length must be > 0")
	}
	if path[0] != '/' {
		return errors.New("Path must start with / character")
	}
	if len(path) == 1 {
		return nil
	}
	if path[len(path)-1] == '/' {
		return errors.New("Path must not end with / character")
	}
	// Java indexes UTF-16 units; do the same so "@i" positions agree.
	chars := utf16.Encode([]rune(path))
	reason := ""
	lastc := uint16('/')
	for i := 1; i < len(chars); lastc, i = chars[i], i+1 {
		c := chars[i]
		switch {
		case c == 0:
			reason = fmt.Sprintf("null character not allowed @%d", i)
		case c == '/' && lastc == '/':
			reason = fmt.Sprintf("empty node name specified @%d", i)
		case c == '.' && lastc == '.':
			if chars[i-2] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = fmt.Sprintf("relative paths not allowed @%d", i)
			}
		case c == '.':
			if chars[i-1] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = fmt.Sprintf("relative paths not allowed @%d", i)
			}
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0:
			reason = fmt.Sprintf("invalid character @%d", i)
		}
		if reason != "" {
			return fmt.Errorf("Invalid path string \"%s\" caused by %s", path, reason)
		}
	}
	return nil
}

// serverPath prepends the chroot to a client path.
func (c *Conn) serverPath(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == "/" {
		return c.chroot
	}
	return c.chroot + p
}

// stripChroot turns a server path back into a client path (as ClientCnxn
// does for events and created names).
func (c *Conn) stripChroot(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == c.chroot {
		return "/"
	}
	if strings.HasPrefix(p, c.chroot+"/") {
		return p[len(c.chroot):]
	}
	return p
}
