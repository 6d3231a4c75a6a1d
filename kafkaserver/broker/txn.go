package broker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/group"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kafkaserver/txn"
)

// newTxnCoordinator builds the transaction coordinator on __transaction_state, with the broker's transaction
// settings.
func (b *Broker) newTxnCoordinator(cfg *serverprops.Config, ids *group.ProducerIDManager, logger *slog.Logger) *txn.Coordinator {
	tc := txn.DefaultConfig()
	tc.NumPartitions = cfg.TransactionStateLogPartitions
	tc.MaxTimeoutMs = cfg.TransactionMaxTimeoutMs
	tc.IDExpirationMs = int64(cfg.TransactionalIDExpirationMs)
	tc.AbortTimedOutIntervalMs = int64(cfg.TransactionAbortTimedOutIntervalMs)
	tc.RemoveExpiredIntervalMs = int64(cfg.TransactionRemoveExpiredIntervalMs)
	log := &internalLog{rm: b.rm, topic: replica.TransactionStateTopic,
		timeout: time.Duration(cfg.RequestTimeoutMs) * time.Millisecond}
	return txn.New(tc, log, ids, txnLeaders{b.rm.Cache()}, txnMarkerSender{b}, logger)
}

// txnLeaders finds a transaction's partition leaders in the metadata cache.
type txnLeaders struct{ cache *replica.MetadataCache }

func (l txnLeaders) Leader(topic string, partition int32) (int32, bool) {
	t, ok := l.cache.Topic(topic)
	if !ok {
		return -1, false
	}
	p, ok := t.Partitions[partition]
	if !ok {
		return -1, false
	}
	if _, alive := l.cache.Broker(p.Leader); !alive {
		return -1, true
	}
	return p.Leader, true
}

// txnMarkerSender writes markers through this broker's own handler for the partitions it leads and sends
// WriteTxnMarkers to the other leaders on the inter-broker listener.
type txnMarkerSender struct{ b *Broker }

func (s txnMarkerSender) WriteTxnMarkers(ctx context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	if broker == s.b.brokerID {
		return s.b.handlers.WriteTxnMarkers(ctx, req), nil
	}
	resp, err := s.b.api.send(ctx, broker, req)
	if err != nil {
		return nil, fmt.Errorf("WriteTxnMarkers to broker %d: %w", broker, err)
	}
	r, ok := resp.(*kmsg.WriteTxnMarkersResponse)
	if !ok {
		return nil, fmt.Errorf("WriteTxnMarkers to broker %d: unexpected %T", broker, resp)
	}
	return r, nil
}

// txnEvent loads or unloads a __transaction_state partition; the coordinator epoch is the partition's leader
// epoch, as Kafka's onElection takes it from LeaderAndIsr.
func (b *Broker) txnEvent(ev coordinatorEvent) {
	if !ev.leader {
		b.txn.ResignCoordinator(ev.partition)
		return
	}
	p, err := b.rm.Partition(replica.TransactionStateTopic, ev.partition)
	if err != nil {
		b.logger.Warn("transaction log partition to load is gone", "partition", ev.partition, "err", err)
		return
	}
	if err := b.txn.BecomeCoordinator(ev.partition, p.Info().LeaderEpoch); err != nil {
		b.logger.Error("loading transaction log partition failed", "partition", ev.partition, "err", err)
	}
}
