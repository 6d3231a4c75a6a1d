package broker

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Replication throttles as kafka-reassign-partitions.sh --throttle sets them: a new replica copies a partition
// while the leader's (then the follower's) throttle holds it to one byte a second, which after the first fetch
// is no more fetches for the two seconds the quota's windows span here; taking the throttle's rate away lets the
// copy finish and the reassignment complete.
func TestReplicationThrottles(t *testing.T) {
	c := newCluster(t)
	window := "replication.quota.window.num=2"
	b0, b1, cl := twoBrokers(t, c, []string{window}, []string{window, "replica.fetch.max.bytes=10000"},
		kgo.ProducerBatchMaxBytes(4096))
	ctx := ctxT(t)
	adm := kadm.NewClient(cl)
	value := strings.Repeat("x", 2000)

	for _, side := range []struct {
		name, replicas, rate string
		broker               int32
	}{
		{"leader", "0:0", "leader.replication.throttled.rate", 0},
		{"follower", "0:1", "follower.replication.throttled.rate", 1},
	} {
		topic := "throttled-" + side.name
		createAssigned(t, ctx, cl, topic, []int32{0})
		var recs []*kgo.Record
		for range 100 {
			recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(value)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		one := "1"
		rs, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: side.name + ".replication.throttled.replicas", Value: &side.replicas}}, topic)
		alterOK(t, rs, err)
		rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: side.rate, Value: &one}}, side.broker)
		alterOK(t, rs, err)
		// The throttling broker has applied both (its config listener runs apart from AlterConfigs).
		tb := map[int32]*Broker{0: b0, 1: b1}[side.broker]
		q := tb.Replicas().LeaderQuota()
		if side.name == "follower" {
			q = tb.Replicas().FollowerQuota()
		}
		c.waitFor(side.name+" throttle applied", func() bool { return q.Throttled(topic, 0) && q.Bound() == 1 })

		var ar kadm.AlterPartitionAssignmentsReq
		ar.Assign(topic, 0, []int32{0, 1})
		if res, err := adm.AlterPartitionAssignments(ctx, ar); err != nil || res[topic][0].Err != nil {
			t.Fatalf("reassign: %+v %v", res, err)
		}
		c.waitFor(side.name+": the copy started", func() bool {
			l, ok := b1.logs.Get(topic, 0)
			return ok && l.LogEndOffset() > 0
		})
		time.Sleep(time.Second)
		l1, _ := b1.logs.Get(topic, 0)
		if end := l1.LogEndOffset(); end >= 100 {
			t.Fatalf("%s throttle: the new replica copied all %d records at once", side.name, end)
		}
		if got := isrOf(t, b0, topic, 0); len(got) != 1 {
			t.Fatalf("%s throttle: ISR %v while copying", side.name, got)
		}
		// What the throttle let through shows in its measured rate (the {leader,follower}replication byte-rate
		// metric).
		if r := q.Rate(time.Now().UnixMilli()); r <= 0 {
			t.Fatalf("%s throttle: measured rate %v while copying", side.name, r)
		}

		// No rate, no throttle: the copy completes and so does the reassignment.
		rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: side.rate}}, side.broker)
		alterOK(t, rs, err)
		c.waitFor(side.name+": copied and in the ISR", func() bool {
			return l1.LogEndOffset() == 100 && bytes.Equal(logBytes(t, b0, topic, 0), logBytes(t, b1, topic, 0)) &&
				len(isrOf(t, b0, topic, 0)) == 2
		})
	}
}
