//go:build soak

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/zkafka/zkafka/conformance/soak"
)

// TestSoakBroker runs zkserver and a broker (both built with the race
// detector unless SOAK_RACE=0) for SOAK_DURATION (default 10m) under a mixed
// load of real clients, then checks what every client was told against what
// the log holds:
//   - an idempotent producer (acks=all) on a 4-partition topic: every
//     acknowledged record is read back once, at the offset it was
//     acknowledged with, and no record is in the log twice;
//   - a two-member consumer group committing as it goes: it reads every
//     acknowledged record, and its committed offsets reach the log end;
//   - a consumer on Kafka 0.9's protocol (Fetch v1, down-converted records):
//     what it read is what the log holds at the same offsets;
//   - a compacted topic written with repeated keys and tombstones: the last
//     acknowledged value of every key survives compaction;
//   - topics created, grown, reconfigured and deleted in a loop: deleted ones
//     leave neither metadata nor log directories behind.
//
// The first 40% of the run is steady: the broker's RSS, threads and open
// files are sampled and must not keep growing. Then the broker is killed
// (SIGKILL or SIGTERM) or zkserver is killed (SIGKILL) every 8-20 s and
// restarted on the same directories while the load goes on. No log may show
// a panic or a data race.
func TestSoakBroker(t *testing.T) {
	dur := soak.Duration(t, 10*time.Minute)
	rate := soakRate(t, 1000)
	t.Setenv("GORACE", soak.GORACE)
	c := newSoakCluster(t, soak.BuildFlags())
	start := time.Now()

	setup, cancelSetup := context.WithTimeout(context.Background(), time.Minute)
	defer cancelSetup()
	adm := kadm.NewClient(c.client(t))
	defer adm.Close()
	compact := map[string]*string{
		"cleanup.policy":            ptr("compact"),
		"segment.bytes":             ptr("65536"),
		"min.cleanable.dirty.ratio": ptr("0.01"),
		"delete.retention.ms":       ptr("1000"),
	}
	for _, tc := range []struct {
		name  string
		parts int32
		cfg   map[string]*string
	}{{"soak", 4, map[string]*string{"segment.bytes": ptr("1048576")}}, {"soak-compact", 2, compact}} {
		rs, err := adm.CreateTopics(setup, tc.parts, 1, tc.cfg, tc.name)
		if err == nil {
			err = rs.Error()
		}
		if err != nil {
			t.Fatalf("create %s: %v", tc.name, err)
		}
	}

	l := &soakLedger{acked: map[soakTP]string{}, group: map[soakTP]string{}, old: map[soakTP]string{}, keys: map[string]keyWrite{}, ambiguous: map[string]bool{}}
	run, stopRun := context.WithCancel(context.Background()) // the clients' own context
	defer stopRun()
	stopProducing := make(chan struct{})
	var wg sync.WaitGroup
	goLoad := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }

	prod := c.client(t, kgo.MaxBufferedRecords(20000))
	defer prod.Close()
	goLoad(func() { l.produce(run, prod, rate, stopProducing) })
	compactor := c.client(t)
	defer compactor.Close()
	goLoad(func() { l.produceKeys(run, compactor, stopProducing) })
	var members []*kgo.Client
	for range 2 {
		m := c.client(t, kgo.ConsumerGroup("soak-g"), kgo.ConsumeTopics("soak"), kgo.DisableAutoCommit(),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		members = append(members, m)
		goLoad(func() { l.consumeGroup(run, m) })
	}
	old := c.client(t, kgo.ConsumeTopics("soak"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MaxVersions(kversion.V0_9_0()))
	goLoad(func() { l.consumeOld(run, old) })
	churnCl := c.client(t)
	defer churnCl.Close()
	churnAdm := kadm.NewClient(churnCl)
	goLoad(func() { l.churn(run, churnAdm, churnCl, stopProducing) })

	// Steady phase: the broker's resources, sampled.
	soak.CheckGrowth(t, "broker", soak.SampleUntil(t, c.broker.Process.Pid, start.Add(dur*4/10), 5*time.Second, filepath.Join(c.dir, "kafka-logs")))

	// Crash phase.
	crashEnd := start.Add(dur * 9 / 10)
	crashes := map[string]int{}
	for time.Now().Before(crashEnd) {
		time.Sleep(time.Duration(8+rand.IntN(13)) * time.Second)
		switch n := rand.IntN(10); {
		case n < 6:
			c.stopBroker(syscall.SIGKILL)
			c.startBroker()
			crashes["broker SIGKILL"]++
		case n < 8:
			c.stopBroker(syscall.SIGTERM)
			c.startBroker()
			crashes["broker SIGTERM"]++
		default:
			c.stopZK(syscall.SIGKILL)
			time.Sleep(time.Duration(1+rand.IntN(3)) * time.Second)
			c.startZK()
			crashes["zkserver SIGKILL"]++
		}
		l.mu.Lock()
		t.Logf("%v: %v; %d records acknowledged so far", time.Since(start).Round(time.Second), crashes, len(l.acked))
		l.mu.Unlock()
	}

	// Final phase: stop writing, let every client finish, then compare.
	close(stopProducing)
	flush, cancelFlush := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelFlush()
	if err := prod.Flush(flush); err != nil {
		t.Fatalf("flush the producer: %v", err)
	}
	ends := endOffsets(t, adm, "soak")
	soak.WaitFor(t, 3*time.Minute, "the group and the 0.9 consumer to read up to the log end", func() string {
		l.mu.Lock()
		defer l.mu.Unlock()
		return coverage(ends, l.group, "group") + coverage(ends, l.old, "0.9 consumer")
	})
	soak.WaitFor(t, 2*time.Minute, "the group's commits to reach the log end", func() string { return commitsBehind(adm, ends) })
	stopRun()
	wg.Wait()
	for _, m := range members {
		m.Close()
	}
	old.Close()

	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.bad {
		t.Error(b)
	}
	l.checkTopic(t, readAll(t, c.client, "soak", ends))
	l.checkKeys(t, readAll(t, c.client, "soak-compact", endOffsets(t, adm, "soak-compact")))
	l.checkChurn(t, adm, c)
	t.Logf("%d records acknowledged (%d not), group read %d, 0.9 consumer %d; churn: %d cycles complete, %d steps refused; crashes %v",
		len(l.acked), l.failed, len(l.group), len(l.old), l.churnDone, l.churnErrs, crashes)

	c.stopBroker(syscall.SIGTERM)
	c.stopZK(syscall.SIGTERM)
	soak.CheckLogs(t, c.logs, soak.GoZookeeperLastZxid) // the broker's ZooKeeper client
}

func ptr(s string) *string { return &s }

// soakCluster is the zkserver and broker processes of a soak, restarted on
// the same directories; each start logs to a file of its own.
type soakCluster struct {
	t                  *testing.T
	dir, zkBin, kBin   string
	zoo, props         string
	addr, zkAddr       string
	zk, broker         *exec.Cmd
	zkExit, brokerExit <-chan struct{}
	zkStarts, kStarts  int
	logs               []string
}

func newSoakCluster(t *testing.T, flags []string) *soakCluster {
	dir := t.TempDir()
	c := &soakCluster{t: t, dir: dir}
	c.zkBin = build(t, "github.com/zkafka/zkafka/cmd/zkserver", dir, "zkserver", flags...)
	c.kBin = build(t, ".", dir, "kafkaserver", flags...)
	c.zoo, c.zkAddr = soakZooCfg(t, dir)
	c.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.props = filepath.Join(dir, "server.properties")
	os.WriteFile(c.props, []byte(strings.Join([]string{
		"broker.id=1",
		"zookeeper.connect=" + c.zkAddr,
		"log.dirs=" + filepath.Join(dir, "kafka-logs"),
		"listeners=PLAINTEXT://" + c.addr,
		"offsets.topic.replication.factor=1",
		"offsets.topic.num.partitions=4",
		"zookeeper.session.timeout.ms=6000",
		"group.initial.rebalance.delay.ms=0",
		"log.cleaner.backoff.ms=1000",
	}, "\n")+"\n"), 0o644)
	c.startZK()
	c.startBroker()
	return c
}

// soakZooCfg writes the zoo.cfg both soaks run zkserver with (a free port, data in dir/zk) and returns its path and
// client address.
func soakZooCfg(t *testing.T, dir string) (path, addr string) {
	port := freePort(t)
	path = filepath.Join(dir, "zoo.cfg")
	os.WriteFile(path, []byte(fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n",
		filepath.Join(dir, "zk"), port)), 0o644)
	return path, fmt.Sprintf("127.0.0.1:%d", port)
}

