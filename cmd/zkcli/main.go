// Command zkcli is a ZooKeeper shell compatible with Apache's zkCli.sh 3.8:
// same invocation (zkcli -server host:port [-timeout ms] [-r] cmd args...),
// same commands, output, error messages and exit codes, so scripts written
// for zkCli.sh keep working. Without a command it reads commands from stdin.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkclient"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, isTerminal(os.Stdin)))
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// cliError is a CliException: the message zkCli prints on stderr and the
// exit code it sets.
type cliError struct {
	msg  string
	code int
}

func (e *cliError) Error() string { return e.msg }

func failf(format string, a ...any) error { return &cliError{msg: fmt.Sprintf(format, a...), code: 1} }

// Connection states as ZooKeeper.States prints them in the prompt.
const (
	stConnecting = "CONNECTING"
	stConnected  = "CONNECTED"
	stReadOnly   = "CONNECTEDREADONLY"
	stClosed     = "CLOSED"
	stAuthFailed = "AUTH_FAILED"
)

type cli struct {
	out, errw io.Writer

	server      string
	timeout     time.Duration
	readOnly    bool
	interactive bool

	conn         *zkclient.Conn
	state        string
	userClosed   bool
	auths        []jute.AuthPacket // replayed when a session is resumed
	watches      *watchBook
	printWatches bool

	history  map[int]string
	count    int
	lastArgs []string
	exitCode int
	quit     bool
}

func run(argv []string, stdin io.Reader, stdout, stderr io.Writer, tty bool) int {
	c := &cli{out: stdout, errw: stderr, server: "localhost:2181", timeout: 30 * time.Second,
		printWatches: true, history: map[int]string{}, state: stConnecting, watches: newWatchBook()}
	var cmd []string
	// ZooKeeperMain.parseOptions: known flags anywhere before the command,
	// unknown dash words ignored, the first other word starts the command.
	for i := 0; i < len(argv); i++ {
		opt := argv[i]
		needArg := func() (string, bool) {
			if i+1 >= len(argv) {
				fmt.Fprintln(stderr, "Error: no argument found for option "+opt)
				return "", false
			}
			i++
			return argv[i], true
		}
		switch opt {
		case "-server":
			v, ok := needArg()
			if !ok {
				goto parsed
			}
			c.server = v
		case "-timeout":
			v, ok := needArg()
			if !ok {
				goto parsed
			}
			ms, err := strconv.Atoi(v)
			if err != nil {
				fmt.Fprintf(stderr, "Exception in thread \"main\" java.lang.NumberFormatException: For input string: \"%s\"\n", v)
				return 1
			}
			c.timeout = time.Duration(ms) * time.Millisecond
		case "-r":
			c.readOnly = true
		case "-client-configuration":
			v, ok := needArg()
			if !ok {
				goto parsed
			}
			fmt.Fprintf(stderr, "zkcli: -client-configuration %s is ignored\n", v)
		case "-waitforconnection":
			// zkcli always waits for the session before running a command.
		}
		if !strings.HasPrefix(opt, "-") {
			cmd = argv[i:]
			break
		}
	}
parsed:
	fmt.Fprintln(stdout, "Connecting to "+c.server)
	if cmd == nil {
		c.interactive = true
		c.repl(stdin, tty)
	} else {
		c.processCmd(cmd)
	}
	c.flushEvents()
	if c.conn != nil && !c.userClosed {
		// Like the JVM exiting, leave the session to expire rather than close it.
		c.conn.CloseNoSession()
	}
	return c.exitCode
}

