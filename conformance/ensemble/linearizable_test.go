package ensemble

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/conformance/lincheck"
)

const (
	linWorkers   = 4
	linRegisters = 3 // /lin/k0.., then the counter /lin/seq (key linRegisters)
)

// TestLinearizableUnderFaults runs clients against a three-server ensemble while its servers are killed (SIGKILL)
// or paused (SIGSTOP), one or two at a time, leader or not, and restarted on their data, and, on a test network
// (harness.TestNet, where this machine can make one), cut off from their peers, their clients or both; then checks what the clients were told (conformance/lincheck): the writes linearizable, each
// session's reads in order and of written values, and, once all serve again, every server holding the same
// state, every acknowledged write in it. Three zkservers, and three Apache servers under the same load and fault
// schedule, which must pass the same check (the check's own test); ZKCONF_LIN_MIXED=1 adds ours following and ours
// leading two Apache servers. ZKCONF_LIN_DURATION (20s) is the faulty part of each run, ZKCONF_LIN_SEED the fault
// schedule's seed (logged; by default from the clock).
func TestLinearizableUnderFaults(t *testing.T) {
	_, err := harness.ApacheBin()
	harness.NeedOrSkip(t, err)
	harness.EnsureZKServer(t)
	dur := 20 * time.Second
	if v := os.Getenv("ZKCONF_LIN_DURATION"); v != "" {
		if dur, err = time.ParseDuration(v); err != nil {
			t.Fatalf("ZKCONF_LIN_DURATION: %v", err)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("ZKCONF_LIN_SEED"); v != "" {
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("ZKCONF_LIN_SEED: %v", err)
		}
	}
	t.Logf("fault schedule seed %d (ZKCONF_LIN_SEED)", seed)
	targets := []*qtarget{
		{name: "zkserver", start: startKinds(harness.ZKServer, harness.ZKServer, harness.ZKServer)},
		{name: "apache", start: startKinds(harness.Apache, harness.Apache, harness.Apache)},
	}
	if os.Getenv("ZKCONF_LIN_MIXED") == "1" {
		targets = append(targets, &qtarget{name: "mixed-ours-follows", start: mixed(false)},
			&qtarget{name: "mixed-ours-leads", start: mixed(true)})
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) { runLinearizable(t, tg, dur, seed) })
	}
}