func (c *soakCluster) startZK() {
	c.zkStarts++
	logf := filepath.Join(c.dir, fmt.Sprintf("zk-%02d.log", c.zkStarts))
	c.logs = append(c.logs, logf)
	c.zk, c.zkExit = startWatched(c.t, logf, c.zkBin, "start-foreground", c.zoo)
	waitDial(c.t, c.zkAddr, logf)
}

func (c *soakCluster) startBroker() {
	c.kStarts++
	logf := filepath.Join(c.dir, fmt.Sprintf("kafka-%02d.log", c.kStarts))
	c.logs = append(c.logs, logf)
	c.broker, c.brokerExit = restartBroker(c.t, logf, c.kBin, c.props, c.addr)
}

func (c *soakCluster) stopBroker(sig syscall.Signal) {
	c.stop(c.broker, c.brokerExit, sig, filepath.Join(c.dir, fmt.Sprintf("kafka-%02d.log", c.kStarts)))
}

func (c *soakCluster) stopZK(sig syscall.Signal) {
	c.stop(c.zk, c.zkExit, sig, filepath.Join(c.dir, fmt.Sprintf("zk-%02d.log", c.zkStarts)))
}

func (c *soakCluster) stop(cmd *exec.Cmd, exited <-chan struct{}, sig syscall.Signal, logf string) {
	c.t.Helper()
	stopProcess(c.t, cmd, exited, sig, logf, time.Minute)
}

