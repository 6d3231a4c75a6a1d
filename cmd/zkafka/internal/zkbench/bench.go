// Package zkbench is a load generator for ZooKeeper servers: closed-loop clients, one session each, issuing
// synchronous requests back to back, with latencies kept in a log-linear histogram. It drives Apache ZooKeeper
// and zkserver alike through github.com/go-zookeeper/zk, so their numbers compare.
package zkbench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// Op names a benchmark workload.
type Op string

// The workloads.
const (
	OpCreate Op = "create" // each client creates new znodes with unique names under a fresh parent
	OpSet    Op = "set"    // setData on random pre-created znodes
	OpGet    Op = "get"    // getData on random pre-created znodes
	OpMixed  Op = "mixed"  // 80% get, 20% set on random pre-created znodes
)

// ParseOp checks a workload name.
func ParseOp(s string) (Op, error) {
	switch op := Op(s); op {
	case OpCreate, OpSet, OpGet, OpMixed:
		return op, nil
	}
	return "", fmt.Errorf("unknown op %q (want create, set, get or mixed)", s)
}

// Paths the benchmark writes to.
const (
	Root       = "/bench"
	DataParent = "/bench/data" // the pre-created znodes of set, get and mixed
	LoadParent = "/bench/load" // the znodes of zk-load
)

const (
	sessionTimeout = 30 * time.Second // long, so a server's GC pause does not expire a bench session
	connectWait    = 15 * time.Second
	maxFirstErrors = 5
	mixedSetPct    = 20
)

// Config describes one benchmark run.
type Config struct {
	Servers  []string      // host:port of each server; sessions spread over them as the client library chooses
	Op       Op            // workload
	Clients  int           // concurrent sessions
	Size     int           // bytes per value
	Duration time.Duration // measured time
	Warmup   time.Duration // time run before measuring, not counted
	Znodes   int           // how many pre-created znodes set, get and mixed spread over
	Logger   *slog.Logger  // nil logs nowhere
}

func (c *Config) check() error {
	switch {
	case len(c.Servers) == 0:
		return errors.New("no servers given")
	case c.Clients < 1:
		return fmt.Errorf("clients must be at least 1, got %d", c.Clients)
	case c.Size < 0:
		return fmt.Errorf("size must not be negative, got %d", c.Size)
	case c.Duration <= 0:
		return fmt.Errorf("duration must be positive, got %v", c.Duration)
	case c.Warmup < 0:
		return fmt.Errorf("warmup must not be negative, got %v", c.Warmup)
	case c.Op != OpCreate && c.Znodes < 1:
		return fmt.Errorf("znodes must be at least 1 for %s, got %d", c.Op, c.Znodes)
	}
	if _, err := ParseOp(string(c.Op)); err != nil {
		return err
	}
	return nil
}

// Run connects cfg.Clients sessions, prepares the znodes the workload needs, runs it for cfg.Warmup and then
// cfg.Duration, and summarises the measured part. The result is nil when nothing was measured; when ctx ends
// during the run it holds what was measured so far, returned with ctx's error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	log := loggerOr(cfg.Logger)
	conns, err := connectAll(ctx, cfg.Servers, cfg.Clients, log)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)

	value, err := randomValue(cfg.Size)
	if err != nil {
		return nil, err
	}
	var parent string
	if cfg.Op == OpCreate {
		// A fresh parent per run, so runs never collide on names and the parent's child list starts empty.
		parent = fmt.Sprintf("%s/create-%d", Root, time.Now().UnixNano())
		if err := ensurePath(conns[0], parent); err != nil {
			return nil, err
		}
	} else {
		log.Info("preparing znodes", "count", cfg.Znodes, "parent", DataParent)
		if err := fill(ctx, conns, cfg.Znodes, value); err != nil {
			return nil, err
		}
	}

	seed := uint64(time.Now().UnixNano())
	measureStart := time.Now().Add(cfg.Warmup)
	end := measureStart.Add(cfg.Duration)
	log.Info("running", "op", cfg.Op, "clients", cfg.Clients, "size", cfg.Size, "warmup", cfg.Warmup,
		"duration", cfg.Duration)

	stats := make([]clientStats, len(conns))
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := worker{
				conn: conn, op: cfg.Op, value: value, znodes: cfg.Znodes,
				rng:    mrand.New(mrand.NewPCG(seed, uint64(i))),
				prefix: fmt.Sprintf("%s/c%03d-", parent, i),
			}
			stats[i] = w.run(ctx, measureStart, end)
		}()
	}
	wg.Wait()
	elapsed := max(time.Since(measureStart), 0)

	total := mergeStats(stats)
	res := NewResult(cfg.Op, cfg.Clients, cfg.Size, elapsed, total.lat, total.errors, total.firstErrors)
	if err := ctx.Err(); err != nil {
		return &res, fmt.Errorf("bench %s interrupted: %w", cfg.Op, err)
	}
	return &res, nil
}

