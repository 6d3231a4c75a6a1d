package kerberos

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jcmturner/gokrb5/v8/config"
)

// ParseConfig reads a krb5.conf text as the JDK's Config does: a text the JDK refuses (a line in a section
// without "=", an unmatched or unclosed brace, a section header without "]" or a name) is refused, anything before
// the first section is ignored (see ReadConfigFile for include and includedir). gokrb5's parser reads the realms and
// KDCs and the [libdefaults] it understands from the text as the JDK holds it (sections merged by name in any
// case, a key's first value); the settings where the JDK's reading differs from gokrb5's are then taken as the JDK
// takes them (see applyJDK).
func ParseConfig(text string) (*config.Config, error) {
	lines, err := jdkLines(text)
	if err != nil {
		return nil, err
	}
	entries, err := jdkEntries(lines)
	if err != nil {
		return nil, err
	}
	cfg, err := config.NewFromString(gokrb5Text(entries))
	// gokrb5 refuses v4_ realm settings (MIT's sample krb5.conf has them) but returns what it read; the JDK
	// ignores them.
	var unsupported config.UnsupportedDirective
	if err != nil && !errors.As(err, &unsupported) {
		return nil, err
	}
	applyJDK(cfg, jdkProfileOf(entries))
	return cfg, nil
}

// jdkEntry is one of jdkLines' lines placed in the JDK's table.
type jdkEntry struct {
	line    string // as jdkLines gave it
	section string // the top-level table the line is in, in lower case
	depth   int    // 0 for a section's header and its close, 1 for the section's own lines, ...; a close's is its open's
	key     string // trimmed; none for a close
	value   string // unquoted
	opens   bool   // "key = {"
	closes  bool   // "}"
}

// jdkEntries places lines (see jdkLines) as the JDK's Config builds its table: "key = {" opens a table, "}"
// closes it, "key = value" adds a value. A line without "=", a "}" with no table open or a table left open fails,
// as in the JDK.
func jdkEntries(lines []string) ([]jdkEntry, error) {
	var out []jdkEntry
	depth, section := 0, ""
	for _, line := range lines {
		if line == "}" {
			if depth == 0 {
				return nil, errors.New("krb5.conf: unmatched close brace")
			}
			depth--
			out = append(out, jdkEntry{line: line, section: section, depth: depth, closes: true})
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("krb5.conf: illegal config content: %s", line)
		}
		e := jdkEntry{line: line, depth: depth, key: strings.TrimSpace(key), value: jdkUnquote(value)}
		if e.opens = e.value == "{"; e.opens {
			if depth == 0 {
				section = strings.ToLower(e.key)
			}
			depth++
		}
		e.section = section
		out = append(out, e)
	}
	if depth != 0 {
		return nil, errors.New("krb5.conf: a section or sub-section is not closed")
	}
	return out, nil
}

// jdkOnly are the [libdefaults] keys only the JDK's reading sets: gokrb5 refuses values the JDK accepts
// (dns_canonicalize_hostname = fallback stops gokrb5's whole parse).
var jdkOnly = []string{"dns_canonicalize_hostname"}

