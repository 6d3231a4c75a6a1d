package zoocfg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/javastr"
)

// The .want files are what OpenJDK 17's java.util.Properties printed iterating the .cfg files (entrySet order),
// the order editStaticConfig writes zoo.cfg in.
func TestJavaPropertiesOrder(t *testing.T) {
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "javaorder", name+".cfg"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			props, err := ParseProperties(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "javaorder", name+".want"))
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, p := range javaPropertiesOrder(props) {
				got.WriteString(javastr.Trim(p.Key) + "=" + javastr.Trim(p.Value) + "\n")
			}
			if got.String() != string(want) {
				t.Errorf("order:\n%s\nwant (Java's)\n%s", got.String(), want)
			}
		})
	}
}

func TestDynamicFileText(t *testing.T) {
	q := &QuorumVerifier{Version: 0x100000003, Servers: []Server{
		mustServer(t, 1, "127.0.0.1:2888:3888;2181"),
		mustServer(t, 2, "127.0.0.1:2889:3889:observer;127.0.0.1:2182"),
		mustServer(t, 10, "127.0.0.1:2890:3890;2183"),
	}}
	got, err := DynamicFileText(q, false)
	if err != nil {
		t.Fatal(err)
	}
	// Whole lines sorted as strings ("server.10=" before "server.1="); no version line and no final newline.
	want := "server.10=127.0.0.1:2890:3890:participant;0.0.0.0:2183\n" +
		"server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n" +
		"server.2=127.0.0.1:2889:3889:observer;127.0.0.1:2182"
	if got != want {
		t.Errorf("DynamicFileText:\n%q\nwant\n%q", got, want)
	}
	got, _ = DynamicFileText(q, true)
	if !strings.HasSuffix(got, "\nversion=100000003") {
		t.Errorf("keepVersion: %q", got)
	}
	if n := DynamicFileName("/c/zoo.cfg", q.Version); n != "/c/zoo.cfg.dynamic.100000003" {
		t.Errorf("DynamicFileName: %s", n)
	}
}

func TestEditedStaticConfig(t *testing.T) {
	props, err := ParseProperties(strings.NewReader("tickTime=500\nclientPort=2181\nserver.1=h:1:2\n" +
		"peerType=participant\ninitLimit=10\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := EditedStaticConfig(props, "/c/zoo.cfg.dynamic.100000003", true)
	// Java 17's Properties iterates these keys as server.1, tickTime, clientPort, initLimit, peerType.
	want := "tickTime=500\ninitLimit=10\ndynamicConfigFile=/c/zoo.cfg.dynamic.100000003\n"
	if got != want {
		t.Errorf("EditedStaticConfig:\n%s\nwant\n%s", got, want)
	}
	if got := EditedStaticConfig(props, "/d", false); !strings.Contains(got, "clientPort=2181\n") {
		t.Errorf("clientPort erased without eraseClientPort:\n%s", got)
	}
}

func mustServer(t *testing.T, id int64, v string) Server {
	t.Helper()
	s, err := ParseServer(id, v, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
