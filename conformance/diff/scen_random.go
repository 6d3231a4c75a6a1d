package diff

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// defaultRandomSeeds is how many random scenarios run when
// ZKCONF_RANDOM_SEEDS is unset (kept small: make test runs them).
const defaultRandomSeeds = 12

// randomScenarios registers one scenario per seed, named random-<seed>.
// ZKCONF_RANDOM_SEEDS selects the seeds: "N" (seeds 1..N), "A-B" (A..B
// inclusive) or "0" (none).
func randomScenarios() []Scenario {
	return seededScenarios("ZKCONF_RANDOM_SEEDS", defaultRandomSeeds, "random-")
}

// defaultQuorumSeeds is how many quorum random scenarios run when
// ZKCONF_QUORUM_SEEDS is unset (each costs three ensembles' time).
const defaultQuorumSeeds = 2

// QuorumRandomScenarios are the random scenarios for RunQuorum against an
// ensemble, named qrandom-<seed>; ZKCONF_QUORUM_SEEDS selects the seeds as
// ZKCONF_RANDOM_SEEDS does. The same generator spreads the clients over the
// servers, syncs before each operation, and moves sessions between servers.
func QuorumRandomScenarios() []Scenario {
	return seededScenarios("ZKCONF_QUORUM_SEEDS", defaultQuorumSeeds, "qrandom-")
}

// seededScenarios registers one random scenario per seed of the range in
// the environment variable env (default 1..def).
func seededScenarios(env string, def uint64, prefix string) []Scenario {
	lo, hi := uint64(1), def
	if v := os.Getenv(env); v != "" {
		var err error
		lo, hi, err = parseSeedRange(v)
		if err != nil {
			panic(fmt.Sprintf("%s: %v", env, err))
		}
	}
	var out []Scenario
	for s := lo; s <= hi && hi > 0; s++ {
		seed := s
		out = append(out, Scenario{Name: fmt.Sprintf("%s%d", prefix, seed), Fn: func(r *R, c *Client) {
			newRandomRun(r, c, seed).run()
		}})
	}
	return out
}

func parseSeedRange(v string) (uint64, uint64, error) {
	a, b, isRange := strings.Cut(v, "-")
	lo, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("%q: %w", v, err)
	}
	if !isRange {
		return 1, lo, nil
	}
	hi, err := strconv.ParseUint(b, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("%q: %w", v, err)
	}
	return lo, hi, nil
}

// Paths the random operations draw from, relative to the scenario root. They
// overlap (parents and children) so operations collide; some never exist
// (c/k has no creatable parent), some are not valid paths. The q-NNNNNNNNNN
// names are what sequential creates under a and a/x produce, so they collide
// too.
var (
	randPaths = []string{"a", "b", "c", "a/x", "a/y", "b/y", "a/x/z", "b/y/z", "c/k/m",
		"a/q-0000000000", "a/q-0000000001", "a/x/q-0000000002", "q-0000000003",
		"a/", "b//y", "a/./x"} // not valid paths
	// randLeaves never get children from the generator: containers are
	// only created there, since an emptied container is removed on a timer.
	randLeaves = []string{"a/y", "a/x/z", "b/y/z"}
	// randSeqParents are where sequential nodes are created (prefix q-).
	randSeqParents = []string{"", "a", "b", "a/x", "b/y"}
	// randReadPaths adds the scenario root to randPaths for reads/watches.
	randReadPaths = append([]string{""}, randPaths...)
	randVersions  = []int32{-1, -1, 0, 0, 1, 2, 5}
)

// farTTL never elapses during a scenario, so TTL nodes are not removed on a
// timer (that would make the logs depend on timing).
const farTTL = int64(time.Hour / time.Millisecond)

// randomRun is one seeded scenario: clients take turns at random, each
// drawing its operations from the same source, so the sequence of requests
// depends only on the seed (never on replies).
type randomRun struct {
	r       *R
	rng     *rand.Rand
	clients []*Client
	budget  []int // operations left per client
	reopens int
	cycled  bool
	data    int
	// servers > 1: an ensemble; clients connect to servers drawn at random.
	servers int
}

