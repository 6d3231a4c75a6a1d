package kafka09

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// chroot is where the broker and the tools keep their znodes: 0.9's ZkUtils and our broker must agree on it.
const chroot = "/kafka09"

// env is one running zkserver + kafkaserver pair and the 0.9 tools pointed at them.
type env struct {
	t         *testing.T
	home      string
	dir       string
	zkAddr    string // host:port
	zkConnect string // host:port/chroot, as the tools take it
	broker    string // host:port
	sslBroker string // host:port of the broker's SSL listener
	sslProps  string // client properties for it (security.protocol=SSL and a JKS trust store)
	brokerLog string
	zk        *zk.Conn
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

func goBuild(t *testing.T, pkg, out string) {
	t.Helper()
	if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// startDaemon runs a server process in its own process group, logging to logf, killed at cleanup.
func startDaemon(t *testing.T, logf string, name string, args ...string) {
	t.Helper()
	f, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM first so that the broker shuts down as it would in production; then make sure.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
}

func waitListening(t *testing.T, addr, logf string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logf)
	t.Fatalf("%s not listening\n%s", addr, b)
}

// startZKServer builds zkserver and kafkaserver into dir, starts zkserver on a free port of 127.0.0.1 and returns
// its address and the kafkaserver binary.
func startZKServer(t *testing.T, dir string) (addr, kafkaserver string) {
	t.Helper()
	zkBin, kBin := filepath.Join(dir, "zkserver"), filepath.Join(dir, "kafkaserver")
	goBuild(t, "github.com/zkafka/zkafka/cmd/zkserver", zkBin)
	goBuild(t, "github.com/zkafka/zkafka/cmd/kafkaserver", kBin)
	port := freePort(t)
	zoo := filepath.Join(dir, "zoo.cfg")
	writeFile(t, zoo, "tickTime=500", "dataDir="+filepath.Join(dir, "zk"), fmt.Sprintf("clientPort=%d", port),
		"clientPortAddress=127.0.0.1", "admin.enableServer=false", "maxClientCnxns=0")
	zkLog := filepath.Join(dir, "zk.log")
	startDaemon(t, zkLog, zkBin, "start-foreground", zoo)
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	waitListening(t, addr, zkLog)
	return addr, kBin
}

// newEnv builds zkserver and kafkaserver into a temp dir and starts both; each setup, run once the SSL stores
// are made, may return more server.properties lines.
func newEnv(t *testing.T, home string, setups ...func(e *env) []string) *env {
	t.Helper()
	dir := t.TempDir()
	zkAddr, kBin := startZKServer(t, dir)
	e := &env{t: t, home: home, dir: dir, zkAddr: zkAddr,
		broker: fmt.Sprintf("127.0.0.1:%d", freePort(t)), brokerLog: filepath.Join(dir, "kafka.log")}
	e.zkConnect = e.zkAddr + chroot

	// The SSL listener's key store and the clients' trust store are Java's own JKS files, made by keytool as an
	// operator makes them: a self-signed broker certificate the clients trust.
	e.sslBroker = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	keyStore, trustStore := filepath.Join(dir, "broker.jks"), filepath.Join(dir, "client-trust.jks")
	keytool(t, "-genkeypair", "-keystore", keyStore, "-storetype", "JKS", "-storepass", "broker-pw", "-keypass", "key-pw",
		"-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=broker-0,O=zkafka",
		"-ext", "SAN=IP:127.0.0.1")
	keytool(t, "-exportcert", "-rfc", "-keystore", keyStore, "-storepass", "broker-pw", "-alias", "broker",
		"-file", filepath.Join(dir, "broker.crt"))
	keytool(t, "-importcert", "-noprompt", "-keystore", trustStore, "-storetype", "JKS", "-storepass", "trust-pw",
		"-alias", "broker", "-file", filepath.Join(dir, "broker.crt"))
	e.sslProps = e.writeProps("client-ssl.properties", "security.protocol=SSL",
		"ssl.truststore.location="+trustStore, "ssl.truststore.password=trust-pw")

	var extra []string
	for _, setup := range setups {
		extra = append(extra, setup(e)...)
	}
	props := filepath.Join(dir, "server.properties")
	writeFile(t, props, append([]string{
		"broker.id=0",
		"zookeeper.connect=" + e.zkConnect,
		"listeners=PLAINTEXT://" + e.broker + ",SSL://" + e.sslBroker,
		"security.inter.broker.protocol=PLAINTEXT",
		"ssl.keystore.location=" + keyStore, "ssl.keystore.password=broker-pw", "ssl.key.password=key-pw",
		"log.dirs=" + filepath.Join(dir, "kafka-logs"),
		"num.partitions=1",
		"offsets.topic.replication.factor=1",
		"offsets.topic.num.partitions=4",
		"transaction.state.log.replication.factor=1",
		// The 0.9 consumers join one at a time; the 3 s default only slows every scenario down.
		"group.initial.rebalance.delay.ms=0",
	}, extra...)...)
	startDaemon(t, e.brokerLog, kBin, props)
	waitListening(t, e.broker, e.brokerLog)

	conn, _, err := zk.Connect([]string{e.zkAddr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	e.zk = conn
	// The broker is ready once it has registered itself; the tools read /brokers/ids.
	e.mustWait("broker registration", 30*time.Second, nil, func() bool {
		ok, _, err := conn.Exists(chroot + "/brokers/ids/0")
		return err == nil && ok
	})
	return e
}

func keytool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("keytool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("keytool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *env) mustWait(what string, d time.Duration, stop <-chan struct{}, cond func() bool) {
	e.t.Helper()
	if err := waitFor(what, d, stop, cond); err != nil {
		e.t.Fatal(err)
	}
}

// waitFor polls cond until it holds, d passes, or stop closes (a process it depends on exited).
func waitFor(what string, d time.Duration, stop <-chan struct{}, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", d, what)
		}
		select {
		case <-stop:
			if cond() {
				return nil
			}
			return fmt.Errorf("gave up waiting for %s: the process exited", what)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// syncBuffer is a bytes.Buffer that a test may read while the process still writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is one running 0.9 tool.
type proc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	err            error
	cancel         context.CancelFunc
}

// start runs bin/<script> with args, stdin fed from in, killed (with its JVM) after timeout.
func (e *env) start(timeout time.Duration, in string, script string, args ...string) *proc {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	p := &proc{name: script + " " + strings.Join(args, " "), done: make(chan struct{}), cancel: cancel}
	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(e.home, "bin", script)}, args...)...)
	cmd.Env = append(os.Environ(),
		"KAFKA_GC_LOG_OPTS= ",
		"LOG_DIR="+filepath.Join(e.dir, "tool-logs"),
		"KAFKA_HEAP_OPTS=-Xmx256M",
		// Short-lived JVMs: the C1 compiler alone starts faster than the tiered default. No perf data file: a JVM
		// that finds /tmp/hsperfdata_<user>/<its pid> locked (a pid reused while another JVM holds that file) warns
		// on stderr, which the tools' output comparisons would take for the tool's.
		"KAFKA_JVM_PERFORMANCE_OPTS=-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -XX:-UsePerfData",
	)
	cmd.Stdin = strings.NewReader(in)
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	p.cmd = cmd
	if err := cmd.Start(); err != nil {
		cancel()
		e.t.Fatalf("start %s: %v", script, err)
	}
	go func() {
		p.err = cmd.Wait()
		if ctx.Err() != nil {
			p.err = fmt.Errorf("killed after %v: %w", timeout, p.err)
		}
		cancel()
		close(p.done)
	}()
	e.t.Cleanup(func() { cancel(); <-p.done })
	return p
}

