package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestDeletedTopicOffsets: deleting a topic drops every group's committed offsets of it (tombstones in
// __consumer_offsets), groups left with nothing die, and a restart does not bring them back.
func TestDeletedTopicOffsets(t *testing.T) {
	c := newCluster(t)
	c.start("group.initial.rebalance.delay.ms=0")
	ctx := ctxT(t)
	cl := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopics(ctx, 2, 1, nil, "doomed", "kept"); err != nil {
		t.Fatal(err)
	}
	produceN(t, cl, "doomed", 0, 0, 5)
	produceN(t, cl, "doomed", 1, 5, 5)
	produceN(t, cl, "kept", 0, 0, 5)

	// A group with a generation that consumed only doomed, then left (Empty, generation > 0).
	gcl := c.client(kgo.ConsumerGroup("members"), kgo.ConsumeTopics("doomed"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for n := 0; n < 10; {
		fs := gcl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group consumed %d: %v", n, ctx.Err())
		}
		n += len(fs.Records())
	}
	if err := gcl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	gcl.Close()

	// Simple consumers (generation -1): one with offsets in both topics, one only in doomed.
	commit := func(group string, offs map[string]map[int32]int64) {
		t.Helper()
		o := kadm.Offsets{}
		for topic, ps := range offs {
			for p, at := range ps {
				o.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
			}
		}
		resp, err := adm.CommitOffsets(ctx, group, o)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("commit %s: %v", group, err)
		}
	}
	commit("both", map[string]map[int32]int64{"doomed": {0: 3, 1: 4}, "kept": {0: 2}})
	commit("only", map[string]map[int32]int64{"doomed": {1: 1}})

	fetched := func(group string) map[string]int64 {
		t.Helper()
		offs, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			t.Fatalf("fetch offsets of %s: %v", group, err)
		}
		out := map[string]int64{}
		offs.Each(func(o kadm.OffsetResponse) { out[fmt.Sprintf("%s/%d", o.Topic, o.Partition)] = o.At })
		return out
	}
	if got := fetched("members"); len(got) != 2 || got["doomed/0"] != 5 || got["doomed/1"] != 5 {
		t.Fatalf("members committed %v", got)
	}

	resp, err := adm.DeleteTopics(ctx, "doomed")
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor("doomed offsets to go", func() bool { return len(fetched("both")) == 1 })

	check := func(adm *kadm.Client) {
		t.Helper()
		if got := fetched("both"); len(got) != 1 || got["kept/0"] != 2 {
			t.Errorf("both: %v, want only kept/0=2", got)
		}
		for _, g := range []string{"only", "members"} {
			if got := fetched(g); len(got) != 0 {
				t.Errorf("%s still has offsets %v", g, got)
			}
		}
		listed, err := adm.ListGroups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if gs := listed.Groups(); len(gs) != 1 || gs[0] != "both" {
			t.Errorf("groups listed %v, want [both]", gs)
		}
		described, err := adm.DescribeGroups(ctx, "members")
		if err != nil {
			t.Fatal(err)
		}
		if d := described["members"]; d.State != "Dead" {
			t.Errorf("members is %q, want Dead", d.State)
		}
	}
	check(adm)

	// The topic is gone from the metadata cache: commits to it are refused, as in Kafka.
	req := kadm.Offsets{}
	req.Add(kadm.Offset{Topic: "doomed", Partition: 0, At: 9, LeaderEpoch: -1})
	req.Add(kadm.Offset{Topic: "kept", Partition: 0, At: 3, LeaderEpoch: -1})
	cresp, err := adm.CommitOffsets(ctx, "both", req)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := cresp.Lookup("doomed", 0); !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("commit to deleted topic: %v", r.Err)
	}
	if r, _ := cresp.Lookup("kept", 0); r.Err != nil {
		t.Errorf("commit to kept: %v", r.Err)
	}
	commit("both", map[string]map[int32]int64{"kept": {0: 2}})

	// The tombstones are in __consumer_offsets: a restart loads the same state.
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	c.start("group.initial.rebalance.delay.ms=0")
	cl2 := c.client()
	adm = kadm.NewClient(cl2)
	c.waitFor("coordinator after restart", func() bool {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := adm.FetchOffsets(cctx, "both")
		return err == nil
	})
	check(adm)
}