func newRandomRun(r *R, c *Client, seed uint64) *randomRun {
	rng := rand.New(rand.NewPCG(seed, 0x7a6b7a))
	n := 2 + rng.IntN(2)
	rr := &randomRun{r: r, rng: rng, clients: []*Client{c}, servers: r.Servers()}
	for i := 1; i < n; i++ {
		rr.clients = append(rr.clients, r.Connect(fmt.Sprintf("c%d", i+1), ConnOpts{Server: rr.server()}))
	}
	for range n {
		rr.budget = append(rr.budget, 40+rng.IntN(111))
	}
	r.Logf("random seed=%d clients=%d ops=%v", seed, n, rr.budget)
	return rr
}

// server draws the server a new connection goes to (1-based; 0, the
// default, standalone, where no number is drawn).
func (rr *randomRun) server() int {
	if rr.servers <= 1 {
		return 0
	}
	return 1 + rr.rng.IntN(rr.servers)
}

func (rr *randomRun) run() {
	for {
		var open []int
		for i, b := range rr.budget {
			if b > 0 {
				open = append(open, i)
			}
		}
		if len(open) == 0 {
			return
		}
		i := open[rr.rng.IntN(len(open))]
		rr.budget[i]--
		if cl := rr.clients[i]; rr.servers > 1 && cl.c != nil && !cl.dead {
			// A follower may not have applied the last write yet:
			// sync, so what the operation sees does not depend on when.
			cl.Flush()
		}
		if rr.step(i) {
			rr.flushOthers(i, false)
		}
	}
}

// flushOthers logs, on every other client, the events the last request
// caused (Flush: they precede the reply to a later request). sorted is for
// events whose order is not defined (one closeSession deleting several
// ephemerals).
//
// In an ensemble client i flushes too, last: a flush on the leader is a
// write (see Client.Flush), and what i does next must see its zxid.
func (rr *randomRun) flushOthers(i int, sorted bool) {
	for j, cl := range rr.clients {
		if j != i {
			flushOne(cl, sorted)
		}
	}
	if rr.servers > 1 {
		flushOne(rr.clients[i], sorted)
	}
}

func flushOne(cl *Client, sorted bool) {
	switch {
	case cl.dead || cl.c == nil:
	case sorted:
		cl.FlushSorted()
	default:
		cl.Flush()
	}
}

func (rr *randomRun) pick(v []string) string { return v[rr.rng.IntN(len(v))] }

func (rr *randomRun) path() string     { return rr.r.P(rr.pick(randPaths)) }
func (rr *randomRun) readPath() string { return rr.r.P(rr.pick(randReadPaths)) }
func (rr *randomRun) version() int32   { return randVersions[rr.rng.IntN(len(randVersions))] }

func (rr *randomRun) value() string {
	rr.data++
	if rr.rng.IntN(6) == 0 {
		return ""
	}
	return fmt.Sprintf("d%d", rr.data)
}

// acl draws one of a few ACL shapes; auth and digest ones depend on which
// identities the session added.
func (rr *randomRun) acl() []jute.ACL {
	switch rr.rng.IntN(8) {
	case 0:
		return jute.ReadACLUnsafe
	case 1:
		return aclList(acl(jute.PermAll, "digest", DigestID("u1", "p1")))
	case 2:
		return jute.CreatorAllACL
	case 3:
		return aclList(world(jute.PermRead | jute.PermCreate | jute.PermDelete))
	case 4:
		return aclList(acl(jute.PermAll, "digest", DigestID("u1", "p1")), world(jute.PermRead))
	default:
		return jute.OpenACLUnsafe
	}
}

// createMode draws a plain create mode; TTL modes are only valid with
// createTTL, so they appear here rarely (the server must refuse them).
func (rr *randomRun) createMode() int32 {
	modes := []int32{persistent, persistent, ephemeral, pseq, eseq, jute.ModeContainer, jute.ModePersistentWithTTL}
	return modes[rr.rng.IntN(len(modes))]
}

// createPath is where a create goes: sequential modes under a parent with
// prefix q-, containers only at leaves.
func (rr *randomRun) createPath(mode int32) string {
	switch mode {
	case pseq, eseq, jute.ModePersistentSequentialWithTTL:
		return rr.r.P(strings.TrimPrefix(rr.pick(randSeqParents)+"/q-", "/"))
	case jute.ModeContainer:
		return rr.r.P(rr.pick(randLeaves))
	}
	return rr.path()
}

