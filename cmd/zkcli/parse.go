package main

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/jute"
)

// optSpec lists a command's options: name -> takes an argument.
type optSpec map[string]bool

// cmdLine is a parsed command: args[0] is the command name, as in zkCli.
type cmdLine struct {
	args []string
	opts map[string]string
}

func (c cmdLine) has(o string) bool { _, ok := c.opts[o]; return ok }

// parseOpts parses like Commons CLI's DefaultParser as zkCli uses it: options
// may appear anywhere, "-sw" bundles flags, "-v3" and "-v 3" both give v a
// value, negative numbers are arguments, "--" ends options. Errors carry
// the message zkCli prints (the exception's toString).
func parseOpts(spec optSpec, tokens []string) (cmdLine, error) {
	cl := cmdLine{opts: map[string]string{}}
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		if t == "--" {
			cl.args = append(cl.args, tokens[i+1:]...)
			break
		}
		if t == "-" || !strings.HasPrefix(t, "-") || isNegativeNumber(t) {
			cl.args = append(cl.args, t)
			continue
		}
		name := strings.TrimLeft(t, "-")
		if strings.HasPrefix(t, "--") {
			if v, ok := spec[name]; ok && !v {
				cl.opts[name] = ""
				continue
			} else if ok {
				val, err := optValue(tokens, &i, name)
				if err != nil {
					return cl, err
				}
				cl.opts[name] = val
				continue
			}
			return cl, unrecognized(t)
		}
		if hasArg, ok := spec[name]; ok {
			if !hasArg {
				cl.opts[name] = ""
				continue
			}
			val, err := optValue(tokens, &i, name)
			if err != nil {
				return cl, err
			}
			cl.opts[name] = val
			continue
		}
		// "-v3": an option taking a value, glued to it
		if hasArg, ok := spec[name[:1]]; ok && hasArg {
			cl.opts[name[:1]] = name[1:]
			continue
		}
		// "-sw": bundled flags; an option with a value takes the rest
		for j := 0; j < len(name); j++ {
			o := name[j : j+1]
			hasArg, ok := spec[o]
			if !ok {
				return cl, unrecognized(t)
			}
			if hasArg {
				if j+1 < len(name) {
					cl.opts[o] = name[j+1:]
					break
				}
				val, err := optValue(tokens, &i, o)
				if err != nil {
					return cl, err
				}
				cl.opts[o] = val
				break
			}
			cl.opts[o] = ""
		}
	}
	return cl, nil
}

func optValue(tokens []string, i *int, name string) (string, error) {
	if *i+1 < len(tokens) {
		next := tokens[*i+1]
		if next == "-" || !strings.HasPrefix(next, "-") || isNegativeNumber(next) {
			*i++
			return next, nil
		}
	}
	return "", &cliError{msg: "org.apache.commons.cli.MissingArgumentException: Missing argument for option: " + name, code: 1}
}

func unrecognized(t string) error {
	return &cliError{msg: "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: " + t, code: 1}
}

func isNegativeNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && strings.HasPrefix(s, "-")
}

// argsPattern is ZooKeeperMain's ARGS_PATTERN for interactive lines.
var argsPattern = regexp.MustCompile(`[ \t\n\x0B\f\r]*([^"' \t\n\x0B\f\r][^ \t\n\x0B\f\r]*|"[^"]*"|'[^']*')[ \t\n\x0B\f\r]*`)

// splitLine breaks an interactive line into words, stripping one level of
// matching quotes, as ZooKeeperMain.parseCommand does.
func splitLine(line string) []string {
	var out []string
	for _, m := range argsPattern.FindAllStringSubmatch(line, -1) {
		v := m[1]
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out = append(out, v)
	}
	return out
}

// parseACL is AclParser.parse: "scheme:id:perm,..." with warnings for bad
// entries written to warn.
func parseACL(s string, warn func(string)) []jute.ACL {
	parts := strings.Split(s, ",")
	for len(parts) > 0 && parts[len(parts)-1] == "" { // Java's split drops trailing empties
		parts = parts[:len(parts)-1]
	}
	acl := []jute.ACL{}
	for _, a := range parts {
		first, last := strings.IndexByte(a, ':'), strings.LastIndexByte(a, ':')
		if first == -1 || first == last {
			warn(a + " does not have the form scheme:id:perm")
			continue
		}
		acl = append(acl, jute.ACL{
			ID:    jute.Id{Scheme: a[:first], ID: a[first+1 : last]},
			Perms: permFromString(a[last+1:], warn),
		})
	}
	return acl
}

func permFromString(s string, warn func(string)) int32 {
	var p int32
	for _, ch := range s {
		switch ch {
		case 'r':
			p |= jute.PermRead
		case 'w':
			p |= jute.PermWrite
		case 'c':
			p |= jute.PermCreate
		case 'd':
			p |= jute.PermDelete
		case 'a':
			p |= jute.PermAdmin
		default:
			warn("Unknown perm type: " + string(ch))
		}
	}
	return p
}
