package kafkaclients

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.ClientID = "zkafka-conformance"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Return.Errors = true
	cfg.Metadata.Retry.Backoff = 50 * time.Millisecond
	return cfg
}

// groupHandler collects claimed messages, marking each so the session commits them.
type groupHandler struct {
	mu   sync.Mutex
	got  map[string]string
	want int
	done chan struct{}
	once sync.Once
}

func (h *groupHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *groupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for msg := range claim.Messages() {
		h.mu.Lock()
		h.got[string(msg.Key)] = string(msg.Value)
		n := len(h.got)
		h.mu.Unlock()
		s.MarkMessage(msg, "")
		if n >= h.want {
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}

// TestSarama: sync producer, async producer (snappy), and a consumer group that reads everything and commits,
// checked through sarama's own admin client.
func TestSarama(t *testing.T) {
	onBothZooKeepers(t, "sarama", func(t *testing.T, c *cluster) {
		const topic, group = "sarama-topic", "sarama-group"
		admin, err := sarama.NewClusterAdmin([]string{c.addr}, saramaConfig())
		if err != nil {
			t.Fatalf("cluster admin: %v", err)
		}
		defer admin.Close()
		if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
			t.Fatalf("create topic: %v", err)
		}

		const n = 20
		want := map[string]string{}
		t.Run("sync-producer", func(t *testing.T) {
			p, err := sarama.NewSyncProducer([]string{c.addr}, saramaConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			for i := 0; i < n; i++ {
				k, v := fmt.Sprintf("sync-%02d", i), fmt.Sprintf("v%02d", i)
				part, off, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(k), Value: sarama.StringEncoder(v)})
				if err != nil {
					t.Fatalf("send %s: %v", k, err)
				}
				if part < 0 || part > 2 || off < 0 {
					t.Fatalf("send %s: partition %d offset %d", k, part, off)
				}
				want[k] = v
			}
		})

		t.Run("async-producer", func(t *testing.T) {
			cfg := saramaConfig()
			cfg.Producer.Compression = sarama.CompressionSnappy
			cfg.Producer.Flush.Messages = 5
			cfg.Producer.Flush.Frequency = 10 * time.Millisecond
			p, err := sarama.NewAsyncProducer([]string{c.addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				k, v := fmt.Sprintf("async-%02d", i), fmt.Sprintf("v%02d", i)
				p.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(k), Value: sarama.StringEncoder(v)}
				want[k] = v
			}
			timeout := time.After(30 * time.Second)
			for acked := 0; acked < n; {
				select {
				case <-p.Successes():
					acked++
				case perr := <-p.Errors():
					t.Fatalf("async produce: %v", perr)
				case <-timeout:
					t.Fatalf("async produce: %d of %d acknowledged", acked, n)
				}
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("consumer-group", func(t *testing.T) {
			cg, err := sarama.NewConsumerGroup([]string{c.addr}, group, saramaConfig())
			if err != nil {
				t.Fatal(err)
			}
			h := &groupHandler{got: map[string]string{}, want: len(want), done: make(chan struct{})}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			consumed := make(chan error, 1)
			go func() {
				for ctx.Err() == nil {
					if err := cg.Consume(ctx, []string{topic}, h); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
						consumed <- err
						return
					}
				}
				consumed <- nil
			}()
			go func() {
				for err := range cg.Errors() {
					t.Logf("consumer group error: %v", err)
				}
			}()
			select {
			case <-h.done:
			case err := <-consumed:
				t.Fatalf("consume ended early: %v", err)
			case <-ctx.Done():
				h.mu.Lock()
				t.Fatalf("consumed %d of %d", len(h.got), len(want))
			}
			cancel()
			if err := <-consumed; err != nil {
				t.Fatalf("consume: %v", err)
			}
			// Closing the group commits the marked offsets.
			if err := cg.Close(); err != nil {
				t.Fatalf("close group: %v", err)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			for k, v := range want {
				if h.got[k] != v {
					t.Fatalf("key %s: got %q want %q", k, h.got[k], v)
				}
			}

			resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1, 2}})
			if err != nil {
				t.Fatalf("list group offsets: %v", err)
			}
			var sum int64
			for _, b := range resp.Blocks[topic] {
				if b.Err != sarama.ErrNoError {
					t.Fatalf("group offset: %v", b.Err)
				}
				sum += b.Offset
			}
			if sum != int64(len(want)) {
				t.Fatalf("committed offsets sum to %d, want %d", sum, len(want))
			}
			groups, err := admin.ListConsumerGroups()
			if err != nil || groups[group] != "consumer" {
				t.Fatalf("list groups: %v %v", groups, err)
			}
		})
	})
}