// stopProcess signals a server's process group and waits up to limit for it; a SIGTERM must end it with status 0
// (a failure shows its log's end).
func stopProcess(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}, sig syscall.Signal, logf string, limit time.Duration) {
	t.Helper()
	syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-exited:
	case <-time.After(limit):
		t.Fatalf("%s did not exit %v after %v", cmd.Path, limit, sig)
	}
	if sig == syscall.SIGTERM && cmd.ProcessState.ExitCode() != 0 {
		b, _ := os.ReadFile(logf)
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		t.Errorf("%s exited %d on SIGTERM; the end of %s:\n%s", cmd.Path, cmd.ProcessState.ExitCode(), logf,
			strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// soakRate is SOAK_RATE, the producer's records per second, or def.
func soakRate(t *testing.T, def int) int {
	t.Helper()
	s := os.Getenv("SOAK_RATE")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 {
		t.Fatalf("SOAK_RATE: want records per second ≥ 100, got %q", s)
	}
	return n
}

// commitsBehind lists the partitions of topic soak whose commit by group soak-g is not at ends, or says why it
// cannot tell; "" when all are there.
func commitsBehind(adm *kadm.Client, ends map[int32]int64) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := adm.FetchOffsets(ctx, "soak-g")
	if err != nil {
		return err.Error()
	}
	var behind []string
	for p, end := range ends {
		if o, ok := offs.Lookup("soak", p); !ok || o.At != end {
			behind = append(behind, fmt.Sprintf("soak-%d at %d of %d", p, o.At, end))
		}
	}
	sort.Strings(behind)
	return strings.Join(behind, ", ")
}

func (c *soakCluster) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func endOffsets(t *testing.T, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lo, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	ends := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	return ends
}

// readAll reads a topic from its start up to ends with a fresh client made by newClient.
func readAll(t *testing.T, newClient func(*testing.T, ...kgo.Opt) *kgo.Client, topic string, ends map[int32]int64) []*kgo.Record {
	t.Helper()
	cl := newClient(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	next := map[int32]int64{}
	var recs []*kgo.Record
	deadline := time.Now().Add(3 * time.Minute)
	for {
		done := true
		for p, end := range ends {
			if next[p] < end {
				done = false
			}
		}
		if done {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %s: at %v of %v after 3 minutes", topic, next, ends)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < ends[r.Partition] {
				recs = append(recs, r)
			}
			next[r.Partition] = r.Offset + 1
		})
	}
}

type soakTP struct {
	p   int32
	off int64
}

type keyWrite struct {
	off   int64
	value string
	tomb  bool
}

// soakLedger is what the clients were told, and any inconsistency they saw
// while running.
type soakLedger struct {
	mu        sync.Mutex
	acked     map[soakTP]string // topic soak: acknowledged records
	failed    int
	group     map[soakTP]string // read by the group's members
	old       map[soakTP]string // read by the 0.9-protocol consumer
	keys      map[string]keyWrite
	ambiguous map[string]bool // keys whose last write was not acknowledged either way
	churned   []string
	churnDone int
	churnErrs int
	bad       []string
}

