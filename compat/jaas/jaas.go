// Package jaas reads JAAS login configurations as the JVM does: the login configuration file named by
// -Djava.security.auth.login.config (sun.security.provider.ConfigFile) and Kafka's inline sasl.jaas.config values.
// Both servers take their SASL users from it: Kafka's PLAIN and ZooKeeper's DIGEST-MD5.
package jaas

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Control flags of a JAAS login module entry (javax.security.auth.login.AppConfigurationEntry).
const (
	FlagRequired   = "REQUIRED"
	FlagRequisite  = "REQUISITE"
	FlagSufficient = "SUFFICIENT"
	FlagOptional   = "OPTIONAL"
)

// LoginModule is one entry of a JAAS login context: class, control flag and options.
type LoginModule struct {
	Class   string
	Flag    string // one of the Flag constants
	Options map[string]string
}

// ParseConfig parses the value of a sasl.jaas.config property the way Kafka's JaasConfig does:
// one or more "<class> <flag> key=value ... ;" entries, values quoted or bare words, // and /* */ comments.
func ParseConfig(s string) ([]LoginModule, error) {
	t := newTokenizer(s, false)
	var out []LoginModule
	for {
		tok := t.next()
		if tok.kind == tokEOF {
			break
		}
		if tok.kind == tokErr {
			return nil, tok.err
		}
		m, err := parseInlineEntry(t, tok)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("Login module not specified in JAAS config")
	}
	return out, nil
}

func parseInlineEntry(t *tokenizer, first token) (LoginModule, error) {
	if first.sval == nil || *first.sval == "" {
		return LoginModule{}, errors.New("Login module not specified in JAAS config")
	}
	m := LoginModule{Class: *first.sval, Options: map[string]string{}}
	tok := t.next()
	if tok.kind == tokEOF {
		return m, errors.New("Login module control flag not specified in JAAS config")
	}
	flag, err := controlFlag(tok.sval)
	if err != nil {
		return m, err
	}
	m.Flag = flag
	for {
		tok = t.next()
		if tok.kind == tokErr {
			return m, tok.err
		}
		if tok.kind == tokEOF || tok.isChar(';') {
			break
		}
		key := ""
		if tok.sval != nil {
			key = *tok.sval
		}
		if eq := t.next(); !eq.isChar('=') {
			return m, fmt.Errorf("Value not specified for key '%s' in JAAS config", key)
		}
		v := t.next()
		if v.kind == tokEOF || v.sval == nil {
			return m, fmt.Errorf("Value not specified for key '%s' in JAAS config", key)
		}
		m.Options[key] = *v.sval
	}
	if !tok.isChar(';') {
		return m, errors.New("JAAS config entry not terminated by semi-colon")
	}
	return m, nil
}

func controlFlag(s *string) (string, error) {
	if s == nil {
		return "", errors.New("Login module control flag is not available in the JAAS config")
	}
	switch f := strings.ToUpper(*s); f {
	case FlagRequired, FlagRequisite, FlagSufficient, FlagOptional:
		return f, nil
	}
	return "", fmt.Errorf("Invalid login module control flag '%s' in JAAS config", *s)
}

// File is a parsed JAAS login configuration file: login contexts by name.
type File struct {
	Path     string
	Contexts map[string][]LoginModule
}

// LoadFile reads the file named by -Djava.security.auth.login.config. A leading '=' (the JVM's "use only
// this file" form) and a file: URL prefix are accepted. props resolves ${name} in option values (the JVM's
// system properties); nil resolves only ${/}.
func LoadFile(path string, props map[string]string) (*File, error) {
	p := strings.TrimPrefix(path, "=")
	if strings.HasPrefix(p, "file:") {
		p = strings.TrimPrefix(strings.TrimPrefix(p, "file:"), "//")
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("JAAS configuration %s: %w", path, err)
	}
	ctxs, err := ParseFile(string(b), props)
	if err != nil {
		return nil, fmt.Errorf("JAAS configuration %s: %w", path, err)
	}
	return &File{Path: path, Contexts: ctxs}, nil
}

