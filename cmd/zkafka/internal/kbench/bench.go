// Package kbench is a load generator for Kafka brokers built on franz-go: a producer that keeps a bounded
// number of records in flight and measures each record's time from Produce to acknowledgement, and a consumer
// that reads back what the topic holds. It drives Apache Kafka and kafkaserver alike, so their numbers compare;
// pinning the client's protocol versions (MaxVersion) makes both brokers see the same requests.
package kbench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/zkafka/zkafka/cmd/zkafka/internal/zkbench"
)

// Op names a workload.
type Op string

// The workloads.
const (
	OpProduce Op = "produce" // write records of Size bytes, spread round-robin over the partitions
	OpConsume Op = "consume" // read the topic from its start offsets to the end offsets seen at the start
)

// ParseOp checks a workload name.
func ParseOp(s string) (Op, error) {
	switch op := Op(s); op {
	case OpProduce, OpConsume:
		return op, nil
	}
	return "", fmt.Errorf("unknown op %q (want produce or consume)", s)
}

const (
	maxFirstErrors = 5
	topicWait      = 30 * time.Second
)

// The clients a load can run on.
const (
	ClientFranz = "franz" // franz-go's producer and consumer
	ClientRaw   = "raw"   // pre-encoded requests and a minimal consumer (raw.go)
)

// Config describes one run.
type Config struct {
	Brokers    []string
	Topic      string
	Op         Op
	Acks       string        // "1" or "all" (produce)
	Size       int           // bytes per record value (produce)
	Partitions int           // partitions the topic must have; created with this many when missing
	Records    int64         // stop after this many records; 0 runs for Duration (consume: until the end)
	Duration   time.Duration // measured time when Records is 0
	Buffered   int           // records a producer keeps in flight (buffered or unacknowledged)
	Linger     time.Duration // producer linger
	Inflight   int           // produce requests in flight per broker
	Client     string        // ClientFranz or ClientRaw
	BatchBytes int           // raw client: record bytes per partition in each produce request
	MaxVersion string        // Kafka version whose request versions the client may not exceed, "" negotiates
	Logger     *slog.Logger
}

func (c *Config) check() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("no brokers given")
	case c.Topic == "":
		return errors.New("no topic given")
	case c.Acks != "1" && c.Acks != "all" && c.Acks != "-1" && c.Acks != "0":
		return fmt.Errorf("acks must be 0, 1 or all, got %q", c.Acks)
	case c.Size < 0:
		return fmt.Errorf("size must not be negative, got %d", c.Size)
	case c.Partitions < 1:
		return fmt.Errorf("partitions must be at least 1, got %d", c.Partitions)
	case c.Records < 0:
		return fmt.Errorf("records must not be negative, got %d", c.Records)
	case c.Records == 0 && c.Duration <= 0 && c.Op == OpProduce:
		return errors.New("produce needs --records or a positive --duration")
	case c.Buffered < 1:
		return fmt.Errorf("buffered must be at least 1, got %d", c.Buffered)
	case c.Client != "" && c.Client != ClientFranz && c.Client != ClientRaw:
		return fmt.Errorf("client must be %s or %s, got %q", ClientFranz, ClientRaw, c.Client)
	case c.Inflight < 0:
		return fmt.Errorf("inflight must not be negative, got %d", c.Inflight)
	case c.Client == ClientRaw && c.BatchBytes < 1:
		return fmt.Errorf("batch bytes must be at least 1, got %d", c.BatchBytes)
	}
	_, err := ParseOp(string(c.Op))
	return err
}

// clientOpts returns the options every client gets and, apart, the version pin the measuring clients add.
func (c *Config) clientOpts() (base []kgo.Opt, pin []kgo.Opt, err error) {
	base = []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID("zkafka-bench")}
	if c.MaxVersion != "" {
		v := kversion.FromString(c.MaxVersion)
		if v == nil {
			return nil, nil, fmt.Errorf("unknown Kafka version %q", c.MaxVersion)
		}
		pin = append(pin, kgo.MaxVersions(v))
	}
	return base, pin, nil
}

// runContext bounds a run by Duration when it is not bounded by a record count.
func (c *Config) runContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.Records == 0 && c.Duration > 0 {
		return context.WithTimeout(ctx, c.Duration)
	}
	return ctx, func() {}
}

