//go:build soak

package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/soak"
)

// TestSoakZooKeeper runs zkserver (built with the race detector unless
// SOAK_RACE=0) for SOAK_DURATION (default 10m) under clients that each check
// a ZooKeeper guarantee, then checks the tree against what they were told:
//   - compare-and-set increments of one counter from three sessions: the
//     counter ends between the acknowledged increments and those plus the
//     ones whose answer was lost;
//   - sequential creates, each session keeping its last 1000: every
//     acknowledged one not deleted exists, and each session's sequence
//     numbers grow in acknowledgement order;
//   - two-node multis, created and (1000 later) deleted in pairs: both nodes
//     of a pair exist or neither, and every acknowledged pair not deleted
//     exists;
//   - a reader that re-reads a node on every data watch while a writer
//     increments it: the values it sees never go back (a session's view is
//     monotonic, across restarts too) and its watches fire up to the last
//     write;
//   - short sessions with an ephemeral node each: once they are closed no
//     ephemeral is left.
//
// The first 40% of the run is steady and zkserver's RSS, threads and open
// files are sampled; then the server is killed (SIGKILL, or SIGTERM) every
// 5-15 s and restarted on the same dataDir. Its log may show no panic and no
// data race.
func TestSoakZooKeeper(t *testing.T) {
	dur := soak.Duration(t, 10*time.Minute)
	dir := t.TempDir()
	bin := filepath.Join(dir, "zkserver")
	args := append(append([]string{"build"}, soak.BuildFlags()...), "-o", bin, ".")
	if b, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := writeZooCfg(t, dir, filepath.Join(dir, "data"), port, "snapCount=1000")
	logf := filepath.Join(dir, "zkserver.log")
	start := time.Now()
	env := []string{"GORACE=" + soak.GORACE}
	p := startProc(t, bin, []string{"start-foreground", cfg}, env, addr, logf)

	setup := connect(t, addr)
	for _, path := range []string{"/soak", "/soak/counter", "/soak/seq", "/soak/multi", "/soak/eph", "/soak/w"} {
		if _, err := setup.Create(path, []byte("0"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %s: %v", path, err)
		}
	}
	setup.Close()

	l := &zkLedger{seqs: map[string]bool{}, pairs: map[int]bool{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	session := func() *zk.Conn {
		c, err := dialSoak(addr)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for w := range 3 {
		c := session()
		wg.Add(1)
		go func() { defer wg.Done(); defer c.Close(); l.increment(c, stop) }()
		if w < 2 {
			c := session()
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); l.createSequential(c, w, stop) }()
		}
	}
	mc := session()
	wg.Add(1)
	go func() { defer wg.Done(); defer mc.Close(); l.createPairs(mc, stop) }()
	wc, rc := session(), session()
	defer rc.Close()
	wg.Add(1)
	go func() { defer wg.Done(); defer wc.Close(); l.write(wc, stop) }()
	watchDone, quitWatch := make(chan struct{}), make(chan struct{})
	go func() { defer close(watchDone); l.watch(rc, quitWatch) }()
	for w := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); l.ephemerals(addr, w, stop) }()
	}

	soak.CheckGrowth(t, "zkserver", soak.SampleUntil(t, p.cmd.Process.Pid, start.Add(dur*4/10), 5*time.Second, filepath.Join(dir, "data")))

	kills := map[string]int{}
	for time.Now().Before(start.Add(dur * 9 / 10)) {
		time.Sleep(time.Duration(5+rand.IntN(11)) * time.Second)
		if rand.IntN(10) < 7 {
			p.kill()
			kills["SIGKILL"]++
		} else {
			p.term(t)
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("zkserver exited %d on SIGTERM\n%s", code, tail(logf))
			}
			kills["SIGTERM"]++
		}
		p = startProc(t, bin, []string{"start-foreground", cfg}, env, addr, logf)
		t.Logf("%v: restarts %v", time.Since(start).Round(time.Second), kills)
	}
	close(stop)
	wg.Wait()

	c := connect(t, addr)
	defer c.Close()
	soak.WaitFor(t, time.Minute, "the reader's watch to see the last write", func() string {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.seen < l.written {
			return fmt.Sprintf("last value seen %d, last acknowledged write %d", l.seen, l.written)
		}
		return ""
	})
	close(quitWatch)
	rc.Close()
	<-watchDone
	soak.WaitFor(t, time.Minute, "closed sessions' ephemerals to be gone", func() string {
		kids, _, err := c.Children("/soak/eph")
		if err != nil {
			return err.Error()
		}
		return strings.Join(kids, " ")
	})

	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.bad {
		t.Error(b)
	}
	l.check(t, c)
	t.Logf("counter: %d increments acknowledged, %d unanswered; %d sequential creates, %d multi creates, %d writes watched, %d ephemeral sessions; restarts %v",
		l.incAcked, l.incLost, l.seqN, l.pairN, l.written, l.ephSessions, kills)
	p.term(t)
	soak.CheckLogs(t, []string{logf})
}

