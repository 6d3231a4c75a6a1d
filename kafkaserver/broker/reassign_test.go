package broker

import (
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// TestControllerAdminAPIs drives ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments on one
// broker through kadm, plus the ZooKeeper-triggered paths (/admin/reassign_partitions,
// /admin/preferred_replica_election).
func TestControllerAdminAPIs(t *testing.T) {
	c := newCluster(t)
	b := c.start()
	cl := c.client()
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "r"); err != nil {
		t.Fatal(err)
	}
	c.waitFor("leaders of r", func() bool {
		tm, ok := b.Replicas().Cache().Topic("r")
		return ok && len(tm.Partitions) == 2
	})

	// Elections: the only replica already leads.
	er, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"r": {0: {}, 9: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if er["r"][0].Err != kerr.ElectionNotNeeded || er["r"][9].Err != kerr.UnknownTopicOrPartition {
		t.Fatalf("preferred election: %+v", er)
	}
	er, err = adm.ElectLeaders(ctx, kadm.ElectLiveReplica, kadm.TopicsSet{"r": {1: {}}})
	if err != nil || er["r"][1].Err != kerr.ElectionNotNeeded {
		t.Fatalf("unclean election: %+v %v", er, err)
	}
	// All partitions: the ones that need no election are left out.
	er, err = adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, nil)
	if err != nil || len(er) != 0 {
		t.Fatalf("election over all partitions: %+v %v", er, err)
	}

	// Reassignments: target = current completes at once; a dead broker is refused; nothing to cancel.
	var req kadm.AlterPartitionAssignmentsReq
	req.Assign("r", 0, []int32{0})
	req.Assign("r", 1, []int32{0, 1})
	req.Assign("nope", 0, []int32{0})
	ar, err := adm.AlterPartitionAssignments(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if ar["r"][0].Err != nil || ar["r"][1].Err != kerr.InvalidReplicaAssignment || ar["nope"][0].Err != kerr.UnknownTopicOrPartition {
		t.Fatalf("alter: %+v", ar)
	}
	req = nil
	req.CancelAssign("r", 0)
	if ar, err = adm.AlterPartitionAssignments(ctx, req); err != nil || ar["r"][0].Err != kerr.NoReassignmentInProgress {
		t.Fatalf("cancel without reassignment: %+v %v", ar, err)
	}
	lr, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{"r": {0: {}, 1: {}}})
	if err != nil || len(lr) != 0 {
		t.Fatalf("list: %+v %v", lr, err)
	}

	// A ZooKeeper tool moves r-1 to broker 1, which is not alive: the reassignment stays pending with the topic
	// znode showing what is added and removed.
	zc := b.ZK()
	if err := zc.CreatePartitionReassignment([]zkmeta.PartitionReassignment{{Topic: "r", Partition: 1, Replicas: []int32{1}}}); err != nil {
		t.Fatal(err)
	}
	c.waitFor("reassignment started", func() bool {
		data, _, err := zc.GetDataAndStat(zkmeta.TopicPath("r"))
		return err == nil && strings.Contains(string(data), `"adding_replicas":{"1":[1]}`) &&
			strings.Contains(string(data), `"removing_replicas":{"1":[0]}`)
	})
	lr, err = adm.ListPartitionReassignments(ctx, kadm.TopicsSet{"r": {0: {}, 1: {}}})
	if err != nil {
		t.Fatal(err)
	}
	got := lr["r"][1]
	if len(lr) != 1 || !reflect.DeepEqual(got.Replicas, []int32{1, 0}) || !reflect.DeepEqual(got.AddingReplicas, []int32{1}) ||
		!reflect.DeepEqual(got.RemovingReplicas, []int32{0}) {
		t.Fatalf("list pending: %+v", lr)
	}
	if ok, _, _ := zc.Exists(zkmeta.ReassignPartitionsPath); !ok {
		t.Fatal("/admin/reassign_partitions removed before the reassignment completed")
	}
	// Cancelling through the API takes the partition out of the znode (deleted when empty) and restores [0].
	req = nil
	req.CancelAssign("r", 1)
	if ar, err = adm.AlterPartitionAssignments(ctx, req); err != nil || ar["r"][1].Err != nil {
		t.Fatalf("cancel: %+v %v", ar, err)
	}
	if ok, _, _ := zc.Exists(zkmeta.ReassignPartitionsPath); ok {
		t.Fatal("/admin/reassign_partitions left after the cancellation")
	}
	ta, ok, err := zc.GetTopicAssignment("r")
	if err != nil || !ok || !reflect.DeepEqual(ta.Partitions[1], zkmeta.ReplicaAssignment{Replicas: []int32{0}}) {
		t.Fatalf("assignment after cancel: %+v %v", ta, err)
	}
	if lr, err = adm.ListPartitionReassignments(ctx, kadm.TopicsSet{"r": {1: {}}}); err != nil || len(lr) != 0 {
		t.Fatalf("list after cancel: %+v %v", lr, err)
	}
	produceN(t, cl, "r", 1, 0, 3)

	// A preferred replica election asked through ZooKeeper: processed, then the znode goes away.
	if err := zc.CreatePreferredReplicaElection([]zkmeta.TopicPartition{{Topic: "r", Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	c.waitFor("preferred election znode deleted", func() bool {
		ok, _, err := zc.Exists(zkmeta.PreferredReplicaElectionPath)
		return err == nil && !ok
	})
}
