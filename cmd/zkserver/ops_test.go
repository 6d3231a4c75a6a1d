package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func httpGet(t *testing.T, url string) string {
	t.Helper()
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			last = err
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

func fourLetter(t *testing.T, addr, word string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte(word))
	b, _ := io.ReadAll(c)
	return string(b)
}

// TestOperationsSurface starts the binary with the AdminServer and the
// Prometheus provider on, as an operator's zoo.cfg would.
func TestOperationsSurface(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := t.TempDir()
	port, adminPort, metricsPort := freePort(t), freePort(t), freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := writeZooCfg(t, dir, filepath.Join(dir, "data"), port,
		"admin.enableServer=true", "admin.serverAddress=127.0.0.1", fmt.Sprintf("admin.serverPort=%d", adminPort),
		"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
		"metricsProvider.httpHost=127.0.0.1", fmt.Sprintf("metricsProvider.httpPort=%d", metricsPort))
	// writeZooCfg turns admin.enableServer off first; the later line wins, as in Java Properties.
	startZkserver(t, cfg, addr, filepath.Join(dir, "zkserver.log"))

	if out := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/commands/ruok", adminPort)); !strings.Contains(out, `"command" : "ruok"`) || !strings.Contains(out, `"error" : null`) {
		t.Fatalf("admin ruok: %s", out)
	}
	if out := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/commands/stat", adminPort)); !strings.Contains(out, `"server_stats"`) {
		t.Fatalf("admin stat: %s", out)
	}
	if out := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)); !strings.Contains(out, "znode_count") {
		t.Fatalf("metrics: %.300s", out)
	}
	if out := fourLetter(t, addr, "mntr"); !strings.HasPrefix(out, "zk_version\t3.8.0") || !strings.Contains(out, "zk_znode_count\t") {
		t.Fatalf("mntr: %.300s", out)
	}
	if out := fourLetter(t, addr, "ruok"); out != "imok" {
		t.Fatalf("ruok: %q", out)
	}
}

// TestConnectionsIPv6: a client on ::1 is listed as Apache 3.8 on JDK 17 lists it (InetSocketAddress.toString:
// "/[0:0:0:0:0:0:0:1]:port"), in cons and dump.
func TestConnectionsIPv6(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	if l, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		l.Close()
	}
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("[::1]:%d", port)
	cfg := writeZooCfg(t, dir, filepath.Join(dir, "data"), port, "clientPortAddress=::1")
	startZkserver(t, cfg, addr, filepath.Join(dir, "zkserver.log"))
	if out := fourLetter(t, addr, "cons"); !strings.HasPrefix(out, " /[0:0:0:0:0:0:0:1]:") {
		t.Errorf("cons: %q", out)
	}
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, _, err := conn.Exists("/"); err != nil {
		t.Fatal(err)
	}
	if out := fourLetter(t, addr, "dump"); !strings.Contains(out, "\tip: /[0:0:0:0:0:0:0:1]:") {
		t.Errorf("dump: %q", out)
	}
}
