package gozkdiff

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// mntrValue reads one key of a server's mntr.
func mntrValue(t *testing.T, addr, key string) string {
	t.Helper()
	out, err := harness.FourLetter(context.Background(), addr, "mntr")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok && k == "zk_"+key {
			return v
		}
	}
	t.Fatalf("no %s in mntr:\n%s", key, out)
	return ""
}

// largeScenario runs creates of several sizes under a large request threshold of 100 bytes and a budget of 1000:
// requests that fit pass one after another (what each held is given back), one larger than the whole budget
// closes its connection, and the client's next session goes on.
func largeScenario(t *testing.T, addr string) []string {
	var lines []string
	c, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	create := func(path string, size int) {
		_, err := c.Create(path, bytes.Repeat([]byte("x"), size), 0, zk.WorldACL(zk.PermAll))
		e := "ok"
		if err != nil {
			e = err.Error()
		}
		lines = append(lines, fmt.Sprintf("create %s (%d bytes): %s", path, size, e))
	}
	waitSession := func() {
		deadline := time.Now().Add(15 * time.Second)
		for c.State() != zk.StateHasSession && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSession()
	create("/small", 50)
	for i := range 5 {
		create(fmt.Sprintf("/large-%d", i), 800)
	}
	lines = append(lines, "rejected: "+mntrValue(t, addr, "large_requests_rejected"))
	create("/too-large", 2000)
	lines = append(lines, "rejected: "+mntrValue(t, addr, "large_requests_rejected"))
	time.Sleep(200 * time.Millisecond)
	waitSession()
	create("/after", 800)
	children, _, err := c.Children("/")
	lines = append(lines, fmt.Sprintf("children: %d %v", len(children), err))
	return lines
}

// TestLargeRequestThrottleDifferential compares zookeeper.largeRequestThreshold / largeRequestMaxBytes with
// Apache 3.8's: what each create gets and the large_requests_rejected counter.
func TestLargeRequestThrottleDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	apache, ours := startPair(t, harness.Config{JVMFlags: []string{"-Dzookeeper.largeRequestThreshold=100",
		"-Dzookeeper.largeRequestMaxBytes=1000"}})
	a := largeScenario(t, apache.Addr())
	b := largeScenario(t, ours.Addr())
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("differs\n--- apache\n%s\n--- zkserver\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if !strings.Contains(strings.Join(a, "\n"), "rejected: 1") {
		t.Fatalf("nothing rejected:\n%s", strings.Join(a, "\n"))
	}
	t.Logf("\n%s", strings.Join(a, "\n"))
}
