package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// controlledShutdown is KafkaServer.controlledShutdown: before anything closes, ask the controller (found through
// /controller) to move leadership away from this broker, up to controlled.shutdown.max.retries times with
// controlled.shutdown.retry.backoff.ms between attempts, until it reports no partition left. When every attempt
// fails the broker shuts down anyway (an unclean shutdown for its partitions).
func (b *Broker) controlledShutdown() {
	cfg := b.cfg
	if b.dyn != nil {
		cfg = b.dyn.Current()
	}
	if !b.started.Load() || !cfg.ControlledShutdownEnable {
		return
	}
	if !b.zk.Connected() {
		// No controller can move leadership without ZooKeeper, and every ZooKeeper read would wait for it to
		// come back: a broker told to stop while ZooKeeper is away stops now (its partitions uncleanly).
		b.logger.Warn("ZooKeeper unavailable: skipping controlled shutdown")
		return
	}
	b.logger.Info("starting controlled shutdown")
	backoff := time.Duration(cfg.ControlledShutdownRetryBackoffMs) * time.Millisecond
	timeout := time.Duration(cfg.ControllerSocketTimeoutMs) * time.Millisecond
	for attempt := int32(1); attempt <= cfg.ControlledShutdownMaxRetries; attempt++ {
		start := time.Now()
		remaining, err := b.requestControlledShutdown(timeout)
		switch {
		case err != nil:
			b.logger.Warn("controlled shutdown attempt failed", "attempt", attempt, "err", err)
		case len(remaining) == 0:
			b.logger.Info("controlled shutdown request returned successfully", "after", time.Since(start))
			return
		default:
			b.logger.Info("controlled shutdown request returned with partitions remaining to move",
				"after", time.Since(start), "remaining", remaining)
		}
		// Kafka also sleeps after the last attempt; that only delays the unclean shutdown that follows.
		if attempt < cfg.ControlledShutdownMaxRetries {
			time.Sleep(backoff)
			b.logger.Warn("retrying controlled shutdown after the previous attempt failed")
		}
	}
	b.logger.Warn("proceeding to do an unclean shutdown as all the controlled shutdown attempts failed")
}

// requestControlledShutdown sends one ControlledShutdown request to the current controller (handled in place when
// that is this broker) and returns the partitions it still leads.
func (b *Broker) requestControlledShutdown(timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Bounded by the request timeout: a ZooKeeper read waits for the session if it drops meanwhile.
	type controllerID struct {
		id  int32
		err error
	}
	got := make(chan controllerID, 1)
	go func() {
		id, err := b.zk.GetControllerID()
		got <- controllerID{id, err}
	}()
	var id int32
	select {
	case r := <-got:
		if r.err != nil {
			return nil, fmt.Errorf("read controller: %w", r.err)
		}
		id = r.id
	case <-ctx.Done():
		return nil, fmt.Errorf("read controller: %w", ctx.Err())
	}
	if id < 0 {
		return nil, errors.New("no controller present in ZooKeeper")
	}
	req := kmsg.NewPtrControlledShutdownRequest()
	req.BrokerID = b.brokerID
	req.BrokerEpoch = b.epoch.Load()
	var resp *kmsg.ControlledShutdownResponse
	var err error
	if id == b.brokerID {
		tps, code, err := b.ctrl.ControlledShutdown(ctx, b.brokerID, req.BrokerEpoch)
		if err != nil {
			return nil, err
		}
		resp = req.ResponseKind().(*kmsg.ControlledShutdownResponse)
		resp.ErrorCode = code
		for _, tp := range tps {
			resp.PartitionsRemaining = append(resp.PartitionsRemaining,
				kmsg.ControlledShutdownResponsePartitionsRemaining{Topic: tp.Topic, Partition: tp.Partition})
		}
	} else if resp, err = b.api.ControlledShutdown(ctx, id, req); err != nil {
		return nil, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("controller %d: %w", id, err)
	}
	out := make([]string, 0, len(resp.PartitionsRemaining))
	for _, p := range resp.PartitionsRemaining {
		out = append(out, fmt.Sprintf("%s-%d", p.Topic, p.Partition))
	}
	return out, nil
}
