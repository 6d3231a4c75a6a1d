package kerberos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name → text under dir (names may have directories) and returns dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "DIR", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestReadConfigFileIncludes follows include and includedir as JDK 17's Config did on the same files: the
// included lines come where the directive stands, before the including file's sections, so their values are
// first; includedir takes names of letters, digits, "_" and "-", or ending in ".conf" without a leading ".", in
// name order, no directories; directives after the first section are content (here refused as such).
func TestReadConfigFileIncludes(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"main.conf": "# top\nincludedir DIR/d\ninclude DIR/inc.conf\nsomething else\n[libdefaults]\n" +
			" default_realm = MAIN.TEST\n[domain_realm]\n main.test = MAIN.TEST\n",
		"inc.conf":       "[domain_realm]\n inc.test = INC.TEST\n main.test = INC.TEST\n",
		"d/b.conf":       "include DIR/nested\n[domain_realm]\n b.test = B.TEST\n",
		"d/a_1-X":        "[libdefaults]\n default_realm = A.TEST\n[domain_realm]\n a.test = A.TEST\n",
		"d/.hidden.conf": "[domain_realm]\n dot.test = DOT.TEST\n",
		"d/x~":           "[domain_realm]\n tilde.test = T.TEST\n",
		"d/x.txt":        "[domain_realm]\n txt.test = TXT.TEST\n",
		"d/sub/s.conf":   "[domain_realm]\n sub.test = SUB.TEST\n",
		"nested":         "[domain_realm]\n nested.test = N.TEST\n",
	})
	conf, err := LoadConfig(map[string]string{"java.security.krb5.conf": filepath.Join(dir, "main.conf")})
	if err != nil {
		t.Fatal(err)
	}
	checkRealms(t, conf, map[string]string{
		"main.test": "INC.TEST", "inc.test": "INC.TEST", "b.test": "B.TEST", "a.test": "A.TEST",
		"nested.test": "N.TEST", "dot.test": "A.TEST", "tilde.test": "A.TEST", "txt.test": "A.TEST",
		"sub.test": "A.TEST",
	})
}

// TestReadConfigFileDirectives: what JDK 17 refused ("krb5.conf loading failed") and what it ignored.
func TestReadConfigFileDirectives(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"inc.conf":         "[domain_realm]\n inc.test = INC.TEST\n",
		"bad8":             "[domain_realm]\n bad.test = \xff\n",
		"empty/.keep.conf": "[domain_realm]\n inc.test = X\n",
	})
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(cwd, dir)
	if err != nil {
		t.Fatal(err)
	}
	for directive, refused := range map[string]bool{
		"include inc.conf":                           true, // not absolute
		"include DIR/inc.conf\ninclude DIR/inc.conf": true, // twice
		"include DIR/missing":                        true,
		"includedir DIR/nodir":                       true,
		"includedir RELDIR":                          true, // relative: so are its files
		"include DIR/bad8":                           true, // not UTF-8
		"include DIR":                                true, // a directory
		"include  DIR/inc.conf   ":                   false,
		"include\tDIR/inc.conf":                      false, // not a directive: ignored
		"INCLUDE DIR/inc.conf":                       false,
		"includedir DIR/empty":                       false,
	} {
		text := strings.ReplaceAll(strings.ReplaceAll(directive, "RELDIR", rel), "DIR", dir) + "\n[libdefaults]\n default_realm = M.TEST\n"
		path := filepath.Join(dir, "m.conf")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		conf, err := LoadConfig(map[string]string{"java.security.krb5.conf": path})
		if (err != nil) != refused {
			t.Errorf("%q: err = %v, want refused %v", directive, err, refused)
			continue
		}
		if err != nil {
			continue
		}
		want := "M.TEST"
		if strings.HasPrefix(directive, "include ") {
			want = "INC.TEST"
		}
		checkRealms(t, conf, map[string]string{"inc.test": want})
	}
}

// TestParseConfigStructureLikeJDK: the texts JDK 17's Config refused, and ones gokrb5 alone refuses that the
// JDK read (v4 realm settings as in MIT's sample krb5.conf, values it reads only when used).
func TestParseConfigStructureLikeJDK(t *testing.T) {
	for _, text := range []string{
		"[libdefaults]\n default_realm = A\n[realms]\n A = {\n kdc = x\n", // not closed
		"[ ]\n x = y\n",
		"[x\n a = b\n",
		"[libdefaults]\n default_realm = A.TEST\n junk\n",
		"[domain_realm]\n junk\n",
		"[libdefaults]\n default_realm = A.TEST\n}\n",
	} {
		if _, err := ParseConfig(text); err == nil {
			t.Errorf("%q read, the JDK refuses it", text)
		}
	}
	for _, text := range []string{
		"[libdefaults]\n default_realm = A.TEST\n[realms]\n A.TEST = {\n  kdc = k.a.test\n  v4_instance_convert = {\n" +
			"   mit = mit.edu\n  }\n  v4_realm = LCS.MIT.EDU\n }\n",
		"[libdefaults]\n default_realm = A.TEST\n forwardable = maybe\n",
		"[libdefaults]\n default_realm = A.TEST\n ticket_lifetime = forever\n",
	} {
		conf, err := ParseConfig(text)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if conf.LibDefaults.DefaultRealm != "A.TEST" {
			t.Errorf("%q: default realm %q", text, conf.LibDefaults.DefaultRealm)
		}
	}
}

// TestParseConfigMergesLikeJDK: sections named in any case are one, repeated sections merged, the first value of a
// key counts, keys are case-sensitive, a realm written twice keeps its first (JDK 17: realms/A/kdc = a1,
// libdefaults/default_realm = Y of "Y Z W").
func TestParseConfigMergesLikeJDK(t *testing.T) {
	conf, err := ParseConfig("[LibDefaults]\n Default_realm = X\n default_realm = Y\n default_realm = Z\n" +
		" Forwardable = true\n[libdefaults]\n default_realm = W\n ticket_lifetime = 2h\n ticket_lifetime = 3h\n" +
		"[realms]\n A = {\n kdc = a1\n }\n A = {\n kdc = a2\n }\n[REALMS]\n A = {\n kdc = a3\n }\n B = {\n kdc = b1\n kdc = b2\n }\n")
	if err != nil {
		t.Fatal(err)
	}
	if conf.LibDefaults.DefaultRealm != "Y" {
		t.Errorf("default realm %q, want Y", conf.LibDefaults.DefaultRealm)
	}
	if conf.LibDefaults.Forwardable {
		t.Error("Forwardable (the JDK's keys are case-sensitive) read as forwardable")
	}
	if got := conf.LibDefaults.TicketLifetime.String(); got != "2h0m0s" {
		t.Errorf("ticket_lifetime %s, want the first, 2h", got)
	}
	kdcs := map[string][]string{}
	for _, r := range conf.Realms {
		kdcs[r.Realm] = append(kdcs[r.Realm], r.KDC...)
	}
	if got := strings.Join(kdcs["A"], " "); got != "a1:88" {
		t.Errorf("realm A's KDCs %q, want a1:88", got)
	}
	if got := strings.Join(kdcs["B"], " "); got != "b1:88 b2:88" {
		t.Errorf("realm B's KDCs %q, want b1:88 b2:88", got)
	}
}
