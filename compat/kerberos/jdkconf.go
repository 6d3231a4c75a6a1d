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
	p, err := parseJDKProfile(lines)
	if err != nil {
		return nil, err
	}
	cfg, err := config.NewFromString(gokrb5Text(lines))
	// gokrb5 refuses v4_ realm settings (MIT's sample krb5.conf has them) but returns what it read; the JDK
	// ignores them.
	var unsupported config.UnsupportedDirective
	if err != nil && !errors.As(err, &unsupported) {
		return nil, err
	}
	applyJDK(cfg, p)
	return cfg, nil
}

// jdkOnly are the [libdefaults] keys only the JDK's reading sets: gokrb5 refuses values the JDK accepts
// (dns_canonicalize_hostname = fallback stops gokrb5's whole parse).
var jdkOnly = []string{"dns_canonicalize_hostname"}

// gokrb5Text writes lines (the JDK's normalized reading, see jdkLines) back as a krb5.conf for gokrb5, where
// gokrb5 would read them otherwise: sections named in lower case and each written once with all its lines (gokrb5
// matches "[libdefaults]" exactly and lets a repeated section replace the one before); in [libdefaults] only the
// first line of each key, keys in lower case as written (the JDK's keys are case-sensitive, gokrb5's are not), no
// jdkOnly key and no line gokrb5 would refuse on its own (a value it cannot parse fails its whole read, where the
// JDK reads such a value only when it is used); no [domain_realm] (applyJDK sets it).
func gokrb5Text(lines []string) string {
	var order []string
	body := map[string][]string{}
	seen := map[string]bool{} // libdefaults keys, and section + "\x00" + sub-section
	depth, section, skipTo := 0, "", -1
	for _, l := range lines {
		if l == "}" {
			depth--
			if depth == skipTo {
				skipTo = -1
			} else if depth > 0 && skipTo < 0 {
				body[section] = append(body[section], l)
			}
			continue
		}
		key, value, _ := strings.Cut(l, "=")
		key = strings.TrimSpace(key)
		if depth == 0 {
			section = strings.ToLower(key)
			if _, ok := body[section]; !ok {
				order = append(order, section)
				body[section] = nil
			}
			depth++
			continue
		}
		opens := jdkUnquote(value) == "{"
		if skipTo >= 0 {
			if opens {
				depth++
			}
			continue
		}
		if opens {
			// A repeated sub-section (a realm written twice) is ignored by the JDK; gokrb5 would take the last.
			if depth == 1 {
				if seen[section+"\x00"+key] {
					skipTo = depth
				}
				seen[section+"\x00"+key] = true
			}
			depth++
			if skipTo >= 0 {
				continue
			}
		} else if depth == 1 && section == "libdefaults" {
			if key != strings.ToLower(key) || slices.Contains(jdkOnly, key) || seen[key] {
				continue
			}
			seen[key] = true
			if _, err := config.NewFromString("[libdefaults]\n" + l); err != nil {
				continue
			}
		}
		body[section] = append(body[section], l)
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

// parseJDKProfile reads lines (see jdkLines) as the JDK's Config builds its table: "key = {" opens a table,
// "}" closes it, "key = value" adds a value; the top-level names (the sections) in lower case, repeated sections
// merged, a key in a section first seen as a sub-section keeping no values. A line without "=", a "}" with no table
// open or a table left open fails, as in the JDK.
func parseJDKProfile(lines []string) (jdkProfile, error) {
	p := jdkProfile{}
	subs := map[string]bool{} // section keys that opened a sub-section
	depth, section := 0, ""
	for _, line := range lines {
		if line == "}" {
			if depth == 0 {
				return nil, errors.New("krb5.conf: unmatched close brace")
			}
			depth--
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("krb5.conf: illegal config content: %s", line)
		}
		key, value = strings.TrimSpace(key), jdkUnquote(value)
		if value == "{" {
			switch depth {
			case 0:
				section = strings.ToLower(key)
				if p[section] == nil {
					p[section] = map[string][]string{}
				}
			case 1:
				if _, isValue := p[section][key]; !isValue {
					subs[section+"\x00"+key] = true
				}
			}
			depth++
			continue
		}
		if depth == 1 && !subs[section+"\x00"+key] {
			p[section][key] = append(p[section][key], value)
		}
	}
	if depth != 0 {
		return nil, errors.New("krb5.conf: a section or sub-section is not closed")
	}
	return p, nil
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