func runLinearizable(t *testing.T, tg *qtarget, dur time.Duration, seed uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), dur+4*time.Minute)
	defer cancel()
	en := newEnsemble(t)
	if tn, err := harness.NewTestNet(t, 1, 2, 3); err == nil {
		en.inNet(t, tn)
	} else {
		t.Logf("on loopback, without partitions: %v", err)
	}
	servers := tg.start(t, ctx, en)
	addrs := quorumAddrs(t, ctx, servers)
	setup, _ := connectFor(t, addrs[0], 6*time.Second)
	for _, p := range []string{"/lin", "/lin/seq", "/lin/eph"} {
		if _, err := setup.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	for k := 0; k < linRegisters; k++ {
		if _, err := setup.Create(linPath(k), []byte(lincheck.Init), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %s: %v", linPath(k), err)
		}
	}

	h := lincheck.NewHistory()
	var seqs sync.Map // acknowledged sequential nodes' names
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range linWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			linWorker(t, h, &seqs, addrs, w, rand.New(rand.NewPCG(seed, uint64(w+1))), stop)
		}()
	}
	ephs := make([]linEphemerals, 2)
	for i := range ephs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ephs[i].run(addrs, i == 1, rand.New(rand.NewPCG(seed, uint64(linWorkers+1+i))), stop)
		}()
	}
	faults := linFaults(ctx, servers, en.net, rand.New(rand.NewPCG(seed, 0)), time.Now().Add(dur))
	close(stop)
	wg.Wait()
	t.Logf("faults: %s", strings.Join(faults, "; "))

	// Every server up again, one leading; each read through each server after a sync, nothing else running.
	healing := time.Now()
	addrs = quorumAddrs(t, ctx, servers)
	t.Logf("serving again after %v", time.Since(healing).Round(time.Millisecond))
	var acked []string
	seqs.Range(func(k, _ any) bool { acked = append(acked, k.(string)); return true })
	for i, addr := range addrs {
		c, _ := connectFor(t, addr, 6*time.Second)
		for k := 0; k < linRegisters; k++ {
			var call int64
			var data []byte
			var st *zk.Stat
			// A server can still drop its clients once as it settles (a learner the leader gave up on during a
			// partition rejoins): retried.
			eventually(t, "read "+linPath(k)+" through "+addr, func() (err error) {
				if _, err = c.Sync(linPath(k)); err != nil {
					return err
				}
				call = h.Now()
				data, st, err = c.Get(linPath(k))
				return err
			})
			h.Add(linWorkers+i, 0, call, lincheck.Input{Kind: lincheck.Read, Key: k},
				lincheck.Output{Version: st.Version, Val: string(data)})
		}
		var children []string
		eventually(t, "children of /lin/seq through "+addr, func() (err error) {
			if _, err = c.Sync("/lin/seq"); err != nil {
				return err
			}
			children, _, err = c.Children("/lin/seq")
			return err
		})
		have := map[string]bool{}
		for _, ch := range children {
			have[ch] = true
		}
		for _, name := range acked {
			if !have[name] {
				t.Errorf("acknowledged sequential node %s missing through %s", name, addr)
			}
		}
		// Every session that made an ephemeral has been closed or has expired by now, or will within its timeout.
		eventually(t, "no ephemeral left through "+addr, func() error {
			if _, err := c.Sync("/lin/eph"); err != nil {
				return err
			}
			left, _, err := c.Children("/lin/eph")
			if err == nil && len(left) > 0 {
				err = fmt.Errorf("%d left: %v", len(left), left)
			}
			return err
		})
	}
	var sessions, expired int
	for _, e := range ephs {
		for _, p := range e.problems {
			t.Error(p)
		}
		sessions, expired = sessions+e.sessions, expired+e.expired
	}
	t.Logf("%s: %s; ephemeral sessions %d (%d expired under their client)", tg.name, h.Summary(), sessions, expired)
	checking := time.Now()
	res := h.Check(2 * time.Minute)
	t.Logf("checked in %v", time.Since(checking).Round(time.Millisecond))
	for i, p := range res.Problems {
		if i == 50 {
			t.Errorf("... and %d more", len(res.Problems)-i)
			break
		}
		t.Error(p)
	}
	if res.Linearizable != porcupine.Ok {
		msg := fmt.Sprintf("%s: the writes are not linearizable (%s)", tg.name, res.Linearizable)
		if dir := os.Getenv("ZKCONF_DUMP"); dir != "" {
			path := filepath.Join(dir, "lin-"+tg.name+".html")
			if err := os.MkdirAll(dir, 0o755); err == nil {
				if err := porcupine.VisualizePath(lincheck.Model, res.Info, path); err == nil {
					msg += "; see " + path
				}
			}
		}
		t.Error(msg)
	}
}

func linPath(k int) string { return fmt.Sprintf("/lin/k%d", k) }

type linQuiet struct{}

func (linQuiet) Printf(string, ...any) {}

