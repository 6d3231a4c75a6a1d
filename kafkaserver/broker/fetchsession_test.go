package broker

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// fpart is one partition of a raw fetch.
type fpart struct {
	p   int32
	off int64
}

type rawFetch struct {
	version        int16
	session, epoch int32
	maxWait        int32
	parts          []fpart
	forget         []int32
}

// got is a response flattened to partition -> (records bytes, high watermark, error).
type gotPart struct {
	bytes int
	hw    int64
	err   int16
}

func TestFetchSessions(t *testing.T) {
	c := newCluster(t)
	c.start("max.incremental.fetch.session.cache.slots=3")
	ctx := ctxT(t)
	cl := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	const topic = "fs"
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 3, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 3; p++ {
		c.waitFor("leader", func() bool { _, err := c.b.Replicas().Partition(topic, p); return err == nil })
	}
	vcls := map[int16]*kgo.Client{}
	send := func(f rawFetch) *kmsg.FetchResponse {
		t.Helper()
		req := kmsg.NewPtrFetchRequest()
		req.Version = f.version
		req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, f.maxWait, 1, 1<<20
		req.SessionID, req.SessionEpoch = f.session, f.epoch
		if len(f.parts) > 0 {
			ft := kmsg.NewFetchRequestTopic()
			ft.Topic = topic
			for _, p := range f.parts {
				fp := kmsg.NewFetchRequestTopicPartition()
				fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = p.p, p.off, 1<<20
				ft.Partitions = append(ft.Partitions, fp)
			}
			req.Topics = append(req.Topics, ft)
		}
		if len(f.forget) > 0 {
			req.ForgottenTopics = append(req.ForgottenTopics, kmsg.FetchRequestForgottenTopic{Topic: topic, Partitions: f.forget})
		}
		vcl := vcls[f.version]
		if vcl == nil {
			vs := kversion.V2_8_0()
			vs.SetMaxKeyVersion(kmsg.Fetch.Int16(), f.version)
			vcl = c.client(kgo.MaxVersions(vs))
			vcls[f.version] = vcl
		}
		r, err := req.RequestWith(ctx, vcl)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	flat := func(r *kmsg.FetchResponse) map[int32]gotPart {
		out := map[int32]gotPart{}
		for _, rt := range r.Topics {
			if rt.Topic != topic {
				t.Fatalf("topic %q in response", rt.Topic)
			}
			for _, rp := range rt.Partitions {
				if _, dup := out[rp.Partition]; dup {
					t.Fatalf("partition %d twice", rp.Partition)
				}
				// Fetch v12's tagged fields stay unsent: a diverging epoch (0, 0) would make a Kafka follower truncate.
				if rp.DivergingEpoch.Epoch != -1 || rp.CurrentLeader.LeaderID != -1 || rp.SnapshotID.Epoch != -1 {
					t.Fatalf("partition %d: tagged fields sent: %+v %+v %+v", rp.Partition, rp.DivergingEpoch, rp.CurrentLeader, rp.SnapshotID)
				}
				out[rp.Partition] = gotPart{len(rp.RecordBatches), rp.HighWatermark, rp.ErrorCode}
			}
		}
		return out
	}
	keys := func(m map[int32]gotPart) []int32 {
		var ks []int32
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	expect := func(what string, r *kmsg.FetchResponse, want ...int32) map[int32]gotPart {
		t.Helper()
		if r.ErrorCode != 0 {
			t.Fatalf("%s: error %d", what, r.ErrorCode)
		}
		m := flat(r)
		if got := keys(m); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("%s: partitions %v, want %v", what, got, want)
		}
		return m
	}

	produceN(t, cl, topic, 0, 0, 3)
	all := []fpart{{0, 0}, {1, 0}, {2, 0}}

	// A full fetch opens a session and answers every partition.
	r := send(rawFetch{version: 12, epoch: 0, parts: all})
	id := r.SessionID
	if id == 0 {
		t.Fatal("full fetch opened no session")
	}
	m := expect("full", r, 0, 1, 2)
	if m[0].bytes == 0 || m[0].hw != 3 || m[1].bytes != 0 {
		t.Fatalf("full: %+v", m)
	}
	if n := c.b.handlers.FetchSessions().Len(); n != 1 {
		t.Fatalf("%d sessions", n)
	}

	// Moving p0 past its data leaves nothing to say.
	r = send(rawFetch{version: 12, session: id, epoch: 1, parts: []fpart{{0, 3}}})
	if r.SessionID != id {
		t.Fatalf("incremental answered with session %d", r.SessionID)
	}
	expect("caught up", r, nil...)

	// New data on p1 comes back alone, from the cached fetch offset.
	produceN(t, cl, topic, 1, 0, 2)
	m = expect("new data", send(rawFetch{version: 12, session: id, epoch: 2}), 1)
	if m[1].bytes == 0 || m[1].hw != 2 {
		t.Fatalf("new data: %+v", m)
	}

	// Forgetting p2 drops it from the session: its data is not read.
	r = send(rawFetch{version: 12, session: id, epoch: 3, parts: []fpart{{1, 2}}, forget: []int32{2}})
	expect("forget", r, nil...)
	produceN(t, cl, topic, 2, 0, 1)
	expect("forgotten partition", send(rawFetch{version: 12, session: id, epoch: 4}), nil...)

	// An incremental long poll returns when data comes.
	done := make(chan *kmsg.FetchResponse, 1)
	go func() { done <- send(rawFetch{version: 12, session: id, epoch: 5, maxWait: 20000}) }()
	produceN(t, cl, topic, 0, 3, 1)
	m = expect("long poll", <-done, 0)
	if m[0].hw != 4 {
		t.Fatalf("long poll: %+v", m)
	}

	// An unknown partition added to the session comes back with its error, and again each time.
	r = send(rawFetch{version: 12, session: id, epoch: 6, parts: []fpart{{0, 4}, {9, 0}}})
	m = expect("unknown partition", r, 9)
	if m[9].err != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown partition: %+v", m)
	}
	expect("error again", send(rawFetch{version: 12, session: id, epoch: 7}), 9)
	expect("forget error", send(rawFetch{version: 12, session: id, epoch: 8, forget: []int32{9}}), nil...)

	// A stale or future epoch and an unknown session are top-level errors with no partitions.
	for _, f := range []rawFetch{
		{version: 12, session: id, epoch: 8},
		{version: 12, session: id, epoch: 100},
	} {
		r := send(f)
		if r.ErrorCode != kerr.InvalidFetchSessionEpoch.Code || len(r.Topics) != 0 || r.SessionID != 0 {
			t.Fatalf("epoch %d: error %d, %d topics, session %d", f.epoch, r.ErrorCode, len(r.Topics), r.SessionID)
		}
	}
	r = send(rawFetch{version: 12, session: id + 1, epoch: 1})
	if r.ErrorCode != kerr.FetchSessionIDNotFound.Code || len(r.Topics) != 0 {
		t.Fatalf("unknown session: error %d", r.ErrorCode)
	}
	// The session survived the errors.
	expect("after errors", send(rawFetch{version: 12, session: id, epoch: 9}), nil...)

	// A sessionless fetch (epoch -1) and an old version get every partition and no session.
	for _, v := range []int16{12, 6} {
		r := send(rawFetch{version: v, epoch: -1, parts: all})
		if r.SessionID != 0 {
			t.Fatalf("v%d sessionless: session %d", v, r.SessionID)
		}
		expect(fmt.Sprintf("v%d sessionless", v), r, 0, 1, 2)
	}

	// A full fetch naming the session replaces it.
	r = send(rawFetch{version: 12, session: id, epoch: 0, parts: all})
	id2 := r.SessionID
	if id2 == 0 || id2 == id {
		t.Fatalf("new session %d (old %d)", id2, id)
	}
	if r := send(rawFetch{version: 12, session: id, epoch: 10}); r.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("replaced session: error %d", r.ErrorCode)
	}
	// Epoch -1 with the session closes it.
	send(rawFetch{version: 12, session: id2, epoch: -1, parts: all})
	if r := send(rawFetch{version: 12, session: id2, epoch: 1}); r.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("closed session: error %d", r.ErrorCode)
	}

	// Three slots: fresh consumer sessions cannot be evicted by other consumers, so the fourth gets none.
	for i := range 4 {
		r := send(rawFetch{version: 12, epoch: 0, parts: all})
		if (r.SessionID != 0) != (i < 3) {
			t.Fatalf("full fetch %d: session %d", i, r.SessionID)
		}
	}
}

// TestFranzGoSessionsManyPartitions consumes many partitions with franz-go, which uses fetch sessions by default.
func TestFranzGoSessionsManyPartitions(t *testing.T) {
	c := newCluster(t)
	c.start()
	ctx := ctxT(t)
	cl := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	const topic, parts, per = "many", 24, 20
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, parts, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < parts; p++ {
		c.waitFor("leader", func() bool { _, err := c.b.Replicas().Partition(topic, p); return err == nil })
		produceN(t, cl, topic, p, 0, per)
	}
	cons := c.client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[int32]int64{}
	count, want, more := 0, parts*per, true
	for count < want {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", count, want, err)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if next := seen[r.Partition]; r.Offset != next {
				t.Fatalf("partition %d: offset %d, want %d", r.Partition, r.Offset, next)
			}
			seen[r.Partition]++
			count++
		})
		// Once all is read, more data arrives on a few partitions and must come through the same session.
		if count == want && more {
			more = false
			for p := int32(0); p < 3; p++ {
				produceN(t, cl, topic, p, per, 1)
			}
			want += 3
		}
	}
	if c.b.handlers.FetchSessions().Len() == 0 {
		t.Fatal("franz-go opened no fetch session")
	}
}
