package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// kt09 runs Kafka 0.9.0.1's kafka-topics.sh --zookeeper zk args....
func kt09(t *testing.T, home, zk string, args ...string) string {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(home, "bin", "kafka-topics.sh"), "--zookeeper", zk}, args...)...)
	cmd.Env = append(os.Environ(), "KAFKA_GC_LOG_OPTS= ", "LOG_DIR="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("0.9 kafka-topics %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func changeEntityPaths(t *testing.T, c *zkmeta.Client) []string {
	t.Helper()
	ch, err := c.GetChildren(zkmeta.ConfigChangesPath)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(ch)
	var out []string
	for _, n := range ch {
		b, _, err := c.Get(zkmeta.ConfigChangesPath + "/" + n)
		if err != nil {
			t.Fatal(err)
		}
		p, err := zkmeta.DecodeConfigChange(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestAgainstKafka09 runs the same commands with Kafka 0.9.0.1's kafka-topics.sh --zookeeper (under /k09) and
// ours (under /ours) and compares the znodes decoded: 0.9 writes topic znode version 1 and version 1 change
// notifications, we write what 2.8 writes, so bytes differ but the content must not. It also checks that our
// --list/--describe read topics the 0.9 tool created.
func TestAgainstKafka09(t *testing.T) {
	home := harness.Kafka09Home(t)
	addr := startZkServer(t)
	// Broker ids 0..2 so that an id equals its index: 0.9's addPartitions passes partition 0's leader *id* as the
	// start index, 2.8 passes the index of the first broker id >= it; they agree only in that case.
	brokers := map[int32]string{0: "", 1: "", 2: ""}
	k09 := connectChroot(t, addr, "/k09", brokers)
	ours := connectChroot(t, addr, "/ours", brokers)
	zk09, zkOurs := addr+"/k09", addr+"/ours"

	same := func(what string, a, b any) {
		t.Helper()
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s differs:\n0.9:  %v\nours: %v", what, a, b)
		}
	}

	// create with a manual assignment and a config override
	if out := kt09(t, home, zk09, "--create", "--topic", "t", "--replica-assignment", "0:1,1:2,2:0", "--config", "cleanup.policy=compact"); !strings.Contains(out, `Created topic "t".`) {
		t.Fatalf("0.9 create: %q", out)
	}
	expect(t, kt(t, zkOurs, "--create", "--topic", "t", "--replica-assignment", "0:1,1:2,2:0", "--config", "cleanup.policy=compact"), 0, "Created topic t.\n")
	same("assignment of t", assignmentOf(t, k09, "t"), assignmentOf(t, ours, "t"))
	c09, _ := k09.GetEntityConfigs(zkmeta.ConfigTypeTopic, "t")
	cOurs, _ := ours.GetEntityConfigs(zkmeta.ConfigTypeTopic, "t")
	same("config of t", c09, cOurs)

	// create with a generated assignment: random start, so compare shape only
	kt09(t, home, zk09, "--create", "--topic", "r", "--partitions", "4", "--replication-factor", "2")
	expect(t, kt(t, zkOurs, "--create", "--topic", "r", "--partitions", "4", "--replication-factor", "2"), 0, "Created topic r.\n")
	for name, c := range map[string]*zkmeta.Client{"0.9": k09, "ours": ours} {
		as := assignmentOf(t, c, "r")
		if len(as) != 4 {
			t.Fatalf("%s: %v", name, as)
		}
		for p, reps := range as {
			if len(reps) != 2 || reps[0] == reps[1] {
				t.Fatalf("%s partition %d: %v", name, p, reps)
			}
		}
		cfg, _ := c.GetEntityConfigs(zkmeta.ConfigTypeTopic, "r")
		if len(cfg) != 0 {
			t.Fatalf("%s config of r: %v", name, cfg)
		}
	}

	// add partitions: deterministic in both (start at partition 0's leader)
	kt09(t, home, zk09, "--alter", "--topic", "t", "--partitions", "6")
	expect(t, kt(t, zkOurs, "--alter", "--topic", "t", "--partitions", "6"), 0, keyWarning+"Adding partitions succeeded!\n")
	same("assignment of t after alter", assignmentOf(t, k09, "t"), assignmentOf(t, ours, "t"))

	// config alteration
	kt09(t, home, zk09, "--alter", "--topic", "t", "--config", "retention.ms=1000", "--delete-config", "cleanup.policy")
	kt(t, zkOurs, "--alter", "--topic", "t", "--config", "retention.ms=1000", "--delete-config", "cleanup.policy")
	c09, _ = k09.GetEntityConfigs(zkmeta.ConfigTypeTopic, "t")
	cOurs, _ = ours.GetEntityConfigs(zkmeta.ConfigTypeTopic, "t")
	same("config of t after alter", c09, cOurs)
	same("config change notifications", changeEntityPaths(t, k09), changeEntityPaths(t, ours))

	// our reader on the 0.9 tool's znodes
	as := assignmentOf(t, k09, "t")
	var want strings.Builder
	want.WriteString("Topic: t\tPartitionCount: 6\tReplicationFactor: 2\tConfigs: retention.ms=1000\n")
	for p := int32(0); p < 6; p++ {
		fmt.Fprintf(&want, "\tTopic: t\tPartition: %d\tLeader: none\tReplicas: %s\tIsr: \n", p, joinIDs(as[p]))
	}
	expect(t, kt(t, zk09, "--describe", "--topic", "t"), 0, want.String())

	// delete
	kt09(t, home, zk09, "--delete", "--topic", "t")
	kt(t, zkOurs, "--delete", "--topic", "t")
	for name, c := range map[string]*zkmeta.Client{"0.9": k09, "ours": ours} {
		b, st, err := c.GetDataAndStat(zkmeta.DeleteTopicPath("t"))
		if err != nil || st == nil || len(b) != 0 {
			t.Fatalf("%s delete marker: %q %v %v", name, b, st, err)
		}
	}
	expect(t, kt(t, zk09, "--list"), 0, "r\nt - marked for deletion\n")
	expect(t, kt(t, zkOurs, "--list"), 0, "r\nt - marked for deletion\n")
	// and the 0.9 tool reads what we wrote
	if out := kt09(t, home, zkOurs, "--describe", "--topic", "t"); !strings.Contains(out, "Topic:t\tPartitionCount:6\tReplicationFactor:2\tConfigs:retention.ms=1000") {
		t.Fatalf("0.9 describe of our topic: %q", out)
	}
}