// terminate sends SIGTERM to the tool's process group, as Kafka's system tests stop a clean shutdown; a JVM so
// stopped runs its shutdown hooks and exits with status 143.
func (p *proc) terminate() error {
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM %s: %w", p.name, err)
	}
	return nil
}

// wait waits for the tool to end; the error says how it failed, with its stderr.
func (p *proc) wait() error {
	<-p.done
	if p.err != nil {
		return fmt.Errorf("%s: %w\n%s", p.name, p.err, p.diag())
	}
	return nil
}

// diag is the tool's stderr, repeated lines collapsed, for failure messages.
func (p *proc) diag() string {
	<-p.done
	return "stderr:\n" + squeeze(p.stderr.String(), 25)
}

var timestamp = regexp.MustCompile(`^\[[0-9-]+ [0-9:,]+\] `)
var objectID = regexp.MustCompile(`@[0-9a-f]+`)

// squeeze keeps the first max distinct lines of s (ignoring log timestamps and Java object ids).
func squeeze(s string, max int) string {
	seen := map[string]int{}
	var order []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			continue
		}
		k := objectID.ReplaceAllString(timestamp.ReplaceAllString(l, ""), "@…")
		if seen[k] == 0 {
			order = append(order, k)
		}
		seen[k]++
	}
	var b strings.Builder
	for i, k := range order {
		if i == max {
			fmt.Fprintf(&b, "  ... %d more distinct lines\n", len(order)-max)
			break
		}
		if n := seen[k]; n > 1 {
			fmt.Fprintf(&b, "  %s   (x%d)\n", k, n)
		} else {
			fmt.Fprintf(&b, "  %s\n", k)
		}
	}
	return b.String()
}

// run runs a tool to completion and returns its stdout.
func (e *env) run(timeout time.Duration, in string, script string, args ...string) (string, *proc, error) {
	e.t.Helper()
	p := e.start(timeout, in, script, args...)
	err := p.wait()
	return p.stdout.String(), p, err
}

// topics runs kafka-topics.sh --zookeeper with args.
func (e *env) topics(args ...string) (string, error) {
	e.t.Helper()
	out, _, err := e.run(60*time.Second, "", "kafka-topics.sh", append([]string{"--zookeeper", e.zkConnect}, args...)...)
	return out, err
}

// brokerLogSince returns the broker's WARN and ERROR lines written after offset.
func (e *env) brokerLogSince(offset int64) string {
	b, err := os.ReadFile(e.brokerLog)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	var keep []string
	for _, l := range strings.Split(string(b[offset:]), "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return "  (none)\n"
	}
	return squeeze(strings.Join(keep, "\n"), 15)
}

func (e *env) brokerLogSize() int64 {
	st, err := os.Stat(e.brokerLog)
	if err != nil {
		return 0
	}
	return st.Size()
}

// writeProps writes a properties file for a tool's --consumer.config / --producer.config.
func (e *env) writeProps(name string, lines ...string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	writeFile(e.t, p, lines...)
	return p
}
