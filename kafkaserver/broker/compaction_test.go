package broker

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// TestCompactedTopic produces rewrites of a few keys to a compacted topic with small segments; once the cleaner
// has passed them, a consumer from offset 0 sees one record per key, the last one, at its original offset.
func TestCompactedTopic(t *testing.T) {
	c := newCluster(t)
	c.start("log.cleaner.backoff.ms=20")
	cl := c.client()
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)
	res, err := adm.CreateTopics(ctx, 1, 1, map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"), "segment.bytes": kadm.StringPtr("1024"),
		"min.cleanable.dirty.ratio": kadm.StringPtr("0.1"),
	}, "compacted")
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	const keys, rounds = 8, 20
	wantOffset := map[string]int64{}
	for r := 0; r < rounds; r++ {
		var recs []*kgo.Record
		for k := 0; k < keys; k++ {
			recs = append(recs, &kgo.Record{Topic: "compacted", Key: []byte(fmt.Sprint("key-", k)), Value: []byte(fmt.Sprint("round-", r))})
		}
		pr, err := cl.ProduceSync(ctx, recs...).First()
		if err != nil {
			t.Fatal(err)
		}
		if r == rounds-1 {
			for k := 0; k < keys; k++ {
				wantOffset[fmt.Sprint("key-", k)] = pr.Offset + int64(k)
			}
		}
	}
	// Keyless records are refused by a compacted topic.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "compacted", Value: []byte("x")}).FirstErr(); err == nil {
		t.Error("keyless record accepted by a compacted topic")
	}
	// Unique keys push the last round out of the active segment.
	for i := 0; i < 8; i++ {
		var recs []*kgo.Record
		for k := 0; k < 8; k++ {
			recs = append(recs, &kgo.Record{Topic: "compacted", Key: []byte(fmt.Sprint("fill-", i, "-", k)), Value: []byte("filler")})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	last := wantOffset[fmt.Sprint("key-", keys-1)]
	tp := klog.TopicPartition{Topic: "compacted", Partition: 0}
	c.waitFor("the cleaner to pass the last round", func() bool {
		o, ok := c.b.logs.Cleaner().FirstDirtyOffset(tp)
		return ok && o > last
	})
	l, _ := c.b.logs.Get("compacted", 0)
	hw := l.HighWatermark()
	cons := c.client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"compacted": {0: kgo.NewOffset().AtStart()}}))
	seen := map[string]int{}
	for done := false; !done; {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			k := string(r.Key)
			seen[k]++
			if want, ok := wantOffset[k]; ok && (r.Offset != want || string(r.Value) != fmt.Sprint("round-", rounds-1)) {
				t.Errorf("%s=%s at %d, want round-%d at %d", k, r.Value, r.Offset, rounds-1, want)
			}
			done = done || r.Offset == hw-1
		})
	}
	for k := range wantOffset {
		if seen[k] != 1 {
			t.Errorf("key %s seen %d times", k, seen[k])
		}
	}
}

// TestConsumerOffsetsCompacted commits one group's offset many times; __consumer_offsets gets compacted and a
// restarted broker's group coordinator still loads the last commit from the cleaned log.
func TestConsumerOffsetsCompacted(t *testing.T) {
	c := newCluster(t)
	props := []string{"log.cleaner.backoff.ms=20", "offsets.topic.segment.bytes=1024"}
	c.start(props...)
	adm := kadm.NewClient(c.client())
	ctx := ctxT(t)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "events"); err != nil {
		t.Fatal(err)
	}
	const commits = 150
	for i := 1; i <= commits; i++ {
		var offs kadm.Offsets
		offs.Add(kadm.Offset{Topic: "events", Partition: 0, At: int64(i), LeaderEpoch: -1})
		res, err := adm.CommitOffsets(ctx, "grp", offs)
		if err == nil {
			err = res.Error()
		}
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	var tp klog.TopicPartition
	for tpi, l := range c.b.logs.All() {
		if tpi.Topic == "__consumer_offsets" && l.LogEndOffset() > 0 {
			tp = tpi
		}
	}
	if tp.Topic == "" {
		t.Fatal("no commits in __consumer_offsets")
	}
	c.waitFor("the cleaner to compact __consumer_offsets", func() bool {
		o, ok := c.b.logs.Cleaner().FirstDirtyOffset(tp)
		return ok && o > commits/2
	})
	l, _ := c.b.logs.Get(tp.Topic, tp.Partition)
	n := 0
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		rr, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := klog.DecodeRecords(rr.Records)
		if err != nil || len(recs) == 0 {
			break
		}
		n += len(recs)
		off = recs[len(recs)-1].Offset + 1
	}
	if n >= commits/2 {
		t.Errorf("%d records left in %s after cleaning, %d commits", n, tp, commits)
	}
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	c.start(props...)
	adm = kadm.NewClient(c.client())
	var got int64 = -1
	c.waitFor("the committed offset after restart", func() bool {
		offs, err := adm.FetchOffsets(ctx, "grp")
		if err != nil {
			return false
		}
		if o, ok := offs.Lookup("events", 0); ok && o.Err == nil {
			got = o.At
		}
		return got == commits
	})
}

// TestCleanerDynamicConfig: log.cleaner.io.max.bytes.per.second sets the rate of the cleaner's throttler; a dynamic
// change is taken (and shown) but, as in Kafka 2.8, the running cleaner keeps the rate it started with until the
// broker restarts. A change of log.cleaner.threads restarts the cleaner's threads, within Kafka's bounds.
func TestCleanerDynamicConfig(t *testing.T) {
	c := newCluster(t)
	c.start("log.cleaner.backoff.ms=20", "log.cleaner.io.max.bytes.per.second=5000000")
	if r := c.b.logs.Cleaner().IoMaxBytesPerSecond(); r != 5e6 {
		t.Fatalf("cleaner io rate %v, want 5e6", r)
	}
	adm := kadm.NewClient(c.client())
	s := func(v string) *string { return &v }
	if rs, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig,
		Name: "log.cleaner.io.max.bytes.per.second", Value: s("1000.5")}}, c.b.ID()); err != nil || rs[0].Err != nil {
		t.Fatalf("alter: %v %+v", err, rs)
	}
	c.waitFor("the dynamic config taken", func() bool { return c.b.dyn.Current().LogCleanerIoMaxBytesPerSecond == 1000.5 })
	if r := c.b.logs.Cleaner().IoMaxBytesPerSecond(); r != 5e6 {
		t.Errorf("cleaner io rate %v after a dynamic change, want the 5e6 it started with", r)
	}

	// log.cleaner.threads moves within half and double the running count (LogCleaner.validateReconfiguration),
	// and the cleaner restarts with it.
	rs, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.cleaner.threads",
		Value: s("3")}}, c.b.ID())
	if err != nil || !errors.Is(rs[0].Err, kerr.InvalidRequest) {
		t.Fatalf("log.cleaner.threads 1 -> 3: %v %+v", err, rs)
	}
	if rs, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.cleaner.threads",
		Value: s("2")}}, c.b.ID()); err != nil || rs[0].Err != nil {
		t.Fatalf("log.cleaner.threads 1 -> 2: %v %+v", err, rs)
	}
	c.waitFor("the cleaner restarted with 2 threads", func() bool { return len(c.b.logs.Cleaner().Stats().Threads) == 2 })
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	c.start("log.cleaner.backoff.ms=20", "log.cleaner.io.max.bytes.per.second=5000000")
	if r := c.b.logs.Cleaner().IoMaxBytesPerSecond(); r != 1000.5 {
		t.Errorf("cleaner io rate %v after a restart, want the dynamic 1000.5", r)
	}
}