// dialSoak opens a soak client's session: 10 s, so that sessions outlive a
// restart of the server.
func dialSoak(addr string) (*zk.Conn, error) {
	c, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false), zk.WithLogger(quietLogger{}))
	return c, err
}

// zkLedger is what the soak's clients were told, and what they saw go wrong
// while running.
type zkLedger struct {
	mu                sync.Mutex
	incAcked, incLost int
	seqs              map[string]bool // acknowledged sequential nodes, less those deleted
	seqLost, seqN     int
	pairs             map[int]bool // acknowledged multis, less those deleted
	pairN             int
	written, seen     int // the watched node's last acknowledged and last seen values
	ephSessions       int
	bad               []string
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// lost says whether err leaves it unknown if a write took effect.
func lost(err error) bool {
	return err != nil && !errors.Is(err, zk.ErrBadVersion) && !errors.Is(err, zk.ErrNodeExists)
}

func (l *zkLedger) increment(c *zk.Conn, stop <-chan struct{}) {
	for !stopped(stop) {
		b, st, err := c.Get("/soak/counter")
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		n, _ := strconv.Atoi(string(b))
		_, err = c.Set("/soak/counter", []byte(strconv.Itoa(n+1)), st.Version)
		l.mu.Lock()
		if err == nil {
			l.incAcked++
		} else if lost(err) {
			l.incLost++
		}
		l.mu.Unlock()
	}
}

// window is how many of its nodes a sequential or multi writer keeps: it
// deletes older ones, so that the tree (and the server's memory) stays level.
const window = 1000

// trimmer deletes the oldest node a writer keeps once it keeps more than
// window.
type trimmer struct {
	kept   []string // in creation order
	unsure bool     // an earlier delete of kept[0] went unanswered
}

// trim deletes the oldest kept node once there are more than window, and
// calls forget once it no longer has to exist. It returns a complaint when a
// node acknowledged and not deleted is not there.
func (tr *trimmer) trim(del func(string) error, forget func(string)) string {
	if len(tr.kept) <= window {
		return ""
	}
	k := tr.kept[0]
	err := del(k)
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		tr.unsure = true // it may be gone: tried again next time
		forget(k)
		return ""
	}
	forget(k)
	unsure := tr.unsure
	tr.kept, tr.unsure = tr.kept[1:], false
	if err != nil && !unsure {
		return fmt.Sprintf("acknowledged node %s not found for its delete", k)
	}
	return ""
}

// multiErr is a multi's error: the request's, or the first operation's that
// failed (a failed multi's header carries none).
func multiErr(rs []zk.MultiResponse, err error) error {
	for _, r := range rs {
		if err == nil {
			err = r.Error
		}
	}
	return err
}

