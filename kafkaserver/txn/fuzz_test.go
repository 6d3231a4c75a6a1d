package txn

import (
	"reflect"
	"testing"
)

// FuzzTxnStateRecord (make fuzz) replays one __transaction_state record of arbitrary key and value bytes as
// loading the transaction coordinator does: an error or a transaction, never a panic; a value that decodes
// re-encodes to one that decodes the same.
func FuzzTxnStateRecord(f *testing.F) {
	ongoing := transit{producerID: 5, epoch: 1, timeoutMs: 60000, state: Ongoing, startMs: 10, updateMs: 20,
		partitions: []TopicPartition{{"a", 0}, {"a", 1}, {"b", 0}}}
	f.Add(encodeKey("tx"), encodeValue(ongoing))
	f.Add(encodeKey("tx"), encodeValue(transit{producerID: 5, epoch: 0, timeoutMs: 60000, state: Empty}))
	f.Add(encodeKey("tx"), []byte(nil))
	f.Add([]byte{0, 1, 0, 2, 't', 'x'}, []byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		txns := map[string]*metadata{}
		if err := replayRecord(key, value, txns); err != nil {
			return
		}
		id, _ := decodeKey(key)
		if again, err := decodeKey(encodeKey(id)); err != nil || again != id {
			t.Fatalf("key %q re-encoded reads %q, %v", id, again, err)
		}
		m := txns[id]
		if m == nil {
			return
		}
		tr := transit{producerID: m.producerID, epoch: m.epoch, timeoutMs: m.timeoutMs, state: m.state,
			startMs: m.startMs, updateMs: m.lastUpdateMs, partitions: m.partitions.sorted()}
		again, err := decodeValue(id, encodeValue(tr))
		if err != nil {
			t.Fatalf("value of %q re-encoded: %v", id, err)
		}
		if m.state == Empty {
			m.partitions = partitionSet{} // an empty transaction keeps none
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("value %+v re-encoded reads %+v", m, again)
		}
	})
}
