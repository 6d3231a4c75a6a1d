package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/broker"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// startBroker runs one of our brokers in-process on zk+chroot and returns it with its PLAINTEXT address; extra
// key=value settings override the defaults (listeners are added to the PLAINTEXT one).
func startBroker(t *testing.T, zk string, id int, extra ...string) (*broker.Broker, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	props := map[string]string{
		"broker.id":                                strconv.Itoa(id),
		"zookeeper.connect":                        zk,
		"listeners":                                "PLAINTEXT://" + addr,
		"log.dirs":                                 t.TempDir(),
		"offsets.topic.replication.factor":         "1",
		"offsets.topic.num.partitions":             "2",
		"transaction.state.log.replication.factor": "1",
		"num.partitions":                           "1",
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		if k == "listeners" {
			v = props[k] + "," + v
		}
		props[k] = v
	}
	cfg, err := serverprops.FromMap(props, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	b := broker.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	waitUntil(t, "broker metadata", func() bool {
		c := b.Replicas().Cache()
		_, ok := c.Broker(int32(id))
		return ok && c.ControllerID() >= 0
	})
	return b, addr
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ktb(t *testing.T, bs string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--bootstrap-server", bs}, args...), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// TestBootstrapServer drives the AdminClient path (--bootstrap-server) against a real broker and checks that
// --describe prints what the --zookeeper path prints for the same cluster, as TopicCommand 2.8 does.
func TestBootstrapServer(t *testing.T) {
	zkAddr := startZkServer(t)
	zk := zkAddr + "/kt"
	_, bs := startBroker(t, zk, 0)
	zc := connectChroot(t, zkAddr, "/kt", nil)

	expect(t, ktb(t, bs, "--create", "--topic", "a", "--partitions", "3", "--replication-factor", "1",
		"--config", "cleanup.policy=compact"), 0, "Created topic a.\n")
	expect(t, ktb(t, bs, "--create", "--topic", "a", "--partitions", "1"), 1,
		"Error while executing topic command : Topic 'a' already exists.\n")
	expect(t, ktb(t, bs, "--create", "--topic", "a", "--if-not-exists"), 0, "")
	expect(t, ktb(t, bs, "--create", "--topic", "x", "--partitions", "1", "--replication-factor", "2"), 1,
		"Error while executing topic command : Replication factor: 2 larger than available brokers: 1.\n")
	expect(t, ktb(t, bs, "--create", "--topic", "x", "--partitions", "0"), 1,
		"Error while executing topic command : The partitions must be greater than 0\n")
	expect(t, ktb(t, bs, "--create", "--topic", "x", "--replication-factor", "0"), 1,
		"Error while executing topic command : The replication factor must be between 1 and 32767 inclusive\n")
	expect(t, ktb(t, bs, "--create", "--topic", "x", "--config", "nope=1"), 1,
		"Error while executing topic command : Unknown topic config name: nope\n")
	// Defaults come from the broker (num.partitions=1, default.replication.factor=1).
	expect(t, ktb(t, bs, "--create", "--topic", "b"), 0, "Created topic b.\n")
	expect(t, ktb(t, bs, "--create", "--topic", "m", "--replica-assignment", "0,0"), 0, "Created topic m.\n")
	expect(t, ktb(t, bs, "--list"), 0, "a\nb\nm\n")
	expect(t, ktb(t, bs, "--list", "--topic", "a|m"), 0, "a\nm\n")

	settled := func(topic string, n int) {
		t.Helper()
		var r result
		waitUntil(t, topic+" led", func() bool {
			r = ktb(t, bs, "--describe", "--topic", topic)
			if r.code == 0 && strings.Count(r.stdout, "\tLeader: 0\t") == n {
				return true
			}
			t.Logf("describe %s: %+v", topic, r)
			return false
		})
	}
	settled("a", 3)
	settled("b", 1)
	settled("m", 2)
	id, ok, err := zc.GetTopicAssignment("a")
	if err != nil || !ok {
		t.Fatalf("assignment of a: %v %v", ok, err)
	}
	want := "Topic: a\tTopicId: " + id.TopicID.String() + "\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: cleanup.policy=compact\n" +
		"\tTopic: a\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\n" +
		"\tTopic: a\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0\n" +
		"\tTopic: a\tPartition: 2\tLeader: 0\tReplicas: 0\tIsr: 0\n"
	expect(t, ktb(t, bs, "--describe", "--topic", "a"), 0, want)
	expect(t, kt(t, zk, "--describe", "--topic", "a"), 0, want)
	for _, topic := range []string{"b", "m"} {
		zr := kt(t, zk, "--describe", "--topic", topic)
		expect(t, ktb(t, bs, "--describe", "--topic", topic), zr.code, zr.stdout)
	}
	expect(t, ktb(t, bs, "--describe", "--topics-with-overrides"), 0, strings.SplitAfter(want, "\n")[0])
	expect(t, ktb(t, bs, "--describe", "--topic", "nope"), 1,
		"Error while executing topic command : Topic 'nope' does not exist as expected\n")
	expect(t, ktb(t, bs, "--describe", "--topic", "nope", "--if-exists"), 0, "")

	// alter --partitions: nothing printed on success (the warning and "Adding partitions succeeded!" are the
	// ZooKeeper path's).
	expect(t, ktb(t, bs, "--alter", "--topic", "a", "--partitions", "5"), 0, "")
	settled("a", 5)
	expect(t, ktb(t, bs, "--alter", "--topic", "a", "--partitions", "2"), 1,
		"Error while executing topic command : Topic currently has 5 partitions, which is higher than the requested 2.\n")
	expect(t, ktb(t, bs, "--alter", "--topic", "m", "--partitions", "3", "--replica-assignment", "0,0,0"), 0, "")
	settled("m", 3)
	expect(t, ktb(t, bs, "--alter", "--topic", "nope", "--partitions", "3"), 1,
		"Error while executing topic command : Topic 'nope' does not exist as expected\n")
	expect(t, ktb(t, bs, "--alter", "--topic", "nope", "--partitions", "3", "--if-exists"), 0, "")

	// An under-replicated partition: its second replica is on a broker that does not exist (written to ZooKeeper
	// directly, as an old tool may).
	if err := zc.CreateTopic("sick", map[int32][]int32{0: {0, 7}}, map[string]string{}, zkmeta.ZeroUuid); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "sick led", func() bool {
		r := ktb(t, bs, "--describe", "--topic", "sick")
		return r.code == 0 && strings.Contains(r.stdout, "Partition: 0\tLeader: 0\t")
	})
	// An unavailable partition: its only replica's broker stops; the controller keeps the last ISR.
	b1, _ := startBroker(t, zk, 1)
	expect(t, ktb(t, bs, "--create", "--topic", "lonely", "--replica-assignment", "1"), 0, "Created topic lonely.\n")
	settledOn := func(leader string) {
		t.Helper()
		waitUntil(t, "lonely led by "+leader, func() bool {
			r := ktb(t, bs, "--describe", "--topic", "lonely")
			return r.code == 0 && strings.Contains(r.stdout, "\tLeader: "+leader+"\t")
		})
	}
	settledOn("1")
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	settledOn("none")
	expect(t, ktb(t, bs, "--describe", "--under-replicated-partitions"), 0,
		"\tTopic: sick\tPartition: 0\tLeader: 0\tReplicas: 0,7\tIsr: 0\n")
	expect(t, ktb(t, bs, "--describe", "--unavailable-partitions"), 0,
		"\tTopic: lonely\tPartition: 0\tLeader: none\tReplicas: 1\tIsr: 1\n")
	for _, filter := range []string{"--under-replicated-partitions", "--unavailable-partitions"} {
		zr := kt(t, zk, "--describe", filter)
		expect(t, ktb(t, bs, "--describe", filter), zr.code, zr.stdout)
	}
	// min.insync.replicas is 1: every led partition is at it; one without a leader counts as under it (admin
	// path only).
	expect(t, ktb(t, bs, "--describe", "--under-min-isr-partitions"), 0,
		"\tTopic: lonely\tPartition: 0\tLeader: none\tReplicas: 1\tIsr: 1\n")
	r := ktb(t, bs, "--describe", "--topic", "b", "--at-min-isr-partitions")
	expect(t, r, 0, "\tTopic: b\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\n")

	// delete: nothing printed; the controller completes it.
	expect(t, ktb(t, bs, "--delete", "--topic", "b"), 0, "")
	waitUntil(t, "b deleted", func() bool { return ktb(t, bs, "--list").stdout == "a\nlonely\nm\nsick\n" })
	expect(t, ktb(t, bs, "--delete", "--topic", "b"), 1,
		"Error while executing topic command : Topic 'b' does not exist as expected\n")
	expect(t, ktb(t, bs, "--delete", "--topic", "b", "--if-exists"), 0, "")

	// Internal topics: listed unless excluded, and the broker refuses to delete them.
	if err := zc.CreateTopic("__consumer_offsets", map[int32][]int32{0: {0}}, map[string]string{}, zkmeta.ZeroUuid); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "__consumer_offsets listed", func() bool { return ktb(t, bs, "--list").stdout == "__consumer_offsets\na\nlonely\nm\nsick\n" })
	expect(t, ktb(t, bs, "--list", "--exclude-internal"), 0, "a\nlonely\nm\nsick\n")
}
