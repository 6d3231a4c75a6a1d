package cclient

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Step is one command typed into one client's shell.
type Step struct {
	// Client indexes the scenario's shells: 0 is "A", 1 is "B", ...
	Client int
	// Cmd is the line typed; "$R" stands for the scenario's root znode.
	// "quit" ends the client and collects its last output. Several lines
	// (joined by "\n") are written at once, so their requests pipeline.
	Cmd string
	// Until, when set, waits for a line containing it instead of a
	// barrier (for commands after which the session cannot sync).
	Until string
	// Ends marks a step after which cli_mt shuts itself down (auth
	// failure): once Until is seen the process is killed. Any further
	// input would race with its watcher thread's zookeeper_close (a
	// barrier gets -8 or -9, "quit" can hang in a second close).
	Ends bool
}

// Scenario is a sequence of steps on one or more cli_mt shells.
type Scenario struct {
	Name    string
	Clients int // default 1
	// Setup runs after the root exists and before the steps, e.g. to create
	// nodes with ACLs that cli_mt cannot set.
	Setup func(ctx context.Context, addr, root string) error
	Steps []Step
}

// Root is the scenario's root znode.
func (sc Scenario) Root() string { return "/cli-" + sc.Name }

// Transcript is the normalized record of one scenario on one server.
type Transcript struct {
	Scenario string
	Lines    []string
	Err      error // the harness could not finish the scenario
	Duration time.Duration
}

func label(i int) string { return string(rune('A' + i)) }

// Run plays sc against the server at addr with the cli_mt binary bin. Every
// client's output is attributed to the step that caused it: after each step
// all shells pass a barrier.
func Run(ctx context.Context, bin, addr string, sc Scenario) *Transcript {
	start := time.Now()
	tr := &Transcript{Scenario: sc.Name}
	raw, sessions, err := play(ctx, bin, addr, sc)
	tr.Lines = Normalize(raw, sc.Root(), sessions)
	tr.Err = err
	tr.Duration = time.Since(start)
	return tr
}

func play(ctx context.Context, bin, addr string, sc Scenario) (lines []string, sessions map[string]string, err error) {
	n := max(sc.Clients, 1)
	root := sc.Root()
	sessions = map[string]string{}
	shells := make([]*Shell, n)
	defer func() {
		for _, s := range shells {
			if s != nil {
				s.Kill()
			}
		}
	}()
	emit := func(i int, got []string) {
		for _, l := range got {
			lines = append(lines, label(i)+": "+l)
		}
	}
	for i := range shells {
		s, got, err := Start(ctx, bin, addr)
		emit(i, got)
		if err != nil {
			return lines, sessions, fmt.Errorf("client %s: %w", label(i), err)
		}
		shells[i] = s
		sessions[s.SessionID()] = label(i)
	}
	steps := append([]Step{{Client: 0, Cmd: "create $R"}}, sc.Steps...)
	for k, st := range steps {
		if k == 1 && sc.Setup != nil {
			if err := sc.Setup(ctx, addr, root); err != nil {
				return lines, sessions, fmt.Errorf("setup: %w", err)
			}
		}
		if st.Client < 0 || st.Client >= n || shells[st.Client] == nil {
			return lines, sessions, fmt.Errorf("step %d: client %d not running", k, st.Client)
		}
		lines = append(lines, label(st.Client)+"> "+strings.ReplaceAll(st.Cmd, "\n", " \\n "))
		s := shells[st.Client]
		var got []string
		var err error
		switch {
		case st.Cmd == "quit":
			got, err = s.Quit(ctx)
			shells[st.Client] = nil
		case st.Until != "":
			if err = s.Send(strings.ReplaceAll(st.Cmd, "$R", root)); err == nil {
				got, err = s.ReadUntil(ctx, st.Until)
			}
			if err == nil && st.Ends {
				s.Kill()
				shells[st.Client] = nil
			}
		default:
			if err = s.Send(strings.ReplaceAll(st.Cmd, "$R", root)); err == nil {
				got, err = s.Barrier(ctx)
			}
		}
		emit(st.Client, got)
		if err != nil {
			return lines, sessions, fmt.Errorf("step %d %q: %w", k, st.Cmd, err)
		}
		// Watch events the step caused on other sessions.
		for i, o := range shells {
			if o == nil || i == st.Client {
				continue
			}
			got, err := o.Barrier(ctx)
			emit(i, got)
			if err != nil {
				return lines, sessions, fmt.Errorf("step %d: barrier on %s: %w", k, label(i), err)
			}
		}
	}
	var errs []error
	for i, s := range shells {
		if s == nil {
			continue
		}
		lines = append(lines, label(i)+"> quit")
		got, err := s.Quit(ctx)
		shells[i] = nil
		emit(i, got)
		if err != nil {
			errs = append(errs, fmt.Errorf("quit %s: %w", label(i), err))
		}
	}
	return lines, sessions, errors.Join(errs...)
}

