package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	apacheJar   = "/usr/share/java/zookeeper.jar"
	servletJar  = "/usr/share/java/servlet-api.jar" // Jetty's AdminServer needs javax.servlet
	apacheStart = 30 * time.Second
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// apache runs a real Apache ZooKeeper 3.8 standalone server with every
// four-letter word enabled and, when the servlet API is installed, the
// AdminServer.
type apache struct {
	clientPort, adminPort int
}

func startApache(t *testing.T) *apache {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java not installed")
	}
	if _, err := os.Stat(apacheJar); err != nil {
		t.Skip("Apache ZooKeeper not installed")
	}
	dir := t.TempDir()
	a := &apache{clientPort: freePort(t)}
	cp := apacheJar
	admin := "admin.enableServer=false\n"
	if _, err := os.Stat(servletJar); err == nil {
		a.adminPort = freePort(t)
		cp += ":" + servletJar
		admin = fmt.Sprintf("admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=%d\n", a.adminPort)
	}
	cfg := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n%s",
		filepath.Join(dir, "data"), a.clientPort, admin)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(java, "-cp", cp, "-Dzookeeper.log.dir="+dir,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgPath)
	logf, err := os.Create(filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start apache: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(apacheStart)
	for {
		// ruok answers before the server serves; srvr only once it does.
		if out, err := flw(a.clientPort, "srvr"); err == nil && strings.HasPrefix(out, "Zookeeper version: ") {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("apache did not start:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return a
}

func flw(port int, word string) (string, error) {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	if err != nil {
		return "", fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return "", fmt.Errorf("deadline: %w", err)
	}
	if _, err := c.Write([]byte(word)); err != nil {
		return "", fmt.Errorf("write: %w", err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	return string(b), nil
}

// lineKeys cuts each line at sep, keeping what comes before.
func lineKeys(s, sep string) []string {
	var keys []string
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		k, _, _ := strings.Cut(l, sep)
		keys = append(keys, k)
	}
	return keys
}

// jsonKeys lists an object's keys, and one level down for nested objects, as
// "a" and "a.b" (order-insensitive, sorted).
func jsonKeys(t *testing.T, body string) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("bad json %v: %q", err, body)
	}
	var keys []string
	for k, v := range m {
		keys = append(keys, k)
		if sub, ok := v.(map[string]any); ok && !strings.HasPrefix(k, "expiry") && !strings.HasPrefix(k, "session_id") && !strings.HasPrefix(k, "path_") {
			for sk := range sub {
				keys = append(keys, k+"."+sk)
			}
		}
		if arr, ok := v.([]any); ok && len(arr) > 0 {
			if obj, ok := arr[0].(map[string]any); ok {
				for sk := range obj {
					keys = append(keys, k+"[]."+sk)
				}
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// TestStructureMatchesApache compares the shape of our answers with a real
// Apache 3.8's: the mntr keys and their order, the srvr and conf lines, the
// envi header and lines, and the JSON keys of the AdminServer commands.
// Values differ; structure must not.
func TestStructureMatchesApache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	a := startApache(t)
	f := newFake()
	f.conns = f.conns[1:] // only the asking connection, as on a fresh Apache
	ours := func(word string) string { out, _ := FourLetter(f, Options{Whitelist: allowAll}, word, 0); return out }
	theirs := func(word string) string {
		out, err := flw(a.clientPort, word)
		if err != nil {
			t.Fatalf("%s: %v", word, err)
		}
		return out
	}

	if got, want := lineKeys(ours("mntr"), "\t"), lineKeys(theirs("mntr"), "\t"); !slices.Equal(got, want) {
		t.Errorf("mntr keys differ: ours only %v, apache only %v (equal sets but other order if both empty)",
			minus(got, want), minus(want, got))
	}
	if got, want := lineKeys(ours("srvr"), ":"), lineKeys(theirs("srvr"), ":"); !slices.Equal(got, want) {
		t.Errorf("srvr lines differ:\n ours %q\napache %q", got, want)
	}
	if got, want := lineKeys(ours("stat"), ":"), lineKeys(theirs("stat"), ":"); len(got) != len(want) || got[1] != want[1] {
		t.Errorf("stat lines differ:\n ours %q\napache %q", got, want)
	}
	if got, want := lineKeys(ours("conf"), "="), lineKeys(theirs("conf"), "="); !slices.Equal(got, want) {
		t.Errorf("conf lines differ:\n ours %q\napache %q", got, want)
	}
	oe, te := strings.Split(ours("envi"), "\n"), strings.Split(theirs("envi"), "\n")
	if oe[0] != te[0] || !strings.HasPrefix(oe[1], "zookeeper.version=") || !strings.HasPrefix(te[1], "zookeeper.version=") {
		t.Errorf("envi header differs: ours %q apache %q", oe[:2], te[:2])
	}
	for _, l := range oe[1 : len(oe)-1] {
		if !strings.Contains(l, "=") {
			t.Errorf("envi line %q is not key=value", l)
		}
	}
	for _, w := range []string{"ruok", "isro", "wchs", "wchc", "wchp", "dirs", "gtmk", "crst", "srst", "hash"} {
		o, th := ours(w), theirs(w)
		if w == "dirs" || w == "hash" {
			o, th = strings.Join(lineKeys(o, ":"), "|"), strings.Join(lineKeys(th, ":"), "|")
		}
		if w == "wchs" {
			f2 := newFake()
			o, _ = FourLetter(zeroWatches{f2}, Options{Whitelist: allowAll}, w, 0)
		}
		if w == "wchc" || w == "wchp" {
			o, _ = FourLetter(zeroWatches{newFake()}, Options{Whitelist: allowAll}, w, 0)
		}
		if w == "hash" {
			o, _ = FourLetter(zeroWatches{newFake()}, Options{Whitelist: allowAll}, w, 0)
		}
		if o != th {
			t.Errorf("%s: ours %q apache %q", w, o, th)
		}
	}
	if got := theirs("xxxx"); got != "" {
		t.Errorf("unknown word on apache: %q", got)
	}

	if a.adminPort == 0 {
		t.Log("servlet API missing: AdminServer structure not compared")
		return
	}
	// A fresh Apache has no client connections while we ask over HTTP.
	idle := newFake()
	idle.conns = nil
	base := startAdmin(t, zeroWatches{idle})
	for _, c := range []string{"ruok", "srvr", "stat", "conf", "cons", "dirs", "dump", "hash", "isro", "mntr",
		"wchs", "wchc", "wchp", "gtmk", "lsnp", "voting_view", "zabstate", "leader", "obsr", "orst", "crst",
		"srst", "stmk", "stmk?traceMask=306", "nosuch"} {
		_, _, ob := get(t, base+"/commands/"+c)
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/commands/%s", a.adminPort, c))
		if err != nil {
			t.Fatal(err)
		}
		tb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := jsonKeys(t, ob), jsonKeys(t, string(tb)); !slices.Equal(got, want) {
			t.Errorf("%s JSON keys differ:\n ours %v\napache %v", c, got, want)
		}
		// Where the values are the same on both, the bytes must be too.
		if sameValues[c] && ob != string(tb) {
			t.Errorf("%s JSON differs:\n ours %q\napache %q", c, ob, tb)
		}
	}
	_, _, ol := get(t, base+"/commands")
	_, _, tl := get(t, fmt.Sprintf("http://127.0.0.1:%d/commands", a.adminPort))
	if ol != tl {
		t.Errorf("command list differs:\n ours %q\napache %q", ol, tl)
	}
}

// sameValues are the admin commands whose answers hold no server-specific
// values on a fresh standalone server.
var sameValues = map[string]bool{
	"ruok": true, "hash": true, "isro": true, "wchs": true, "wchc": true, "wchp": true, "gtmk": true,
	"voting_view": true, "zabstate": true, "leader": true, "obsr": true, "orst": true, "crst": true,
	"srst": true, "stmk": true, "stmk?traceMask=306": true, "nosuch": true,
}

// minus is the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// zeroWatches is a fresh server's view: no watches, no digests yet.
type zeroWatches struct{ *fakeSource }

func (zeroWatches) WatchSummary() (int, int, int)        { return 0, 0, 0 }
func (zeroWatches) WatchesBySession() map[int64][]string { return nil }
func (zeroWatches) WatchesByPath() map[string][]int64    { return nil }
func (zeroWatches) DigestLog() []ZxidDigest              { return nil }