func (c *cli) repl(stdin io.Reader, tty bool) {
	fmt.Fprintln(c.out, "Welcome to ZooKeeper!")
	if tty {
		fmt.Fprintln(c.out, "JLine support is enabled")
	} else {
		fmt.Fprintln(c.out, "JLine support is disabled")
	}
	// zkCli connects at start in interactive mode; a failure shows later.
	c.ensureConn()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for !c.quit {
		if tty {
			fmt.Fprintf(c.out, "[zk: %s(%s) %d] ", c.server, c.state, c.count)
		}
		var events <-chan zkclient.Event
		if c.conn != nil {
			events = c.conn.Events()
		}
		select {
		case line, ok := <-lines:
			if !ok {
				return
			}
			c.executeLine(line)
		case ev, ok := <-events:
			if !ok {
				c.connectionEnded()
				continue
			}
			c.serverEvent(ev)
		}
	}
}

func (c *cli) executeLine(line string) {
	if line == "" {
		return
	}
	args := splitLine(line)
	if len(args) == 0 {
		// parseCommand fails and keeps the previous command, which runs again
		args = c.lastArgs
	}
	c.lastArgs = args
	c.history[c.count] = line
	c.processCmd(args)
	c.count++
}

func (c *cli) processCmd(args []string) {
	err := c.processZKCmd(args)
	c.flushEvents()
	var ce *cliError
	switch {
	case err == nil:
		c.exitCode = 0
	case errors.As(err, &ce):
		c.exitCode = ce.code
		fmt.Fprintln(c.errw, ce.msg)
	default:
		c.exitCode = 1
		fmt.Fprintln(c.errw, err.Error())
	}
}

func (c *cli) usage() {
	fmt.Fprintln(c.errw, "ZooKeeper -server host:port -client-configuration properties-file cmd args")
	names := make([]string, 0, len(commands)+5)
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(c.errw, "\t"+n+" "+commands[n].opts)
	}
}

func (c *cli) alive() bool { return c.state != stClosed && c.state != stAuthFailed }

func (c *cli) processZKCmd(args []string) error {
	if len(args) < 1 {
		c.usage()
		return failf("No command entered")
	}
	name := args[0]
	cmd, ok := commands[name]
	if !ok {
		c.usage()
		return &cliError{msg: "Command not found: Command not found " + name, code: 127}
	}
	switch name {
	case "quit":
		c.closeConn()
		c.quit = true
		return nil
	case "redo":
		if len(args) >= 2 {
			i, err := strconv.ParseInt(args[1], 0, 32)
			if err != nil {
				return failf("java.lang.NumberFormatException: For input string: \"%s\"", args[1])
			}
			if c.count <= int(i) || i < 0 {
				return failf("Command index out of range")
			}
			line := c.history[int(i)]
			redo := splitLine(line)
			if len(redo) > 0 && redo[0] == "redo" {
				return failf("No redoing redos")
			}
			c.history[c.count] = line
			c.processCmd(redo)
		}
	case "history":
		for i := c.count - 10; i <= c.count; i++ {
			if i >= 0 {
				fmt.Fprintf(c.out, "%d - %s\n", i, c.history[i])
			}
		}
	case "printwatches":
		if len(args) == 1 {
			fmt.Fprintf(c.out, "printwatches is %s\n", map[bool]string{true: "on", false: "off"}[c.printWatches])
		} else {
			c.printWatches = args[1] == "on"
		}
	case "connect":
		if len(args) >= 2 {
			c.server = args[1]
		}
		c.closeConn()
		c.userClosed = false
		c.state = stConnecting
		c.ensureConn()
	}
	if !c.alive() {
		fmt.Fprintln(c.out, "Not connected")
		return nil
	}
	if cmd.run == nil {
		return nil
	}
	return cmd.run(c, args)
}

// ensureConn connects if no session exists yet. zkCli's commands wait for
// the connection; here a failed connect reports ConnectionLoss.
func (c *cli) ensureConn() error {
	if c.conn != nil {
		return nil
	}
	if !c.alive() {
		return jute.ErrConnectionLoss
	}
	conn, err := zkclient.Dial(c.server, zkclient.Options{SessionTimeout: c.timeout, ReadOnly: c.readOnly, SendReadOnlyByte: true})
	if err != nil {
		return fmt.Errorf("%w: %w", jute.ErrConnectionLoss, err)
	}
	c.conn = conn
	c.state = stConnected
	st := zkclient.StateSyncConnected
	if conn.ReadOnlyServer() {
		c.state, st = stReadOnly, zkclient.StateConnectedRO
	}
	c.printEvent(jute.EventNone, st, "")
	return nil
}

