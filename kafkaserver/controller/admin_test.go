package controller

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A broker that is not the controller answers the admin APIs with NOT_CONTROLLER.
func TestAdminNotController(t *testing.T) {
	c := New(nil, Config{BrokerID: 3}, nil, nil)
	ctx := context.Background()
	res, err := c.ElectLeaders(ctx, []TopicPartition{{Topic: "a"}, {Topic: "a", Partition: 1}}, false)
	if err != nil || len(res) != 2 || res[0].ErrorCode != kerr.NotController.Code || res[1].ErrorCode != kerr.NotController.Code {
		t.Fatalf("ElectLeaders %+v %v", res, err)
	}
	areq := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	ar, err := c.AlterPartitionReassignments(ctx, areq)
	if err != nil || ar.ErrorCode != kerr.NotController.Code {
		t.Fatalf("AlterPartitionReassignments %+v %v", ar, err)
	}
	lr, err := c.ListPartitionReassignments(ctx, kmsg.NewPtrListPartitionReassignmentsRequest())
	if err != nil || lr.ErrorCode != kerr.NotController.Code {
		t.Fatalf("ListPartitionReassignments %+v %v", lr, err)
	}
}
