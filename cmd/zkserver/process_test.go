package main

import (
	"bufio"
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

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// zkserverBin builds this command once per test run.
func zkserverBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "zkserver-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "zkserver")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
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

// writeZooCfg writes a standalone zoo.cfg for dataDir on port.
func writeZooCfg(t *testing.T, dir, dataDir string, port int, extra ...string) string {
	t.Helper()
	lines := []string{
		"tickTime=500", "initLimit=10", "syncLimit=5",
		"dataDir=" + dataDir, fmt.Sprintf("clientPort=%d", port), "clientPortAddress=127.0.0.1",
		"admin.enableServer=false", "4lw.commands.whitelist=*", "maxClientCnxns=0",
	}
	lines = append(lines, extra...)
	p := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// proc is a server process started by a test.
type proc struct {
	cmd  *exec.Cmd
	addr string
	logf string
}

// waitReady waits until the server at addr serves sessions. It asks srvr, not ruok: Apache answers imok while
// it is still loading its data, and a handshake it accepts in that window may never be answered (seen with
// 3.8 on a loaded machine, about one start in eight), which left go-zookeeper waiting out its 10× read timeout.
func waitReady(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Write([]byte("srvr"))
			b, err := io.ReadAll(c)
			c.Close()
			if err == nil && strings.HasPrefix(string(b), "Zookeeper version:") {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server at %s not ready after %v", addr, d)
}

func startProc(t *testing.T, name string, args []string, env []string, addr, logf string) *proc {
	t.Helper()
	f, err := os.OpenFile(logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p := &proc{cmd: cmd, addr: addr, logf: logf}
	t.Cleanup(func() { p.kill() })
	if err := waitReady(addr, 60*time.Second); err != nil {
		p.kill()
		t.Fatalf("%v\n%s", err, tail(logf))
	}
	return p
}

// kill sends SIGKILL to the whole process group (zkServer.sh execs java).
func (p *proc) kill() {
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	p.cmd.Wait()
}

func (p *proc) term(t *testing.T) {
	t.Helper()
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.kill()
		t.Fatalf("server did not stop on SIGTERM\n%s", tail(p.logf))
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

func startZkserver(t *testing.T, cfg string, addr string, logf string, env ...string) *proc {
	return startProc(t, zkserverBin(t), []string{"start-foreground", cfg}, env, addr, logf)
}

const apacheScript = "/usr/share/zookeeper/bin/zkServer.sh"

func startApache(t *testing.T, cfgDir, addr, logf string) *proc {
	t.Helper()
	if _, err := os.Stat(apacheScript); err != nil {
		t.Skip("Apache ZooKeeper 3.8 not installed (make test installs it)")
	}
	// slf4j-simple on the class path makes Apache's log reach logf.
	env := []string{"ZOOCFGDIR=" + cfgDir, "ZOO_LOG_DIR=" + cfgDir,
		"SERVER_JVMFLAGS=-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar " +
			"-Dzookeeper.extendedTypesEnabled=true -XX:+UseSerialGC -Xmx256m"}
	return startProc(t, apacheScript, []string{"start-foreground", filepath.Join(cfgDir, "zoo.cfg")}, env, addr, logf)
}

// readLines is a helper for golden-ish checks of process output.
func readLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...interface{}) {}