// gokrb5Text writes the entries back as a krb5.conf for gokrb5, where gokrb5 would read them otherwise: sections
// named in lower case and each written once with all its lines (gokrb5 matches "[libdefaults]" exactly and lets a
// repeated section replace the one before); a realm (any sub-section of a section) written twice kept once, the
// first, as the JDK ignores the second where gokrb5 would take it; in [libdefaults] only the first line of each
// key, keys in lower case as written (the JDK's keys are case-sensitive, gokrb5's are not), no jdkOnly key and no
// line gokrb5 would refuse on its own (a value it cannot parse fails its whole read, where the JDK reads such a
// value only when it is used); no [domain_realm] (applyJDK sets it).
func gokrb5Text(entries []jdkEntry) string {
	var order []string
	body := map[string][]string{}
	seen := map[string]bool{} // libdefaults keys, and section + "\x00" + sub-section
	skipTo := -1              // the depth of a repeated sub-section being skipped
	for _, e := range entries {
		if skipTo >= 0 {
			if e.closes && e.depth == skipTo {
				skipTo = -1
			}
			continue
		}
		switch {
		case e.depth == 0:
			if _, ok := body[e.section]; e.opens && !ok {
				order = append(order, e.section)
				body[e.section] = nil
			}
			continue
		case e.opens && e.depth == 1:
			if seen[e.section+"\x00"+e.key] {
				skipTo = 1
				continue
			}
			seen[e.section+"\x00"+e.key] = true
		case !e.opens && !e.closes && e.depth == 1 && e.section == "libdefaults":
			if e.key != strings.ToLower(e.key) || slices.Contains(jdkOnly, e.key) || seen[e.key] {
				continue
			}
			seen[e.key] = true
			if _, err := config.NewFromString("[libdefaults]\n" + e.line); err != nil {
				continue
			}
		}
		body[e.section] = append(body[e.section], e.line)
	}
	var b strings.Builder
	for _, s := range order {
		if s == "domain_realm" {
			continue
		}
		b.WriteString("[" + s + "]\n")
		for _, l := range body[s] {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// applyJDK sets what the JDK's Config reads differently from gokrb5: keys are case-sensitive (only section
// names are not), the first of repeated values counts, values lose surrounding quotes and keep a trailing
// "# comment". [domain_realm] and default_realm decide a service's realm; dns_canonicalize_hostname is on
// unless "false" or "no" (any case), where gokrb5 reads other spellings and refuses unknown ones.
func applyJDK(cfg *config.Config, p jdkProfile) {
	dr := config.DomainRealm{}
	for k, v := range p["domain_realm"] {
		dr[k] = v[0]
	}
	cfg.DomainRealm = dr
	cfg.LibDefaults.DefaultRealm = p.first("libdefaults", "default_realm")
	switch strings.ToLower(p.first("libdefaults", "dns_canonicalize_hostname")) {
	case "false", "no":
		cfg.LibDefaults.DNSCanonicalizeHostname = false
	default:
		cfg.LibDefaults.DNSCanonicalizeHostname = true
	}
}

// jdkProfile is a krb5.conf's top-level sections as the JDK's Config holds them: section (lower case), key
// (as written), values in file order. Sub-sections ([realms]'s realms) are left out: only direct values are read.
type jdkProfile map[string]map[string][]string

func (p jdkProfile) first(section, key string) string {
	if v := p[section][key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// jdkProfileOf holds the entries' direct values as the JDK's table does: repeated sections merged, a key in a
// section first seen as a sub-section keeping no values.
func jdkProfileOf(entries []jdkEntry) jdkProfile {
	p := jdkProfile{}
	subs := map[string]bool{} // section keys that opened a sub-section
	for _, e := range entries {
		switch {
		case e.closes:
		case e.depth == 0:
			if p[e.section] == nil {
				p[e.section] = map[string][]string{}
			}
		case e.depth != 1:
		case e.opens:
			if _, isValue := p[e.section][e.key]; !isValue {
				subs[e.section+"\x00"+e.key] = true
			}
		case !subs[e.section+"\x00"+e.key]:
			p[e.section][e.key] = append(p[e.section][e.key], e.value)
		}
	}
	return p
}

// jdkLines normalizes the lines as the JDK does before reading them: lines trimmed, "#" and ";" lines dropped,
// what comes before the first section ignored, "[name]" becoming "name = {" closed by "}" at the next section,
// and a line starting with "{" joining the line before it. A "[" line without a closing "]" or a name fails.
func jdkLines(text string) ([]string, error) {
	var out []string
	prev, started := "", false
	for _, line := range javaLines(text) {
		line = javaTrim(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("krb5.conf: illegal config content: %s", line)
			}
			title := javaTrim(line[1 : len(line)-1])
			if title == "" {
				return nil, fmt.Errorf("krb5.conf: illegal config content: %s", line)
			}
			if started {
				out = append(out, prev, "}")
			}
			prev, started = title+" = {", true
		case !started: // a directive before the first section
		case strings.HasPrefix(line, "{"):
			prev += " {"
			if len(line) > 1 {
				out = append(out, prev)
				prev = javaTrim(line[1:])
			}
		default:
			out = append(out, prev)
			prev = line
		}
	}
	if started {
		out = append(out, prev, "}")
	}
	return out, nil
}

// jdkUnquote trims a value and drops one pair of surrounding double or single quotes.
func jdkUnquote(s string) string {
	s = javaTrim(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = javaTrim(s[1 : len(s)-1])
	}
	return s
}

// errNoDefaultRealm is the JDK's failure for a host-based name no [domain_realm] entry maps when the
// configuration has no default realm.
var errNoDefaultRealm = errors.New("Cannot locate default realm")