// step runs one random operation on client i; true when it may have caused
// watch events on other clients.
func (rr *randomRun) step(i int) bool {
	cl := rr.clients[i]
	switch k := rr.rng.IntN(100); {
	case k < 12:
		m := rr.createMode()
		cl.Create(rr.createPath(m), rr.value(), m, rr.acl())
	case k < 17:
		m := rr.createMode()
		cl.Create2(rr.createPath(m), rr.value(), m, rr.acl())
	case k < 19:
		cl.CreateContainer(rr.r.P(rr.pick(randLeaves)), rr.value(), jute.ModeContainer)
	case k < 22:
		rr.createTTL(cl)
	case k < 30:
		cl.Delete(rr.path(), rr.version())
	case k < 39:
		cl.Set(rr.path(), rr.value(), rr.version())
	case k < 59:
		return rr.read(cl)
	case k < 67:
		rr.multi(cl)
	case k < 70:
		rr.multiRead(cl)
	case k < 73:
		cl.SetACL(rr.path(), rr.acl(), rr.version())
	case k < 75:
		cl.GetACL(rr.path())
	case k < 77:
		cl.Sync(rr.readPath())
		return false
	case k < 79:
		cl.AddAuth("digest", rr.pick([]string{"u1:p1", "u2:p2"}))
		return false
	case k < 85:
		return rr.watchOp(cl)
	case k < 88:
		cl.GetEphemerals(rr.r.P(rr.pick([]string{"", "a", "a/x", "b"})))
		return false
	case k < 90:
		cl.AllChildrenNumber(rr.readPath())
		return false
	case k < 92:
		rr.reopen(i)
		return false
	case k < 93:
		rr.containerCycle(i)
		return false
	case k < 95:
		rr.reattach(i)
		return false
	case k < 96:
		cl.WhoAmI()
		return false
	case k < 97:
		cl.SetB(rr.path(), nil, rr.version())
	default:
		cl.Exists(rr.readPath(), rr.rng.IntN(2) == 0)
		return false
	}
	return true
}

func (rr *randomRun) createTTL(cl *Client) {
	modes := []int32{jute.ModePersistentWithTTL, jute.ModePersistentWithTTL, jute.ModePersistentSequentialWithTTL, persistent}
	m := modes[rr.rng.IntN(len(modes))]
	ttls := []int64{farTTL, farTTL, farTTL, 0, -5}
	ttl := ttls[rr.rng.IntN(len(ttls))]
	if m == persistent {
		// Apache 3.8.0 validates the TTL of a non-TTL createTTL only when
		// applying it and a bad one stops the server: keep it valid.
		ttl = farTTL
	}
	cl.CreateTTL(rr.createPath(m), rr.value(), m, ttl)
}

// read runs one of the plain reads, with or without a watch.
func (rr *randomRun) read(cl *Client) bool {
	p, w := rr.readPath(), rr.rng.IntN(2) == 0
	switch rr.rng.IntN(4) {
	case 0:
		cl.Exists(p, w)
	case 1:
		cl.Get(p, w)
	case 2:
		cl.Children(p, w)
	default:
		cl.Children2(p, w)
	}
	return false
}

// watchOp adds, checks or removes watches.
func (rr *randomRun) watchOp(cl *Client) bool {
	p := rr.readPath()
	switch rr.rng.IntN(3) {
	case 0:
		cl.AddWatch(p, int32(rr.rng.IntN(2)))
	case 1:
		cl.CheckWatches(p, 1+int32(rr.rng.IntN(5)))
	default:
		cl.RemoveWatches(p, 1+int32(rr.rng.IntN(5)))
	}
	return false
}

// multi sends 1-4 write ops, some of which may fail (then none applies).
func (rr *randomRun) multi(cl *Client) {
	n := 1 + rr.rng.IntN(4)
	ops := make([]jute.Op, 0, n)
	for range n {
		switch rr.rng.IntN(7) {
		case 0:
			m := rr.createMode()
			if m == jute.ModeContainer || m == jute.ModePersistentWithTTL {
				m = persistent
			}
			ops = append(ops, MCreate(rr.createPath(m), rr.value(), m))
		case 1:
			ops = append(ops, MCreate2(rr.path(), rr.value(), persistent))
		case 2:
			ops = append(ops, MCreateTTL(rr.path(), rr.value(), jute.ModePersistentWithTTL, farTTL))
		case 3:
			ops = append(ops, MDelete(rr.path(), rr.version()))
		case 4:
			ops = append(ops, MSet(rr.path(), rr.value(), rr.version()))
		case 5:
			ops = append(ops, MCheck(rr.path(), rr.version()))
		default:
			ops = append(ops, MCreateContainer(rr.r.P(rr.pick(randLeaves)), rr.value()))
		}
	}
	cl.Multi(ops...)
}