func (l *soakLedger) produce(ctx context.Context, cl *kgo.Client, rate int, stop <-chan struct{}) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	pad := strings.Repeat("x", 48)
	for n := 0; ; {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for range rate / 100 {
			n++
			v := fmt.Sprintf("%09d-%s", n, pad)
			cl.Produce(ctx, &kgo.Record{Topic: "soak", Key: []byte(strconv.Itoa(n)), Value: []byte(v)}, func(r *kgo.Record, err error) {
				l.mu.Lock()
				defer l.mu.Unlock()
				if err != nil {
					l.failed++
					return
				}
				at := soakTP{r.Partition, r.Offset}
				if prev, ok := l.acked[at]; ok {
					l.bad = append(l.bad, fmt.Sprintf("soak-%d offset %d acknowledged for %q and %q", at.p, at.off, prev, v))
				}
				l.acked[at] = v
			})
		}
	}
}

// produceKeys writes 200 keys over and over in small synchronous batches, one
// record in 20 a tombstone, and keeps each key's last acknowledged write.
func (l *soakLedger) produceKeys(ctx context.Context, cl *kgo.Client, stop <-chan struct{}) {
	for seq := 0; ; {
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		var recs []*kgo.Record
		for range 20 {
			seq++
			k := fmt.Sprintf("k%03d", rand.IntN(200))
			r := &kgo.Record{Topic: "soak-compact", Key: []byte(k)}
			if rand.IntN(20) != 0 {
				r.Value = []byte(fmt.Sprintf("%s=%d", k, seq))
			}
			recs = append(recs, r)
		}
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		res := cl.ProduceSync(pctx, recs...)
		cancel()
		l.mu.Lock()
		for _, pr := range res {
			k := string(pr.Record.Key)
			if pr.Err != nil {
				l.ambiguous[k] = true
				continue
			}
			// Later writes of a key land at higher offsets, and so settle what
			// an unacknowledged earlier one left open.
			if w, ok := l.keys[k]; !ok || pr.Record.Offset > w.off {
				l.keys[k] = keyWrite{pr.Record.Offset, string(pr.Record.Value), pr.Record.Value == nil}
				delete(l.ambiguous, k)
			}
		}
		l.mu.Unlock()
	}
}

func (l *soakLedger) consumeGroup(ctx context.Context, cl *kgo.Client) {
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		l.note(l.group, fs, "group member")
		cl.CommitUncommittedOffsets(ctx) // refused while the broker restarts; the next poll's commit covers it
	}
}

func (l *soakLedger) consumeOld(ctx context.Context, cl *kgo.Client) {
	for ctx.Err() == nil {
		l.note(l.old, cl.PollFetches(ctx), "0.9 consumer")
	}
}

func (l *soakLedger) note(seen map[soakTP]string, fs kgo.Fetches, who string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs.EachRecord(func(r *kgo.Record) {
		at := soakTP{r.Partition, r.Offset}
		if prev, ok := seen[at]; ok && prev != string(r.Value) {
			l.bad = append(l.bad, fmt.Sprintf("%s read soak-%d offset %d as %q, then as %q", who, at.p, at.off, prev, r.Value))
		}
		seen[at] = string(r.Value)
	})
}

// churn creates a topic, writes to it, adds a partition, changes a config and
// deletes it, again and again; a step the broker refuses (it may be
// restarting) ends that cycle.
func (l *soakLedger) churn(ctx context.Context, adm *kadm.Client, cl *kgo.Client, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(2 * time.Second):
		}
		name := fmt.Sprintf("churn-%d", i)
		l.mu.Lock()
		l.churned = append(l.churned, name)
		l.mu.Unlock()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := churnCycle(sctx, adm, cl, name)
		cancel()
		cl.PurgeTopicsFromClient(name)
		l.mu.Lock()
		if err != nil {
			l.churnErrs++
		} else {
			l.churnDone++
		}
		l.mu.Unlock()
	}
}

func churnCycle(ctx context.Context, adm *kadm.Client, cl *kgo.Client, name string) error {
	cr, err := adm.CreateTopics(ctx, 2, 1, nil, name)
	if err == nil {
		err = cr.Error()
	}
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	var recs []*kgo.Record
	for j := range 20 {
		recs = append(recs, &kgo.Record{Topic: name, Value: []byte(strconv.Itoa(j))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	cp, err := adm.CreatePartitions(ctx, 1, name)
	if err == nil {
		err = cp.Error()
	}
	if err != nil {
		return fmt.Errorf("add a partition: %w", err)
	}
	ac, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: ptr("3600000")}}, name)
	if err == nil {
		_, err = ac.On(name, func(r *kadm.AlterConfigsResponse) error { return r.Err })
	}
	if err != nil {
		return fmt.Errorf("alter: %w", err)
	}
	dr, err := adm.DeleteTopics(ctx, name)
	if err == nil {
		err = dr.Error()
	}
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return nil
}

