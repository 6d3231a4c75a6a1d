package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/metrics"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// BrokerAPI reaches a broker: the local one by direct call, others over the wire. The broker package implements
// it. Requests carry controller id/epoch and broker epoch as in Kafka 2.8 (LeaderAndIsr v5, UpdateMetadata v7,
// StopReplica v3).
type BrokerAPI interface {
	LeaderAndIsr(ctx context.Context, brokerID int32, req *kmsg.LeaderAndISRRequest) (*kmsg.LeaderAndISRResponse, error)
	UpdateMetadata(ctx context.Context, brokerID int32, req *kmsg.UpdateMetadataRequest) (*kmsg.UpdateMetadataResponse, error)
	StopReplica(ctx context.Context, brokerID int32, req *kmsg.StopReplicaRequest) (*kmsg.StopReplicaResponse, error)
}

// Controller is the runtime: it races for /controller, and while it holds it feeds ZooKeeper changes to a Core,
// performs the core's writes fenced by the controller epoch, and delivers its requests (one queue per broker, in
// order, retried until delivered or the broker leaves).
type Controller struct {
	zk      *zkmeta.Client
	cfg     Config
	brokers BrokerAPI
	log     *slog.Logger

	calls      chan call
	onFailover func(context.Context) error // runs first in each failover (feature versioning's set-up)

	mu             sync.Mutex
	active         bool
	epoch, version int32
	metrics        metrics.Controller // the core's counts after its last event (zero when not active)
}

// call is an event from a broker request (ControlledShutdown, AlterIsr) waiting for its answer.
type call struct {
	ev    Event
	reply chan Output
}

// Run runs a controller with Kafka's defaults (delete.topic.enable=true, clean elections) until ctx ends.
func Run(ctx context.Context, zkc *zkmeta.Client, brokerID int32, brokers BrokerAPI, logger *slog.Logger) error {
	return New(zkc, Config{BrokerID: brokerID, DeleteTopicEnable: true}, brokers, logger).Run(ctx)
}

// New returns a controller runtime; call Run.
func New(zkc *zkmeta.Client, cfg Config, brokers BrokerAPI, logger *slog.Logger) *Controller {
	if logger == nil {
		logger = slog.Default()
	}
	return &Controller{zk: zkc, cfg: cfg, brokers: brokers, log: logger.With("component", "controller", "broker", cfg.BrokerID),
		calls: make(chan call)}
}

// OnFailover sets work run first in each failover, before the controller reads the cluster (Kafka's
// onControllerFailover starts with maybeSetupFeatureVersioning); an error resigns. Call it before Run.
func (c *Controller) OnFailover(f func(context.Context) error) { c.onFailover = f }

// Metrics returns KafkaController's gauges: zero unless this broker is the controller.
func (c *Controller) Metrics() metrics.Controller {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metrics
}

// Active reports whether this broker is the controller, and its epoch.
func (c *Controller) Active() (bool, int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active, c.epoch
}

// ControlledShutdown handles a broker's ControlledShutdown request; it returns the partitions the broker still
// leads and a Kafka error code (NOT_CONTROLLER when this broker is not the controller).
func (c *Controller) ControlledShutdown(ctx context.Context, brokerID int32, brokerEpoch int64) ([]TopicPartition, int16, error) {
	out, err := c.call(ctx, ControlledShutdown{BrokerID: brokerID, BrokerEpoch: brokerEpoch})
	if err != nil {
		return nil, 0, err
	}
	if out.Shutdown == nil {
		return nil, errNotController, nil
	}
	return out.Shutdown.Remaining, out.Shutdown.ErrorCode, nil
}

// AlterIsr handles a leader's AlterIsr request (kmsg.AlterPartitionRequest v0). When this broker is not the
// controller the response carries NOT_CONTROLLER.
func (c *Controller) AlterIsr(ctx context.Context, req *kmsg.AlterPartitionRequest) (*kmsg.AlterPartitionResponse, error) {
	out, err := c.call(ctx, AlterIsr{Req: req})
	if err != nil {
		return nil, err
	}
	if out.AlterIsr == nil {
		resp := kmsg.NewPtrAlterPartitionResponse()
		resp.Version = req.Version
		resp.ErrorCode = errNotController
		return resp, nil
	}
	return out.AlterIsr, nil
}

