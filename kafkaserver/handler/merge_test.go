package handler

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestMergeTopics(t *testing.T) {
	part := func(p int32, off int64) kmsg.ProduceRequestTopicPartition {
		return kmsg.ProduceRequestTopicPartition{Partition: p, Records: []byte{byte(off)}}
	}
	in := []kmsg.ProduceRequestTopic{
		{Topic: "a", Partitions: []kmsg.ProduceRequestTopicPartition{part(1, 1), part(2, 2)}},
		{Topic: "b", Partitions: []kmsg.ProduceRequestTopicPartition{part(0, 3)}},
		{Topic: "a", Partitions: []kmsg.ProduceRequestTopicPartition{part(1, 4), part(3, 5)}},
	}
	out := mergeTopics(in,
		func(t *kmsg.ProduceRequestTopic) string { return t.Topic },
		func(t *kmsg.ProduceRequestTopic) *[]kmsg.ProduceRequestTopicPartition { return &t.Partitions },
		func(p *kmsg.ProduceRequestTopicPartition) int32 { return p.Partition })
	type pr struct {
		topic string
		p     int32
		rec   byte
	}
	var got []pr
	for _, tp := range out {
		for _, p := range tp.Partitions {
			got = append(got, pr{tp.Topic, p.Partition, p.Records[0]})
		}
	}
	want := []pr{{"a", 1, 4}, {"a", 2, 2}, {"a", 3, 5}, {"b", 0, 3}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if len(in[0].Partitions) != 2 {
		t.Fatal("the input was modified")
	}
}
