package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// rawAt sends req to the broker at most at version v of its key (kgo picks the highest both sides support).
func rawAt(t *testing.T, c *cluster, v int16, req kmsg.Request) kmsg.Response {
	t.Helper()
	vs := kversion.V2_8_0()
	vs.SetMaxKeyVersion(req.Key(), v)
	cl := c.client(kgo.MaxVersions(vs))
	resp, err := cl.Broker(int(c.b.ID())).Request(ctxT(t), req)
	if err != nil {
		t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), v, err)
	}
	return resp
}

func createTopic(t *testing.T, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	res, err := adm.CreateTopics(ctxT(t), partitions, 1, configs, topic)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[topic]; r.Err != nil {
		t.Fatalf("create %s: %v (%s)", topic, r.Err, r.ErrMessage)
	}
}

// produceBatches writes n records one batch each, so small segments roll often.
func produceBatches(t *testing.T, cl *kgo.Client, topic string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		r := &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", 100)))}
		if err := cl.ProduceSync(ctxT(t), r).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
}

func segmentFiles(t *testing.T, dir string) (logs []string, bytes int64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".log") {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			logs = append(logs, e.Name())
			bytes += fi.Size()
		}
	}
	return logs, bytes
}

func TestDeleteRecords(t *testing.T) {
	c := newCluster(t)
	c.start()
	cl := c.client()
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)
	seg := "1024"
	createTopic(t, adm, "dr", 1, map[string]*string{"segment.bytes": &seg})
	produceBatches(t, cl, "dr", 0, 60)
	pdir := filepath.Join(c.logDir, "dr-0")
	before, _ := segmentFiles(t, pdir)
	if len(before) < 4 {
		t.Fatalf("want several segments, have %v", before)
	}

	offs := kadm.Offsets{}
	offs.AddOffset("dr", 0, 25, -1)
	res, err := adm.DeleteRecords(ctx, offs)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := res.Lookup("dr", 0); r.Err != nil || r.LowWatermark != 25 {
		t.Fatalf("delete records: %+v", r)
	}
	after, _ := segmentFiles(t, pdir)
	if len(after) >= len(before) || after[0] > "00000000000000000025.log" {
		t.Fatalf("segments before %v after %v", before, after)
	}
	ck, err := os.ReadFile(filepath.Join(c.logDir, "log-start-offset-checkpoint"))
	if err != nil || !strings.Contains(string(ck), "dr 0 25\n") {
		t.Fatalf("log-start-offset-checkpoint %q %v", ck, err)
	}
	starts, err := adm.ListStartOffsets(ctx, "dr")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("dr", 0); o.Offset != 25 {
		t.Fatalf("start offset %+v", o)
	}
	if got := consumeN(t, c, "dr", 0, 35); got[0].Offset != 25 {
		t.Fatalf("first consumed offset %d", got[0].Offset)
	}

	// A fetch below the start is out of range.
	freq := kmsg.NewPtrFetchRequest()
	freq.ReplicaID, freq.MaxBytes = -1, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "dr"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.FetchOffset, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch, fp.LogStartOffset = 10, 1<<20, -1, -1
	ft.Partitions = append(ft.Partitions, fp)
	freq.Topics = append(freq.Topics, ft)
	fresp := rawAt(t, c, 11, freq).(*kmsg.FetchResponse)
	if code := fresp.Topics[0].Partitions[0].ErrorCode; code != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch below start: error %d", code)
	}

	// Errors: past the high watermark, unknown partition; -1 means the high watermark.
	offs = kadm.Offsets{}
	offs.AddOffset("dr", 0, 61, -1)
	res, err = adm.DeleteRecords(ctx, offs)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := res.Lookup("dr", 0); !errors.Is(r.Err, kerr.OffsetOutOfRange) || r.LowWatermark != -1 {
		t.Fatalf("past the high watermark: %+v", r)
	}
	// Raw requests (kadm refuses partitions it has no metadata for): unknown partitions, and -1 is the high
	// watermark, in every version.
	raw := kmsg.NewPtrDeleteRecordsRequest()
	raw.TimeoutMillis = 5000
	for _, tp := range []struct {
		topic string
		p     int32
	}{{"dr", 0}, {"dr", 7}, {"nope", 0}} {
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = tp.topic
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Partition, rp.Offset = tp.p, -1
		rt.Partitions = append(rt.Partitions, rp)
		raw.Topics = append(raw.Topics, rt)
	}
	for v := int16(0); v <= 2; v++ {
		resp := rawAt(t, c, v, raw).(*kmsg.DeleteRecordsResponse)
		if len(resp.Topics) != 2 || len(resp.Topics[0].Partitions) != 2 {
			t.Fatalf("v%d: %+v", v, resp.Topics)
		}
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.LowWatermark != 60 {
			t.Fatalf("v%d delete to hw: %+v", v, p)
		}
		for _, p := range []kmsg.DeleteRecordsResponseTopicPartition{resp.Topics[0].Partitions[1], resp.Topics[1].Partitions[0]} {
			if p.ErrorCode != kerr.UnknownTopicOrPartition.Code || p.LowWatermark != -1 {
				t.Fatalf("v%d unknown: %+v", v, p)
			}
		}
	}
	produceBatches(t, cl, "dr", 60, 5)

	// sarama (DeleteRecords v1) on a compacted topic: POLICY_VIOLATION.
	compact := "compact"
	createTopic(t, adm, "drc", 1, map[string]*string{"cleanup.policy": &compact})
	scfg := sarama.NewConfig()
	scfg.Version = sarama.V2_8_0_0
	sadm, err := sarama.NewClusterAdmin([]string{c.addr()}, scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sadm.Close()
	if err := sadm.DeleteRecords("drc", map[int32]int64{0: 0}); err == nil || !strings.Contains(err.Error(), "policy") {
		t.Fatalf("sarama delete on compacted topic: %v", err)
	}
	if err := sadm.DeleteRecords("dr", map[int32]int64{0: 62}); err != nil {
		t.Fatalf("sarama delete: %v", err)
	}

	// A restart keeps the start offset.
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	c.start()
	adm = kadm.NewClient(c.client())
	// The partition is listed once the restarted broker leads it again.
	var o kadm.ListedOffset
	c.waitFor("dr-0 listed after the restart", func() bool {
		starts, err = adm.ListStartOffsets(ctxT(t), "dr")
		var ok bool
		o, ok = starts.Lookup("dr", 0)
		return err == nil && ok && o.Err == nil
	})
	if o.Offset != 62 {
		t.Fatalf("start offset after restart %+v", o)
	}
	if got := consumeN(t, c, "dr", 0, 3); got[0].Offset != 62 {
		t.Fatalf("first consumed offset after restart %d", got[0].Offset)
	}
}

