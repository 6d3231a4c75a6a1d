package harness

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestApacheStartStopRestart(t *testing.T) {
	if _, err := ApacheBin(); err != nil {
		t.Skipf("Apache ZooKeeper not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := Start(ctx, Apache, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Cleanup(t.Failed())
	out, err := FourLetter(ctx, s.Addr(), "srvr")
	if err != nil || !strings.Contains(out, "Mode: standalone") {
		t.Fatalf("srvr = %q, %v", out, err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := FourLetter(ctx, s.Addr(), "ruok"); err != nil || out != "imok" {
		t.Fatalf("ruok after restart = %q, %v", out, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Fatal("still running after Stop")
	}
	if !s.LogContains("binding to port") {
		t.Logf("log tail:\n%s", s.LogTail(2000))
		t.Fatal("server log not captured")
	}
}

func TestZKServerBinMissing(t *testing.T) {
	t.Setenv("ZKSERVER_BIN", "/nonexistent/zkserver")
	if _, err := ZKServerBin(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ZKServerBin() err = %v, want ErrNotFound", err)
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(root, "") || root == "" {
		t.Fatalf("root = %q", root)
	}
}

func TestReservePortOnce(t *testing.T) {
	dir := t.TempDir()
	ok, err := reservePort(dir, 12345)
	if err != nil || !ok {
		t.Fatalf("first reservation: %v %v", ok, err)
	}
	ok, err = reservePort(dir, 12345)
	if err != nil || ok {
		t.Fatalf("second reservation of a held port: %v %v, want refused", ok, err)
	}
}

func TestFreePortsOutsideEphemeralRange(t *testing.T) {
	lo, hi := reservablePorts()
	ports, err := FreePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p < lo || p >= hi || seen[p] {
			t.Fatalf("port %d: outside [%d, %d) or handed out twice in %v", p, lo, hi, ports)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d not bindable: %v", p, err)
		}
		l.Close()
	}
}