func (l *zkLedger) createSequential(c *zk.Conn, w int, stop <-chan struct{}) {
	last := -1
	var tr trimmer
	for !stopped(stop) {
		path, err := c.Create(fmt.Sprintf("/soak/seq/w%d-", w), nil, zk.FlagSequence, zk.WorldACL(zk.PermAll))
		if err != nil {
			l.mu.Lock()
			l.seqLost++
			l.mu.Unlock()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		n, _ := strconv.Atoi(path[strings.LastIndexByte(path, '-')+1:])
		l.mu.Lock()
		if n <= last {
			l.bad = append(l.bad, fmt.Sprintf("session %d: sequential node %s acknowledged after number %d", w, path, last))
		}
		last = n
		l.seqs[path] = true
		l.seqN++
		l.mu.Unlock()
		tr.kept = append(tr.kept, path)
		bad := tr.trim(func(p string) error { return c.Delete(p, -1) }, func(p string) {
			l.mu.Lock()
			delete(l.seqs, p)
			l.mu.Unlock()
		})
		l.complain(bad)
	}
	if tr.unsure {
		// Its last delete went unanswered and was not tried again: the node
		// may still be there, as after an unanswered create.
		l.mu.Lock()
		l.seqLost++
		l.mu.Unlock()
	}
}

func (l *zkLedger) createPairs(c *zk.Conn, stop <-chan struct{}) {
	var tr trimmer
	for i := 0; !stopped(stop); i++ {
		err := multiErr(c.Multi(
			&zk.CreateRequest{Path: fmt.Sprintf("/soak/multi/a-%d", i), Acl: zk.WorldACL(zk.PermAll)},
			&zk.CreateRequest{Path: fmt.Sprintf("/soak/multi/b-%d", i), Acl: zk.WorldACL(zk.PermAll)},
		))
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		l.mu.Lock()
		l.pairs[i] = true
		l.pairN++
		l.mu.Unlock()
		tr.kept = append(tr.kept, strconv.Itoa(i))
		bad := tr.trim(func(k string) error {
			return multiErr(c.Multi(
				&zk.DeleteRequest{Path: "/soak/multi/a-" + k, Version: -1},
				&zk.DeleteRequest{Path: "/soak/multi/b-" + k, Version: -1},
			))
		}, func(k string) {
			n, _ := strconv.Atoi(k)
			l.mu.Lock()
			delete(l.pairs, n)
			l.mu.Unlock()
		})
		l.complain(bad)
	}
}

func (l *zkLedger) complain(bad string) {
	if bad != "" {
		l.mu.Lock()
		l.bad = append(l.bad, bad)
		l.mu.Unlock()
	}
}

func (l *zkLedger) write(c *zk.Conn, stop <-chan struct{}) {
	for n := 1; !stopped(stop); {
		_, err := c.Set("/soak/w", []byte(strconv.Itoa(n)), -1)
		if err == nil {
			l.mu.Lock()
			l.written = n
			l.mu.Unlock()
			n++
		} else if lost(err) {
			n++ // it may have taken effect: never write the same value twice
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// watch re-reads /soak/w whenever its data watch fires and checks that
// values never go back, until quit.
func (l *zkLedger) watch(c *zk.Conn, quit <-chan struct{}) {
	for !stopped(quit) {
		b, _, ev, err := c.GetW("/soak/w")
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		n, _ := strconv.Atoi(string(b))
		l.mu.Lock()
		if n < l.seen {
			l.bad = append(l.bad, fmt.Sprintf("the reader saw /soak/w go back from %d to %d", l.seen, n))
		}
		l.seen = n
		l.mu.Unlock()
		// No polling: across restarts the session's watches are restored
		// (SetWatches) or, should it expire, end with EventNotWatching, so a
		// lost watch stalls the reader and fails the final check.
		select {
		case <-ev:
		case <-quit:
		}
	}
}

// ephemerals opens short sessions that each create an ephemeral node and
// close.
func (l *zkLedger) ephemerals(addr string, w int, stop <-chan struct{}) {
	for i := 0; !stopped(stop); i++ {
		c, err := dialSoak(addr)
		if err != nil {
			continue
		}
		c.Create(fmt.Sprintf("/soak/eph/w%d-%d", w, i), nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
		time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
		c.Close()
		l.mu.Lock()
		l.ephSessions++
		l.mu.Unlock()
	}
}

// check compares the tree with the acknowledgements.
func (l *zkLedger) check(t *testing.T, c *zk.Conn) {
	t.Helper()
	b, _, err := c.Get("/soak/counter")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(string(b)); n < l.incAcked || n > l.incAcked+l.incLost {
		t.Errorf("counter is %d after %d acknowledged increments and %d unanswered", n, l.incAcked, l.incLost)
	}
	kids, _, err := c.Children("/soak/seq")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range kids {
		have["/soak/seq/"+k] = true
	}
	for path := range l.seqs {
		if !have[path] {
			t.Errorf("acknowledged sequential node %s is missing", path)
		}
	}
	if len(kids) > len(l.seqs)+l.seqLost {
		t.Errorf("%d sequential nodes for %d acknowledged and %d unanswered creates (those not deleted)", len(kids), len(l.seqs), l.seqLost)
	}
	kids, _, err = c.Children("/soak/multi")
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]bool{}
	for _, k := range kids {
		nodes[k] = true
	}
	for _, k := range kids {
		i, _ := strconv.Atoi(k[2:])
		if !nodes[fmt.Sprintf("a-%d", i)] || !nodes[fmt.Sprintf("b-%d", i)] {
			t.Errorf("multi %d: only %s exists", i, k)
		}
	}
	for i := range l.pairs {
		if !nodes[fmt.Sprintf("a-%d", i)] {
			t.Errorf("acknowledged multi %d is missing", i)
		}
	}
}
