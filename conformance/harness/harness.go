// Package harness starts real ZooKeeper-protocol servers as local processes
// for the conformance suites: Apache ZooKeeper 3.8 from Debian's package and
// our own bin/zkserver, both from an equivalent zoo.cfg on a free 127.0.0.1
// port (or in a test network's namespace, see TestNet) with a temporary
// dataDir, logs captured to a file.
package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Kind names a server implementation.
type Kind string

const (
	Apache   Kind = "apache"
	ZKServer Kind = "zkserver"
)

// SuperDigest is the superDigest every harness server gets; the super user's
// password is SuperPassword (the value go-zookeeper's tests use).
const (
	SuperDigest   = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
	SuperPassword = "test"
)

// ApacheScript is where Debian's zookeeper package installs zkServer.sh.
const ApacheScript = "/usr/share/zookeeper/bin/zkServer.sh"

// NettyJars are Debian's netty-codec and netty-resolver, missing from its zookeeper.jar's class path: Apache's
// Netty server connection factory and Netty client socket need them.
const NettyJars = "/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar"

// ServletJar is the servlet API Jetty's AdminServer needs (Debian's libservlet-api-java): with it on the class path
// a server started with admin.enableServer=true serves the admin commands over HTTP.
const ServletJar = "/usr/share/java/servlet-api.jar"

// ErrNotFound reports that a server binary is not installed or not built.
var ErrNotFound = errors.New("harness: server binary not found")

// Config describes the zoo.cfg and JVM flags of a server.
type Config struct {
	// TickTime in ms (default 500).
	TickTime int
	// Props are extra zoo.cfg lines (override defaults of the same key).
	Props map[string]string
	// JVMFlags are extra -D flags passed through SERVER_JVMFLAGS.
	JVMFlags []string
	// Dir is the working directory for cfg, data and logs (default: a new
	// temporary directory, removed by Cleanup).
	Dir string
	// StartTimeout bounds the wait for readiness (default 60s).
	StartTimeout time.Duration
	// MyID, when set, is written to dataDir/myid (a member of an ensemble).
	MyID int64
	// Port is the client port (default: a free one). An ensemble picks its members' client ports with their
	// quorum and election ports, so that none of them is handed out twice.
	Port int
	// NoWait returns from Start once the process runs, without waiting for it to serve (an ensemble member
	// serves only once a quorum is up); WaitServing waits for that later.
	NoWait bool
	// NetNS runs the server in that network namespace (`ip netns exec`; see TestNet).
	NetNS string
	// Host is the client port's address (clientPortAddress; default 127.0.0.1).
	Host string
}

// Server is one running (or stopped) server process.
type Server struct {
	kind    Kind
	bin     string
	dir     string
	ownDir  bool
	dataDir string
	cfgPath string
	logPath string
	port    int
	host    string
	netns   string
	env     []string
	timeout time.Duration
	noWait  bool

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	logf   *os.File
}

// Start starts a server of the given kind and waits until it serves.
func Start(ctx context.Context, kind Kind, cfg Config) (*Server, error) {
	var bin string
	var err error
	switch kind {
	case Apache:
		bin, err = ApacheBin()
	case ZKServer:
		bin, err = ZKServerBin()
	default:
		return nil, fmt.Errorf("harness: unknown server kind %q", kind)
	}
	if err != nil {
		return nil, err
	}
	s := &Server{kind: kind, bin: bin, dir: cfg.Dir, timeout: cfg.StartTimeout, host: cfg.Host, netns: cfg.NetNS}
	if s.host == "" {
		s.host = "127.0.0.1"
	}
	if s.timeout == 0 {
		s.timeout = 60 * time.Second
	}
	if s.dir == "" {
		s.dir, err = os.MkdirTemp("", "zkconf-"+string(kind)+"-")
		if err != nil {
			return nil, fmt.Errorf("harness: temp dir: %w", err)
		}
		s.ownDir = true
	}
	s.dataDir = filepath.Join(s.dir, "data")
	s.cfgPath = filepath.Join(s.dir, "zoo.cfg")
	s.logPath = filepath.Join(s.dir, "server.log")
	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: data dir: %w", err)
	}
	if cfg.MyID != 0 {
		if err := os.WriteFile(filepath.Join(s.dataDir, "myid"), []byte(strconv.FormatInt(cfg.MyID, 10)+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("harness: myid: %w", err)
		}
	}
	if s.port = cfg.Port; s.port == 0 {
		if s.port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(s.cfgPath, []byte(s.zooCfg(cfg)), 0o644); err != nil {
		return nil, fmt.Errorf("harness: write zoo.cfg: %w", err)
	}
	s.env = s.environ(cfg)
	s.noWait = cfg.NoWait
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// ApacheBin returns Apache's zkServer.sh or ErrNotFound.
func ApacheBin() (string, error) {
	if _, err := os.Stat(ApacheScript); err != nil {
		return "", fmt.Errorf("%w: %s (install the Debian zookeeper package: .ci/deps)", ErrNotFound, ApacheScript)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return "", fmt.Errorf("%w: java not on PATH", ErrNotFound)
	}
	return ApacheScript, nil
}

// ZKServerBin finds our server: $ZKSERVER_BIN, else bin/zkserver at the
// repository root (found by walking up from the working directory to the
// go.mod of github.com/zkafka/zkafka).
func ZKServerBin() (string, error) {
	if p := os.Getenv("ZKSERVER_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: ZKSERVER_BIN=%s: %v", ErrNotFound, p, err)
		}
		return p, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "bin", "zkserver")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: %s (run `make build` or set ZKSERVER_BIN)", ErrNotFound, p)
	}
	return p, nil
}

