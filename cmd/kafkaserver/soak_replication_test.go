//go:build soak

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
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

	"github.com/zkafka/zkafka/conformance/soak"
)

// TestSoakReplication runs zkserver and three brokers (race detector unless
// SOAK_RACE=0) for SOAK_DURATION (default 10m): an idempotent producer
// (acks=all) writes to a 4-partition topic with replication factor 3 and
// min.insync.replicas=2, and a two-member consumer group reads it and commits
// to a replicated __consumer_offsets. Every 8-20 s after the first fifth of
// the run one broker is stopped, most often a partition's leader or the
// controller, by SIGKILL or SIGTERM (a controlled shutdown), and started
// again on its log dir; one time in five zkserver is the one: SIGKILLed and
// restarted, or SIGSTOPped for 2-12 s (beyond the brokers' 6 s session
// timeout at times, so that their sessions expire) and continued.
// Replication, and so acks=all, goes on while ZooKeeper is away. At the end,
// with every server up again:
//   - every acknowledged record is in the log once, at the offset it was
//     acknowledged with, and offsets have no holes;
//   - the group read every record and its commits reach the log end;
//   - every partition's replicas are back in its ISR and the three copies of
//     each partition's log hold the same bytes;
//   - no log shows a panic or a data race.
func TestSoakReplication(t *testing.T) {
	dur := soak.Duration(t, 10*time.Minute)
	rate := soakRate(t, 500)
	t.Setenv("GORACE", soak.GORACE)
	c := newReplCluster(t, 3, soak.BuildFlags())
	start := time.Now()

	adm := kadm.NewClient(c.client(t))
	defer adm.Close()
	setup, cancelSetup := context.WithTimeout(context.Background(), time.Minute)
	defer cancelSetup()
	rs, err := adm.CreateTopics(setup, 4, 3, map[string]*string{"segment.bytes": ptr("1048576"), "min.insync.replicas": ptr("2")}, "soak")
	if err == nil {
		err = rs.Error()
	}
	if err != nil {
		t.Fatalf("create soak: %v", err)
	}

	l := &soakLedger{acked: map[soakTP]string{}, group: map[soakTP]string{}, old: map[soakTP]string{}}
	run, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	stopProducing := make(chan struct{})
	var wg sync.WaitGroup
	goLoad := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	prod := c.client(t, kgo.MaxBufferedRecords(20000))
	defer prod.Close()
	goLoad(func() { l.produce(run, prod, rate, stopProducing) })
	var members []*kgo.Client
	for range 2 {
		m := c.client(t, kgo.ConsumerGroup("soak-g"), kgo.ConsumeTopics("soak"), kgo.DisableAutoCommit(),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		members = append(members, m)
		goLoad(func() { l.consumeGroup(run, m) })
	}

	time.Sleep(time.Until(start.Add(dur / 5)))
	crashEnd := start.Add(dur * 9 / 10)
	stops := map[string]int{}
	for time.Now().Before(crashEnd) {
		time.Sleep(time.Duration(8+rand.IntN(13)) * time.Second)
		switch n := rand.IntN(10); {
		case n == 0:
			c.stop(c.zk, syscall.SIGKILL)
			time.Sleep(time.Duration(rand.IntN(4)) * time.Second)
			c.startZK()
			stops["zkserver killed"]++
		case n == 1:
			syscall.Kill(-c.zk.cmd.Process.Pid, syscall.SIGSTOP)
			time.Sleep(time.Duration(2+rand.IntN(11)) * time.Second)
			syscall.Kill(-c.zk.cmd.Process.Pid, syscall.SIGCONT)
			stops["zkserver stopped"]++
		default:
			who, id := c.pickVictim(adm)
			sig := syscall.SIGKILL
			if rand.IntN(10) < 3 {
				sig = syscall.SIGTERM
			}
			c.stopBroker(id, sig)
			time.Sleep(time.Duration(rand.IntN(4)) * time.Second)
			c.startBroker(id)
			stops[fmt.Sprintf("%s %v", who, sig)]++
		}
		l.mu.Lock()
		t.Logf("%v: %v; %d records acknowledged so far (%d not)", time.Since(start).Round(time.Second), stops, len(l.acked), l.failed)
		l.mu.Unlock()
	}

	close(stopProducing)
	flush, cancelFlush := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelFlush()
	if err := prod.Flush(flush); err != nil {
		t.Fatalf("flush the producer: %v", err)
	}
	soak.WaitFor(t, 3*time.Minute, "every replica back in its partition's ISR", func() string { return c.underReplicated(adm) })
	ends := endOffsets(t, adm, "soak")
	soak.WaitFor(t, 3*time.Minute, "the group to read up to the log end", func() string {
		l.mu.Lock()
		defer l.mu.Unlock()
		return coverage(ends, l.group, "group")
	})
	soak.WaitFor(t, 2*time.Minute, "the group's commits to reach the log end", func() string { return commitsBehind(adm, ends) })
	stopRun()
	wg.Wait()
	for _, m := range members {
		m.Close()
	}
	soak.WaitFor(t, time.Minute, "the replicas' logs to hold the same bytes", func() string { return c.divergentLogs("soak", len(ends)) })

	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.bad {
		t.Error(b)
	}
	l.checkTopic(t, readAll(t, c.client, "soak", ends))
	t.Logf("%d records acknowledged (%d not), group read %d; stops %v", len(l.acked), l.failed, len(l.group), stops)

	for id := range c.brokers {
		c.stopBroker(id, syscall.SIGTERM)
	}
	c.stop(c.zk, syscall.SIGTERM)
	soak.CheckLogs(t, c.logs, soak.GoZookeeperLastZxid)
}

// replCluster is a zkserver and several brokers, each restarted on its own
// directories.
type replCluster struct {
	t          *testing.T
	dir, kBin  string
	zkBin, zoo string
	zkAddr     string
	zk         *replProc
	zkStarts   int
	brokers    []*replBroker
	logs       []string
}

// replProc is one start of a server: its process, a channel closed once it has exited (and been waited for), and
// its log.
type replProc struct {
	cmd    *exec.Cmd
	exited <-chan struct{}
	logf   string
}

type replBroker struct {
	id                int
	addr, props, logs string
	starts            int
	proc              *replProc
}

func newReplCluster(t *testing.T, n int, flags []string) *replCluster {
	dir := t.TempDir()
	c := &replCluster{t: t, dir: dir}
	c.zkBin = build(t, "github.com/zkafka/zkafka/cmd/zkserver", dir, "zkserver", flags...)
	c.kBin = build(t, ".", dir, "kafkaserver", flags...)
	c.zoo, c.zkAddr = soakZooCfg(t, dir)
	c.startZK()
	for id := range n {
		b := &replBroker{id: id, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), logs: filepath.Join(dir, fmt.Sprintf("logs-%d", id))}
		b.props = filepath.Join(dir, fmt.Sprintf("server-%d.properties", id))
		os.WriteFile(b.props, []byte(strings.Join([]string{
			"broker.id=" + strconv.Itoa(id),
			"zookeeper.connect=" + c.zkAddr,
			"log.dirs=" + b.logs,
			"listeners=PLAINTEXT://" + b.addr,
			"offsets.topic.replication.factor=3",
			"offsets.topic.num.partitions=4",
			"default.replication.factor=3",
			"zookeeper.session.timeout.ms=6000",
			"group.initial.rebalance.delay.ms=0",
			"replica.lag.time.max.ms=10000",
		}, "\n")+"\n"), 0o644)
		c.brokers = append(c.brokers, b)
		c.startBroker(id)
	}
	return c
}