// ParseFile parses the JVM's JAAS file syntax (sun.security.provider.ConfigFile):
//
//	Name { <class> <flag> key="value" ...; ... };
//
// Option values may use ${property} expansion through props.
func ParseFile(s string, props map[string]string) (map[string][]LoginModule, error) {
	t := newTokenizer(s, true)
	out := map[string][]LoginModule{}
	p := &fileParser{t: t, props: props}
	p.advance()
	for p.look.kind != tokEOF {
		if p.look.kind == tokErr {
			return nil, p.look.err
		}
		name, mods, err := p.entry()
		if err != nil {
			return nil, err
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("Configuration Error: Can not specify multiple entries for %s", name)
		}
		out[name] = mods
	}
	return out, nil
}

type fileParser struct {
	t     *tokenizer
	look  token
	props map[string]string
}

func (p *fileParser) advance() { p.look = p.t.next() }

func (p *fileParser) errExpected(what string) error {
	if p.look.kind == tokEOF {
		return fmt.Errorf("Configuration Error: expected [%s], read [end of file]", what)
	}
	return fmt.Errorf("Configuration Error: Line %d: expected [%s], found [%s]", p.look.line, what, p.look.text())
}

// word accepts a bare word or a quoted string, as ConfigFile.match does for names, flags, keys and values.
func (p *fileParser) word(what string) (string, error) {
	if p.look.kind == tokWord || p.look.kind == tokQuoted {
		v := *p.look.sval
		p.advance()
		return v, nil
	}
	if p.look.kind == tokErr {
		return "", p.look.err
	}
	return "", p.errExpected(what)
}

func (p *fileParser) char(c rune) error {
	if p.look.isChar(c) {
		p.advance()
		return nil
	}
	if p.look.kind == tokErr {
		return p.look.err
	}
	return p.errExpected(string(c))
}

func (p *fileParser) entry() (string, []LoginModule, error) {
	name := p.look.text()
	if p.look.sval != nil {
		name = *p.look.sval
	}
	p.advance()
	if err := p.char('{'); err != nil {
		return "", nil, err
	}
	var mods []LoginModule
	for !p.look.isChar('}') {
		class, err := p.word("module class name")
		if err != nil {
			return "", nil, err
		}
		f, err := p.word("controlFlag")
		if err != nil {
			return "", nil, err
		}
		flag := strings.ToUpper(f)
		switch flag {
		case FlagRequired, FlagRequisite, FlagSufficient, FlagOptional:
		default:
			return "", nil, fmt.Errorf("Configuration Error: Invalid control flag, %s", f)
		}
		m := LoginModule{Class: class, Flag: flag, Options: map[string]string{}}
		for !p.look.isChar(';') {
			key, err := p.word("option key")
			if err != nil {
				return "", nil, err
			}
			if err := p.char('='); err != nil {
				return "", nil, err
			}
			v, err := p.word("option value")
			if err != nil {
				return "", nil, err
			}
			if v, err = expandProperties(v, p.props); err != nil {
				return "", nil, err
			}
			m.Options[key] = v
		}
		p.advance() // ';'
		mods = append(mods, m)
	}
	p.advance() // '}'
	if err := p.char(';'); err != nil {
		return "", nil, err
	}
	return name, mods, nil
}

// expandProperties is sun.security.util.PropertyExpander: ${name} becomes the property's value (${/} the file
// separator); ${{...}} is left alone; an undefined property is an error.
func expandProperties(v string, props map[string]string) (string, error) {
	if !strings.Contains(v, "${") {
		return v, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			b.WriteString(v)
			break
		}
		b.WriteString(v[:i])
		rest := v[i:]
		if strings.HasPrefix(rest, "${{") {
			j := strings.Index(rest, "}}")
			if j < 0 {
				b.WriteString(rest)
				break
			}
			b.WriteString(rest[:j+2])
			v = rest[j+2:]
			continue
		}
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			b.WriteString(rest)
			break
		}
		name := rest[2:j]
		switch val, ok := props[name]; {
		case name == "/":
			b.WriteString("/")
		case ok:
			b.WriteString(val)
		default:
			return "", fmt.Errorf("unable to expand property %s", name)
		}
		v = rest[j+1:]
	}
	if b.Len() == 0 {
		return "", errors.New("Configuration Error: system property value expanded to empty value")
	}
	return b.String(), nil
}

// Option returns the first value of key among the modules of class (JaasContext.configEntryOption).
func Option(mods []LoginModule, key, class string) (string, bool) {
	for _, m := range mods {
		if class != "" && m.Class != class {
			continue
		}
		if v, ok := m.Options[key]; ok {
			return v, true
		}
	}
	return "", false
}