const errNotController int16 = 41

func (c *Controller) call(ctx context.Context, ev Event) (Output, error) {
	r := call{ev: ev, reply: make(chan Output, 1)}
	if ok, _ := c.Active(); !ok {
		return Output{}, nil
	}
	select {
	case c.calls <- r:
	case <-ctx.Done():
		return Output{}, ctx.Err()
	}
	select {
	case out := <-r.reply:
		return out, nil
	case <-ctx.Done():
		return Output{}, ctx.Err()
	}
}

var errResigned = errors.New("controller resigned")

// Run elects and serves until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	cw, err := c.zk.WatchData(ctx, zkmeta.ControllerPath)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	<-cw // the initial state; election below reads it again
	for {
		if ctx.Err() != nil {
			return nil
		}
		epoch, ver, err := c.zk.ElectController(c.cfg.BrokerID)
		if err == nil {
			c.log.Info("elected controller", "epoch", epoch)
			serr := c.serve(ctx, epoch, ver, cw)
			c.mu.Lock()
			c.active, c.metrics = false, metrics.Controller{}
			c.mu.Unlock()
			if ctx.Err() != nil {
				return nil
			}
			c.log.Info("resigned controller", "epoch", epoch, "reason", serr)
			if !errors.Is(serr, zkmeta.ErrControllerMoved) && !errors.Is(serr, errResigned) {
				// Let someone (maybe us) start afresh, as triggerControllerMove does.
				if derr := c.zk.DeleteController(ver); derr != nil {
					c.log.Warn("delete /controller", "err", derr)
				}
			}
			continue
		}
		if !errors.Is(err, zkmeta.ErrControllerMoved) {
			c.log.Warn("controller election", "err", err)
		}
		// Wait until /controller changes (deleted: race again).
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return nil
			case ev, ok := <-cw:
				if !ok {
					return ctx.Err()
				}
				waiting = ev.Exists
			case r := <-c.calls:
				r.reply <- Output{}
			}
		}
	}
}

type zkChange struct {
	kind  string // which watch
	topic string
	ev    zkmeta.WatchEvent
}

// term is one controllership.
type term struct {
	c       *Controller
	ctx     context.Context
	core    *Core
	version int32
	changes chan zkChange
	results chan Event

	topicWatches map[string]context.CancelFunc
	// brokerWatches are the data watches on /brokers/ids/<id> of the registered brokers (Kafka's
	// BrokerModificationsHandler): a registration rewritten in place changes no children.
	brokerWatches map[int32]context.CancelFunc
	senders       map[int32]*sender
	wg            sync.WaitGroup
}

