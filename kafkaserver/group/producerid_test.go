package group

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// blockStore is /latest_producer_id_block in memory, shared by several managers like brokers share ZooKeeper.
type blockStore struct {
	last *zkmeta.ProducerIDBlock
	fail bool
}

func (s *blockStore) AllocateProducerIDBlock(brokerID int32) (zkmeta.ProducerIDBlock, error) {
	if s.fail {
		return zkmeta.ProducerIDBlock{}, errors.New("zookeeper down")
	}
	b := zkmeta.ProducerIDBlock{BrokerID: brokerID, BlockStart: 0, BlockEnd: zkmeta.ProducerIDBlockSize - 1}
	if s.last != nil {
		b.BlockStart, b.BlockEnd = s.last.BlockEnd+1, s.last.BlockEnd+zkmeta.ProducerIDBlockSize
	}
	s.last = &b
	return b, nil
}

func TestProducerIDManagerBlocks(t *testing.T) {
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := &blockStore{}
	m1 := NewProducerIDManager(1, store, discard)
	if err := m1.Init(); err != nil {
		t.Fatal(err)
	}
	m2 := NewProducerIDManager(2, store, discard)
	if err := m2.Init(); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	gen := func(m *ProducerIDManager) int64 {
		t.Helper()
		id, err := m.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("producer id %d handed out twice", id)
		}
		seen[id] = true
		return id
	}
	if id := gen(m1); id != 0 {
		t.Fatalf("first id of broker 1: %d", id)
	}
	if id := gen(m2); id != 1000 {
		t.Fatalf("first id of broker 2: %d", id)
	}
	for range 998 {
		gen(m1)
	}
	if id := gen(m1); id != 999 {
		t.Fatalf("last id of the first block: %d", id)
	}
	// The block is used up: the next one starts after the newest block in the store.
	if id := gen(m1); id != 2000 {
		t.Fatalf("first id of broker 1's second block: %d", id)
	}
	store.fail = true
	for range 999 {
		gen(m1)
	}
	if _, err := m1.Generate(); err == nil {
		t.Fatal("no error when no block can be claimed")
	}
}
