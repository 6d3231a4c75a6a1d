// Package javaclient runs differential scenarios through Apache ZooKeeper's
// own Java client: a scenario program (testdata/ZkScenarios.java) compiled
// with javac against the installed zookeeper.jar, and zkCli.sh sessions fed
// through stdin. The same scenarios run against Apache ZooKeeper 3.8 and
// zkserver; their normalized outputs must be identical.
package javaclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Installed locations from Debian's zookeeper package.
const (
	ZooKeeperJar = "/usr/share/java/zookeeper.jar"
	ZkCliScript  = "/usr/share/zookeeper/bin/zkCli.sh"
)

// ErrMissing reports that a JDK tool, the client jar or zkCli.sh is absent.
var ErrMissing = errors.New("javaclient: tool not installed")

// Java is a compiled scenario program.
type Java struct {
	java      string
	classpath string
}

// Compile compiles the Java source src into outDir with javac against
// zookeeper.jar (its manifest Class-Path brings jute, netty and slf4j).
func Compile(ctx context.Context, src, outDir string) (*Java, error) {
	javac, err := exec.LookPath("javac")
	if err != nil {
		return nil, fmt.Errorf("%w: javac (install a JDK, e.g. default-jdk-headless)", ErrMissing)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("%w: java", ErrMissing)
	}
	if _, err := os.Stat(ZooKeeperJar); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMissing, ZooKeeperJar)
	}
	cmd := exec.CommandContext(ctx, javac, "-nowarn", "-encoding", "UTF-8", "-cp", ZooKeeperJar, "-d", outDir, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("javaclient: javac %s: %w\n%s", src, err, out)
	}
	return &Java{java: java, classpath: ZooKeeperJar + string(os.PathListSeparator) + outDir}, nil
}

// Section is the output of one scenario.
type Section struct {
	Name  string
	Lines []string
}