func (c *Controller) serve(ctx context.Context, epoch, ver int32, cw <-chan zkmeta.WatchEvent) error {
	tctx, cancel := context.WithCancel(ctx)
	t := &term{c: c, ctx: tctx, core: NewCore(c.cfg), version: ver, changes: make(chan zkChange, 64),
		results: make(chan Event, 64), topicWatches: map[string]context.CancelFunc{}, brokerWatches: map[int32]context.CancelFunc{},
		senders: map[int32]*sender{}}
	defer func() {
		cancel()
		t.wg.Wait()
	}()
	c.mu.Lock()
	c.active, c.epoch, c.version = true, epoch, ver
	c.mu.Unlock()

	for _, w := range []struct{ kind, path string }{{"brokers", zkmeta.BrokerIDsPath}, {"topics", zkmeta.TopicsPath},
		{"delete", zkmeta.DeleteTopicsPath}, {"isr", zkmeta.IsrChangeNotificationPath}} {
		if _, err := t.watch(w.kind, "", w.path, true); err != nil {
			return err
		}
	}
	for _, w := range []struct{ kind, path string }{{"reassign", zkmeta.ReassignPartitionsPath}, {"preferred", zkmeta.PreferredReplicaElectionPath}} {
		if _, err := t.watch(w.kind, "", w.path, false); err != nil {
			return err
		}
	}
	if err := t.failover(epoch, ver); err != nil {
		return err
	}
	for {
		m := t.core.Metrics()
		c.mu.Lock()
		c.metrics = m
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-cw:
			if !ok {
				return ctx.Err()
			}
			if !ev.Exists {
				return fmt.Errorf("/controller deleted: %w", errResigned)
			}
			if ci, err := zkmeta.DecodeControllerInfo(ev.Data); err != nil || ci.BrokerID != c.cfg.BrokerID {
				return fmt.Errorf("/controller moved: %w", errResigned)
			}
			if ev.Type == zkmeta.WatchResync {
				// A new session: our ephemeral might be from it only if we created it; ownership is checked by
				// the fenced writes, and a foreign session's node is re-raced.
				if ev.Stat != nil && ev.Stat.EphemeralOwner != c.zk.SessionID() {
					return fmt.Errorf("/controller owned by another session: %w", errResigned)
				}
			}
		case ch := <-t.changes:
			if err := t.onChange(ch); err != nil {
				return err
			}
		case ev := <-t.results:
			if err := t.handle(ev); err != nil {
				return err
			}
		case r := <-c.calls:
			out := t.core.Handle(r.ev)
			if err := t.perform(out, 0); err != nil {
				r.reply <- Output{} // not applied: the broker retries against the new controller
				return err
			}
			r.reply <- out
		}
	}
}

