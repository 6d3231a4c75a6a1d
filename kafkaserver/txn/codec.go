package txn

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Records of __transaction_state: TransactionLogKey and TransactionLogValue, both version 0 in Kafka 2.8, each
// prefixed by its int16 version.

func encodeKey(id string) []byte {
	k := kmsg.TxnMetadataKey{Version: 0, TransactionalID: id}
	return k.AppendTo(nil)
}

func encodeValue(t transit) []byte {
	v := kmsg.NewTxnMetadataValue()
	v.Version = 0
	v.ProducerID, v.ProducerEpoch, v.TimeoutMillis = t.producerID, t.epoch, t.timeoutMs
	v.State = kmsg.TransactionState(t.state)
	v.LastUpdateTimestamp, v.StartTimestamp = t.updateMs, t.startMs
	if t.state != Empty {
		// An empty transaction writes a null list; every other state a list, maybe empty.
		v.Topics = []kmsg.TxnMetadataValueTopic{}
		for _, tp := range t.partitions {
			if n := len(v.Topics); n == 0 || v.Topics[n-1].Topic != tp.Topic {
				v.Topics = append(v.Topics, kmsg.TxnMetadataValueTopic{Topic: tp.Topic})
			}
			last := &v.Topics[len(v.Topics)-1]
			last.Partitions = append(last.Partitions, tp.Partition)
		}
	}
	return v.AppendTo(nil)
}

func decodeKey(b []byte) (string, error) {
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(b); err != nil {
		return "", fmt.Errorf("transaction log key: %w", err)
	}
	if k.Version != 0 {
		return "", fmt.Errorf("unknown version %d from the transaction log message", k.Version)
	}
	return k.TransactionalID, nil
}

// decodeValue reads a value into metadata; nil is a tombstone.
func decodeValue(id string, b []byte) (*metadata, error) {
	if b == nil {
		return nil, nil
	}
	v := kmsg.NewTxnMetadataValue()
	if err := v.ReadFrom(b); err != nil {
		return nil, fmt.Errorf("transaction log value of %q: %w", id, err)
	}
	if v.Version != 0 {
		return nil, fmt.Errorf("unknown version %d from the transaction log message value", v.Version)
	}
	st := State(v.State)
	if st < Empty || st > PrepareEpochFence {
		return nil, fmt.Errorf("transaction log value of %q: unknown state %d", id, v.State)
	}
	m := &metadata{id: id, producerID: v.ProducerID, lastProducerID: noProducerID, epoch: v.ProducerEpoch,
		lastEpoch: noProducerEpoch, timeoutMs: v.TimeoutMillis, state: st, partitions: partitionSet{},
		startMs: v.StartTimestamp, lastUpdateMs: v.LastUpdateTimestamp}
	if st != Empty {
		for _, t := range v.Topics {
			for _, p := range t.Partitions {
				m.partitions[TopicPartition{t.Topic, p}] = struct{}{}
			}
		}
	}
	return m, nil
}
