// Package zoocfg loads Apache ZooKeeper 3.8 configuration: zoo.cfg (a java.util.Properties file), the
// optional dynamic config file, dataDir/myid and the -D system properties passed through JVMFLAGS. Key names,
// defaults and validation follow QuorumPeerConfig.parseProperties and the classes that read the system
// properties; see section 3 of the ZooKeeper compatibility spec.
package zoocfg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Property is one key/value pair of a java.util.Properties file, after escape processing.
type Property struct {
	Key, Value string
}

// ErrMalformedUnicode is returned for a \u escape not followed by four hex digits (Java throws
// IllegalArgumentException "Malformed \uxxxx encoding.").
var ErrMalformedUnicode = errors.New(`malformed \uxxxx encoding`)

// ParseProperties reads java.util.Properties text the way Properties.load does: one logical line per entry,
// '#'/'!' comment lines, odd trailing backslash continues the line (leading whitespace of the continuation is
// dropped), key ends at the first unescaped '=', ':' or whitespace, value starts after optional whitespace and
// one optional separator and keeps its trailing whitespace. Escapes \t \n \r \f \uXXXX; any other escaped
// character stands for itself. Entries are returned in file order, duplicates included (the last one wins in
// Java). Java's load(InputStream) decodes ISO-8859-1; we read UTF-8 when the input is valid UTF-8 (identical for
// ASCII) and fall back to ISO-8859-1 otherwise.
func ParseProperties(r io.Reader) ([]Property, error) {
	data, err := io.ReadAll(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("read properties: %w", err)
	}
	var in []rune
	if utf8.Valid(data) {
		in = []rune(string(data))
	} else {
		in = make([]rune, len(data))
		for i, b := range data {
			in[i] = rune(b)
		}
	}
	lr := lineReader{in: in}
	var props []Property
	lineNo := 0
	for {
		line, ok := lr.next()
		if !ok {
			return props, nil
		}
		lineNo++
		p, err := splitKeyValue(line)
		if err != nil {
			return nil, fmt.Errorf("properties entry %d (%q): %w", lineNo, string(line), err)
		}
		props = append(props, p)
	}
}

func isPropSpace(c rune) bool { return c == ' ' || c == '\t' || c == '\f' }

// lineReader yields logical lines: comments and blank lines skipped, continuations joined.
type lineReader struct {
	in  []rune
	pos int
}

func (lr *lineReader) next() ([]rune, bool) {
	var buf []rune
	skipWhite := true
	appendedLineBegin := false
	precedingBackslash := false
	isComment := false
	isNewLine := true
	skipLF := false
	for lr.pos < len(lr.in) {
		c := lr.in[lr.pos]
		lr.pos++
		if skipLF {
			skipLF = false
			if c == '\n' {
				continue
			}
		}
		if skipWhite {
			if isPropSpace(c) {
				continue
			}
			if !appendedLineBegin && (c == '\r' || c == '\n') {
				continue
			}
			skipWhite = false
			appendedLineBegin = false
		}
		if isNewLine {
			isNewLine = false
			if c == '#' || c == '!' {
				isComment = true
				// Comment lines never continue: drop up to the end of the line.
				for lr.pos < len(lr.in) && lr.in[lr.pos] != '\n' && lr.in[lr.pos] != '\r' {
					lr.pos++
				}
				continue
			}
		}
		if c != '\n' && c != '\r' {
			buf = append(buf, c)
			if c == '\\' {
				precedingBackslash = !precedingBackslash
			} else {
				precedingBackslash = false
			}
			continue
		}
		// End of a natural line.
		if isComment || len(buf) == 0 {
			isComment = false
			isNewLine = true
			skipWhite = true
			buf = buf[:0]
			continue
		}
		if precedingBackslash {
			buf = buf[:len(buf)-1]
			skipWhite = true
			appendedLineBegin = true
			precedingBackslash = false
			if c == '\r' {
				skipLF = true
			}
			continue
		}
		return buf, true
	}
	if len(buf) == 0 || isComment {
		return nil, false
	}
	if precedingBackslash {
		buf = buf[:len(buf)-1]
	}
	return buf, true
}

func splitKeyValue(line []rune) (Property, error) {
	limit := len(line)
	keyLen, valueStart := 0, limit
	hasSep, precedingBackslash := false, false
	for keyLen < limit {
		c := line[keyLen]
		if (c == '=' || c == ':') && !precedingBackslash {
			valueStart = keyLen + 1
			hasSep = true
			break
		}
		if isPropSpace(c) && !precedingBackslash {
			valueStart = keyLen + 1
			break
		}
		if c == '\\' {
			precedingBackslash = !precedingBackslash
		} else {
			precedingBackslash = false
		}
		keyLen++
	}
	for valueStart < limit {
		c := line[valueStart]
		if !isPropSpace(c) {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valueStart++
	}
	key, err := unescape(line[:keyLen])
	if err != nil {
		return Property{}, err
	}
	value, err := unescape(line[valueStart:])
	if err != nil {
		return Property{}, err
	}
	return Property{Key: key, Value: value}, nil
}

// unescape applies Properties.loadConvert. It works in UTF-16 units so that \uD83D\uDE00 pairs combine.
func unescape(s []rune) (string, error) {
	units := make([]uint16, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			units = utf16.AppendRune(units, c)
			continue
		}
		i++
		c = s[i]
		switch c {
		case 'u':
			if i+4 >= len(s) {
				return "", ErrMalformedUnicode
			}
			var v uint16
			for j := 1; j <= 4; j++ {
				d, ok := hexVal(s[i+j])
				if !ok {
					return "", ErrMalformedUnicode
				}
				v = v<<4 | uint16(d)
			}
			i += 4
			units = append(units, v)
		case 't':
			units = append(units, '\t')
		case 'r':
			units = append(units, '\r')
		case 'n':
			units = append(units, '\n')
		case 'f':
			units = append(units, '\f')
		default:
			units = utf16.AppendRune(units, c)
		}
	}
	return string(utf16.Decode(units)), nil
}

func hexVal(c rune) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}
