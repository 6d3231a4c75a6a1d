package javaclient

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/conformance/harness"
)

var (
	zxidLine  = regexp.MustCompile(`^(cZxid|mZxid|pZxid) = 0x([0-9a-f]+)$`)
	timeLine  = regexp.MustCompile(`^(ctime|mtime) = .*$`)
	ownerLine = regexp.MustCompile(`^ephemeralOwner = 0x([0-9a-f]+)$`)
)

// closedEvent is printed by the client's event thread after quit closed
// the session, or not at all when the JVM exits first.
const closedEvent = "WatchedEvent state:Closed type:None path:null"

// noise are lines whose presence or position depends on JVM start-up and
// thread scheduling, not on the server.
func noise(l string) bool {
	return strings.HasPrefix(l, "SLF4J:") ||
		strings.HasPrefix(l, "Connecting to ") ||
		l == "Welcome to ZooKeeper!" ||
		l == "JLine support is disabled" ||
		l == "WATCHER::" ||
		strings.TrimSpace(l) == ""
}

// NormalizeCli turns a zkCli.sh transcript into lines two correct servers
// agree on: start-up noise and blank lines dropped, zxids rebased to the
// first one printed ("pre" for older ones), times and session ids replaced.
// Watch events are printed by the client's event thread, racing with the
// command output, so they are collected, sorted and appended at the end
// after an "events:" line; the exit status comes last. After a failed authentication (an AuthFailed event) what
// zkCli.sh prints for a command depends on when the server's answer arrived, against Apache as against ours:
// "Not connected", or the command's own AuthFailed error (a whoami's bare header); each becomes one line, and the
// exit status, which follows that form, is left out.
func NormalizeCli(r CliResult) []string {
	var lines, events []string
	base := int64(-1)
	for _, l := range strings.Split(r.Output, "\n") {
		l = strings.TrimRight(l, "\r")
		if noise(l) {
			continue
		}
		if l == closedEvent {
			continue
		}
		if strings.HasPrefix(l, "WatchedEvent ") {
			events = append(events, l)
			continue
		}
		if m := zxidLine.FindStringSubmatch(l); m != nil {
			z, err := strconv.ParseInt(m[2], 16, 64)
			if err == nil {
				l = m[1] + " = " + rebase(&base, z)
			}
		} else if m := timeLine.FindStringSubmatch(l); m != nil {
			l = m[1] + " = T"
		} else if m := ownerLine.FindStringSubmatch(l); m != nil && m[1] != "0" {
			l = "ephemeralOwner = SESSION"
		}
		lines = append(lines, l)
	}
	sort.Strings(events)
	authFailed := slices.Contains(events, "WatchedEvent state:AuthFailed type:None path:null")
	if authFailed {
		lines = refusedAfterAuthFailure(lines)
	}
	lines = append(lines, "events:")
	lines = append(lines, events...)
	if authFailed {
		return lines
	}
	return append(lines, fmt.Sprintf("exit %d", r.ExitCode))
}

// authFailedCommand is a command zkCli.sh did not run because the AuthFailed state had reached the client, or
// whose request failed with AuthFailed.
var authFailedCommand = regexp.MustCompile(`^(Not connected|KeeperErrorCode = AuthFailed for .*)$`)

// refusedAfterAuthFailure replaces each refused command's output by one line. A whoami that was sent and failed
// prints only its header: a served one lists at least the connection's ip id after it.
func refusedAfterAuthFailure(lines []string) []string {
	out := make([]string, 0, len(lines))
	for i, l := range lines {
		if authFailedCommand.MatchString(l) ||
			(l == "Auth scheme: User" && (i+1 == len(lines) || authFailedCommand.MatchString(lines[i+1]) || lines[i+1] == "Auth scheme: User")) {
			l = "<command refused: authentication failed>"
		}
		out = append(out, l)
	}
	return out
}

func rebase(base *int64, z int64) string {
	if z <= 0 {
		return strconv.FormatInt(z, 10)
	}
	if *base < 0 {
		*base = z
	}
	if z < *base {
		return "pre"
	}
	return "+" + strconv.FormatInt(z-*base, 10)
}

// Diff returns "" when a and b are equal, else a line diff of b against a
// (the reference), headed by the scenario and the two sides' names, with up
// to three lines of context around each change.
func Diff(scenario, aName string, a []string, bName string, b []string) string {
	if equal(a, b) {
		return ""
	}
	eds := harness.LineEdits(a, b, false)
	const ctx = 3
	show := make([]bool, len(eds))
	for k, e := range eds {
		if e.Op == ' ' {
			continue
		}
		for d := max(0, k-ctx); d <= min(len(eds)-1, k+ctx); d++ {
			show[d] = true
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s (%s)\n+++ %s (%s)\n", scenario, aName, scenario, bName)
	gap := false
	for k, e := range eds {
		if !show[k] {
			gap = true
			continue
		}
		if gap {
			sb.WriteString("@@\n")
			gap = false
		}
		fmt.Fprintf(&sb, "%c %s\n", e.Op, e.Line)
	}
	return sb.String()
}

func equal(a, b []string) bool {
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