// linWorker runs operations on random keys until stop: writes, compare-and-sets and checks of the version it
// last read, plain reads, sequential creates.
func linWorker(t *testing.T, h *lincheck.History, seqs *sync.Map, addrs []string, w int, rnd *rand.Rand, stop <-chan struct{}) {
	c, _, err := zk.Connect(addrs, 6*time.Second, zk.WithLogInfo(false), zk.WithLogger(linQuiet{}))
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	seen := make([]int32, linRegisters) // the version this worker last read or wrote, per key
	for n := 0; !stopped(stop); n++ {
		key := rnd.IntN(linRegisters + 1)
		sess := c.SessionID()
		call := h.Now()
		// session is sess if it did not change during the call (then the call ran in it), else 0.
		session := func() int64 {
			if c.SessionID() != sess {
				return 0
			}
			return sess
		}
		if key == linRegisters {
			path, err := c.Create("/lin/seq/n-", nil, zk.FlagSequence, zk.WorldACL(zk.PermAll))
			out := lincheck.Output{Unknown: err != nil}
			if err == nil {
				name := path[strings.LastIndexByte(path, '/')+1:]
				v, perr := strconv.ParseInt(name[len(name)-10:], 10, 32)
				if perr != nil {
					t.Errorf("sequential node %s: %v", path, perr)
					return
				}
				out.Version = int32(v)
				seqs.Store(name, true)
			}
			h.Add(w, session(), call, lincheck.Input{Kind: lincheck.SeqCreate, Key: key}, out)
			continue
		}
		p := linPath(key)
		switch op := rnd.IntN(10); {
		case op < 3:
			val := fmt.Sprintf("w%d-%d", w, n)
			st, err := c.Set(p, []byte(val), -1)
			out := lincheck.Output{Unknown: err != nil}
			if err == nil {
				out.Version = st.Version
				seen[key] = st.Version
			}
			h.Add(w, session(), call, lincheck.Input{Kind: lincheck.Write, Key: key, Val: val}, out)
		case op < 6:
			val, expect := fmt.Sprintf("w%d-%d", w, n), seen[key]
			st, err := c.Set(p, []byte(val), expect)
			out := lincheck.Output{Unknown: err != nil && !errors.Is(err, zk.ErrBadVersion)}
			if err == nil {
				out.OK, out.Version = true, st.Version
				seen[key] = st.Version
			}
			h.Add(w, session(), call, lincheck.Input{Kind: lincheck.CAS, Key: key, Val: val, Expect: expect}, out)
		case op < 8:
			rs, err := c.Multi(&zk.CheckVersionRequest{Path: p, Version: seen[key]})
			err = multiFailure(rs, err)
			out := lincheck.Output{Unknown: err != nil && !errors.Is(err, zk.ErrBadVersion), OK: err == nil}
			h.Add(w, session(), call, lincheck.Input{Kind: lincheck.Check, Key: key, Expect: seen[key]}, out)
		default:
			data, st, err := c.Get(p)
			if err == nil {
				seen[key] = st.Version
				if s := session(); s != 0 {
					h.Saw(w, s, key, st.Version, string(data))
				}
			}
		}
	}
}

// linEphemerals opens sessions one after another, each making an ephemeral node and checking through the same
// session, for 1-4 s, that the node is there (a session's reads see its writes, and the node goes only with the
// session), then closing the session. With one server per session (oneServer), a fault that cuts that server off
// for longer than the session's timeout lets it expire.
type linEphemerals struct {
	problems          []string
	sessions, expired int
}

