package zoocfg

import "strings"

// ParseJVMFlags extracts system properties from a JVMFLAGS / SERVER_JVMFLAGS string. The string is split the
// way a POSIX shell splits an unquoted expansion with quotes honoured (zkServer.sh interpolates the variables
// into the java command line): whitespace separates words, '...' is literal, "..." allows \" \\ \$ \` escapes,
// a backslash outside quotes escapes the next character. Every word "-Dkey=value" yields key=value, "-Dkey"
// yields key="" (as the JVM does); a later flag overrides an earlier one. Other words are ignored.
func ParseJVMFlags(s string) map[string]string {
	props := make(map[string]string)
	for _, w := range shellWords(s) {
		if !strings.HasPrefix(w, "-D") {
			continue
		}
		kv := w[2:]
		key, value, _ := strings.Cut(kv, "=")
		if key == "" {
			continue
		}
		props[key] = value
	}
	return props
}

// shellWords splits s into words with shell quoting rules (no expansion of any kind).
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	const (
		none = iota
		single
		double
	)
	quote := none
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch quote {
		case single:
			if c == '\'' {
				quote = none
			} else {
				cur.WriteByte(c)
			}
			continue
		case double:
			switch {
			case c == '"':
				quote = none
			case c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0:
				i++
				if s[i] != '\n' {
					cur.WriteByte(s[i])
				}
			default:
				cur.WriteByte(c)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case '\'':
			quote, inWord = single, true
		case '"':
			quote, inWord = double, true
		case '\\':
			inWord = true
			if i+1 < len(s) {
				i++
				if s[i] != '\n' { // backslash-newline is a line continuation
					cur.WriteByte(s[i])
				}
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