// LoadConfig describes a zk-load run.
type LoadConfig struct {
	Servers []string
	Znodes  int
	Size    int
	Clients int          // concurrent sessions doing the creates
	Logger  *slog.Logger // nil logs nowhere
}

// Load creates cfg.Znodes znodes of cfg.Size bytes under LoadParent, named n0000000, n0000001 and so on; ones
// already there are counted, not rewritten. It fails if any create failed, after counting them all. The result
// is nil when it could not connect.
func Load(ctx context.Context, cfg LoadConfig) (*LoadResult, error) {
	switch {
	case len(cfg.Servers) == 0:
		return nil, errors.New("no servers given")
	case cfg.Znodes < 0 || cfg.Size < 0 || cfg.Clients < 1:
		return nil, fmt.Errorf("znodes %d and size %d must not be negative, clients %d at least 1",
			cfg.Znodes, cfg.Size, cfg.Clients)
	}
	log := loggerOr(cfg.Logger)
	conns, err := connectAll(ctx, cfg.Servers, cfg.Clients, log)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)

	value, err := randomValue(cfg.Size)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	fs, err := fillUnder(ctx, conns, LoadParent, cfg.Znodes, value, false)
	res := &LoadResult{
		Znodes: cfg.Znodes, Size: cfg.Size, Created: fs.created, Existing: fs.existing,
		ElapsedSec: time.Since(start).Seconds(), Errors: fs.errors, FirstErrors: fs.firstErrors,
	}
	if err != nil {
		return res, err
	}
	if fs.errors > 0 {
		return res, fmt.Errorf("zk-load: %d of %d creates failed, first: %s", fs.errors, cfg.Znodes, fs.firstErrors[0])
	}
	return res, nil
}

type worker struct {
	conn   *zk.Conn
	op     Op
	value  []byte
	znodes int
	rng    *mrand.Rand
	prefix string // create: the name prefix of this client's znodes
	seq    int
}

type clientStats struct {
	lat         *Histogram
	errors      uint64
	firstErrors []string
}

func (s *clientStats) fail(err error) {
	s.errors++
	if len(s.firstErrors) < maxFirstErrors {
		s.firstErrors = append(s.firstErrors, err.Error())
	}
}

// run issues requests back to back until end. Only requests that start at or after measureStart count.
func (w *worker) run(ctx context.Context, measureStart, end time.Time) clientStats {
	st := clientStats{lat: NewHistogram()}
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(end) {
			break
		}
		err := w.once()
		if t0.Before(measureStart) {
			continue
		}
		if err != nil {
			st.fail(err)
			if connectionError(err) {
				// Not the server's answer: the session is between servers. Do not spin on it.
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		st.lat.Record(time.Since(t0))
	}
	return st
}

func (w *worker) once() error {
	switch w.op {
	case OpCreate:
		path := fmt.Sprintf("%s%09d", w.prefix, w.seq)
		w.seq++
		_, err := w.conn.Create(path, w.value, 0, zk.WorldACL(zk.PermAll))
		return wrapOp("create", path, err)
	case OpSet:
		return w.set()
	case OpGet:
		return w.get()
	default: // OpMixed
		if w.rng.IntN(100) < mixedSetPct {
			return w.set()
		}
		return w.get()
	}
}

func (w *worker) set() error {
	path := dataPath(DataParent, w.rng.IntN(w.znodes))
	_, err := w.conn.Set(path, w.value, -1)
	return wrapOp("set", path, err)
}

func (w *worker) get() error {
	path := dataPath(DataParent, w.rng.IntN(w.znodes))
	data, _, err := w.conn.Get(path)
	if err != nil {
		return wrapOp("get", path, err)
	}
	if len(data) != len(w.value) {
		return fmt.Errorf("get %s: %d bytes, want %d", path, len(data), len(w.value))
	}
	return nil
}

func wrapOp(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}

func connectionError(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer) ||
		errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrClosing) || errors.Is(err, zk.ErrSessionMoved)
}

// addErrors counts o's errors into s, keeping the first few messages.
func (s *clientStats) addErrors(o clientStats) {
	s.errors += o.errors
	n := min(len(o.firstErrors), maxFirstErrors-len(s.firstErrors))
	s.firstErrors = append(s.firstErrors, o.firstErrors[:n]...)
}