func (e *linEphemerals) run(addrs []string, oneServer bool, rnd *rand.Rand, stop <-chan struct{}) {
	for !stopped(stop) {
		servers := addrs
		if oneServer {
			servers = []string{addrs[rnd.IntN(len(addrs))]}
		}
		c, ev, err := zk.Connect(servers, 6*time.Second, zk.WithLogInfo(false), zk.WithLogger(linQuiet{}))
		if err != nil {
			e.problems = append(e.problems, err.Error())
			return
		}
		for c.State() != zk.StateHasSession && !stopped(stop) {
			select {
			case <-ev:
			case <-time.After(100 * time.Millisecond):
			}
		}
		sess := c.SessionID()
		path := fmt.Sprintf("/lin/eph/s%x", sess)
		if _, err := c.Create(path, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err == nil && c.SessionID() == sess {
			e.sessions++
			// Held for 1-4 s and until a check gets through, or the client finds its session expired.
			hold := time.Now().Add(time.Second + time.Duration(rnd.Int64N(int64(3*time.Second))))
			for !stopped(stop) {
				there, _, err := c.Exists(path)
				if c.SessionID() != sess {
					e.expired++
					e.afterExpiry(c, path, stop)
					break
				}
				if err == nil && !there {
					e.problems = append(e.problems, fmt.Sprintf("ephemeral %s missing while its session lives", path))
					break
				}
				if err == nil && time.Now().After(hold) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		c.Close()
	}
}

// afterExpiry checks, through the session the client made once told its old one expired, that the old one's
// ephemeral is gone: the old session's close is ordered before the new session's creation.
func (e *linEphemerals) afterExpiry(c *zk.Conn, path string, stop <-chan struct{}) {
	for c.State() != zk.StateHasSession {
		if stopped(stop) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	sess := c.SessionID()
	there, _, err := c.Exists(path)
	if err == nil && c.SessionID() == sess && there {
		e.problems = append(e.problems, fmt.Sprintf("ephemeral %s of an expired session seen by its client's next session", path))
	}
}

// multiFailure is a multi's error: the request's, or the first operation's that failed.
func multiFailure(rs []zk.MultiResponse, err error) error {
	for _, r := range rs {
		if err == nil {
			err = r.Error
		}
	}
	return err
}

// linFaults kills and pauses servers and, on a test network (tn), cuts their links to their peers or their clients,
// until deadline, each fault undone before the next, and says what it did.
func linFaults(ctx context.Context, servers map[int64]*harness.Server, tn *harness.TestNet, rnd *rand.Rand,
	deadline time.Time) []string {
	start := time.Now()
	var did []string
	pause := func(lo, hi time.Duration) {
		d := lo + time.Duration(rnd.Int64N(int64(hi-lo)))
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	restart := func(ids ...int64) {
		for _, id := range ids {
			if err := servers[id].Restart(ctx); err != nil {
				did = append(did, fmt.Sprintf("restart %d: %v", id, err))
			}
		}
	}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		pause(500*time.Millisecond, 2500*time.Millisecond)
		victim := 1 + rnd.Int64N(3)
		if rnd.IntN(2) == 0 {
			if l := linLeader(ctx, servers); l != 0 {
				victim = l
			}
		}
		at := time.Since(start).Round(100 * time.Millisecond)
		other := 1 + (victim+rnd.Int64N(2))%3 // another server, for the faults of two
		kinds := 5
		if tn != nil {
			kinds = 10
		}
		cut := func(what string, d time.Duration, cut func(id int64, cut bool) error, ids ...int64) {
			for _, id := range ids {
				if err := cut(id, true); err != nil {
					did = append(did, err.Error())
				}
			}
			did = append(did, fmt.Sprintf("%v cut %s of %v", at, what, ids))
			pause(500*time.Millisecond, d)
			for _, id := range ids {
				if err := cut(id, false); err != nil {
					did = append(did, err.Error())
				}
			}
		}
		switch rnd.IntN(kinds) {
		case 0, 1:
			_ = servers[victim].Kill()
			did = append(did, fmt.Sprintf("%v kill %d", at, victim))
			pause(200*time.Millisecond, 3*time.Second)
			restart(victim)
		case 2:
			servers[victim].Pause()
			did = append(did, fmt.Sprintf("%v pause %d", at, victim))
			pause(500*time.Millisecond, 6*time.Second)
			servers[victim].Resume()
		case 3:
			servers[victim].Pause()
			servers[other].Pause()
			did = append(did, fmt.Sprintf("%v pause %d and %d", at, victim, other))
			pause(500*time.Millisecond, 4*time.Second)
			servers[victim].Resume()
			servers[other].Resume()
		case 4:
			_ = servers[victim].Kill()
			_ = servers[other].Kill()
			did = append(did, fmt.Sprintf("%v kill %d and %d", at, victim, other))
			pause(500*time.Millisecond, 2*time.Second)
			restart(victim, other)
		case 5:
			cut("peers", 8*time.Second, tn.CutPeers, victim)
		case 6:
			cut("peers", 4*time.Second, tn.CutPeers, victim, other)
		case 7:
			cut("clients", 10*time.Second, tn.CutClients, victim)
		case 8:
			both := func(id int64, c bool) error { return errors.Join(tn.CutPeers(id, c), tn.CutClients(id, c)) }
			cut("peers and clients", 8*time.Second, both, victim)
		case 9:
			// Often past the sessions' timeout: the ensemble expires them while their clients cannot reach it.
			cut("clients", 10*time.Second, tn.CutClients, 1, 2, 3)
		}
	}
	return did
}

// linLeader is the leading server's id, or 0 when none answers as leader within a second.
func linLeader(ctx context.Context, servers map[int64]*harness.Server) int64 {
	for id, s := range servers {
		c, cancel := context.WithTimeout(ctx, time.Second)
		out, err := harness.FourLetter(c, s.Addr(), "srvr")
		cancel()
		if err == nil && strings.Contains(out, "Mode: leader") {
			return id
		}
	}
	return 0
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}
