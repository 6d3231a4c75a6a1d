package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const zkServerSh = "/usr/share/zookeeper/bin/zkServer.sh"

// startApache runs Apache ZooKeeper in the foreground on a free loopback port with its own dataDir, and returns
// its address. The test is skipped where Apache or java is not installed.
func startApache(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(zkServerSh); err != nil {
		t.Skipf("Apache ZooKeeper not installed: %v", err)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skipf("no java: %v", err)
	}
	port := freePort(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"admin.enableServer=false\n4lw.commands.whitelist=srvr\n", filepath.Join(dir, "data"), port)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(zkServerSh, "start-foreground", cfgPath)
	cmd.Env = append(os.Environ(), "ZOOCFGDIR="+dir, "ZOO_LOG_DIR="+dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Apache ZooKeeper: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(fourLetter(addr, "srvr"), "Mode: standalone") {
		if time.Now().After(deadline) {
			t.Fatalf("Apache ZooKeeper did not come up on %s; output:\n%s", addr, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return addr
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// fourLetter sends a four-letter word and returns the answer, empty when the server is not listening yet.
func fourLetter(addr, word string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, word); err != nil {
		return ""
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// runCLI runs zkafka with args and returns its stdout.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	log := slog.New(slog.NewTextHandler(&stderr, nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := newApp(&stdout, &stderr, log).RunContext(ctx, append([]string{"zkafka"}, args...))
	if err != nil {
		t.Logf("stderr:\n%s", stderr.String())
	}
	return stdout.String(), err
}

func TestBenchZKAgainstApache(t *testing.T) {
	addr := startApache(t)
	for _, op := range []string{"create", "set", "get", "mixed"} {
		out, err := runCLI(t, "bench", "zk", "--servers", addr, "--op", op, "--clients", "4", "--size", "1024",
			"--duration", "250ms", "--warmup", "0s", "--znodes", "50", "--json")
		if err != nil {
			t.Fatalf("bench zk --op %s: %v", op, err)
		}
		var res struct {
			Op          string
			Ops, Errors uint64
			FirstErrors []string `json:"first_errors"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("bench zk --op %s printed %q: %v", op, out, err)
		}
		if res.Op != op || res.Ops == 0 || res.Errors != 0 {
			t.Errorf("bench zk --op %s: %s", op, out)
		}
	}

	out, err := runCLI(t, "bench", "zk-load", "--servers", addr, "--znodes", "200", "--size", "100", "--clients", "4", "--json")
	if err != nil {
		t.Fatalf("bench zk-load: %v", err)
	}
	var load struct{ Created, Existing, Errors uint64 }
	if err := json.Unmarshal([]byte(out), &load); err != nil {
		t.Fatalf("bench zk-load printed %q: %v", out, err)
	}
	if load.Created != 200 || load.Existing != 0 || load.Errors != 0 {
		t.Errorf("bench zk-load: %s", out)
	}
}

func TestBenchZKRejectsBadFlags(t *testing.T) {
	if _, err := runCLI(t, "bench", "zk", "--servers", "127.0.0.1:1", "--op", "delete"); err == nil ||
		!strings.Contains(err.Error(), "unknown op") {
		t.Errorf("--op delete: %v", err)
	}
	if _, err := runCLI(t, "bench", "zk", "--op", "get"); err == nil || !strings.Contains(err.Error(), "servers") {
		t.Errorf("no --servers: %v", err)
	}
	if _, err := runCLI(t, "bench", "zk", "--servers", "127.0.0.1:1", "--clients", "0"); err == nil ||
		!strings.Contains(err.Error(), "clients") {
		t.Errorf("--clients 0: %v", err)
	}
}
