// Package zktest starts a real Apache ZooKeeper 3.8 (the Debian package) for
// zkclient's tests. Tests skip when it is not installed.
package zktest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ServerScript is where Debian installs zkServer.sh.
const ServerScript = "/usr/share/zookeeper/bin/zkServer.sh"

// SuperDigest is the digest of "super:test", accepted as super user.
const SuperDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="

// Server is a running standalone Apache ZooKeeper.
type Server struct {
	Addr string // 127.0.0.1:port
	Dir  string
	cmd  *exec.Cmd
}

// Available reports whether Apache ZooKeeper and java are installed.
func Available() bool {
	if _, err := os.Stat(ServerScript); err != nil {
		return false
	}
	_, err := exec.LookPath("java")
	return err == nil
}

// Start runs a standalone server with tickTime 250ms (so sessions can expire
// within a second), TTL nodes enabled and super:test as super digest. It is
// stopped when the test ends. It calls t.Skip when ZooKeeper is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	if !Available() {
		t.Skip("Apache ZooKeeper not installed (" + ServerScript + ")")
	}
	dir := t.TempDir()
	s, err := StartIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartIn starts a server with its config, data and logs in dir; the caller
// must call Stop. Use it from TestMain, where there is no testing.T.
func StartIn(dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("tickTime=250\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\n"+
		"clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n", data, port)
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(ServerScript, "start-foreground", filepath.Join(dir, "zoo.cfg"))
	cmd.Env = append(os.Environ(), "ZOOCFGDIR="+dir, "ZOO_LOG_DIR="+dir,
		"SERVER_JVMFLAGS=-Dzookeeper.extendedTypesEnabled=true -Dzookeeper.DigestAuthenticationProvider.superDigest="+SuperDigest+
			" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1")
	out, err := os.Create(filepath.Join(dir, "server.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("zktest: start %s: %w", ServerScript, err)
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Dir: dir, cmd: cmd}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		// ruok answers before the database is loaded; srvr only reports the
		// version once the server accepts sessions.
		if r, err := FourLetter(s.Addr, "srvr"); err == nil && strings.Contains(r, "Zookeeper version") {
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Stop()
	log, _ := os.ReadFile(filepath.Join(dir, "server.out"))
	return nil, fmt.Errorf("zktest: server on %s did not start serving: %s", s.Addr, log)
}

// Stop kills the server process and waits for it.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// FourLetter sends a four-letter word and returns the reply.
func FourLetter(addr, word string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(word)); err != nil {
		return "", err
	}
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String(), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