func (c *replCluster) startZK() {
	c.zkStarts++
	logf := filepath.Join(c.dir, fmt.Sprintf("zk-%02d.log", c.zkStarts))
	c.logs = append(c.logs, logf)
	cmd, exited := startWatched(c.t, logf, c.zkBin, "start-foreground", c.zoo)
	c.zk = &replProc{cmd: cmd, exited: exited, logf: logf}
	waitDial(c.t, c.zkAddr, logf)
}

func (c *replCluster) startBroker(id int) {
	b := c.brokers[id]
	b.starts++
	logf := filepath.Join(c.dir, fmt.Sprintf("kafka-%d-%02d.log", id, b.starts))
	c.logs = append(c.logs, logf)
	cmd, exited := restartBroker(c.t, logf, c.kBin, b.props, b.addr)
	b.proc = &replProc{cmd: cmd, exited: exited, logf: logf}
}

func (c *replCluster) stopBroker(id int, sig syscall.Signal) { c.stop(c.brokers[id].proc, sig) }

func (c *replCluster) stop(p *replProc, sig syscall.Signal) {
	c.t.Helper()
	stopProcess(c.t, p.cmd, p.exited, sig, p.logf, 2*time.Minute)
}

func (c *replCluster) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	var seeds []string
	for _, b := range c.brokers {
		seeds = append(seeds, b.addr)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// pickVictim chooses the broker to stop: a partition's leader half the time, the controller a quarter, any broker
// otherwise (or when the metadata cannot be had).
func (c *replCluster) pickVictim(adm *kadm.Client) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	md, err := adm.Metadata(ctx, "soak")
	n := rand.IntN(4)
	if err == nil && n < 2 {
		if td, ok := md.Topics["soak"]; ok && len(td.Partitions) > 0 {
			ps := td.Partitions.Sorted()
			if p := ps[rand.IntN(len(ps))]; p.Leader >= 0 && int(p.Leader) < len(c.brokers) {
				return "leader", int(p.Leader)
			}
		}
	}
	if err == nil && n == 2 && md.Controller >= 0 && int(md.Controller) < len(c.brokers) {
		return "controller", int(md.Controller)
	}
	return "broker", rand.IntN(len(c.brokers))
}

