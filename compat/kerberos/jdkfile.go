package kerberos

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxIncludeDepth bounds include chains the JDK would follow until its stack overflowed (a file included again
// under another spelling of its path is not a repeat to it).
const maxIncludeDepth = 64

// includedName is a name includedir takes without the .conf suffix.
var includedName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// ReadConfigFile reads a krb5.conf file as the JDK's Config reads its lines: comments and blank lines dropped,
// lines trimmed, and before the file's first section the "include FILE" and "includedir DIR" directives
// replaced by the lines of what they name (other directives ignored). A directive's path must be absolute and
// no file may be read twice; includedir reads, in name order, the files (not directories) named with letters,
// digits, "_" and "-" only, or ending in ".conf" without a leading "."; every file must be UTF-8. Anything
// else fails the whole read, as the JDK's "krb5.conf loading failed".
func ReadConfigFile(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	var lines []string
	if err := readConfigLines(abs, &lines, map[string]bool{}, 0); err != nil {
		return "", err
	}
	return strings.Join(lines, "\n") + "\n", nil
}

func readConfigLines(path string, out *[]string, seen map[string]bool, depth int) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("include %s: profile path not absolute", path)
	}
	// Java's Path drops repeated and trailing slashes, nothing else: "a/./b" and "a/b" are two paths to it.
	key := javaPathString(path)
	if seen[key] {
		return fmt.Errorf("include %s: profile path included more than once", path)
	}
	if depth > maxIncludeDepth {
		return fmt.Errorf("include %s: includes nested more than %d deep", path, maxIncludeDepth)
	}
	seen[key] = true
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("read %s: not UTF-8", path)
	}
	directives := true
	for _, line := range javaLines(string(data)) {
		line = javaTrim(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if !directives {
			*out = append(*out, line)
			continue
		}
		switch {
		case line[0] == '[':
			directives = false
			*out = append(*out, line)
		case strings.HasPrefix(line, "includedir "):
			if err := readConfigDir(javaTrim(strings.TrimPrefix(line, "includedir ")), out, seen, depth); err != nil {
				return err
			}
		case strings.HasPrefix(line, "include "):
			if err := readConfigLines(javaTrim(strings.TrimPrefix(line, "include ")), out, seen, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func readConfigDir(dir string, out *[]string, seen map[string]bool, depth int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries { // in name order, as the JDK sorts its listing
		p := filepath.Join(dir, e.Name()) // relative when dir is, and refused then
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			continue
		}
		name := e.Name()
		if !includedName.MatchString(name) && (strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".conf")) {
			continue
		}
		if err := readConfigLines(p, out, seen, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// javaPathString is path as java.nio's Path spells it: repeated slashes made one, a trailing one dropped.
func javaPathString(path string) string {
	for strings.Contains(path, "//") {
		path = strings.ReplaceAll(path, "//", "/")
	}
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	return path
}

// javaLines splits text at "\n", "\r\n" and "\r", as BufferedReader.readLine.
func javaLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n")
}

// javaTrim is String.trim: every character up to U+0020 is space.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}