var (
	reTime    = regexp.MustCompile(`^(\w+: )time = \d+ msec$`)
	reDate    = regexp.MustCompile(`^(\w+: \t(?:ctime = |mtime=))(.*)$`)
	reZxid    = regexp.MustCompile(`\b([cm]zxid=)([0-9a-f]+)$`)
	reOwner   = regexp.MustCompile(`(ephemeralOwner = )([0-9a-f]+)$`)
	reSession = regexp.MustCompile(`(Got a new session id: 0x|session Id = )([0-9a-f]+)`)
	// 2026-11-22 04:01:09,209:4254(0x7ff54b6d16c0):ZOO_ERROR@auth_completion_func@2071: msg
	reLog  = regexp.MustCompile(`^(\w+: )\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+:\d+\(0x[0-9a-f]+\):(ZOO_\w+@\w+)@\d+: (.*)$`)
	rePort = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	reHex  = regexp.MustCompile(`0x[0-9a-f]+`)
)

// Normalize removes what legitimately differs between two servers or two
// runs: timings, dates, absolute zxids (kept relative to the first one the
// scenario shows), session ids (replaced by the client's label), the
// scenario root (replaced by $R) and the C client's log prefixes.
func Normalize(lines []string, root string, sessions map[string]string) []string {
	var base int64 = -1
	session := func(hex string) string {
		if l, ok := sessions[hex]; ok {
			return "<session " + l + ">"
		}
		return "<other session>"
	}
	out := make([]string, 0, len(lines))
	for _, l := range sortChildren(lines) {
		if reTime.MatchString(l) {
			continue
		}
		if m := reLog.FindStringSubmatch(l); m != nil {
			msg := rePort.ReplaceAllString(m[3], "127.0.0.1:PORT")
			msg = reHex.ReplaceAllStringFunc(msg, func(h string) string { return session(h[2:]) })
			l = m[1] + "log " + m[2] + ": " + msg
		}
		if m := reDate.FindStringSubmatch(l); m != nil {
			d := "DATE"
			if strings.HasSuffix(m[2], " 1970") {
				d = "EPOCH" // time 0: nodes the server made, not a client
			}
			l = m[1] + d
		}
		if m := reZxid.FindStringSubmatchIndex(l); m != nil {
			z, err := strconv.ParseInt(l[m[4]:m[5]], 16, 64)
			if err == nil && z != 0 {
				if base < 0 {
					base = z
				}
				l = l[:m[4]] + fmt.Sprintf("Z%+d", z-base)
			}
		}
		if m := reOwner.FindStringSubmatchIndex(l); m != nil {
			if hex := l[m[4]:m[5]]; hex != "0" {
				if lab, ok := sessions[hex]; ok {
					l = l[:m[4]] + "<session " + lab + ">"
				}
				// Other owners (TTL, container markers) are deterministic.
			}
		}
		l = reSession.ReplaceAllStringFunc(l, func(s string) string {
			m := reSession.FindStringSubmatch(s)
			return strings.TrimSuffix(m[1], "0x") + session(m[2])
		})
		l = strings.ReplaceAll(l, root, "$R")
		out = append(out, l)
	}
	return out
}

var reListing = regexp.MustCompile(`^(\w+): /\S*: rc = 0$`)

// sortChildren sorts the children an ls or ls2 prints: ZooKeeper does not
// define their order (Apache returns its HashSet's iteration order).
func sortChildren(lines []string) []string {
	out := append([]string(nil), lines...)
	for i := 0; i < len(out); i++ {
		m := reListing.FindStringSubmatch(out[i])
		if m == nil {
			continue
		}
		prefix := m[1] + ": \t"
		j := i + 1
		for j < len(out) && strings.HasPrefix(out[j], prefix) && !strings.HasPrefix(out[j], prefix+"ctime = ") {
			j++
		}
		slices.Sort(out[i+1 : j])
		i = j - 1
	}
	return out
}
