package kafka09

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The controller's ZooKeeper-triggered paths, driven by Kafka 0.9's kafka-reassign-partitions.sh --zookeeper and
// kafka-preferred-replica-election.sh against our broker.
func init() {
	scenarios = append(scenarios,
		scenario{"admin/reassign-partitions", scenReassign},
		scenario{"admin/preferred-replica-election", scenPreferredElection},
	)
}

func (e *env) reassignTool(mode, file string) (string, error) {
	out, _, err := e.run(60*time.Second, "", "kafka-reassign-partitions.sh", "--zookeeper", e.zkConnect,
		"--reassignment-json-file", file, mode)
	return out, err
}

func (e *env) znodeGone(path string) error {
	return waitFor(path+" deleted", 30*time.Second, nil, func() bool {
		ok, _, err := e.zk.Exists(chroot + path)
		return err == nil && !ok
	})
}

func wantLines(out string, want ...string) error {
	for _, w := range want {
		if !strings.Contains(out, w) {
			return fmt.Errorf("want %q in output:\n%s", w, out)
		}
	}
	return nil
}

func scenReassign(e *env) error {
	const topic = "reassign"
	if err := e.createTopic(topic, 2); err != nil {
		return err
	}
	// Reassigning both partitions to the broker they are on completes at once.
	same := filepath.Join(e.dir, "reassign-same.json")
	writeFile(e.t, same, `{"version":1,"partitions":[{"topic":"reassign","partition":0,"replicas":[0]},{"topic":"reassign","partition":1,"replicas":[0]}]}`)
	out, err := e.reassignTool("--execute", same)
	if err != nil {
		return err
	}
	if err := wantLines(out, "Current partition replica assignment", "Successfully started reassignment of partitions"); err != nil {
		return err
	}
	if err := e.znodeGone("/admin/reassign_partitions"); err != nil {
		return err
	}
	if out, err = e.reassignTool("--verify", same); err != nil {
		return err
	}
	if err := wantLines(out, "Reassignment of partition [reassign,0] completed successfully",
		"Reassignment of partition [reassign,1] completed successfully"); err != nil {
		return err
	}

	// To a broker that does not exist: stays in progress, with the topic znode naming what is added and removed.
	dead := filepath.Join(e.dir, "reassign-dead.json")
	writeFile(e.t, dead, `{"version":1,"partitions":[{"topic":"reassign","partition":1,"replicas":[1]}]}`)
	if out, err = e.reassignTool("--execute", dead); err != nil {
		return err
	}
	if err := wantLines(out, "Successfully started reassignment of partitions"); err != nil {
		return err
	}
	var last string
	if err := waitFor("reassignment recorded in the topic znode", 30*time.Second, nil, func() bool {
		data, _, err := e.zk.Get(chroot + "/brokers/topics/" + topic)
		last = string(data)
		return err == nil && strings.Contains(last, `"adding_replicas":{"1":[1]}`) && strings.Contains(last, `"removing_replicas":{"1":[0]}`)
	}); err != nil {
		return fmt.Errorf("%w; topic znode %s", err, last)
	}
	if out, err = e.reassignTool("--verify", dead); err != nil {
		return err
	}
	if err := wantLines(out, "Reassignment of partition [reassign,1] is still in progress"); err != nil {
		return err
	}
	// Cancelled through the API (KIP-455): the znode goes, the old assignment stays, and 0.9's verify reports the
	// target as not reached.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var req kadm.AlterPartitionAssignmentsReq
	req.CancelAssign(topic, 1)
	res, err := kadm.NewClient(cl).AlterPartitionAssignments(ctx, req)
	if err != nil {
		return err
	}
	if err := res.Error(); err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	if err := e.znodeGone("/admin/reassign_partitions"); err != nil {
		return err
	}
	if out, err = e.reassignTool("--verify", dead); err != nil {
		return err
	}
	if err := wantLines(out, "Reassignment of partition [reassign,1] failed"); err != nil {
		return err
	}
	return e.waitLed(topic, 2)
}

func scenPreferredElection(e *env) error {
	const topic = "preferred"
	if err := e.createTopic(topic, 2); err != nil {
		return err
	}
	// Without a file: every partition in ZooKeeper.
	out, _, err := e.run(60*time.Second, "", "kafka-preferred-replica-election.sh", "--zookeeper", e.zkConnect)
	if err != nil {
		return err
	}
	if err := wantLines(out, "Successfully started preferred replica election for partitions"); err != nil {
		return err
	}
	if err := e.znodeGone("/admin/preferred_replica_election"); err != nil {
		return err
	}
	file := filepath.Join(e.dir, "preferred.json")
	writeFile(e.t, file, `{"partitions":[{"topic":"preferred","partition":1}]}`)
	out, _, err = e.run(60*time.Second, "", "kafka-preferred-replica-election.sh", "--zookeeper", e.zkConnect,
		"--path-to-json-file", file)
	if err != nil {
		return err
	}
	if err := wantLines(out, "Successfully started preferred replica election for partitions Set([preferred,1])"); err != nil {
		return err
	}
	if err := e.znodeGone("/admin/preferred_replica_election"); err != nil {
		return err
	}
	return e.waitLed(topic, 2)
}
