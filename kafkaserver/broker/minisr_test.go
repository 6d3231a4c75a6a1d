package broker

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestMinInsyncReplicasFromTopicConfig checks that acks=all follows the topic's min.insync.replicas as the
// partition's log config holds it (set at creation, changed by AlterConfigs), while acks=1 ignores it.
func TestMinInsyncReplicasFromTopicConfig(t *testing.T) {
	c := newCluster(t)
	c.start()
	ctx := ctxT(t)
	adm := kadm.NewClient(c.client())
	res, err := adm.CreateTopics(ctx, 1, 1, map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}, "misr")
	if err != nil || res["misr"].Err != nil {
		t.Fatalf("create: %v %v", err, res["misr"].Err)
	}
	// One raw Produce per try (the client would retry NOT_ENOUGH_REPLICAS itself); kgo sends raw produce requests
	// with its own acks setting.
	clients := map[int16]*kgo.Client{1: c.client(kgo.RequiredAcks(kgo.LeaderAck())), -1: c.client()}
	produce := func(acks int16) error {
		cl := clients[acks]
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = acks, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "misr"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = rawBatch(-1, -1, -1, 1)
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
	}
	if err := produce(1); err != nil {
		t.Fatalf("acks=1: %v", err)
	}
	if err := produce(-1); !errors.Is(err, kerr.NotEnoughReplicas) {
		t.Fatalf("acks=all with min.insync.replicas=2 on one replica: %v", err)
	}
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "min.insync.replicas", Value: kadm.StringPtr("1")}}, "misr"); err != nil {
		t.Fatal(err)
	}
	// The change reaches the log through the config change notification, a moment later.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := produce(-1)
		if err == nil {
			break
		}
		if !errors.Is(err, kerr.NotEnoughReplicas) || time.Now().After(deadline) {
			t.Fatalf("acks=all after min.insync.replicas=1: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
