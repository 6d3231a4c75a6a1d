// Package kafkaclients runs real Kafka clients (franz-go's own integration suite and our franz-go scenarios, kcat,
// kafka-python, sarama) against kafkaserver started as a process from a freshly built binary, on zkserver (also
// freshly built) and, for kcat, kafka-python, sarama's main tests and our franz-go scenarios, on Apache ZooKeeper
// 3.8 too (onBothZooKeepers).
package kafkaclients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/conformance/harness"
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

// freePort reserves a port for a server started later (see harness.FreePort: the kernel's 127.0.0.1:0 port could
// be taken before the server bound it).
func freePort(t *testing.T) int {
	t.Helper()
	p, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cluster is one zkserver and one kafkaserver process.
type cluster struct {
	dir      string
	zkAddr   string // zookeeper.connect, chroot included
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

// startCluster starts zkserver and one broker (id 0) on it with chroot /kafka and waits until the broker answers
// Metadata with itself as the controller. extra are server.properties lines.
func startCluster(t *testing.T, extra ...string) *cluster {
	t.Helper()
	return startBroker(t, startZKServer(t)+"/kafka", extra...)
}

// startZKServer starts a zkserver process in a temporary directory and returns its client address.
func startZKServer(t *testing.T) string {
	t.Helper()
	zkBin, _ := binaries(t)
	dir := t.TempDir()
	zkPort := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", zkPort)
	zoo := []string{"tickTime=500", "initLimit=10", "syncLimit=5", "dataDir=" + filepath.Join(dir, "zk"),
		fmt.Sprintf("clientPort=%d", zkPort), "clientPortAddress=127.0.0.1", "admin.enableServer=false",
		"4lw.commands.whitelist=*", "maxClientCnxns=0"}
	writeLines(t, filepath.Join(dir, "zoo.cfg"), zoo)
	startProc(t, filepath.Join(dir, "zk.log"), zkBin, "start-foreground", filepath.Join(dir, "zoo.cfg"))
	waitZK(t, addr, filepath.Join(dir, "zk.log"))
	return addr
}

// startBroker starts one broker (id 0) on zkConnect ("host:port/chroot") and waits until it answers Metadata with
// itself as the controller. extra are server.properties lines.
func startBroker(t *testing.T, zkConnect string, extra ...string) *cluster {
	t.Helper()
	c := newBrokerCluster(t, zkConnect)
	c.launch(t, append(c.props("PLAINTEXT://"+c.addr), extra...))
	return c
}

// newBrokerCluster picks a directory and the PLAINTEXT address of a broker on zkConnect, not started yet.
func newBrokerCluster(t *testing.T, zkConnect string) *cluster {
	c := &cluster{dir: t.TempDir(), zkAddr: zkConnect}
	c.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.kafkaLog = filepath.Join(c.dir, "kafka.log")
	return c
}

// props are the server.properties lines every test broker has, with the given listeners.
func (c *cluster) props(listeners string) []string {
	return []string{
		"broker.id=0",
		"zookeeper.connect=" + c.zkAddr,
		"zookeeper.session.timeout.ms=6000",
		"listeners=" + listeners,
		"log.dirs=" + filepath.Join(c.dir, "kafka-logs"),
		"offsets.topic.replication.factor=1",
		"offsets.topic.num.partitions=4",
		"transaction.state.log.replication.factor=1",
		"transaction.state.log.min.isr=1",
		"num.partitions=1",
		// Groups form at once: the clients' scenarios are short.
		"group.initial.rebalance.delay.ms=0",
	}
}

// launch writes server.properties and starts the broker, waiting until it is ready; a failed test logs the tail of
// its log.
func (c *cluster) launch(t *testing.T, props []string) {
	t.Helper()
	_, kafkaBin := binaries(t)
	writeLines(t, filepath.Join(c.dir, "server.properties"), props)
	startProc(t, c.kafkaLog, kafkaBin, filepath.Join(c.dir, "server.properties"))
	c.waitReady(t)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(c.kafkaLog)
			t.Logf("kafkaserver log (tail):\n%s", tail(b, 8000))
		}
	})
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

// apacheZK is the Apache ZooKeeper 3.8 the package's tests share: each broker on it gets its own chroot, so one
// server (a JVM taking seconds to start) serves every test. The first test that needs it starts it in the background;
// TestMain stops it.
type apacheZK struct {
	once    sync.Once
	ready   chan struct{}
	srv     *harness.Server
	err     error
	chroots atomic.Int64 // numbers the chroots, so -count=N never reuses one
}

var sharedApache = &apacheZK{ready: make(chan struct{})}

func TestMain(m *testing.M) {
	code := m.Run()
	sharedApache.stop(code != 0)
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// start begins starting the server unless it is already started.
func (a *apacheZK) start() {
	a.once.Do(func() {
		go func() {
			defer close(a.ready)
			a.srv, a.err = harness.Start(context.Background(), harness.Apache, harness.Config{})
		}()
	})
}

// stop stops the server if it was started, keeping its files after a failed run.
func (a *apacheZK) stop(keep bool) {
	a.once.Do(func() { close(a.ready) }) // never started: nothing to wait for
	<-a.ready
	if a.srv == nil {
		return
	}
	if err := a.srv.Cleanup(keep); err != nil {
		fmt.Fprintf(os.Stderr, "stop Apache ZooKeeper: %v\n", err)
	}
	if keep {
		fmt.Fprintf(os.Stderr, "Apache ZooKeeper files kept in %s\n", a.srv.Dir())
	}
}

// addr waits for the server and returns its client address; it skips t when Apache ZooKeeper is not installed
// (fails in CI).
func (a *apacheZK) addr(t *testing.T) string {
	t.Helper()
	a.start()
	<-a.ready
	if errors.Is(a.err, harness.ErrNotFound) {
		harness.NeedOrSkip(t, a.err)
	}
	if a.err != nil {
		t.Fatalf("start Apache ZooKeeper: %v", a.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Apache ZooKeeper log (tail):\n%s", a.srv.LogTail(4000))
		}
	})
	return a.srv.Addr()
}

// onBothZooKeepers runs fn twice, in parallel, as subtest "zkserver" against a broker on its own zkserver and as
// subtest "apache" against a broker on the shared Apache ZooKeeper 3.8, each broker under a chroot in
// zookeeper.connect named after name (e.g. "/zkafka/kcat-1"). extra are server.properties lines.
func onBothZooKeepers(t *testing.T, name string, fn func(t *testing.T, c *cluster), extra ...string) {
	t.Helper()
	sharedApache.start() // its start overlaps the zkserver subtest (and the first build)
	chroot := fmt.Sprintf("/zkafka/%s-%d", name, sharedApache.chroots.Add(1))
	// In parallel: the clients mostly wait (group joins, heartbeats, linger), so two brokers fit on two cores.
	t.Run(string(harness.ZKServer), func(t *testing.T) {
		t.Parallel()
		fn(t, startBroker(t, startZKServer(t)+chroot, extra...))
	})
	t.Run(string(harness.Apache), func(t *testing.T) {
		t.Parallel()
		fn(t, startBroker(t, sharedApache.addr(t)+chroot, extra...))
	})
}
