package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKill9KeepsAcknowledgedRecords produces with acks=all and
// log.flush.interval.messages=1, SIGKILLs the broker at a random moment,
// restarts it on the same log dir and consumes: every acknowledged record is
// there, once, in the order it was acknowledged.
func TestKill9KeepsAcknowledgedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := t.TempDir()
	zkBin := build(t, "github.com/zkafka/zkafka/cmd/zkserver", dir, "zkserver")
	kBin := build(t, ".", dir, "kafkaserver")
	zkPort, kPort := freePort(t), freePort(t)
	zoo := filepath.Join(dir, "zoo.cfg")
	os.WriteFile(zoo, []byte(fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n",
		filepath.Join(dir, "zk"), zkPort)), 0o644)
	startProc(t, filepath.Join(dir, "zk.log"), zkBin, "start-foreground", zoo)
	waitDial(t, fmt.Sprintf("127.0.0.1:%d", zkPort), filepath.Join(dir, "zk.log"))

	props := filepath.Join(dir, "server.properties")
	os.WriteFile(props, []byte(strings.Join([]string{
		"broker.id=1",
		fmt.Sprintf("zookeeper.connect=127.0.0.1:%d", zkPort),
		"log.dirs=" + filepath.Join(dir, "kafka-logs"),
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", kPort),
		"offsets.topic.replication.factor=1",
		"log.flush.interval.messages=1",
		"zookeeper.session.timeout.ms=6000",
	}, "\n")+"\n"), 0o644)
	addr := fmt.Sprintf("127.0.0.1:%d", kPort)
	klog := filepath.Join(dir, "kafka.log")
	broker := startProc(t, klog, kBin, props)
	waitDial(t, addr, klog)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// One record in flight at a time, no retries: an acknowledgement is
	// about exactly one append.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DisableIdempotentWrite(), kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordRetries(0), kgo.MaxBufferedRecords(1),
		kgo.DefaultProduceTopic("durable"))
	if err != nil {
		t.Fatal(err)
	}
	// The topic is created on first use; retry until it has a leader.
	for {
		err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("warmup")}).FirstErr()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			b, _ := os.ReadFile(klog)
			t.Fatalf("first produce: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var mu sync.Mutex
	acked := []string{"warmup"}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := fmt.Sprintf("r%06d", i)
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			err := cl.ProduceSync(pctx, &kgo.Record{Value: []byte(v)}).FirstErr()
			pcancel()
			if err == nil {
				mu.Lock()
				acked = append(acked, v)
				mu.Unlock()
			}
		}
	}()
	time.Sleep(time.Duration(500+rand.IntN(1500)) * time.Millisecond)
	syscall.Kill(-broker.Process.Pid, syscall.SIGKILL)
	broker.Wait()
	close(stop)
	<-done
	cl.Close()
	mu.Lock()
	want := append([]string(nil), acked...)
	mu.Unlock()
	if len(want) < 10 {
		b, _ := os.ReadFile(klog)
		t.Fatalf("only %d records acknowledged before the kill\n%s", len(want), b)
	}

	restartBroker(t, klog, kBin, props, addr)
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("durable"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	seen := map[string]int{}
	var got []string
	deadline := time.Now().Add(45 * time.Second)
	for !containsAll(seen, want) {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d records, %d acknowledged ones missing", len(got), missing(seen, want))
		}
		pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
		fs := cons.PollFetches(pctx)
		pcancel()
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) {
				t.Logf("fetch: %v", e.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			v := string(r.Value)
			seen[v]++
			got = append(got, v)
		})
	}
	for v, n := range seen {
		if n > 1 {
			t.Fatalf("record %s consumed %d times", v, n)
		}
	}
	// Acknowledged records keep their acknowledgement order.
	pos := map[string]int{}
	for i, v := range got {
		pos[v] = i
	}
	for i := 1; i < len(want); i++ {
		if pos[want[i]] < pos[want[i-1]] {
			t.Fatalf("%s consumed before %s", want[i], want[i-1])
		}
	}
	t.Logf("%d acknowledged records all consumed once, in order, after kill -9 (%d consumed)", len(want), len(got))
}

func containsAll(seen map[string]int, want []string) bool { return missing(seen, want) == 0 }

func missing(seen map[string]int, want []string) int {
	n := 0
	for _, v := range want {
		if seen[v] == 0 {
			n++
		}
	}
	return n
}
