package controller

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The admin APIs served by the controller (KafkaController.electLeaders, alterPartitionReassignments,
// listPartitionReassignments). Each goes through the core as an event; a broker that is not the controller answers
// NOT_CONTROLLER.

func notController() (int16, *string) {
	return kerr.NotController.Code, msg(kerr.NotController.Description)
}

// ElectLeaders runs an admin-requested election (preferred, or unclean when unclean). When this broker is not the
// controller every partition gets NOT_CONTROLLER, as in Kafka.
func (c *Controller) ElectLeaders(ctx context.Context, partitions []TopicPartition, unclean bool) ([]ElectionResult, error) {
	out, err := c.call(ctx, ElectLeaders{Partitions: partitions, Unclean: unclean})
	if err != nil {
		return nil, err
	}
	if out.Admin == nil {
		code, _ := notController()
		res := make([]ElectionResult, 0, len(partitions))
		for _, tp := range partitions {
			res = append(res, ElectionResult{TP: tp, ErrorCode: code})
		}
		return res, nil
	}
	return out.Admin.Elections, nil
}

// AlterPartitionReassignments handles an AlterPartitionReassignments request (v0).
func (c *Controller) AlterPartitionReassignments(ctx context.Context, req *kmsg.AlterPartitionAssignmentsRequest) (*kmsg.AlterPartitionAssignmentsResponse, error) {
	var ev AlterReassignments
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			ev.Targets = append(ev.Targets, ReassignmentTarget{TP: TopicPartition{Topic: t.Topic, Partition: p.Partition}, Replicas: p.Replicas})
		}
	}
	out, err := c.call(ctx, ev)
	if err != nil {
		return nil, err
	}
	resp := kmsg.NewPtrAlterPartitionAssignmentsResponse()
	resp.Version = req.Version
	if out.Admin == nil {
		resp.ErrorCode, resp.ErrorMessage = notController()
		return resp, nil
	}
	byTopic := map[string]int{}
	for _, r := range out.Admin.Reassign {
		i, ok := byTopic[r.TP.Topic]
		if !ok {
			t := kmsg.NewAlterPartitionAssignmentsResponseTopic()
			t.Topic = r.TP.Topic
			resp.Topics = append(resp.Topics, t)
			i = len(resp.Topics) - 1
			byTopic[r.TP.Topic] = i
		}
		p := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
		p.Partition, p.ErrorCode, p.ErrorMessage = r.TP.Partition, r.ErrorCode, r.Message
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
	}
	return resp, nil
}

// ListPartitionReassignments handles a ListPartitionReassignments request (v0); null topics lists all.
func (c *Controller) ListPartitionReassignments(ctx context.Context, req *kmsg.ListPartitionReassignmentsRequest) (*kmsg.ListPartitionReassignmentsResponse, error) {
	var ev ListReassignments
	if req.Topics != nil {
		ev.Partitions = []TopicPartition{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				ev.Partitions = append(ev.Partitions, TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
	}
	out, err := c.call(ctx, ev)
	if err != nil {
		return nil, err
	}
	resp := kmsg.NewPtrListPartitionReassignmentsResponse()
	resp.Version = req.Version
	if out.Admin == nil {
		resp.ErrorCode, resp.ErrorMessage = notController()
		return resp, nil
	}
	ongoing := out.Admin.Ongoing
	sort.SliceStable(ongoing, func(i, j int) bool {
		a, b := ongoing[i].TP, ongoing[j].TP
		return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
	})
	for _, o := range ongoing {
		if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != o.TP.Topic {
			t := kmsg.NewListPartitionReassignmentsResponseTopic()
			t.Topic = o.TP.Topic
			resp.Topics = append(resp.Topics, t)
		}
		p := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
		p.Partition = o.TP.Partition
		p.Replicas, p.AddingReplicas, p.RemovingReplicas = nonNil(o.Replicas), nonNil(o.Adding), nonNil(o.Removing)
		t := &resp.Topics[len(resp.Topics)-1]
		t.Partitions = append(t.Partitions, p)
	}
	return resp, nil
}

func nonNil(xs []int32) []int32 {
	if xs == nil {
		return []int32{}
	}
	return xs
}
