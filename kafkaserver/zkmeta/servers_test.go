package zkmeta

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Integration tests run against both Apache ZooKeeper 3.8 and our zkserver, each started once per test binary.

const apacheScript = "/usr/share/zookeeper/bin/zkServer.sh"

type zkServer struct {
	name string
	addr string
	cmd  *exec.Cmd
	dir  string
	err  error
}

var (
	serversMu sync.Mutex
	servers   = map[string]*zkServer{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	serversMu.Lock()
	for _, s := range servers {
		s.stop()
	}
	serversMu.Unlock()
	os.Exit(code)
}

func (s *zkServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.cmd.Wait()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serving asks "srvr": Apache answers "ruok" before its database is loaded, but "srvr" only reports a Mode once
// the server takes sessions.
func serving(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write([]byte("srvr"))
	b, _ := io.ReadAll(c)
	return strings.Contains(string(b), "Mode:")
}

func startServer(kind string) (*zkServer, error) {
	dir, err := os.MkdirTemp("", "zkmeta-"+kind)
	if err != nil {
		return nil, err
	}
	s := &zkServer{name: kind, dir: dir}
	port, err := freePort()
	if err != nil {
		return s, err
	}
	s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o755)
	cfg := strings.Join([]string{"tickTime=500", "initLimit=10", "syncLimit=5", "dataDir=" + data,
		fmt.Sprintf("clientPort=%d", port), "clientPortAddress=127.0.0.1", "admin.enableServer=false",
		"4lw.commands.whitelist=*", "maxClientCnxns=0"}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		return s, err
	}
	var cmd *exec.Cmd
	switch kind {
	case "apache":
		cmd = exec.Command(apacheScript, "start-foreground", filepath.Join(dir, "zoo.cfg"))
		cmd.Env = append(os.Environ(), "ZOOCFGDIR="+dir, "ZOO_LOG_DIR="+dir,
			"SERVER_JVMFLAGS=-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar "+
				"-Dzookeeper.extendedTypesEnabled=true -XX:+UseSerialGC -Xmx256m")
	case "zkserver":
		bin := filepath.Join(dir, "zkserver")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/zkafka/zkafka/cmd/zkserver").CombinedOutput()
		if err != nil {
			return s, fmt.Errorf("build zkserver: %v\n%s", err, out)
		}
		cmd = exec.Command(bin, "start-foreground", filepath.Join(dir, "zoo.cfg"))
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return s, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return s, err
	}
	s.cmd = cmd
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if serving(s.addr) {
			return s, nil
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
	return s, fmt.Errorf("%s not ready at %s:\n%s", kind, s.addr, b)
}

// server returns the shared server of a kind, starting it on first use.
func server(t *testing.T, kind string) *zkServer {
	t.Helper()
	if kind == "apache" {
		if _, err := os.Stat(apacheScript); err != nil {
			t.Skip("Apache ZooKeeper 3.8 not installed")
		}
	}
	serversMu.Lock()
	defer serversMu.Unlock()
	s, ok := servers[kind]
	if !ok {
		var err error
		s, err = startServer(kind)
		if s == nil {
			s = &zkServer{name: kind}
		}
		s.err = err
		servers[kind] = s
	}
	if s.err != nil {
		t.Fatalf("%s: %v", kind, s.err)
	}
	return s
}

var serverKinds = []string{"apache", "zkserver"}

// runs numbers each use of a chroot, so -count=N never meets an earlier run's znodes on the shared servers.
var (
	runsMu sync.Mutex
	runs   = map[string]int{}
)

// forEachServer runs f as a subtest against each server kind, with a chroot unique to the test.
func forEachServer(t *testing.T, f func(t *testing.T, s *zkServer, chroot string)) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			s := server(t, kind)
			chroot := "/" + strings.NewReplacer("/", "_").Replace(t.Name())
			runsMu.Lock()
			runs[chroot]++
			if n := runs[chroot]; n > 1 {
				chroot += fmt.Sprintf("_%d", n)
			}
			runsMu.Unlock()
			f(t, s, chroot)
		})
	}
}