// watch forwards a ZooKeeper watch into t.changes, skipping the initial state (reads after arming cover it),
// until the term ends or the returned cancel is called.
func (t *term) watch(kind, topic, path string, children bool) (context.CancelFunc, error) {
	ctx, cancel := context.WithCancel(t.ctx)
	var ch <-chan zkmeta.WatchEvent
	var err error
	if children {
		ch, err = t.c.zk.WatchChildren(ctx, path)
	} else {
		ch, err = t.c.zk.WatchData(ctx, path)
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("controller watch %s: %w", path, err)
	}
	<-ch
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for ev := range ch {
			select {
			case t.changes <- zkChange{kind: kind, topic: topic, ev: ev}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return cancel, nil
}

// watchBrokers keeps one data watch per registered broker: new ones armed, those of brokers gone cancelled.
func (t *term) watchBrokers(brokers []zkmeta.BrokerInfo) error {
	now := map[int32]bool{}
	for _, b := range brokers {
		now[b.ID] = true
		if _, ok := t.brokerWatches[b.ID]; ok {
			continue
		}
		cancel, err := t.watch("broker", "", zkmeta.BrokerIDPath(b.ID), false)
		if err != nil {
			return err
		}
		t.brokerWatches[b.ID] = cancel
	}
	for id, cancel := range t.brokerWatches {
		if !now[id] {
			cancel()
			delete(t.brokerWatches, id)
		}
	}
	return nil
}

func (t *term) failover(epoch, ver int32) error {
	zc := t.c.zk
	if f := t.c.onFailover; f != nil {
		if err := f(t.ctx); err != nil {
			return fmt.Errorf("controller failover: %w", err)
		}
	}
	// Pending ISR change notifications are stale for a new controller.
	if seqs, err := zc.GetAllIsrChangeNotifications(); err == nil {
		if err := zc.DeleteIsrChangeNotifications(seqs, ver); err != nil {
			return fmt.Errorf("controller failover: %w", err)
		}
	}
	brokers, err := zc.GetAllBrokers()
	if err != nil {
		return fmt.Errorf("controller failover: brokers: %w", err)
	}
	if err := t.watchBrokers(brokers); err != nil {
		return err
	}
	topics, err := zc.GetTopics()
	if err != nil {
		return fmt.Errorf("controller failover: topics: %w", err)
	}
	assignments, err := t.readTopics(topics)
	if err != nil {
		return err
	}
	var tps []TopicPartition
	for topic, ta := range assignments {
		for p := range ta.Partitions {
			tps = append(tps, TopicPartition{Topic: topic, Partition: p})
		}
	}
	states, err := zc.GetPartitionStates(tps)
	if err != nil {
		return fmt.Errorf("controller failover: partition states: %w", err)
	}
	dels, err := zc.GetTopicDeletions()
	if err != nil {
		return fmt.Errorf("controller failover: deletions: %w", err)
	}
	pref, err := zc.GetPreferredReplicaElection()
	if err != nil {
		return fmt.Errorf("controller failover: preferred election: %w", err)
	}
	reas, err := zc.GetPartitionReassignment()
	if err != nil {
		return fmt.Errorf("controller failover: reassignment: %w", err)
	}
	return t.handle(ControllerElected{Epoch: epoch, EpochZkVersion: ver, Brokers: brokers, Topics: assignments,
		States: states, TopicsToDelete: dels, PreferredElection: pref, Reassignments: reas})
}

// readTopics watches and reads topics the term does not watch yet, giving topic IDs to those without one
// (setTopicIds, IBP >= 2.8).
func (t *term) readTopics(topics []string) (map[string]zkmeta.TopicAssignment, error) {
	out := map[string]zkmeta.TopicAssignment{}
	for _, topic := range topics {
		if _, ok := t.topicWatches[topic]; ok {
			continue
		}
		cancel, err := t.watch("topic", topic, zkmeta.TopicPath(topic), false)
		if err != nil {
			return nil, err
		}
		t.topicWatches[topic] = cancel
		ta, ok, err := t.c.zk.GetTopicAssignment(topic)
		if err != nil {
			return nil, fmt.Errorf("controller: read topic %s: %w", topic, err)
		}
		if !ok {
			continue
		}
		if ta.TopicID.IsZero() {
			if ta.TopicID, err = zkmeta.NewUuid(); err != nil {
				return nil, err
			}
			if err := t.c.zk.SetTopicAssignment(topic, ta, t.version); err != nil {
				return nil, fmt.Errorf("controller: set topic id of %s: %w", topic, err)
			}
		}
		out[topic] = ta
	}
	return out, nil
}

func (t *term) onChange(ch zkChange) error {
	zc := t.c.zk
	switch ch.kind {
	case "brokers", "broker":
		if ch.kind == "broker" && !ch.ev.Exists {
			return nil // gone: the child watch tells
		}
		brokers, err := zc.GetAllBrokers()
		if err != nil {
			return fmt.Errorf("controller: brokers: %w", err)
		}
		if err := t.watchBrokers(brokers); err != nil {
			return err
		}
		return t.handle(BrokersChanged{Brokers: brokers})
	case "topics":
		topics, err := zc.GetTopics()
		if err != nil {
			return fmt.Errorf("controller: topics: %w", err)
		}
		now := map[string]bool{}
		for _, tp := range topics {
			now[tp] = true
		}
		for topic, cancel := range t.topicWatches {
			if !now[topic] {
				cancel()
				delete(t.topicWatches, topic)
			}
		}
		as, err := t.readTopics(topics)
		if err != nil {
			return err
		}
		return t.handle(TopicsChanged{Topics: topics, Assignments: as})
	case "topic":
		if !ch.ev.Exists {
			return nil
		}
		ta, err := zkmeta.DecodeTopicAssignment(ch.topic, ch.ev.Data)
		if err != nil {
			t.c.log.Warn("bad topic znode", "topic", ch.topic, "err", err)
			return nil
		}
		return t.handle(PartitionsModified{Topic: ch.topic, Assignment: ta})
	case "delete":
		if len(ch.ev.Children) == 0 {
			return nil
		}
		return t.handle(DeleteTopicsRequested{Topics: ch.ev.Children})
	case "isr":
		seqs, err := zc.GetAllIsrChangeNotifications()
		if err != nil || len(seqs) == 0 {
			return err
		}
		tps, err := zc.GetPartitionsFromIsrChangeNotifications(seqs)
		if err != nil {
			return fmt.Errorf("controller: isr change notifications: %w", err)
		}
		states, err := zc.GetPartitionStates(tps)
		if err != nil {
			return fmt.Errorf("controller: isr change states: %w", err)
		}
		if err := zc.DeleteIsrChangeNotifications(seqs, t.version); err != nil {
			return err
		}
		return t.handle(PartitionStatesRead{States: states, Notify: true})
	case "preferred":
		if ch.ev.Type != zkmeta.WatchCreated && ch.ev.Type != zkmeta.WatchResync || !ch.ev.Exists {
			return nil
		}
		ps, err := zkmeta.DecodePreferredReplicaElection(ch.ev.Data)
		if err != nil {
			t.c.log.Warn("bad preferred replica election znode", "err", err)
			return zc.DeletePreferredReplicaElection(t.version)
		}
		return t.handle(PreferredElectionRequested{Partitions: ps})
	case "reassign":
		// Only creation starts reassignments; our own rewrites of the znode must not loop.
		if ch.ev.Type != zkmeta.WatchCreated || !ch.ev.Exists {
			return nil
		}
		rs, err := zkmeta.DecodeReassignPartitions(ch.ev.Data)
		if err != nil {
			t.c.log.Warn("bad reassignment znode", "err", err)
			return zc.DeletePartitionReassignment(t.version)
		}
		return t.handle(ReassignmentRequested{Reassignments: rs})
	}
	return nil
}

func (t *term) handle(ev Event) error { return t.perform(t.core.Handle(ev), 0) }

// perform does the writes, then queues the requests. A conditional write that lost a race is re-read and fed back
// to the core (bounded, so a persistent conflict cannot spin).
func (t *term) perform(out Output, depth int) error {
	zc, ver := t.c.zk, t.version
	conflicts := map[TopicPartition]bool{}
	for _, w := range out.Writes {
		var err error
		switch w.Kind {
		case CreatePartitionState:
			_, err = zc.CreatePartitionState(w.TP, w.State, ver)
		case SetPartitionState:
			_, err = zc.SetPartitionState(w.TP, w.State, ver)
		case SetTopicAssignment:
			err = zc.SetTopicAssignment(w.Topic, w.Assignment, ver)
		case DeleteTopic:
			err = zc.DeleteTopicZNode(w.Topic, ver)
		case DeleteTopicConfig:
			err = zc.DeleteTopicConfigs([]string{w.Topic}, ver)
		case DeleteTopicMarker:
			err = zc.DeleteTopicDeletions([]string{w.Topic}, ver)
		case DeletePreferredElection:
			err = zc.DeletePreferredReplicaElection(ver)
		case SetReassignments:
			if len(w.Reassignments) == 0 {
				err = zc.DeletePartitionReassignment(ver)
			} else {
				err = zc.SetOrCreatePartitionReassignment(w.Reassignments, ver)
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, zkmeta.ErrControllerMoved) {
			return err
		}
		if (w.Kind == CreatePartitionState || w.Kind == SetPartitionState) &&
			(errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNodeExists) || errors.Is(err, zk.ErrNoNode)) {
			conflicts[w.TP] = true
			continue
		}
		return fmt.Errorf("controller write: %w", err)
	}
	MarkAlterIsrConflicts(out.AlterIsr, conflicts)
	t.dispatch(DropPartitions(out.Requests, conflicts))
	if len(conflicts) > 0 && depth < 3 {
		tps := make([]TopicPartition, 0, len(conflicts))
		for tp := range conflicts {
			tps = append(tps, tp)
		}
		states, err := zc.GetPartitionStates(tps)
		if err != nil {
			return fmt.Errorf("controller: re-read partition states: %w", err)
		}
		t.c.log.Info("partition state changed under the controller; re-read", "partitions", len(tps))
		return t.perform(t.core.Handle(PartitionStatesRead{States: states}), depth+1)
	}
	return nil
}

// dispatch queues requests per broker, starting senders for new brokers and stopping those of dead ones.
func (t *term) dispatch(reqs []Request) {
	live := map[int32]bool{}
	for _, id := range t.core.LiveBrokers() {
		live[id] = true
	}
	for id, s := range t.senders {
		if !live[id] {
			s.cancel()
			delete(t.senders, id)
		}
	}
	for _, r := range reqs {
		s := t.senders[r.Broker]
		if s == nil {
			s = t.newSender(r.Broker)
			t.senders[r.Broker] = s
		}
		s.enqueue(r.Msg)
	}
}

// sender is one broker's request queue (RequestSendThread).
type sender struct {
	mu     sync.Mutex
	queue  []kmsg.Request
	wake   chan struct{}
	cancel context.CancelFunc
}

func (s *sender) enqueue(m kmsg.Request) {
	s.mu.Lock()
	s.queue = append(s.queue, m)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (t *term) newSender(broker int32) *sender {
	ctx, cancel := context.WithCancel(t.ctx)
	s := &sender{wake: make(chan struct{}, 1), cancel: cancel}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for {
			s.mu.Lock()
			var m kmsg.Request
			if len(s.queue) > 0 {
				m, s.queue = s.queue[0], s.queue[1:]
			}
			s.mu.Unlock()
			if m == nil {
				select {
				case <-ctx.Done():
					return
				case <-s.wake:
				}
				continue
			}
			t.send(ctx, broker, m)
		}
	}()
	return s
}

// send delivers one request, retrying while the broker stays live (ctx), and reports replica deletions.
func (t *term) send(ctx context.Context, broker int32, m kmsg.Request) {
	backoff := 50 * time.Millisecond
	for {
		var err error
		var code int16
		switch r := m.(type) {
		case *kmsg.LeaderAndISRRequest:
			var resp *kmsg.LeaderAndISRResponse
			if resp, err = t.c.brokers.LeaderAndIsr(ctx, broker, r); err == nil && resp != nil {
				code = resp.ErrorCode
			}
		case *kmsg.UpdateMetadataRequest:
			var resp *kmsg.UpdateMetadataResponse
			if resp, err = t.c.brokers.UpdateMetadata(ctx, broker, r); err == nil && resp != nil {
				code = resp.ErrorCode
			}
		case *kmsg.StopReplicaRequest:
			var resp *kmsg.StopReplicaResponse
			resp, err = t.c.brokers.StopReplica(ctx, broker, r)
			if err == nil {
				t.reportDeletions(ctx, broker, r, resp)
				if resp != nil {
					code = resp.ErrorCode
				}
			}
		}
		if err == nil {
			if code != 0 {
				t.c.log.Warn("broker rejected controller request", "to", broker, "key", m.Key(), "error_code", code)
			}
			return
		}
		t.c.log.Debug("controller request failed; retrying", "to", broker, "key", m.Key(), "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

func (t *term) reportDeletions(ctx context.Context, broker int32, req *kmsg.StopReplicaRequest, resp *kmsg.StopReplicaResponse) {
	failed := map[TopicPartition]bool{}
	if resp != nil {
		for _, p := range resp.Partitions {
			if p.ErrorCode != 0 {
				failed[TopicPartition{Topic: p.Topic, Partition: p.Partition}] = true
			}
		}
	}
	var ok, bad []TopicPartition
	for _, tt := range req.Topics {
		for _, ps := range tt.PartitionStates {
			if !ps.Delete {
				continue
			}
			tp := TopicPartition{Topic: tt.Topic, Partition: ps.Partition}
			if failed[tp] || (resp != nil && resp.ErrorCode != 0) {
				bad = append(bad, tp)
			} else {
				ok = append(ok, tp)
			}
		}
	}
	for _, ev := range []ReplicaDeletionResult{{Broker: broker, Partitions: ok}, {Broker: broker, Partitions: bad, Failed: true}} {
		if len(ev.Partitions) == 0 {
			continue
		}
		select {
		case t.results <- ev:
		case <-ctx.Done():
			return
		}
	}
}
