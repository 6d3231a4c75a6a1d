package group

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// ProducerIDBlockStore claims blocks of producer ids; *zkmeta.Client does it on /latest_producer_id_block.
type ProducerIDBlockStore interface {
	AllocateProducerIDBlock(brokerID int32) (zkmeta.ProducerIDBlock, error)
}

// ProducerIDManager hands out producer ids from blocks of zkmeta.ProducerIDBlockSize claimed in ZooKeeper, so no
// two brokers ever give out the same id (Kafka 2.8's ProducerIdManager).
type ProducerIDManager struct {
	brokerID int32
	store    ProducerIDBlockStore
	logger   *slog.Logger

	mu    sync.Mutex
	block zkmeta.ProducerIDBlock
	next  int64 // -1 until the first block is claimed
}

// NewProducerIDManager returns a manager that claims its first block on Init or on first use.
func NewProducerIDManager(brokerID int32, store ProducerIDBlockStore, logger *slog.Logger) *ProducerIDManager {
	if logger == nil {
		logger = slog.Default()
	}
	return &ProducerIDManager{brokerID: brokerID, store: store, logger: logger, next: -1}
}

// Init claims the first block, as Kafka does when the transaction coordinator starts.
func (m *ProducerIDManager) Init() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.next >= 0 {
		return nil
	}
	return m.claimLocked()
}

func (m *ProducerIDManager) claimLocked() error {
	b, err := m.store.AllocateProducerIDBlock(m.brokerID)
	if err != nil {
		return fmt.Errorf("claim producer id block for broker %d: %w", m.brokerID, err)
	}
	m.logger.Info("acquired new producerId block", "block_start", b.BlockStart, "block_end", b.BlockEnd)
	m.block, m.next = b, b.BlockStart
	return nil
}

// Generate returns a producer id never handed out before in the cluster.
func (m *ProducerIDManager) Generate() (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.next < 0 || m.next > m.block.BlockEnd {
		if err := m.claimLocked(); err != nil {
			return -1, err
		}
	}
	id := m.next
	m.next++
	return id, nil
}
