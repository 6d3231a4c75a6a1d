package pipeline

import "unicode/utf8"

// validPath applies PathUtils.validatePath: Apache's rules on UTF-16 chars,
// where anything outside the BMP is a surrogate and so invalid.
func validPath(p string) bool {
	if len(p) == 0 || p[0] != '/' {
		return false
	}
	if len(p) == 1 {
		return true
	}
	if p[len(p)-1] == '/' {
		return false
	}
	last := rune('/')
	for i := 1; i < len(p); {
		c, size := utf8.DecodeRuneInString(p[i:])
		if c == utf8.RuneError && size <= 1 {
			return false // Java decodes bad UTF-8 to U+FFFD, which is invalid
		}
		next := byte(0)
		end := i+size == len(p)
		if !end {
			next = p[i+size]
		}
		switch {
		case c == 0:
			return false
		case c == '/' && last == '/':
			return false
		case c == '.' && last == '.':
			if i >= 2 && p[i-2] == '/' && (end || next == '/') {
				return false
			}
		case c == '.':
			if p[i-1] == '/' && (end || next == '/') {
				return false
			}
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0:
			return false
		}
		last = c
		i += size
	}
	return true
}

// parentOf returns the parent path as Apache's lastIndexOf('/') split does
// ("/a" -> "", the root alias). ok is false when there is no slash or a NUL.
func parentOf(p string) (string, bool) {
	slash := -1
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			slash = i
			break
		}
	}
	for i := 0; i < len(p); i++ {
		if p[i] == 0 {
			return "", false
		}
	}
	if slash < 0 {
		return "", false
	}
	return p[:slash], true
}

func hasNUL(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == 0 {
			return true
		}
	}
	return false
}

// specialPath: the built-in nodes that can be neither created nor deleted.
func specialPath(p string) bool {
	switch p {
	case "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config":
		return true
	}
	return false
}