func mergeStats(stats []clientStats) clientStats {
	total := clientStats{lat: NewHistogram()}
	for _, s := range stats {
		total.lat.Merge(s.lat)
		total.addErrors(s)
	}
	return total
}

// randomValue makes the value every request writes: random, so nothing along the way can compress it.
func randomValue(size int) ([]byte, error) {
	value := make([]byte, size)
	if _, err := rand.Read(value); err != nil {
		return nil, fmt.Errorf("make value: %w", err)
	}
	return value, nil
}

func dataPath(parent string, i int) string { return fmt.Sprintf("%s/n%07d", parent, i) }

type fillStats struct {
	created, existing uint64
	clientStats
}

// fill makes sure DataParent holds znodes n0000000..n(count-1), each with value.
func fill(ctx context.Context, conns []*zk.Conn, count int, value []byte) error {
	fs, err := fillUnder(ctx, conns, DataParent, count, value, true)
	if err != nil {
		return err
	}
	if fs.errors > 0 {
		return fmt.Errorf("prepare %d znodes under %s: %d failed, first: %s", count, DataParent, fs.errors,
			fs.firstErrors[0])
	}
	return nil
}

// fillUnder creates parent and count znodes under it, the work split over conns. A znode already there is
// counted as existing and, with overwrite, given value (so get returns values of the size asked for).
func fillUnder(ctx context.Context, conns []*zk.Conn, parent string, count int, value []byte, overwrite bool) (fillStats, error) {
	if err := ensurePath(conns[0], parent); err != nil {
		return fillStats{}, err
	}
	per := make([]fillStats, len(conns))
	var wg sync.WaitGroup
	for c, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fs := &per[c]
			for i := c; i < count && ctx.Err() == nil; i += len(conns) {
				path := dataPath(parent, i)
				_, err := conn.Create(path, value, 0, zk.WorldACL(zk.PermAll))
				switch {
				case err == nil:
					fs.created++
				case errors.Is(err, zk.ErrNodeExists):
					fs.existing++
					if overwrite {
						if _, err := conn.Set(path, value, -1); err != nil {
							fs.fail(fmt.Errorf("set %s: %w", path, err))
						}
					}
				default:
					fs.fail(fmt.Errorf("create %s: %w", path, err))
				}
			}
		}()
	}
	wg.Wait()
	total := fillStats{}
	for _, fs := range per {
		total.created += fs.created
		total.existing += fs.existing
		total.addErrors(fs.clientStats)
	}
	if err := ctx.Err(); err != nil {
		return total, fmt.Errorf("fill %s interrupted: %w", parent, err)
	}
	return total, nil
}

// ensurePath creates path and its ancestors, empty, where missing.
func ensurePath(conn *zk.Conn, path string) error {
	for i := 1; i <= len(path); i++ {
		if i < len(path) && path[i] != '/' {
			continue
		}
		p := path[:i]
		if _, err := conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", p, err)
		}
	}
	return nil
}

// connectAll opens n sessions in parallel and waits until each has one.
func connectAll(ctx context.Context, servers []string, n int, log *slog.Logger) ([]*zk.Conn, error) {
	conns := make([]*zk.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conns[i], errs[i] = connect(ctx, servers, log)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		closeAll(conns)
		return nil, fmt.Errorf("connect %d sessions to %v: %w", n, servers, err)
	}
	return conns, nil
}

func closeAll(conns []*zk.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// connect opens one session. go-zookeeper connects in the background and retries forever, so the wait for the
// session is bounded here.
func connect(ctx context.Context, servers []string, log *slog.Logger) (*zk.Conn, error) {
	conn, events, err := zk.Connect(servers, sessionTimeout, zk.WithLogInfo(false), zk.WithLogger(zkLogger{log}))
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	timer := time.NewTimer(connectWait)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil, errors.New("connect: connection closed before a session was made")
			}
			switch ev.State {
			case zk.StateHasSession:
				// Later events are dropped by the library when nobody reads them, so no reader is needed.
				return conn, nil
			case zk.StateAuthFailed, zk.StateExpired:
				conn.Close()
				return nil, fmt.Errorf("connect: session state %v", ev.State)
			}
		case <-timer.C:
			conn.Close()
			return nil, fmt.Errorf("connect: no session within %v", connectWait)
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("connect: %w", ctx.Err())
		}
	}
}

// zkLogger sends go-zookeeper's messages (only its warnings, with WithLogInfo(false)) to slog.
type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), "component", "go-zookeeper")
}

func loggerOr(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