// TestSaramaOldProtocol speaks the 0.10.2 protocol (Produce v2 with magic-1 message sets, Fetch v3 answered by
// down-conversion) through a sync producer and a partition consumer.
func TestSaramaOldProtocol(t *testing.T) {
	c := startCluster(t)
	const topic = "sarama-old"
	c.createTopic(t, topic, 1)
	cfg := saramaConfig()
	cfg.Version = sarama.V0_10_2_0
	p, err := sarama.NewSyncProducer([]string{c.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n = 10
	for i := 0; i < n; i++ {
		if _, off, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprintf("m%d", i))}); err != nil || off != int64(i) {
			t.Fatalf("send %d: offset %d, %v", i, off, err)
		}
	}
	cons, err := sarama.NewConsumer([]string{c.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	pc, err := cons.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	timeout := time.After(30 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case m := <-pc.Messages():
			if m.Offset != int64(i) || string(m.Value) != fmt.Sprintf("m%d", i) {
				t.Fatalf("message %d: offset %d value %q", i, m.Offset, m.Value)
			}
		case cerr := <-pc.Errors():
			t.Fatalf("consume: %v", cerr)
		case <-timeout:
			t.Fatalf("consumed %d of %d", i, n)
		}
	}
}

// memberHandler records which partitions a member was last given and every message it read.
type memberHandler struct {
	mu     sync.Mutex
	claims map[int32]bool
	// seen is shared by the group's members.
	seenMu  *sync.Mutex
	seen    map[string]bool
	changed chan struct{}
}

func newMemberHandler(seenMu *sync.Mutex, seen map[string]bool) *memberHandler {
	return &memberHandler{claims: map[int32]bool{}, seenMu: seenMu, seen: seen, changed: make(chan struct{}, 1)}
}

func (h *memberHandler) notify() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

func (h *memberHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	h.claims = map[int32]bool{}
	for _, ps := range s.Claims() {
		for _, p := range ps {
			h.claims[p] = true
		}
	}
	h.mu.Unlock()
	h.notify()
	return nil
}
func (h *memberHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *memberHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for msg := range claim.Messages() {
		h.seenMu.Lock()
		h.seen[string(msg.Value)] = true
		h.seenMu.Unlock()
		s.MarkMessage(msg, "")
		h.notify()
	}
	return nil
}

// TestSaramaGroupRebalance: a second member joins a running group, the partitions are split between the two, and
// together they read everything produced afterwards.
func TestSaramaGroupRebalance(t *testing.T) {
	onBothZooKeepers(t, "sarama-rebalance", func(t *testing.T, c *cluster) {
		const topic, group, parts = "sarama-rebalance", "sarama-rebalance-group", 4
		c.createTopic(t, topic, parts)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()

		var seenMu sync.Mutex
		seen := map[string]bool{}
		start := func(name string) *memberHandler {
			cfg := saramaConfig()
			cfg.ClientID = name
			cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRoundRobin()}
			cg, err := sarama.NewConsumerGroup([]string{c.addr}, group, cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := newMemberHandler(&seenMu, seen)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ctx.Err() == nil {
					if err := cg.Consume(ctx, []string{topic}, h); err != nil {
						return
					}
				}
			}()
			go func() {
				for err := range cg.Errors() {
					t.Logf("%s: %v", name, err)
				}
			}()
			t.Cleanup(func() {
				cancel()
				<-done
				_ = cg.Close()
			})
			return h
		}
		claims := func(h *memberHandler) int {
			h.mu.Lock()
			defer h.mu.Unlock()
			return len(h.claims)
		}
		waitUntil := func(what string, hs []*memberHandler, cond func() bool) {
			t.Helper()
			for !cond() {
				select {
				case <-hs[0].changed:
				case <-hs[len(hs)-1].changed:
				case <-time.After(100 * time.Millisecond):
				case <-ctx.Done():
					t.Fatalf("timed out waiting for %s", what)
				}
			}
		}
		a := start("member-a")
		waitUntil("member a to own every partition", []*memberHandler{a}, func() bool { return claims(a) == parts })
		b := start("member-b")
		waitUntil("the partitions to be split", []*memberHandler{a, b}, func() bool {
			return claims(a) == parts/2 && claims(b) == parts/2
		})

		p, err := sarama.NewSyncProducer([]string{c.addr}, saramaConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		const n = 40
		for i := 0; i < n; i++ {
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprint(i)),
				Value: sarama.StringEncoder(fmt.Sprintf("m%02d", i))}); err != nil {
				t.Fatal(err)
			}
		}
		waitUntil("every message", []*memberHandler{a, b}, func() bool {
			seenMu.Lock()
			defer seenMu.Unlock()
			return len(seen) == n
		})
	})
}
