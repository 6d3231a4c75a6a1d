// Package kafkaclients runs real Kafka clients (franz-go's own integration suite, kcat, kafka-python, sarama)
// against kafkaserver on zkserver, both started as processes from freshly built binaries.
package kafkaclients

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// binaries builds cmd/zkserver and cmd/kafkaserver once per test binary run.
func binaries(t *testing.T) (zk, kafka string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "kafkaclients-bin")
		if buildErr != nil {
			return
		}
		for _, c := range []string{"zkserver", "kafkaserver"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, c), "./cmd/"+c)
			cmd.Dir = repoRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %w\n%s", c, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "zkserver"), filepath.Join(binDir, "kafkaserver")
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

// cluster is one zkserver and one kafkaserver process.
type cluster struct {
	dir      string
	zkAddr   string
	addr     string // the broker's PLAINTEXT listener
	kafkaLog string
}

// startProc runs bin in its own process group, logging to logPath; cleanup kills the group.
func startProc(t *testing.T, logPath string, bin string, args ...string) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	logf.Close()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
}

// startCluster starts zkserver and one broker (id 0) and waits until the broker answers Metadata with itself as
// the controller. extra are server.properties lines.
func startCluster(t *testing.T, extra ...string) *cluster {
	t.Helper()
	zkBin, kafkaBin := binaries(t)
	dir := t.TempDir()
	c := &cluster{dir: dir}

	zkPort := freePort(t)
	c.zkAddr = fmt.Sprintf("127.0.0.1:%d", zkPort)
	zoo := []string{"tickTime=500", "initLimit=10", "syncLimit=5", "dataDir=" + filepath.Join(dir, "zk"),
		fmt.Sprintf("clientPort=%d", zkPort), "clientPortAddress=127.0.0.1", "admin.enableServer=false",
		"4lw.commands.whitelist=*", "maxClientCnxns=0"}
	writeLines(t, filepath.Join(dir, "zoo.cfg"), zoo)
	startProc(t, filepath.Join(dir, "zk.log"), zkBin, "start-foreground", filepath.Join(dir, "zoo.cfg"))
	waitZK(t, c.zkAddr, filepath.Join(dir, "zk.log"))

	port := freePort(t)
	c.addr = fmt.Sprintf("127.0.0.1:%d", port)
	props := []string{
		"broker.id=0",
		"zookeeper.connect=" + c.zkAddr + "/kafka",
		"zookeeper.session.timeout.ms=6000",
		"listeners=PLAINTEXT://" + c.addr,
		"log.dirs=" + filepath.Join(dir, "kafka-logs"),
		"offsets.topic.replication.factor=1",
		"offsets.topic.num.partitions=4",
		"transaction.state.log.replication.factor=1",
		"transaction.state.log.min.isr=1",
		"num.partitions=1",
		// Groups form at once: the clients' scenarios are short.
		"group.initial.rebalance.delay.ms=0",
	}
	writeLines(t, filepath.Join(dir, "server.properties"), append(props, extra...))
	c.kafkaLog = filepath.Join(dir, "kafka.log")
	startProc(t, c.kafkaLog, kafkaBin, filepath.Join(dir, "server.properties"))
	c.waitReady(t)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(c.kafkaLog)
			t.Logf("kafkaserver log (tail):\n%s", tail(b, 8000))
		}
	})
	return c
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitZK(t *testing.T, addr, logPath string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			_, _ = c.Write([]byte("ruok"))
			b := make([]byte, 4)
			_, err = c.Read(b)
			c.Close()
			if err == nil && string(b) == "imok" {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logPath)
	t.Fatalf("zkserver at %s not ready\n%s", addr, tail(b, 4000))
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return b
}

// lookPathOrSkip finds an external client; CI must have it (it is installed by .ci/deps), a developer may not.
func lookPathOrSkip(t *testing.T, name, debPkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: CI must install Debian package %s", name, debPkg)
		}
		t.Skipf("%s not found: install Debian package %s", name, debPkg)
	}
	return p
}

// run runs a client command with a timeout and returns its combined output.
func run(t *testing.T, timeout time.Duration, stdin []byte, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.String(), fmt.Errorf("%s timed out after %v", name, timeout)
	}
}

// waitReady polls Metadata until the broker lists itself and is the controller.
func (c *cluster) waitReady(t *testing.T) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		cancel()
		if err == nil && len(resp.Brokers) == 1 && resp.ControllerID == 0 {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(c.kafkaLog)
	t.Fatalf("kafkaserver at %s not ready (%v)\n%s", c.addr, last, tail(b, 8000))
}
