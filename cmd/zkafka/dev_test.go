package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/zkafka/zkafka/cmd/zkafka/internal/kbench"
)

// TestDev runs `zkafka dev` in-process on free ports, produces and consumes one record through the broker, checks
// the broker's registration in ZooKeeper, then shuts down and expects a clean exit.
func TestDev(t *testing.T) {
	dir := t.TempDir()
	cfg := devConfig{Host: "127.0.0.1", ZKPort: freePort(t), KafkaPort: freePort(t), DataDir: filepath.Join(dir, "data")}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan devAddrs, 1)
	done := make(chan error, 1)
	go func() { done <- runDev(ctx, cfg, slog.New(slog.DiscardHandler), func(a devAddrs) { ready <- a }) }()
	var addrs devAddrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("dev exited early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not come up")
	}
	if !strings.HasSuffix(addrs.Kafka, ":"+itoa(cfg.KafkaPort)) || !strings.HasSuffix(addrs.ZooKeeper, ":"+itoa(cfg.ZKPort)) {
		t.Fatalf("addresses %+v, want ports %d and %d", addrs, cfg.ZKPort, cfg.KafkaPort)
	}

	opCtx, opCancel := context.WithTimeout(ctx, 30*time.Second)
	defer opCancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs.Kafka), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics("dev-test"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(opCtx, &kgo.Record{Topic: "dev-test", Key: []byte("k"), Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	var got *kgo.Record
	for got == nil {
		fs := cl.PollFetches(opCtx)
		if err := opCtx.Err(); err != nil {
			t.Fatalf("consume: %v", err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got = r })
	}
	if string(got.Key) != "k" || string(got.Value) != "hello" || got.Offset != 0 {
		t.Fatalf("consumed %q=%q at %d", got.Key, got.Value, got.Offset)
	}
	cl.Close()

	zc, _, err := zk.Connect([]string{addrs.ZooKeeper}, 10*time.Second, zk.WithLogger(zkQuiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	data, _, err := zc.Get("/brokers/ids/0")
	if err != nil {
		t.Fatalf("get /brokers/ids/0: %v", err)
	}
	if !strings.Contains(string(data), "PLAINTEXT://"+addrs.Kafka) {
		t.Fatalf("/brokers/ids/0 = %s, want the PLAINTEXT endpoint %s", data, addrs.Kafka)
	}
	if ok, _, err := zc.Exists("/brokers/topics/dev-test"); err != nil || !ok {
		t.Fatalf("/brokers/topics/dev-test exists=%v err=%v", ok, err)
	}
	zc.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not shut down")
	}
	for _, sub := range []string{"zookeeper/version-2", "kafka/meta.properties", "kafka/dev-test-0"} {
		if m, _ := filepath.Glob(filepath.Join(cfg.DataDir, sub)); len(m) == 0 {
			t.Errorf("no %s under the data dir", sub)
		}
	}
}

// startDev runs the dev stack on free ports for the test's lifetime and returns its addresses.
func startDev(t *testing.T) devAddrs {
	t.Helper()
	cfg := devConfig{Host: "127.0.0.1", ZKPort: freePort(t), KafkaPort: freePort(t), DataDir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan devAddrs, 1)
	done := make(chan error, 1)
	go func() { done <- runDev(ctx, cfg, slog.New(slog.DiscardHandler), func(a devAddrs) { ready <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev exit: %v", err)
		}
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		done <- err
		t.Fatalf("dev exited early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not come up")
	}
	return devAddrs{}
}

// TestBenchKafka produces a fixed number of records with `bench kafka`, pinned to 0.9 request versions as
// .ci/bench-kafka runs it, and consumes them back.
func TestBenchKafka(t *testing.T) {
	addrs := startDev(t)
	for _, acks := range []string{"1", "all"} {
		out, err := runCLI(t, "bench", "kafka", "--brokers", addrs.Kafka, "--topic", "b", "--partitions", "3",
			"--size", "100", "--acks", acks, "--records", "500", "--max-version", "0.9.0", "--json")
		if err != nil {
			t.Fatalf("produce acks %s: %v\n%s", acks, err, out)
		}
		var r kbench.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %q", err, out)
		}
		if r.Op != "produce" || r.Records != 500 || r.Errors != 0 || r.Bytes != 50000 || r.P99Micros <= 0 {
			t.Fatalf("produce acks %s: %+v", acks, r)
		}
	}
	out, err := runCLI(t, "bench", "kafka", "--brokers", addrs.Kafka, "--topic", "b", "--partitions", "3",
		"--op", "consume", "--max-version", "0.9.0", "--json")
	if err != nil {
		t.Fatalf("consume: %v\n%s", err, out)
	}
	var r kbench.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if r.Op != "consume" || r.Records != 1000 || r.Expected != 1000 || r.Bytes != 100000 || r.Errors != 0 {
		t.Fatalf("consume: %+v", r)
	}
	// A topic with fewer partitions than asked for is an error, not a silent smaller run.
	if out, err := runCLI(t, "bench", "kafka", "--brokers", addrs.Kafka, "--topic", "b", "--partitions", "4",
		"--records", "1"); err == nil || !strings.Contains(err.Error(), "3 partitions") {
		t.Fatalf("want a partition count error, got %v\n%s", err, out)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

type zkQuiet struct{}

func (zkQuiet) Printf(string, ...any) {}
