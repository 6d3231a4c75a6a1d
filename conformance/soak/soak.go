// Package soak holds what the soak tests (`make soak`, build tag soak) of
// zkserver and the broker share: the run's length, samples of a server
// process's resources, a growth check over them, and a scan of server logs
// for crashes and data races.
package soak

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Duration is SOAK_DURATION, or def when it is unset.
func Duration(t testing.TB, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv("SOAK_DURATION")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("SOAK_DURATION: %v", err)
	}
	return d
}

// BuildFlags are the go build flags for the servers a soak runs: the race
// detector unless SOAK_RACE=0.
func BuildFlags() []string {
	if os.Getenv("SOAK_RACE") == "0" {
		return nil
	}
	return []string{"-race"}
}

// Sample is one reading of a process's resident memory, threads and open
// files (sockets included).
type Sample struct {
	RSSKB, Threads, Files int
}

// Read samples the process pid from /proc. Open files under the data
// directories are not counted: a broker keeps every segment open, as Kafka
// does, so their number grows with the data, not with a leak.
func Read(pid int, dataDirs ...string) (Sample, error) {
	var s Sample
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("sample process %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			s.RSSKB, _ = strconv.Atoi(fields[1])
		case "Threads:":
			s.Threads, _ = strconv.Atoi(fields[1])
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, fmt.Errorf("sample process %d: %w", pid, err)
	}
	for _, fd := range fds {
		target, _ := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		data := false
		for _, d := range dataDirs {
			data = data || strings.HasPrefix(target, d+"/")
		}
		if !data {
			s.Files++
		}
	}
	return s, nil
}

// SampleUntil reads pid every interval until end.
func SampleUntil(t testing.TB, pid int, end time.Time, interval time.Duration, dataDirs ...string) []Sample {
	t.Helper()
	var samples []Sample
	for time.Now().Before(end) {
		time.Sleep(interval)
		s, err := Read(pid, dataDirs...)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, s)
	}
	return samples
}

// CheckGrowth compares the last of samples taken under a constant load with
// the highest of the first quarter: open files and threads stay about level,
// memory well under double. A server that leaks per request fails it over a
// long enough run.
func CheckGrowth(t testing.TB, who string, samples []Sample) {
	t.Helper()
	if len(samples) < 4 {
		t.Logf("%s: too few samples to judge growth (%d)", who, len(samples))
		return
	}
	var base Sample
	for _, s := range samples[:len(samples)/4] {
		base.RSSKB, base.Threads, base.Files = max(base.RSSKB, s.RSSKB), max(base.Threads, s.Threads), max(base.Files, s.Files)
	}
	last := samples[len(samples)-1]
	t.Logf("%s under a steady load: first quarter's highest RSS %d KiB, %d threads, %d files; last %d KiB, %d threads, %d files",
		who, base.RSSKB, base.Threads, base.Files, last.RSSKB, last.Threads, last.Files)
	if last.Files > base.Files+32 {
		t.Errorf("%s: open files grew from %d to %d under a steady load", who, base.Files, last.Files)
	}
	if last.Threads > base.Threads+16 {
		t.Errorf("%s: threads grew from %d to %d under a steady load", who, base.Threads, last.Threads)
	}
	if last.RSSKB > 2*base.RSSKB+64<<10 {
		t.Errorf("%s: RSS grew from %d KiB to %d KiB under a steady load", who, base.RSSKB, last.RSSKB)
	}
}

// GORACE is the race detector's setting for the servers a soak runs: a race
// report does not change the exit status (CheckLogs judges the reports), so
// that a known race of a dependency does not fail a clean shutdown.
const GORACE = "exitcode=0"

// KnownRace is a data race of a dependency, recognized by frames that all
// appear in its report.
type KnownRace struct {
	Why    string
	Frames []string
}

// GoZookeeperLastZxid: go-zookeeper/zk v1.0.4 reads Conn.lastZxid for the
// SetWatches it sends after a reconnect while its receive loop may already be
// storing the zxid of a reply (go-zookeeper/zk PR #35, samuel/go-zookeeper
// issue #260, both unmerged). Either value is one the session has seen, so
// the watches are restored either way.
var GoZookeeperLastZxid = KnownRace{
	Why:    "go-zookeeper/zk's lastZxid read by sendSetWatches while recvLoop writes it (upstream PR #35)",
	Frames: []string{"zk.(*Conn).recvLoop()", "zk.(*Conn).sendSetWatches()"},
}

// CheckLogs fails on a panic, a fatal runtime error or a data race report in
// any of the logs, showing the report; a report of a known race is counted
// in the test's log instead.
func CheckLogs(t testing.TB, logs []string, known ...KnownRace) {
	t.Helper()
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		text := string(b)
		for _, bad := range []string{"panic:", "fatal error:"} {
			if i := strings.Index(text, bad); i >= 0 {
				t.Errorf("%s: %q:\n%s", filepath.Base(f), bad, text[max(0, i-2000):min(len(text), i+6000)])
			}
		}
		reports := strings.Split(text, "WARNING: DATA RACE")
		for _, r := range reports[1:] {
			if end := strings.Index(r, "=================="); end >= 0 {
				r = r[:end]
			}
			if k, ok := knownRace(r, known); ok {
				t.Logf("%s: a known data race: %s", filepath.Base(f), k.Why)
				continue
			}
			t.Errorf("%s: DATA RACE%s", filepath.Base(f), r)
		}
	}
}

func knownRace(report string, known []KnownRace) (KnownRace, bool) {
	for _, k := range known {
		all := true
		for _, fr := range k.Frames {
			all = all && strings.Contains(report, fr)
		}
		if all {
			return k, true
		}
	}
	return KnownRace{}, false
}

// WaitFor polls cond, which says what is still missing or "", once a second
// until it is satisfied; it fails the test once limit has passed.
func WaitFor(t testing.TB, limit time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		missing := cond()
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s: %s", limit, what, missing)
		}
		time.Sleep(time.Second)
	}
}