// RepoRoot walks up from the working directory to the module root.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("harness: getwd: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/zkafka/zkafka\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: repository root (go.mod of github.com/zkafka/zkafka) not found above working directory", ErrNotFound)
		}
		dir = parent
	}
}

func (s *Server) zooCfg(cfg Config) string {
	tick := cfg.TickTime
	if tick == 0 {
		tick = 500
	}
	props := map[string]string{
		"tickTime":                strconv.Itoa(tick),
		"initLimit":               "10",
		"syncLimit":               "5",
		"dataDir":                 s.dataDir,
		"clientPort":              strconv.Itoa(s.port),
		"clientPortAddress":       s.host,
		"admin.enableServer":      "false",
		"4lw.commands.whitelist":  "*",
		"extendedTypesEnabled":    "true",
		"maxSessionTimeout":       "60000",
		"maxClientCnxns":          "0",
		"autopurge.purgeInterval": "0",
		"snapshot.trust.empty":    "true",
		"standaloneEnabled":       "true",
		"reconfigEnabled":         "false",
	}
	for k, v := range cfg.Props {
		props[k] = v
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	return b.String()
}

func (s *Server) environ(cfg Config) []string {
	flags := []string{
		"-Dzookeeper.DigestAuthenticationProvider.superDigest=" + SuperDigest,
		"-Dznode.container.checkIntervalMs=100",
	}
	flags = append(flags, cfg.JVMFlags...)
	if s.kind == Apache {
		// Debian's zkEnv.sh fixes a classpath without a logging backend; a
		// later -cp wins, so add log4j and log to the console (our file).
		// Debian's zookeeper.jar manifest also lacks netty jars the
		// Netty connection factory (a secure client port) needs.
		flags = append([]string{
			"-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar:" + NettyJars +
				":" + ServletJar,
			"-Dzookeeper.root.logger=INFO,CONSOLE",
			"-Dzookeeper.console.threshold=INFO",
			"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx512m",
		}, flags...)
	}
	env := os.Environ()
	env = append(env,
		"SERVER_JVMFLAGS="+strings.Join(flags, " "),
		"JMXDISABLE=true",
		"ZOOCFGDIR="+s.dir,
		"ZOO_LOG_DIR="+s.dir,
	)
	return env
}

func (s *Server) start(ctx context.Context) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: open log: %w", err)
	}
	cmd := exec.Command(s.bin, "start-foreground", s.cfgPath)
	if s.netns != "" {
		cmd = exec.Command("ip", "netns", "exec", s.netns, s.bin, "start-foreground", s.cfgPath)
	}
	cmd.Dir = s.dir
	cmd.Env = s.env
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group: Stop/Kill signal exactly what we started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("harness: start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited, s.logf = cmd, exited, logf
	s.mu.Unlock()
	if s.noWait {
		return nil
	}
	if err := s.waitReady(ctx); err != nil {
		_ = s.Kill()
		return fmt.Errorf("harness: %s on %s not ready: %w\n--- %s (tail) ---\n%s", s.kind, s.Addr(), err, s.logPath, s.LogTail(4000))
	}
	return nil
}