// Run runs one workload. On a failure part-way it returns what was measured as well as the error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base, pin, err := cfg.clientOpts()
	if err != nil {
		return nil, err
	}
	// The admin client keeps to the pin too: Kafka 0.9 does not answer an ApiVersions request, it drops it.
	admin, err := kgo.NewClient(append(base, pin...)...)
	if err != nil {
		return nil, fmt.Errorf("new client: %w", err)
	}
	defer admin.Close()
	n, err := ensureTopic(ctx, admin, base, cfg, cfg.Op == OpProduce)
	if err != nil {
		return nil, err
	}
	if cfg.Client == ClientRaw {
		if cfg.Op == OpProduce {
			return rawProduce(ctx, cfg, admin)
		}
		return rawConsume(ctx, cfg, admin, n)
	}
	if cfg.Op == OpProduce {
		return produce(ctx, cfg, append(base, pin...))
	}
	return consume(ctx, cfg, admin, n, append(base, pin...))
}

// ensureTopic waits until the topic exists with a leader for every partition, creating it with CreateTopics
// when it is missing (through a client that negotiates versions: a pinned one may not send CreateTopics). It
// returns the partition count.
func ensureTopic(ctx context.Context, cl *kgo.Client, base []kgo.Opt, cfg Config, create bool) (int, error) {
	deadline := time.Now().Add(topicWait)
	created := false
	for {
		n, ready, err := topicState(ctx, cl, cfg.Topic)
		switch {
		case err == nil && ready:
			if n < cfg.Partitions {
				return 0, fmt.Errorf("topic %s has %d partitions, fewer than the %d asked for", cfg.Topic, n, cfg.Partitions)
			}
			return n, nil
		case errors.Is(err, kerr.UnknownTopicOrPartition) && create && !created:
			if err := createTopic(ctx, base, cfg); err != nil {
				return 0, err
			}
			created = true
			cfg.Logger.Info("created topic", "topic", cfg.Topic, "partitions", cfg.Partitions)
		case err != nil && !kerr.IsRetriable(err) && !errors.Is(err, kerr.UnknownTopicOrPartition):
			return 0, fmt.Errorf("metadata for %s: %w", cfg.Topic, err)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("topic %s not ready after %v (last: %d partitions, err %v)", cfg.Topic, topicWait, n, err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// topicState reports the partition count and whether every partition has a leader.
func topicState(ctx context.Context, cl *kgo.Client, topic string) (int, bool, error) {
	// All topics: naming the topic in a v0 request (all that 0.9 speaks) would auto-create it with the broker's
	// num.partitions.
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, false, fmt.Errorf("metadata request: %w", err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return len(t.Partitions), false, err
		}
		ready := len(t.Partitions) > 0
		for _, p := range t.Partitions {
			if p.Leader < 0 || kerr.ErrorForCode(p.ErrorCode) == kerr.LeaderNotAvailable {
				ready = false
			}
		}
		return len(t.Partitions), ready, nil
	}
	return 0, false, kerr.UnknownTopicOrPartition
}

func createTopic(ctx context.Context, base []kgo.Opt, cfg Config) error {
	cl, err := kgo.NewClient(base...)
	if err != nil {
		return fmt.Errorf("new client: %w", err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = cfg.Topic
	rt.NumPartitions = int32(cfg.Partitions)
	rt.ReplicationFactor = 1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = int32(topicWait / time.Millisecond)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("create topic %s (a broker or client version without CreateTopics needs it created "+
			"beforehand, e.g. kafka-topics --zookeeper): %w", cfg.Topic, err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", cfg.Topic, err)
		}
	}
	return nil
}

// errorLog counts errors and keeps the first few messages; safe for concurrent use.
type errorLog struct {
	mu    sync.Mutex
	count uint64
	first []string
}

func (e *errorLog) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.count++
	if len(e.first) < maxFirstErrors {
		e.first = append(e.first, err.Error())
	}
}

func produce(ctx context.Context, cfg Config, base []kgo.Opt) (*Result, error) {
	acks := kgo.LeaderAck()
	switch cfg.Acks {
	case "all", "-1":
		acks = kgo.AllISRAcks()
	case "0":
		acks = kgo.NoAck()
	}
	// Idempotence off and no compression: 0.9 has neither, and both brokers must see the same requests.
	opts := append(base,
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(acks),
		kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.MaxBufferedRecords(cfg.Buffered),
		kgo.ProducerLinger(cfg.Linger),
		kgo.MaxProduceRequestsInflightPerBroker(max(cfg.Inflight, 1)),
		kgo.AllowAutoTopicCreation(),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("new client: %w", err)
	}
	defer cl.Close()

	value := make([]byte, cfg.Size)
	_, _ = rand.Read(value) // incompressible, though nothing compresses here

	var (
		mu   sync.Mutex
		lat  = zkbench.NewHistogram()
		errs errorLog
	)
	runCtx, cancel := cfg.runContext(ctx)
	defer cancel()
	start := time.Now()
	var sent int64
	for cfg.Records == 0 || sent < cfg.Records {
		if runCtx.Err() != nil {
			break
		}
		t0 := time.Now()
		// Produce blocks while Buffered records are in flight: that is the closed loop.
		cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			d := time.Since(t0)
			if err != nil {
				errs.add(err)
				return
			}
			mu.Lock()
			lat.Record(d)
			mu.Unlock()
		})
		sent++
	}
	flushErr := cl.Flush(ctx)
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	res := newResult(cfg, elapsed, lat.Count(), lat.Count()*uint64(cfg.Size), lat, &errs)
	if flushErr != nil {
		return res, fmt.Errorf("flush: %w", flushErr)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

func consume(ctx context.Context, cfg Config, admin *kgo.Client, n int, base []kgo.Opt) (*Result, error) {
	starts, err := listOffsets(ctx, admin, cfg.Topic, n, -2)
	if err != nil {
		return nil, err
	}
	ends, err := listOffsets(ctx, admin, cfg.Topic, n, -1)
	if err != nil {
		return nil, err
	}
	var want int64
	offsets := make(map[int32]kgo.Offset, n)
	left := make(map[int32]int64, n) // records still to read per partition
	for p := int32(0); p < int32(n); p++ {
		if c := ends[p] - starts[p]; c > 0 {
			offsets[p] = kgo.NewOffset().At(starts[p])
			left[p] = c
			want += c
		}
	}
	if cfg.Records > 0 {
		want = min(want, cfg.Records)
	}
	if want == 0 {
		return nil, fmt.Errorf("topic %s is empty: produce to it first", cfg.Topic)
	}

	cl, err := kgo.NewClient(append(base,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: offsets}),
	)...)
	if err != nil {
		return nil, fmt.Errorf("new consumer: %w", err)
	}
	defer cl.Close()

	runCtx, cancel := cfg.runContext(ctx)
	defer cancel()
	lat := zkbench.NewHistogram() // time each poll waited: how long the consumer starves
	var errs errorLog
	var records, bytes uint64
	start := time.Now()
	for int64(records) < want && runCtx.Err() == nil {
		t0 := time.Now()
		fs := cl.PollFetches(runCtx)
		lat.Record(time.Since(t0))
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				errs.add(err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if left[r.Partition] <= 0 {
				return // past the end seen at the start: produced since
			}
			left[r.Partition]--
			records++
			bytes += uint64(len(r.Value))
		})
	}
	elapsed := time.Since(start)
	res := newResult(cfg, elapsed, records, bytes, lat, &errs)
	res.Expected = uint64(want)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

// listOffsets asks the partitions' leaders for offsets at a timestamp (-2 earliest, -1 latest); ListOffsets v0
// (0.9) and later alike go through the client, which splits the request by leader.
func listOffsets(ctx context.Context, cl *kgo.Client, topic string, n int, ts int64) (map[int32]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := int32(0); p < int32(n); p++ {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.Timestamp = ts
		rp.MaxNumOffsets = 1
		rp.CurrentLeaderEpoch = -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	out := make(map[int32]int64, n)
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("list offsets of %s-%d: %w", topic, p.Partition, err)
			}
			off := p.Offset
			if len(p.OldStyleOffsets) > 0 { // v0 answers in a list
				off = p.OldStyleOffsets[0]
			}
			out[p.Partition] = off
		}
	}
	if len(out) != n {
		return nil, fmt.Errorf("list offsets of %s: %d of %d partitions answered", topic, len(out), n)
	}
	return out, nil
}
