package diff

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/jute"
)

// Scenario is one named differential test. Fn gets the recorder and a first
// client "c1" that has already created the scenario root r.Root().
type Scenario struct {
	Name string
	Fn   func(r *R, c *Client)
}

// ServerProps are the zoo.cfg lines every server of a differential run
// gets: every four-letter word is whitelisted except gtmk and stmk, so the
// not-whitelisted reply can be compared too; quotas are enforced
// (enforceQuota becomes the system property zookeeper.enforceQuota, as every
// unknown zoo.cfg key does).
func ServerProps() map[string]string {
	return map[string]string{
		"4lw.commands.whitelist": "conf,cons,crst,dirs,dump,envi,ruok,srvr,srst,stat,wchc,wchp,wchs,mntr,isro,hash",
		"enforceQuota":           "true",
	}
}

// Log is the outcome of one scenario on one server.
type Log struct {
	Scenario string
	Root     string
	Lines    []string
	// Err is a harness failure (panic, dial failure): not a server difference.
	Err      error
	Duration time.Duration
}

// Run executes one scenario against the server at addr with root path root.
// All clients still open at the end are closed (logged), so no session of
// this scenario outlives it.
func Run(ctx context.Context, addr, root string, sc Scenario) (lg *Log) {
	return RunQuorum(ctx, []string{addr}, root, sc)
}

// RunQuorum is Run against an ensemble: clients connect to any of addrs
// (the leader's last; the first client to addrs[0]) and flushes are syncs
// (on the leader, failing writes: see Client.roundTrip).
func RunQuorum(ctx context.Context, addrs []string, root string, sc Scenario) (lg *Log) {
	start := time.Now()
	r := newR(ctx, addrs, root)
	lg = &Log{Scenario: sc.Name, Root: root}
	defer func() {
		if p := recover(); p != nil {
			r.broken = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
		r.closeLeftovers()
		lg.Lines, lg.Err, lg.Duration = r.lines, r.broken, time.Since(start)
	}()
	c := r.Connect("c1")
	c.Create(root, "", jute.ModePersistent, nil)
	sc.Fn(r, c)
	return lg
}

// RunAll runs scenarios in order against one server; scenario i (0-based)
// gets root "/s<i+1>". Scenarios must run one at a time per server: zxids are
// compared relative to each scenario's first zxid.
func RunAll(ctx context.Context, addr string, scs []Scenario) []*Log {
	out := make([]*Log, len(scs))
	for i, sc := range scs {
		out[i] = Run(ctx, addr, fmt.Sprintf("/s%d", i+1), sc)
	}
	return out
}

// Compare returns "" when the logs agree, else a readable line diff labelled
// with the two server names.
func Compare(aName string, a *Log, bName string, b *Log) string {
	if equalLines(a.Lines, b.Lines) {
		return ""
	}
	return fmt.Sprintf("scenario %s (root %s): --- %s +++ %s\n%s", a.Scenario, a.Root, aName, bName, lineDiff(a.Lines, b.Lines, 3))
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// lineDiff renders an LCS-based unified diff with ctx lines of context.
func lineDiff(a, b []string, ctx int) string {
	rows := harness.LineEdits(a, b, false)
	keep := make([]bool, len(rows))
	for k, rw := range rows {
		if rw.Op != ' ' {
			for x := max(0, k-ctx); x <= min(len(rows)-1, k+ctx); x++ {
				keep[x] = true
			}
		}
	}
	var sb strings.Builder
	skipped := false
	for k, rw := range rows {
		if !keep[k] {
			skipped = true
			continue
		}
		if skipped {
			sb.WriteString("  ...\n")
			skipped = false
		}
		sb.WriteByte(rw.Op)
		sb.WriteByte(' ')
		sb.WriteString(rw.Line)
		sb.WriteByte('\n')
	}
	if skipped {
		sb.WriteString("  ...\n")
	}
	return sb.String()
}