// WaitServing waits until the server answers ruok and srvr with a mode (for servers started with NoWait).
func (s *Server) WaitServing(ctx context.Context) error {
	if err := s.waitReady(ctx); err != nil {
		return fmt.Errorf("harness: %s on %s not serving: %w\n--- %s (tail) ---\n%s", s.kind, s.Addr(), err, s.logPath, s.LogTail(4000))
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	var last error
	for {
		select {
		case <-exited:
			return fmt.Errorf("process exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("%w (last probe: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
		out, err := FourLetter(ctx, s.Addr(), "ruok")
		if err != nil || out != "imok" {
			last = fmt.Errorf("ruok: %q %v", out, err)
			continue
		}
		out, err = FourLetter(ctx, s.Addr(), "srvr")
		if err != nil || !strings.Contains(out, "Mode:") {
			last = fmt.Errorf("srvr: %q %v", out, err)
			continue
		}
		return nil
	}
}

// FourLetter sends a four-letter word on a fresh connection and returns the
// whole reply.
func FourLetter(ctx context.Context, addr, word string) (string, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("harness: 4lw %s: %w", word, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(word)); err != nil {
		return "", fmt.Errorf("harness: 4lw %s write: %w", word, err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return string(b), fmt.Errorf("harness: 4lw %s read: %w", word, err)
	}
	return string(b), nil
}

// Kind returns the implementation.
func (s *Server) Kind() Kind { return s.kind }

// Addr is the client address host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// DataDir is the server's dataDir.
func (s *Server) DataDir() string { return s.dataDir }

// Dir is the working directory holding zoo.cfg, data and the log.
func (s *Server) Dir() string { return s.dir }

// LogPath is the file that receives the server's stdout and stderr.
func (s *Server) LogPath() string { return s.logPath }

// LogTail returns up to the last n bytes of the server log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// eachLogLine calls f with each line of the server log until f returns false.
func (s *Server) eachLogLine(f func(line string) bool) error {
	file, err := os.Open(s.logPath)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && f(sc.Text()) {
	}
	return sc.Err()
}

// LogNotable returns up to the last n warning and error lines of the server log (Apache's WARN and ERROR,
// ours' level=WARN and level=ERROR), without Java's stack frames: what a failed test needs to say why a peer
// left, where a tail holds only the shutdown's noise.
func (s *Server) LogNotable(n int) string {
	var lines []string
	err := s.eachLogLine(func(l string) bool {
		for _, mark := range []string{" WARN ", " ERROR ", "level=WARN", "level=ERROR"} {
			if strings.Contains(l, mark) {
				lines = append(lines, l)
				break
			}
		}
		return true
	})
	if err != nil && len(lines) == 0 {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LogContains reports whether any log line contains sub.
func (s *Server) LogContains(sub string) bool {
	found := false
	_ = s.eachLogLine(func(l string) bool {
		found = strings.Contains(l, sub)
		return !found
	})
	return found
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *Server) signal(sig syscall.Signal, wait time.Duration) bool {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return true
	}
	select {
	case <-exited:
		return true
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-exited:
		return true
	case <-time.After(wait):
		return false
	}
}

func (s *Server) closeLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logf != nil {
		s.logf.Close()
		s.logf = nil
	}
}

// Pause stops the process with SIGSTOP: its peers and clients see silence, as across a partition, until Resume.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP, 0) }

// Resume continues a paused process (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT, 0) }

// Stop sends SIGTERM and, if the process is still alive after 10s, SIGKILL. A paused process is continued to
// take the SIGTERM.
func (s *Server) Stop() error {
	defer s.closeLog()
	if s.signal(syscall.SIGTERM, 0) || s.signal(syscall.SIGCONT, 10*time.Second) {
		return nil
	}
	if s.signal(syscall.SIGKILL, 10*time.Second) {
		return nil
	}
	return fmt.Errorf("harness: %s did not exit after SIGKILL", s.kind)
}

// Kill sends SIGKILL (a crash: no clean shutdown).
func (s *Server) Kill() error {
	defer s.closeLog()
	if s.signal(syscall.SIGKILL, 10*time.Second) {
		return nil
	}
	return fmt.Errorf("harness: %s did not exit after SIGKILL", s.kind)
}

// Restart stops the server if it runs and starts it again on the same port
// and dataDir.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start(ctx)
}

// Cleanup stops the server and removes its directory if the harness made it.
// Keep is honoured: the directory stays so logs can be read after a failure.
func (s *Server) Cleanup(keep bool) error {
	err := s.Stop()
	if s.ownDir && !keep {
		if rerr := os.RemoveAll(s.dir); rerr != nil && err == nil {
			err = fmt.Errorf("harness: remove %s: %w", s.dir, rerr)
		}
	}
	return err
}