// checkTopic compares the log of topic soak with the acknowledgements and with
// what the consumers read.
func (l *soakLedger) checkTopic(t *testing.T, recs []*kgo.Record) {
	t.Helper()
	log := map[soakTP]string{}
	where := map[string]soakTP{}
	last := map[int32]int64{}
	for _, r := range recs {
		at := soakTP{r.Partition, r.Offset}
		v := string(r.Value)
		if prev, ok := last[r.Partition]; ok && r.Offset != prev+1 {
			t.Errorf("soak-%d: offset %d follows %d", r.Partition, r.Offset, prev)
		}
		last[r.Partition] = r.Offset
		if w, ok := where[v]; ok {
			t.Errorf("record %q is in the log twice: soak-%d at %d and %d", v, at.p, w.off, at.off)
		}
		where[v] = at
		log[at] = v
	}
	bad := 0
	for at, v := range l.acked {
		if log[at] != v {
			if bad++; bad <= 10 {
				t.Errorf("acknowledged %q at soak-%d offset %d; the log has %q", v, at.p, at.off, log[at])
			}
		}
	}
	for name, seen := range map[string]map[soakTP]string{"group": l.group, "0.9 consumer": l.old} {
		for at, v := range seen {
			if log[at] != v {
				if bad++; bad <= 20 {
					t.Errorf("the %s read %q at soak-%d offset %d; the log has %q", name, v, at.p, at.off, log[at])
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d mismatches in all", bad)
	}
}

// checkKeys compares the compacted topic's last value per key with the last
// acknowledged write of each key.
func (l *soakLedger) checkKeys(t *testing.T, recs []*kgo.Record) {
	t.Helper()
	final := map[string]keyWrite{}
	lastOff := map[int32]int64{}
	for _, r := range recs {
		if prev, ok := lastOff[r.Partition]; ok && r.Offset <= prev {
			t.Errorf("soak-compact-%d: offset %d after %d", r.Partition, r.Offset, prev)
		}
		lastOff[r.Partition] = r.Offset
		final[string(r.Key)] = keyWrite{r.Offset, string(r.Value), r.Value == nil}
	}
	for k, w := range l.keys {
		if l.ambiguous[k] {
			continue
		}
		f, ok := final[k]
		switch {
		case w.tomb && ok && !f.tomb:
			t.Errorf("key %s: deleted at offset %d, the log ends with %q at %d", k, w.off, f.value, f.off)
		case !w.tomb && (!ok || f.value != w.value || f.off != w.off):
			t.Errorf("key %s: last acknowledged %q at %d, the log ends with %+v (present %v)", k, w.value, w.off, f, ok)
		}
	}
	produced := int64(0)
	for _, off := range lastOff {
		produced += off + 1
	}
	t.Logf("soak-compact: %d records left of %d offsets written (%d keys unsettled)", len(recs), produced, len(l.ambiguous))
}

// checkChurn deletes what the churn loop left (a cycle cut by a restart) and
// waits until no churned topic is listed or has a directory in the log dir.
func (l *soakLedger) checkChurn(t *testing.T, adm *kadm.Client, c *soakCluster) {
	t.Helper()
	if l.churnDone == 0 {
		t.Errorf("no churn cycle completed (%d refused)", l.churnErrs)
	}
	churned := map[string]bool{}
	for _, n := range l.churned {
		churned[n] = true
	}
	soak.WaitFor(t, 2*time.Minute, "churned topics to be gone", func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		td, err := adm.ListTopics(ctx)
		if err != nil {
			return err.Error()
		}
		var left []string
		for _, name := range td.Names() {
			if churned[name] {
				left = append(left, name)
			}
		}
		if len(left) > 0 {
			adm.DeleteTopics(ctx, left...)
			return "listed: " + strings.Join(left, " ")
		}
		ents, _ := os.ReadDir(filepath.Join(c.dir, "kafka-logs"))
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "churn-") {
				left = append(left, e.Name())
			}
		}
		sort.Strings(left)
		if len(left) > 0 {
			return "directories: " + strings.Join(left, " ")
		}
		return ""
	})
}

// coverage says which offsets below ends seen lacks, or "".
func coverage(ends map[int32]int64, seen map[soakTP]string, who string) string {
	var lack []string
	for p, end := range ends {
		for off := int64(0); off < end; off++ {
			if _, ok := seen[soakTP{p, off}]; !ok {
				lack = append(lack, fmt.Sprintf("%s lacks soak-%d offset %d (of %d)", who, p, off, end))
				break
			}
		}
	}
	return strings.Join(lack, "; ")
}