// multiRead sends 1-4 reads, some on missing or unreadable nodes.
func (rr *randomRun) multiRead(cl *Client) {
	n := 1 + rr.rng.IntN(4)
	ops := make([]jute.Op, 0, n)
	for range n {
		if rr.rng.IntN(2) == 0 {
			ops = append(ops, MGet(rr.readPath()))
		} else {
			ops = append(ops, MChildren(rr.readPath()))
		}
	}
	cl.MultiRead(ops...)
}

// reopen closes client i's session (its ephemerals go, watches fire) and
// opens a new one under the same label; at most 3 times per scenario.
func (rr *randomRun) reopen(i int) {
	if rr.reopens >= 3 {
		rr.clients[i].Sync(rr.r.Root())
		return
	}
	rr.reopens++
	rr.clients[i].Close()
	rr.flushOthers(i, true)
	rr.clients[i] = rr.r.Connect(fmt.Sprintf("c%d", i+1), ConnOpts{Server: rr.server()})
}

// containerCycle makes a container (at a path no other operation uses)
// non-empty then empty again, waits for the server to remove it on its
// timer and starts a new zxid segment; once per scenario, as it sleeps.
func (rr *randomRun) containerCycle(i int) {
	cl := rr.clients[i]
	if rr.cycled || cl.dead {
		cl.Sync(rr.r.Root())
		return
	}
	rr.cycled = true
	k := rr.r.P("k")
	cl.CreateContainer(k, "", jute.ModeContainer)
	rr.flushOthers(i, false)
	cl.Create(k+"/c", "", persistent, nil)
	rr.flushOthers(i, false)
	cl.Exists(k, true)
	// No flush of the others here: the timer's delete may or may not have
	// come yet; their events are logged (sorted) after the resync.
	cl.Delete(k+"/c", -1)
	cl.WaitEvents(1, 5*time.Second)
	cl.Resync(300 * time.Millisecond)
	rr.flushOthers(i, true)
	cl.Exists(k, false)
}

// reattach drops client i's connection (the session and its ephemerals
// stay, its watches go), reconnects to the same session and sends
// setWatches2 for random paths relative to the last zxid it saw, as a client
// restoring its watches does; changes since then fire at once.
//
// In an ensemble the session moves to another server, and half the time
// the old connection stays open: its server does not know of the move, the
// leader does (see moved).
func (rr *randomRun) reattach(i int) {
	cl := rr.clients[i]
	to, keep := 0, false
	if rr.servers > 1 {
		to = 1 + (cl.Server()+rr.rng.IntN(rr.servers-1))%rr.servers
		keep = rr.rng.IntN(2) == 0
	}
	if cl.dead || cl.c == nil {
		cl.Sync(rr.r.Root())
		return
	}
	rel := cl.LastZxid()
	if !keep {
		cl.Drop()
	}
	nc := cl.Reattach(fmt.Sprintf("c%d", i+1), ConnOpts{Server: to})
	rr.clients[i] = nc
	if keep {
		rr.moved(cl)
		// The refused write's ErrorTxn takes a zxid: sync, so that the
		// new server has applied it before answering with its zxid.
		nc.Flush()
	}
	nc.SetWatches2(&jute.SetWatches2{RelativeZxid: rel,
		DataWatches: rr.somePaths(), ExistWatches: rr.somePaths(), ChildWatches: rr.somePaths(),
		PersistentWatches: rr.somePaths(), PersistentRecursiveWatches: rr.somePaths()})
}

// moved uses the connection a session left for another server: a read is
// served by that server alone, a write reaches the leader, which refuses it
// (SessionMoved) and the old server then closes the connection.
func (rr *randomRun) moved(old *Client) {
	old.label += "(old)"
	old.Exists(rr.r.P("a"), false)
	old.Delete(rr.r.P("a/y"), 99)
	old.WaitClosed(3 * time.Second)
	old.Drop()
}

// somePaths draws 0-2 read paths.
func (rr *randomRun) somePaths() []string {
	out := []string{}
	for range rr.rng.IntN(3) {
		out = append(out, rr.readPath())
	}
	return out
}
