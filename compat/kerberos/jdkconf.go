package kerberos

import (
	"errors"
	"strings"

	"github.com/jcmturner/gokrb5/v8/config"
)

// ParseConfig reads a krb5.conf text: gokrb5's parser for the realms and KDCs, then the settings where the JDK's
// reading differs from gokrb5's taken as the JDK takes them (see applyJDK).
func ParseConfig(text string) (*config.Config, error) {
	cfg, err := config.NewFromString(withoutJDKOnly(text))
	if err != nil {
		return nil, err
	}
	applyJDK(cfg, parseJDKProfile(text))
	return cfg, nil
}

// jdkOnly are the [libdefaults] keys only the JDK's reading sets: gokrb5 refuses values the JDK accepts
// (dns_canonicalize_hostname = fallback stops gokrb5's whole parse).
var jdkOnly = []string{"dns_canonicalize_hostname"}

// withoutJDKOnly drops the lines of the jdkOnly keys before gokrb5 reads the text.
func withoutJDKOnly(text string) string {
	lines := strings.Split(text, "\n")
	out := lines[:0]
	for _, l := range lines {
		key, _, ok := strings.Cut(l, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if ok && contains(jdkOnly, key) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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

// parseJDKProfile reads text as the JDK's Config: lines trimmed, "#" and ";" lines skipped, directives before
// the first section ignored (the JDK would follow include and includedir; we read one file), then each
// "[section]" opening a table of "key = value" lines, with "{" (on its line or the next) opening a sub-section.
func parseJDKProfile(text string) jdkProfile {
	p := jdkProfile{}
	depth, section := 0, ""
	for _, line := range jdkLines(text) {
		if line == "}" {
			depth--
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), jdkUnquote(value)
		if value == "{" {
			if depth == 0 {
				section = strings.ToLower(key)
				if p[section] == nil {
					p[section] = map[string][]string{}
				}
			}
			depth++
			continue
		}
		if depth == 1 {
			p[section][key] = append(p[section][key], value)
		}
	}
	return p
}

// jdkLines normalizes the lines as the JDK does before reading them: "[name]" becomes "name = {" closed by
// "}" at the next section, and a line starting with "{" joins the line before it.
func jdkLines(text string) []string {
	var out []string
	prev, started := "", false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") {
				continue
			}
			if started {
				out = append(out, prev, "}")
			}
			prev, started = strings.TrimSpace(line[1:len(line)-1])+" = {", true
		case !started: // a directive before the first section
		case strings.HasPrefix(line, "{"):
			prev += " {"
			if len(line) > 1 {
				out = append(out, prev)
				prev = strings.TrimSpace(line[1:])
			}
		default:
			out = append(out, prev)
			prev = line
		}
	}
	if started {
		out = append(out, prev, "}")
	}
	return out
}

// jdkUnquote trims a value and drops one pair of surrounding double or single quotes.
func jdkUnquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// errNoDefaultRealm is the JDK's failure for a host-based name no [domain_realm] entry maps when the
// configuration has no default realm.
var errNoDefaultRealm = errors.New("Cannot locate default realm")