// Run runs the named scenarios (all when names is empty) of the compiled
// ZkScenarios class against addr, in one JVM, and splits its stdout into
// sections. stderr (client logging) is returned separately for diagnostics.
func (j *Java) Run(ctx context.Context, addr string, names ...string) ([]Section, string, error) {
	args := []string{"-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", j.classpath, "ZkScenarios", addr}
	if len(names) == 0 {
		args = append(args, "all")
	} else {
		args = append(args, names...)
	}
	cmd := exec.CommandContext(ctx, j.java, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	secs := SplitSections(stdout.String())
	if err != nil {
		return secs, stderr.String(), fmt.Errorf("javaclient: ZkScenarios against %s: %w", addr, err)
	}
	return secs, stderr.String(), nil
}

// List returns the scenario names the compiled program knows.
func (j *Java) List(ctx context.Context) ([]string, error) {
	out, err := exec.CommandContext(ctx, j.java, "-cp", j.classpath, "ZkScenarios", "-", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("javaclient: list scenarios: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// SplitSections cuts "=== name" delimited output into sections.
func SplitSections(out string) []Section {
	var secs []Section
	for _, l := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(l, "=== "); ok {
			secs = append(secs, Section{Name: name})
			continue
		}
		if len(secs) == 0 || l == "" {
			continue
		}
		secs[len(secs)-1].Lines = append(secs[len(secs)-1].Lines, l)
	}
	return secs
}

// CliScenario is one zkCli.sh run. With Args it runs a single command given
// on the command line (exit status reflects that command); otherwise Script
// lines are fed through stdin to one interactive session. In both, $R is
// replaced by the scenario's root path; a script line "#waitgone PATH" holds
// the feeding until PATH has existed and the server deleted it (container and
// TTL reaping).
type CliScenario struct {
	Name   string
	Script []string
	Args   []string
	// JVMFlags are extra -D flags for the client (CLIENT_JVMFLAGS), e.g. its TLS settings.
	JVMFlags []string
	// Quit ends the script with quit, which closes the session before the JVM exits (keeping the last command's
	// exit status). zkCli.sh does not close it at the end of its input: the session expires a timeout later and
	// its closeSession txn lands in whatever runs on the server then, which matters where scenarios share a
	// server and compare zxids. A session the server already ended reconnects to close, so scenarios that
	// expect that leave it unset.
	Quit bool
	// ExitRaces are events the client's event thread may print or not before the JVM exits at the end of the
	// script (a Disconnected from the server closing the connection at the last command): not compared.
	ExitRaces []string
}

// Root is the scenario's private root node.
func (s CliScenario) Root() string { return "/cli-" + s.Name }

// CliResult is the raw outcome of a zkCli.sh run.
type CliResult struct {
	Output   string // stdout and stderr on one descriptor, in write order
	ExitCode int
}

// RunCli runs one scenario with zkCli.sh against addr.
func RunCli(ctx context.Context, addr string, sc CliScenario) (CliResult, error) {
	if _, err := os.Stat(ZkCliScript); err != nil {
		return CliResult{}, fmt.Errorf("%w: %s", ErrMissing, ZkCliScript)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	root := sc.Root()
	// -waitforconnection: the connected event is printed before the first
	// command runs instead of racing with its output.
	args := []string{"-server", addr, "-waitforconnection", "-timeout", "20000"}
	for _, a := range sc.Args {
		args = append(args, strings.ReplaceAll(a, "$R", root))
	}
	cmd := exec.CommandContext(ctx, ZkCliScript, args...)
	// A log dir we can write; zkCli logs through slf4j-nop anyway. No perf data file (-XX:-UsePerfData): the JVM's
	// warning about a locked /tmp/hsperfdata_<user>/<pid> would land in the output compared.
	cmd.Env = append(os.Environ(), "ZOO_LOG_DIR="+os.TempDir(), "CLIENT_JVMFLAGS="+strings.Join(
		append([]string{"-XX:TieredStopAtLevel=1", "-Xshare:auto", "-XX:-UsePerfData"}, sc.JVMFlags...), " "))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// One pipe for both streams keeps the interleaving of results (stdout)
	// and errors (stderr) exactly as the client wrote them.
	pr, pw, err := os.Pipe()
	if err != nil {
		return CliResult{}, fmt.Errorf("javaclient: pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	var stdin io.WriteCloser
	if len(sc.Args) == 0 {
		if stdin, err = cmd.StdinPipe(); err != nil {
			pr.Close()
			pw.Close()
			return CliResult{}, fmt.Errorf("javaclient: stdin: %w", err)
		}
	}
	var w *watcher
	if needsWatcher(sc.Script) {
		if w, err = dialWatcher(ctx, addr); err != nil {
			pr.Close()
			pw.Close()
			return CliResult{}, err
		}
		// Closed after zkCli.sh's own session, at the same point against either server.
		defer w.close()
	}
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return CliResult{}, fmt.Errorf("javaclient: start zkCli.sh: %w", err)
	}
	pw.Close()
	outc := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		pr.Close()
		outc <- string(b)
	}()
	var ferr error
	if stdin != nil {
		ferr = feed(ctx, stdin, sc.Script, root, sc.Quit, w)
	}
	out := <-outc
	werr := cmd.Wait()
	res := CliResult{Output: out, ExitCode: cmd.ProcessState.ExitCode()}
	if ferr != nil {
		return res, fmt.Errorf("javaclient: zkCli.sh %s: %w", sc.Name, ferr)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("javaclient: zkCli.sh %s: %w", sc.Name, ctx.Err())
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return res, fmt.Errorf("javaclient: zkCli.sh %s: %w", sc.Name, werr)
	}
	return res, nil
}

// feed writes the script (with $R replaced, "#waitgone PATH" lines waited on through w), then quit when
// asked, and closes stdin.
func feed(ctx context.Context, wc io.WriteCloser, script []string, root string, quit bool, w *watcher) error {
	defer wc.Close()
	bw := bufio.NewWriter(wc)
	for _, line := range script {
		line = strings.ReplaceAll(line, "$R", root)
		if path, ok := strings.CutPrefix(line, waitGonePrefix); ok {
			if bw.Flush() != nil {
				return nil // zkCli.sh went away: its output tells
			}
			if err := w.waitGone(ctx, path); err != nil {
				return err
			}
			continue
		}
		if _, err := bw.WriteString(line + "\n"); err != nil {
			return nil
		}
	}
	if quit {
		if _, err := bw.WriteString("quit\n"); err != nil {
			return nil
		}
	}
	_ = bw.Flush()
	return nil
}

// SourcePath returns the scenario program's source next to this package.
func SourcePath(dir string) string { return filepath.Join(dir, "testdata", "ZkScenarios.java") }
