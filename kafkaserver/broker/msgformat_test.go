package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// segmentMagics reads the entries of a partition's segment files straight from disk and returns how many there are
// per magic value, and the records they hold.
func segmentMagics(t *testing.T, dir string) (map[int8]int, []klog.Record) {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("segments of %s: %v", dir, err)
	}
	magics := map[int8]int{}
	var recs []klog.Record
	for _, s := range segs {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		all := data
		for len(data) >= 17 {
			n := int(int32(binary.BigEndian.Uint32(data[8:])))
			if n <= 0 || 12+n > len(data) {
				break // preallocated or torn tail
			}
			magics[int8(data[16])]++
			data = data[12+n:]
		}
		rs, err := klog.DecodeRecords(all[:len(all)-len(data)])
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		recs = append(recs, rs...)
	}
	return magics, recs
}

// TestMessageFormat090 runs a broker with log.message.format.version=0.9.0, as Kafka's upgrade notes advise while
// 0.9 consumers remain: the log stores magic 0 messages whatever the producer sends, old and new consumers read them
// back, idempotent producers are refused, and consumer group offsets survive a restart.
func TestMessageFormat090(t *testing.T) {
	c := newCluster(t)
	c.start("log.message.format.version=0.9.0")
	ctx := ctxT(t)
	adm := kadm.NewClient(c.client())
	if res, err := adm.CreateTopics(ctx, 1, 1, nil, "legacy"); err != nil || res["legacy"].Err != nil {
		t.Fatalf("create: %v %v", err, res["legacy"].Err)
	}
	pin := kgo.MaxVersions(kversion.V0_9_0())
	manual := kgo.RecordPartitioner(kgo.ManualPartitioner())
	value := func(i int) string { return fmt.Sprintf("value-%d", i) }
	produce := func(cl *kgo.Client, from, n int) {
		t.Helper()
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, &kgo.Record{Topic: "legacy", Key: []byte(fmt.Sprint("k", i)), Value: []byte(value(i))})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce %d..%d: %v", from, from+n-1, err)
		}
	}
	produce(c.client(pin, manual), 0, 30)
	produce(c.client(manual), 30, 30)
	produce(c.client(manual, kgo.ProducerBatchCompression(kgo.GzipCompression())), 60, 20)

	magics, recs := segmentMagics(t, filepath.Join(c.logDir, "legacy-0"))
	if len(magics) != 1 || magics[0] == 0 || len(recs) != 80 {
		t.Fatalf("on disk: entries per magic %v, %d records", magics, len(recs))
	}
	for i, r := range recs {
		if r.Offset != int64(i) || string(r.Value) != value(i) || r.Timestamp != -1 {
			t.Fatalf("stored record %d: %+v", i, r)
		}
	}

	consume := func(opts ...kgo.Opt) {
		t.Helper()
		cl := c.client(append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"legacy": {0: kgo.NewOffset().AtStart()}}))...)
		n := 0
		for n < 80 {
			fs := cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				t.Fatalf("consumed %d: %v", n, err)
			}
			fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
			fs.EachRecord(func(r *kgo.Record) {
				if n >= 80 {
					return // later appends
				}
				if r.Offset != int64(n) || string(r.Value) != value(n) || string(r.Key) != fmt.Sprint("k", n) {
					t.Fatalf("record %d: offset %d value %q", n, r.Offset, r.Value)
				}
				n++
			})
		}
		cl.Close()
	}
	consume(pin)
	consume()

	// An idempotent producer needs v2 batches: UNSUPPORTED_FOR_MESSAGE_FORMAT, nothing written.
	idem, err := kgo.NewClient(kgo.SeedBrokers(c.addr()), manual, kgo.RecordRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = idem.ProduceSync(pctx, &kgo.Record{Topic: "legacy", Value: []byte("idempotent")}).FirstErr()
	cancel()
	idem.Close()
	if !errors.Is(err, kerr.UnsupportedForMessageFormat) {
		t.Fatalf("idempotent produce: %v", err)
	}

	// Group offsets go through __consumer_offsets in the old format and load back after a restart.
	const group = "old-format-group"
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "legacy", Partition: 0, At: 42, LeaderEpoch: -1, Metadata: "m"})
	if _, err := adm.CommitOffsets(ctx, group, offs); err != nil {
		t.Fatalf("commit: %v", err)
	}
	var coordDir string
	for p := range 4 {
		d := filepath.Join(c.logDir, fmt.Sprintf("__consumer_offsets-%d", p))
		if m, recs := segmentMagics(t, d); len(recs) > 0 {
			if len(m) != 1 || m[0] == 0 {
				t.Fatalf("__consumer_offsets-%d entries per magic %v", p, m)
			}
			coordDir = d
		}
	}
	if coordDir == "" {
		t.Fatal("no offset commit on disk")
	}
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	c.start("log.message.format.version=0.9.0")
	adm2 := kadm.NewClient(c.client())
	var fetched kadm.OffsetResponses
	c.waitFor("offsets loaded", func() bool {
		fetched, err = adm2.FetchOffsets(ctx, group)
		return err == nil
	})
	if o, ok := fetched.Lookup("legacy", 0); !ok || o.Err != nil || o.At != 42 || o.Metadata != "m" {
		t.Fatalf("offsets after restart: %+v %v", o, ok)
	}
	// And the topic still reads back in full after the restart.
	consume(pin)

	// A topic config change reaches the live log: later appends are v2 batches.
	if _, err := adm2.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "message.format.version", Value: kadm.StringPtr("2.8")}}, "legacy"); err != nil {
		t.Fatal(err)
	}
	newer := c.client(manual)
	c.waitFor("v2 batches on disk", func() bool {
		if err := newer.ProduceSync(ctx, &kgo.Record{Topic: "legacy", Value: []byte("v2")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		m, _ := segmentMagics(t, filepath.Join(c.logDir, "legacy-0"))
		return m[2] > 0
	})
	consume(pin)
}
