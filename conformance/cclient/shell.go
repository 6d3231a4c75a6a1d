// Package cclient drives the ZooKeeper C client's interactive shell, cli_mt
// (Debian package zookeeper-bin), through its stdin so that Apache
// ZooKeeper and zkserver can be compared through the C client library.
//
// cli_mt answers every command asynchronously on stderr, so a Shell sends
// one command and then a barrier, "sync /zookeeper": the C client completes
// requests and delivers watch events in the order the server sent them, so
// once the barrier's completion is printed, everything the command caused on
// this session has been printed too.
package cclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// CliMT is where Debian's zookeeper-bin installs cli_mt.
const CliMT = "/usr/lib/zookeeper/bin/cli_mt"

// ErrNoCliMT reports that cli_mt is not installed.
var ErrNoCliMT = errors.New("cclient: cli_mt (Debian package zookeeper-bin) not found")

// BarrierPath is the path the barrier syncs; scenarios must not sync it.
const BarrierPath = "/zookeeper"

// FindCliMT returns the cli_mt binary: CliMT, or wherever dpkg says the
// zookeeper-bin package put it.
func FindCliMT(ctx context.Context) (string, error) {
	if _, err := os.Stat(CliMT); err == nil {
		return CliMT, nil
	}
	out, err := exec.CommandContext(ctx, "dpkg", "-L", "zookeeper-bin").Output()
	if err != nil {
		return "", fmt.Errorf("%w: dpkg -L zookeeper-bin: %v", ErrNoCliMT, err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasSuffix(l, "/cli_mt") {
			if st, err := os.Stat(l); err == nil && !st.IsDir() {
				return l, nil
			}
		}
	}
	return "", fmt.Errorf("%w: not listed by dpkg -L zookeeper-bin", ErrNoCliMT)
}

// Shell is one running cli_mt process connected to a server.
type Shell struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	lines     chan string // merged stdout and stderr, closed at EOF
	waitErr   chan error
	sessionID string // hex, as cli_mt prints it after "0x"
	closeOnce sync.Once
}

// StepTimeout bounds the wait for any one reply; servers answer in
// milliseconds, so reaching it means a reply never came.
const StepTimeout = 15 * time.Second

// Start runs cli_mt against addr and waits for its session. The lines
// printed while connecting are returned.
func Start(ctx context.Context, bin, addr string) (*Shell, []string, error) {
	// stdbuf: cli_mt prints "myid" with printf on stdout, which a pipe
	// would otherwise buffer until exit, out of order with stderr.
	args := []string{"-o0", "-e0", bin, addr}
	cmd := exec.Command("stdbuf", args...)
	if _, err := exec.LookPath("stdbuf"); err != nil {
		cmd = exec.Command(bin, addr)
	}
	// Dates in stats are printed with ctime_r; UTC keeps them comparable.
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("cclient: stdin pipe: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("cclient: output pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, nil, fmt.Errorf("cclient: start %s: %w", bin, err)
	}
	pw.Close()
	s := &Shell{cmd: cmd, stdin: stdin, lines: make(chan string, 1024), waitErr: make(chan error, 1)}
	go func() {
		defer close(s.lines)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	go func() { s.waitErr <- cmd.Wait() }()
	var got []string
	_, err = s.readUntil(ctx, func(l string) bool {
		got = append(got, l)
		if id, ok := strings.CutPrefix(l, "Got a new session id: 0x"); ok {
			s.sessionID = id
			return true
		}
		return false
	})
	if err != nil {
		s.Kill()
		return nil, got, fmt.Errorf("cclient: waiting for a session: %w (output: %q)", err, got)
	}
	return s, got, nil
}

// SessionID is the session id in hex, as cli_mt prints it.
func (s *Shell) SessionID() string { return s.sessionID }

// Send writes one command line.
func (s *Shell) Send(line string) error {
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		return fmt.Errorf("cclient: send %q: %w", line, err)
	}
	return nil
}

// readUntil collects lines until stop returns true for one (included).
func (s *Shell) readUntil(ctx context.Context, stop func(string) bool) ([]string, error) {
	timer := time.NewTimer(StepTimeout)
	defer timer.Stop()
	var got []string
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return got, fmt.Errorf("cclient: cli_mt exited")
			}
			got = append(got, l)
			if stop(l) {
				return got, nil
			}
		case <-timer.C:
			return got, fmt.Errorf("cclient: no reply within %v", StepTimeout)
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}

// ReadUntil returns the lines up to and including the first that contains
// sub.
func (s *Shell) ReadUntil(ctx context.Context, sub string) ([]string, error) {
	return s.readUntil(ctx, func(l string) bool { return strings.Contains(l, sub) })
}

// Barrier sends "sync /zookeeper" and returns the lines printed before its
// completion (the barrier's own lines are dropped).
func (s *Shell) Barrier(ctx context.Context) ([]string, error) {
	if err := s.Send("sync " + BarrierPath); err != nil {
		return nil, err
	}
	okLine := "[" + BarrierPath + "]: rc = 0"
	failPrefix := "[" + BarrierPath + "]: rc = "
	// Without a handle (after an auth failure or expiry) cli_mt refuses
	// the command synchronously.
	refused := "Error "
	refusedSuffix := " for " + BarrierPath
	var seenOK bool
	got, err := s.readUntil(ctx, func(l string) bool {
		switch {
		case seenOK:
			return l == "\tname = "+BarrierPath
		case l == okLine:
			seenOK = true
			return false
		case strings.HasPrefix(l, failPrefix):
			return true
		case strings.HasPrefix(l, refused) && strings.HasSuffix(l, refusedSuffix):
			return true
		}
		return false
	})
	if err != nil {
		return got, err
	}
	n := len(got) - 1
	if seenOK {
		n--
	}
	out := got[:n]
	if !seenOK {
		// A failed barrier is part of what the server did: keep it.
		out = append(out, "barrier: "+got[len(got)-1])
	}
	return out, nil
}

// Quit sends "quit", closes stdin and returns what cli_mt prints until it
// exits.
func (s *Shell) Quit(ctx context.Context) ([]string, error) {
	s.closeOnce.Do(func() {
		// cli_mt may already have shut itself down (auth failure, session
		// expiry): then the write fails and only its last output matters.
		_ = s.Send("quit")
		s.stdin.Close()
	})
	var got []string
	timer := time.NewTimer(StepTimeout)
	defer timer.Stop()
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				select {
				case werr := <-s.waitErr:
					if werr != nil {
						return got, fmt.Errorf("cclient: cli_mt: %w", werr)
					}
					return got, nil
				case <-timer.C:
					s.Kill()
					return got, fmt.Errorf("cclient: cli_mt did not exit")
				}
			}
			got = append(got, l)
		case <-timer.C:
			s.Kill()
			return got, fmt.Errorf("cclient: cli_mt did not exit within %v", StepTimeout)
		case <-ctx.Done():
			s.Kill()
			return got, ctx.Err()
		}
	}
}

// Kill ends the process group of this cli_mt (stdbuf execs it, so that is
// exactly the process started here).
func (s *Shell) Kill() {
	s.closeOnce.Do(func() { s.stdin.Close() })
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
	// Unblock the reader goroutine if nobody reads the rest.
	go func() {
		for range s.lines {
		}
	}()
}