// closeConn closes the session as zk.close() does, printing the Closed event.
func (c *cli) closeConn() {
	if c.conn == nil {
		if c.alive() && c.state != stConnecting {
			c.state = stClosed
		}
		return
	}
	c.flushEvents()
	c.conn.Close()
	c.flushEvents()
	c.conn = nil
	c.userClosed = true
	c.state = stClosed
	c.watches = newWatchBook()
	c.printEvent(jute.EventNone, zkclient.StateClosed, "")
}

// connectionEnded handles a connection that dropped: report Disconnected and
// try to resume the session within its timeout, as the Java client does.
func (c *cli) connectionEnded() {
	old := c.conn
	c.conn = nil
	if c.userClosed || old == nil {
		return
	}
	if errors.Is(old.Err(), zkclient.ErrClosed) {
		c.state = stClosed
		return
	}
	c.printEvent(jute.EventNone, zkclient.StateDisconnected, "")
	c.state = stConnecting
	deadline := time.Now().Add(old.Timeout())
	for time.Now().Before(deadline) {
		conn, err := zkclient.DialSession(c.server, old.SessionID(), old.Password(),
			zkclient.Options{SessionTimeout: c.timeout, ReadOnly: c.readOnly, SendReadOnlyByte: true, LastZxidSeen: old.LastZxid()})
		if errors.Is(err, jute.ErrSessionExpired) {
			break
		}
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		c.conn, c.state = conn, stConnected
		c.printEvent(jute.EventNone, zkclient.StateSyncConnected, "")
		// primeConnection order: auth packets, then the watches to re-arm.
		for _, a := range c.auths {
			if conn.AddAuth(a.Scheme, a.Auth) != nil {
				c.authFailed()
				return
			}
		}
		w := c.watches
		conn.SetWatches(old.LastZxid(), keys(w.data), keys(w.exist), keys(w.child), keys(w.persistent), keys(w.recursive))
		return
	}
	c.state = stClosed
	c.watches = newWatchBook()
	c.printEvent(jute.EventNone, zkclient.StateExpired, "")
}

func (c *cli) authFailed() {
	c.printEvent(jute.EventNone, zkclient.StateAuthFailed, "")
	if c.conn != nil {
		c.conn.CloseNoSession()
		c.conn = nil
	}
	c.state = stAuthFailed
}

// flushEvents prints the notifications already received. Output always
// flushes first, so an event that arrived before a reply prints before the
// command's output, as zkCli's event thread usually does.
func (c *cli) flushEvents() {
	if c.conn == nil {
		return
	}
	for {
		select {
		case ev, ok := <-c.conn.Events():
			if !ok {
				if !c.interactive {
					return
				}
				c.connectionEnded()
				return
			}
			c.serverEvent(ev)
		default:
			return
		}
	}
}

func (c *cli) serverEvent(ev zkclient.Event) {
	c.watches.fired(ev.Type, ev.Path)
	c.printEvent(ev.Type, ev.State, ev.Path)
}

func (c *cli) printEvent(typ, state int32, path string) {
	if !c.printWatches {
		return
	}
	fmt.Fprint(c.out, "\nWATCHER::\n\n"+eventString(typ, state, path)+"\n")
}

// println writes a line of command output, after any pending events.
func (c *cli) println(s string) {
	c.flushEvents()
	fmt.Fprintln(c.out, s)
}

func (c *cli) eprintln(s string) {
	c.flushEvents()
	fmt.Fprintln(c.errw, s)
}
