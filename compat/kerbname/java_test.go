package kerbname_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/javaregex"
	"github.com/zkafka/zkafka/compat/kerbname"
	"github.com/zkafka/zkafka/conformance/harness"
)

const zooKeeperJar = "/usr/share/java/zookeeper.jar"

// replaceCases are java.util.regex replacements, compared with Java's.
var replaceCases = []struct {
	pattern, input, repl string
	all                  bool
}{
	{"x*", "xab", "-", true},
	{"x*", "ax", "-", true},
	{"(a)", "aa", "$01", true},
	{"a*", "baaac", "-", true},
	{"x*", "ax", "-", false},
	{"a|", "aab", "<$0>", true},
	{"(a)(b)?", "aab", "[$2|$1]", true},
	{"(a)", "aa", "$11", true},
	{"(a)", "aa", `\$1\\`, true},
	{"(a)", "aa", "$", true},
	{"(a)", "aa", "${x}", true},
	{"(?<x>a)", "aa", "${x}${", true},
	{"(a)", "aa", "$9", true},
	{"q", "aa", "$9", true},
	{".", "a\r\nb\u2028", "-", true},
	{`\s+`, "a\v\t b", "_", true},
	{`[\S]`, "a\v b", "_", true},
	{`\Qa.b\E.`, "a.bcaxbc", "_", true},
	{`[\Q]\E]`, "a]b", "_", true},
	{`\u0061`, "bab", "_", true},
	{`\p{Upper}\P{Upper}`, "aBcD", "_", true},
	{`[\p{Digit}x]+`, "a1x2b", "_", true},
	{"a{2}", "aaaaa", "_", true},
	{"(?i:A)b", "ab Ab aB", "_", true},
	{`\x{41}\x42`, "AB", "_", true},
	{"[]a]", "a]b", "_", true},
	{"é+", "éé", "_", true},
}

// TestAgainstJava runs the tables through Apache's classes (ZooKeeper 3.8's KerberosName, Kafka 0.9's
// KerberosShortNamer: the only Kafka clients jar at hand, so Kafka 2.8's additions are left out) and
// java.util.regex, and compares their results and exceptions with ours.
func TestAgainstJava(t *testing.T) {
	// The local tools first: Kafka09Home may fetch Kafka 0.9 into the user cache (as the other 0.9 tests do).
	_, err := exec.LookPath("javac")
	harness.NeedOrSkip(t, err)
	_, err = os.Stat(zooKeeperJar)
	harness.NeedOrSkip(t, err)
	kafkaJar := filepath.Join(harness.Kafka09Home(t), "libs", "kafka-clients-0.9.0.1.jar")
	_, err = os.Stat(kafkaJar)
	harness.NeedOrSkip(t, err)

	dir := t.TempDir()
	cp := zooKeeperJar + string(os.PathListSeparator) + kafkaJar
	if out, err := exec.Command("javac", "-nowarn", "-encoding", "UTF-8", "-cp", cp, "-d", dir,
		filepath.Join("testdata", "KerbNames.java")).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}

	type check struct {
		line    string
		compare func(ok bool, class, msg string)
	}
	var checks []check
	h := func(s string) string { return hex.EncodeToString([]byte(s)) }
	for _, c := range ruleCases {
		if c.goOnly || c.kafka && c.no09 {
			continue
		}
		line := "Z " + h(c.realm) + " " + h(c.rules) + " " + h(c.name)
		if c.kafka {
			n := len(c.list)
			if c.list == nil {
				n = -1
			}
			line = "K " + h(c.realm) + " " + h(c.name) + " " + strconv.Itoa(n)
			for _, r := range c.list {
				line += " " + h(r)
			}
		}
		got, err := c.run()
		checks = append(checks, check{line, func(ok bool, class, msg string) {
			var ke *kerbname.Error
			switch {
			case ok && err == nil && got == msg:
			case ok:
				t.Errorf("%s: Java %q, ours %q, %v", c, msg, got, err)
			case !errors.As(err, &ke) || ke.Class != class:
				t.Errorf("%s: Java %s %q, ours %q, %v", c, class, msg, got, err)
			case class == "PatternSyntaxException", c.kafka && class == "NoMatchingRule" &&
				strings.HasPrefix(msg, "No rules applied to "):
				// Java's pattern messages are not ours; Kafka 0.9 says "No rules applied to <the namer>".
			case ke.Msg != msg:
				t.Errorf("%s: Java %s %q, ours %q", c, class, msg, ke.Msg)
			}
		}})
	}
	for _, c := range parseCases {
		n, err := kerbname.Parse(c.name)
		checks = append(checks, check{"P " + h(c.name), func(ok bool, class, msg string) {
			want := fmt.Sprintf("%s|%s|%s|%s", n.Service, orDash(n.Host, n.HasHost), orDash(n.Realm, n.HasRealm), n)
			switch {
			case ok && (err != nil || msg != want):
				t.Errorf("Parse(%q): Java %q, ours %q, %v", c.name, msg, want, err)
			case !ok && (err == nil || err.Error() != msg):
				t.Errorf("Parse(%q): Java %s %q, ours %v", c.name, class, msg, err)
			}
		}})
	}
	for _, c := range replaceCases {
		p, err := javaregex.Compile(c.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.pattern, err)
			continue
		}
		replace, g := p.ReplaceFirst, "0"
		if c.all {
			replace, g = p.ReplaceAll, "1"
		}
		got, err := replace(c.input, c.repl)
		checks = append(checks, check{"R " + h(c.pattern) + " " + h(c.input) + " " + h(c.repl) + " " + g,
			func(ok bool, class, msg string) {
				var re *javaregex.ReplaceError
				switch {
				case ok && (err != nil || got != msg):
					t.Errorf("%+v: Java %q, ours %q, %v", c, msg, got, err)
				case !ok && (!errors.As(err, &re) || re.Class != class || re.Msg != msg):
					t.Errorf("%+v: Java %s %q, ours %q, %v", c, class, msg, got, err)
				}
			}})
	}

	var in strings.Builder
	for _, c := range checks {
		in.WriteString(c.line + "\n")
	}
	cmd := exec.CommandContext(context.Background(), "java", "-Xshare:auto", "-XX:TieredStopAtLevel=1",
		"-cp", dir+string(os.PathListSeparator)+cp, "KerbNames")
	cmd.Stdin = strings.NewReader(in.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("java KerbNames: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	i := 0
	for ; sc.Scan() && i < len(checks); i++ {
		f := strings.Split(sc.Text(), " ")
		switch {
		case len(f) == 2 && f[0] == "ok":
			checks[i].compare(true, "", unhex(t, f[1]))
		case len(f) == 3 && f[0] == "err":
			checks[i].compare(false, f[1], unhex(t, f[2]))
		default:
			t.Fatalf("java KerbNames: unexpected line %q", sc.Text())
		}
	}
	if i != len(checks) {
		t.Fatalf("java KerbNames answered %d of %d cases\n%s", i, len(checks), stderr.String())
	}
}

func orDash(s string, ok bool) string {
	if !ok {
		return "-"
	}
	return s
}

func unhex(t *testing.T, s string) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("java KerbNames: bad hex %q", s)
	}
	return string(b)
}