// underReplicated lists the partitions (of every topic) whose ISR lacks a replica, or says why it cannot tell.
func (c *replCluster) underReplicated(adm *kadm.Client) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	md, err := adm.Metadata(ctx)
	if err != nil {
		return err.Error()
	}
	var under []string
	for _, td := range md.Topics.Sorted() {
		for _, p := range td.Partitions.Sorted() {
			if p.Err != nil || len(p.ISR) < len(p.Replicas) || p.Leader < 0 {
				under = append(under, fmt.Sprintf("%s-%d (leader %d, replicas %v, isr %v, %v)", td.Topic, p.Partition, p.Leader, p.Replicas, p.ISR, p.Err))
			}
		}
	}
	return strings.Join(under, "; ")
}

// divergentLogs compares each partition's segment files, concatenated in offset order, across the brokers' log
// dirs, and lists the partitions whose copies differ.
func (c *replCluster) divergentLogs(topic string, parts int) string {
	var diff []string
	for p := range parts {
		var sums [][]byte
		var sizes []int
		for _, b := range c.brokers {
			data, err := readLog(filepath.Join(b.logs, fmt.Sprintf("%s-%d", topic, p)))
			if err != nil {
				return err.Error()
			}
			sum := sha256.Sum256(data)
			sums, sizes = append(sums, sum[:]), append(sizes, len(data))
		}
		for i := 1; i < len(sums); i++ {
			if !bytes.Equal(sums[0], sums[i]) {
				diff = append(diff, fmt.Sprintf("%s-%d: sizes %v", topic, p, sizes))
				break
			}
		}
	}
	return strings.Join(diff, "; ")
}

// readLog concatenates a partition directory's .log segments in base-offset order (their names sort so).
func readLog(dir string) ([]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".log") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var all []byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		all = append(all, b...)
	}
	return all, nil
}
