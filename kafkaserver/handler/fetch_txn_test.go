package handler

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// TestFetchAbortedTransactionsBytes checks a Fetch v4 partition as Kafka's FetchResponse lays it out: null aborted
// transactions for read_uncommitted, an empty list for read_committed without any, and the entries otherwise.
func TestFetchAbortedTransactionsBytes(t *testing.T) {
	be := binary.BigEndian
	for _, tt := range []struct {
		name    string
		aborted []klog.AbortedTxn
		want    []byte // the aborted_transactions field
	}{
		{"read_uncommitted", nil, be.AppendUint32(nil, 0xffffffff)},
		{"read_committed, none", []klog.AbortedTxn{}, be.AppendUint32(nil, 0)},
		{"read_committed", []klog.AbortedTxn{{ProducerID: 7, FirstOffset: 2}},
			be.AppendUint64(be.AppendUint64(be.AppendUint32(nil, 1), 7), 2)},
	} {
		resp := kmsg.NewPtrFetchResponse()
		resp.Version = 4
		rp := emptyPartition(0)
		rp.HighWatermark, rp.LastStableOffset, rp.RecordBatches = 9, 5, []byte{}
		rp.AbortedTransactions = abortedTransactions(tt.aborted)
		resp.Topics = []kmsg.FetchResponseTopic{{Topic: "t", Partitions: []kmsg.FetchResponseTopicPartition{rp}}}
		want := be.AppendUint32(nil, 0)                     // throttle
		want = be.AppendUint32(want, 1)                     // topics
		want = append(be.AppendUint16(want, 1), 't')        // topic
		want = be.AppendUint32(want, 1)                     // partitions
		want = be.AppendUint32(want, 0)                     // partition
		want = be.AppendUint16(want, 0)                     // error
		want = be.AppendUint64(be.AppendUint64(want, 9), 5) // high watermark, last stable offset
		want = append(want, tt.want...)
		want = be.AppendUint32(want, 0) // records
		if got := resp.AppendTo(nil); !slices.Equal(got, want) {
			t.Errorf("%s: %x\nwant %x", tt.name, got, want)
		}
	}
}