func TestOffsetForLeaderEpoch(t *testing.T) {
	c := newCluster(t)
	c.start()
	cl := c.client()
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "ep", 1, nil)
	produceN(t, cl, "ep", 0, 0, 10)

	leaderEpoch := func() int32 {
		md, err := adm.Metadata(ctxT(t), "ep")
		if err != nil {
			t.Fatal(err)
		}
		return md.Topics["ep"].Partitions[0].LeaderEpoch
	}
	ask := func(v int16, topic string, current, epoch int32) kmsg.OffsetForLeaderEpochResponseTopicPartition {
		req := kmsg.NewPtrOffsetForLeaderEpochRequest()
		req.ReplicaID = -1
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.CurrentLeaderEpoch, rp.LeaderEpoch = current, epoch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := rawAt(t, c, v, req).(*kmsg.OffsetForLeaderEpochResponse)
		return resp.Topics[0].Partitions[0]
	}
	e0 := leaderEpoch()
	for v := int16(0); v <= 4; v++ {
		p := ask(v, "ep", -1, e0)
		wantEpoch := e0
		if v == 0 {
			wantEpoch = -1 // no leader epoch field in v0
		}
		if p.ErrorCode != 0 || p.EndOffset != 10 || p.LeaderEpoch != wantEpoch {
			t.Fatalf("v%d current epoch: %+v", v, p)
		}
	}
	if p := ask(4, "ep", -1, e0+1); p.ErrorCode != 0 || p.EndOffset != -1 || p.LeaderEpoch != -1 {
		t.Fatalf("epoch past the latest: %+v", p)
	}
	if p := ask(4, "ep", -1, -1); p.ErrorCode != 0 || p.EndOffset != -1 || p.LeaderEpoch != -1 {
		t.Fatalf("undefined epoch: %+v", p)
	}
	if p := ask(4, "ep", e0+1, e0); p.ErrorCode != kerr.UnknownLeaderEpoch.Code || p.EndOffset != -1 {
		t.Fatalf("future current epoch: %+v", p)
	}
	if p := ask(4, "nope", -1, 0); p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: %+v", p)
	}

	// A new leader epoch (the state znode bumped while the broker is down, as another controller's election
	// would) starts at 10.
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	zc, err := zkmeta.Connect(c.zk+"/kafka", 6*time.Second, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	tp := zkmeta.TopicPartition{Topic: "ep", Partition: 0}
	st, ok, err := zc.GetPartitionState(tp)
	if err != nil || !ok {
		t.Fatalf("state: %v %v", ok, err)
	}
	st.LeaderEpoch += 2
	if _, err := zc.SetPartitionState(tp, st, -1); err != nil {
		t.Fatal(err)
	}
	zc.Close()
	c.start()
	cl = c.client()
	adm = kadm.NewClient(cl)
	c.waitFor("new leader epoch", func() bool {
		md, err := adm.Metadata(ctxT(t), "ep")
		return err == nil && len(md.Topics["ep"].Partitions) == 1 && md.Topics["ep"].Partitions[0].LeaderEpoch > e0
	})
	e1 := leaderEpoch()
	if p := ask(4, "ep", -1, e0+1); p.ErrorCode != 0 || p.LeaderEpoch != e0 || p.EndOffset != 10 {
		t.Fatalf("epoch between: %+v", p)
	}
	produceN(t, cl, "ep", 0, 10, 5)
	if p := ask(4, "ep", e1, e0); p.ErrorCode != 0 || p.LeaderEpoch != e0 || p.EndOffset != 10 {
		t.Fatalf("old epoch: %+v", p)
	}
	if p := ask(4, "ep", e1, e1); p.ErrorCode != 0 || p.LeaderEpoch != e1 || p.EndOffset != 15 {
		t.Fatalf("new epoch: %+v", p)
	}
	if p := ask(4, "ep", e0, e0); p.ErrorCode != kerr.FencedLeaderEpoch.Code {
		t.Fatalf("stale current epoch: %+v", p)
	}
	// kadm (franz-go picks the version) agrees.
	res, err := adm.OffsetForLeaderEpoch(ctxT(t), kadm.OffsetForLeaderEpochRequest{"ep": {0: e0}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res["ep"][0]; r.Err != nil || r.LeaderEpoch != e0 || r.EndOffset != 10 {
		t.Fatalf("kadm: %+v", r)
	}
}

func TestDescribeLogDirs(t *testing.T) {
	c := newCluster(t)
	c.start()
	cl := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "ld", 2, nil)
	createTopic(t, adm, "other", 1, nil)
	produceN(t, cl, "ld", 0, 0, 20)
	produceN(t, cl, "ld", 1, 0, 7)
	abs, err := filepath.Abs(c.logDir)
	if err != nil {
		t.Fatal(err)
	}

	all, err := adm.DescribeAllLogDirs(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	dirs := all[c.b.ID()]
	d, ok := dirs[abs]
	if len(dirs) != 1 || !ok || d.Err != nil {
		t.Fatalf("dirs %+v", dirs)
	}
	for _, tp := range []struct {
		topic string
		p     int32
	}{{"ld", 0}, {"ld", 1}, {"other", 0}} {
		_, size := segmentFiles(t, filepath.Join(c.logDir, fmt.Sprintf("%s-%d", tp.topic, tp.p)))
		got, ok := d.Topics[tp.topic][tp.p]
		if !ok || got.Size != size || got.OffsetLag != 0 || got.IsFuture {
			t.Fatalf("%s-%d: %+v, %d bytes on disk", tp.topic, tp.p, got, size)
		}
	}
	if d.Topics["ld"][0].Size == 0 || d.Topics["other"][0].Size != 0 {
		t.Fatalf("sizes %+v", d.Topics)
	}

	// Only the asked partitions are described (v0 and v2); as in Kafka, other topics of the dir come with an empty
	// partition list.
	req := kmsg.NewPtrDescribeLogDirsRequest()
	rt := kmsg.NewDescribeLogDirsRequestTopic()
	rt.Topic, rt.Partitions = "ld", []int32{1, 5}
	req.Topics = append(req.Topics, rt)
	for _, v := range []int16{0, 2} {
		resp := rawAt(t, c, v, req).(*kmsg.DescribeLogDirsResponse)
		if len(resp.Dirs) != 1 || resp.Dirs[0].Dir != abs || resp.Dirs[0].ErrorCode != 0 {
			t.Fatalf("v%d: %+v", v, resp.Dirs)
		}
		parts := map[string][]int32{}
		for _, rt := range resp.Dirs[0].Topics {
			parts[rt.Topic] = []int32{}
			for _, p := range rt.Partitions {
				parts[rt.Topic] = append(parts[rt.Topic], p.Partition)
			}
		}
		if len(parts) < 2 || len(parts["ld"]) != 1 || parts["ld"][0] != 1 || len(parts["other"]) != 0 {
			t.Fatalf("v%d topics %v", v, parts)
		}
	}

	// sarama (DescribeLogDirs v1) sees the same sizes.
	scfg := sarama.NewConfig()
	scfg.Version = sarama.V2_8_0_0
	sadm, err := sarama.NewClusterAdmin([]string{c.addr()}, scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sadm.Close()
	sd, err := sadm.DescribeLogDirs([]int32{c.b.ID()})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, dir := range sd[c.b.ID()] {
		for _, st := range dir.Topics {
			for _, sp := range st.Partitions {
				if st.Topic == "ld" && sp.PartitionID == 0 {
					found = sp.Size == d.Topics["ld"][0].Size
				}
			}
		}
	}
	if !found {
		t.Fatalf("sarama: %+v", sd)
	}
}
