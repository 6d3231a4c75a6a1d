package replica

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// Send delivers one request to another broker's inter-broker listener and returns its response.
type Send func(ctx context.Context, brokerID int32, req kmsg.Request) (kmsg.Response, error)

// FetcherConfig holds the replica.fetch.* settings of Kafka's ReplicaFetcherThread.
type FetcherConfig struct {
	// SendFor returns how fetcher id (of num.replica.fetchers) reaches its leaders: each fetcher on a connection of
	// its own, as each ReplicaFetcherThread has, so that one fetcher's long poll does not hold up another's.
	SendFor           func(id int32) Send
	MaxWaitMs         int32         // replica.fetch.wait.max.ms
	MinBytes          int32         // replica.fetch.min.bytes
	ResponseMaxBytes  int32         // replica.fetch.response.max.bytes
	PartitionMaxBytes int32         // replica.fetch.max.bytes
	Backoff           time.Duration // replica.fetch.backoff.ms: after an error
	LagTimeMax        time.Duration // replica.lag.time.max.ms: the leader drops a follower this far behind from the ISR
	// AlterIsr delivers this broker's ISR changes, as a partition leader, to the controller (wherever it is).
	AlterIsr func(ctx context.Context, req *kmsg.AlterPartitionRequest) (*kmsg.AlterPartitionResponse, error)
	// TruncateOnFetch is Kafka's truncation on fetch (inter.broker.protocol.version 2.7-IV1 and later): a log with
	// leader epochs starts fetching at once, its last epoch in each Fetch, and is truncated when the leader answers
	// that it diverges; without it, or from a leader that does not answer so (Fetch below v12), the log is first
	// truncated with OffsetForLeaderEpoch.
	TruncateOnFetch bool
	// NumFetchers is num.replica.fetchers: how many fetchers replicate from each leader, its partitions spread over
	// them as Kafka's AbstractFetcherManager.getFetcherId does. ResizeFetchers changes it live.
	NumFetchers int32
	// AlterLogDirsThreads is num.replica.alter.log.dirs.threads: how many threads copy the partitions moving
	// between log dirs, each partition to the one getFetcherId gives it (below 1: one). Not dynamic in Kafka 2.8.
	AlterLogDirsThreads int32
}

// FetcherKey names a fetcher: the leader it fetches from and its number among that leader's fetchers.
type FetcherKey struct{ Leader, ID int32 }

// Fetchers returns the running fetchers and how many partitions each replicates.
func (m *Manager) Fetchers() map[FetcherKey]int {
	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()
	out := make(map[FetcherKey]int, len(m.fetchers))
	for key, f := range m.fetchers {
		f.mu.Lock()
		out[key] = len(f.parts)
		f.mu.Unlock()
	}
	return out
}

// fetcherID is AbstractFetcherManager.getFetcherId: abs(31 * topic.hashCode + partition) % n, with Java's String
// hash code (over UTF-16 units; topic names are ASCII), so that the same partitions share a fetcher as in Kafka.
func fetcherID(tp klog.TopicPartition, n int32) int32 {
	if n <= 1 {
		return 0
	}
	var h int32
	for i := 0; i < len(tp.Topic); i++ {
		h = 31*h + int32(tp.Topic[i])
	}
	v := 31*h + tp.Partition
	if v == math.MinInt32 { // Kafka's Utils.abs maps it to 0
		v = 0
	} else if v < 0 {
		v = -v
	}
	return v % n
}

// followState is one partition a fetcher replicates.
type followState struct {
	leaderEpoch int32
	truncated   bool      // the log was truncated to the leader's for this epoch (OffsetForLeaderEpoch)
	retryAt     time.Time // after an error, no fetch before this
	// inSync: the last fetch left our log end at or past the leader's high watermark (PartitionFetchState's
	// isReplicaInSync); until then a throttled partition waits while the follower quota is exceeded.
	inSync bool
}

// fetcher replicates the partitions one leader broker leads (a ReplicaFetcherThread): it truncates each to where the
// leader's log and ours agree, then fetches with this broker's id as the replica id and appends what comes back
// with the leader's offsets.
type fetcher struct {
	m       *Manager
	leader  int32
	cancel  context.CancelFunc
	send    Send
	session *fetchSession // used by the fetching goroutine only
	// oldLeader: the leader answered a Fetch below v12, so it cannot say when our log diverges from its.
	oldLeader bool

	mu    sync.Mutex
	parts map[klog.TopicPartition]*followState
	wake  chan struct{} // signalled when parts change
}

// StartFetchers lets the manager replicate the partitions it follows from their leaders; until it is called
// followers keep their logs as they are. ctx ends the fetchers.
func (m *Manager) StartFetchers(ctx context.Context, cfg FetcherConfig) {
	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()
	if m.fetchStopped {
		return
	}
	m.fetchCfg, m.fetchCtx, m.numFetchers = cfg, ctx, cfg.NumFetchers
	for tp, f := range m.pendingFollows {
		m.followLocked(tp, f.leader, f.epoch)
	}
	m.pendingFollows = nil
	m.fetchWG.Add(1)
	go m.runIsr(ctx)
	go m.startPendingMoves() // takes moveMu, which startMoveLocked holds before fetchMu
}

type follow struct{ leader, epoch int32 }

// follow makes tp replicate from leader at leaderEpoch, leaving any other leader's fetcher.
func (m *Manager) follow(tp klog.TopicPartition, leader, epoch int32) {
	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()
	if m.fetchCtx == nil {
		if m.pendingFollows == nil {
			m.pendingFollows = map[klog.TopicPartition]follow{}
		}
		m.pendingFollows[tp] = follow{leader, epoch}
		return
	}
	m.followLocked(tp, leader, epoch)
}

func (m *Manager) followLocked(tp klog.TopicPartition, leader, epoch int32) {
	if m.fetchStopped || leader < 0 || leader == m.cfg.BrokerID {
		m.unfollowLocked(tp)
		return
	}
	key := FetcherKey{leader, fetcherID(tp, m.numFetchers)}
	// A partition that stays with its fetcher (a new epoch of the same leader) does not empty it on the way: a
	// fetcher ended there would cancel its fetch in flight, and with it the connection its successor uses.
	m.unfollowExceptLocked(tp, key)
	f := m.fetchers[key]
	if f == nil {
		ctx, cancel := context.WithCancel(m.fetchCtx)
		f = &fetcher{m: m, leader: leader, cancel: cancel, send: m.fetchCfg.SendFor(key.ID), session: newFetchSession(),
			parts: map[klog.TopicPartition]*followState{}, wake: make(chan struct{}, 1)}
		if m.fetchers == nil {
			m.fetchers = map[FetcherKey]*fetcher{}
		}
		m.fetchers[key] = f
		m.fetchWG.Add(1)
		go func() {
			defer m.fetchWG.Done()
			f.run(ctx)
		}()
	}
	f.mu.Lock()
	f.parts[tp] = &followState{leaderEpoch: epoch}
	f.mu.Unlock()
	f.poke()
}

// unfollow stops replicating tp (it became leader, or stopped being hosted).
func (m *Manager) unfollow(tp klog.TopicPartition) {
	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()
	delete(m.pendingFollows, tp)
	m.unfollowLocked(tp)
}

func (m *Manager) unfollowLocked(tp klog.TopicPartition) {
	m.unfollowExceptLocked(tp, FetcherKey{-1, -1})
}

// unfollowExceptLocked takes tp from every fetcher but keep's.
func (m *Manager) unfollowExceptLocked(tp klog.TopicPartition, keep FetcherKey) {
	for id, f := range m.fetchers {
		if id == keep {
			continue
		}
		f.mu.Lock()
		_, ok := f.parts[tp]
		delete(f.parts, tp)
		empty := len(f.parts) == 0
		f.mu.Unlock()
		if ok && empty {
			// A fetcher without partitions ends (ReplicaFetcherManager.shutdownIdleFetcherThreads).
			f.cancel()
			delete(m.fetchers, id)
		}
	}
}

// ResizeFetchers is ReplicaFetcherManager.resizeThreadPool, for a live change of num.replica.fetchers: every
// followed partition is handed again to the fetcher the new count gives it, which starts over with it (truncation
// first where that is due), and fetchers left without partitions end.
func (m *Manager) ResizeFetchers(n int32) {
	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()
	if m.fetchCtx == nil || m.fetchStopped || n == m.numFetchers {
		return
	}
	m.logger.Info("resizing the replica fetchers", "from", m.numFetchers, "to", n)
	m.numFetchers = n
	moved := map[klog.TopicPartition]follow{}
	for key, f := range m.fetchers {
		f.mu.Lock()
		for tp, st := range f.parts {
			moved[tp] = follow{key.Leader, st.leaderEpoch}
		}
		f.mu.Unlock()
	}
	for tp, fl := range moved {
		m.followLocked(tp, fl.leader, fl.epoch)
	}
}

// stopFetchers ends every fetcher and waits for them.
func (m *Manager) stopFetchers() {
	m.fetchMu.Lock()
	m.fetchStopped = true // no fetcher starts after this
	for id, f := range m.fetchers {
		f.cancel()
		delete(m.fetchers, id)
	}
	m.fetchMu.Unlock()
	m.stopMoves()
	m.fetchWG.Wait()
}

func (f *fetcher) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// ready returns the partitions to work on now, and how long until the next one is (0: none waiting).
func (f *fetcher) ready(now time.Time) (map[klog.TopicPartition]followState, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[klog.TopicPartition]followState{}
	var next time.Duration
	for tp, st := range f.parts {
		if d := st.retryAt.Sub(now); d > 0 {
			if next == 0 || d < next {
				next = d
			}
			continue
		}
		out[tp] = *st
	}
	return out, next
}

// update changes tp's state if it still follows the same epoch.
func (f *fetcher) update(tp klog.TopicPartition, epoch int32, fn func(st *followState)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.parts[tp]; ok && st.leaderEpoch == epoch {
		fn(st)
	}
}

func (f *fetcher) backoff(tp klog.TopicPartition, epoch int32) {
	at := time.Now().Add(f.m.fetchCfg.Backoff)
	f.update(tp, epoch, func(st *followState) { st.retryAt = at })
}

func (f *fetcher) run(ctx context.Context) {
	log := f.m.logger.With("leader", f.leader)
	for ctx.Err() == nil {
		parts, next := f.ready(time.Now())
		if len(parts) == 0 {
			var timer <-chan time.Time
			if next > 0 {
				timer = time.After(next)
			}
			select {
			case <-ctx.Done():
				return
			case <-f.wake:
			case <-timer:
			}
			continue
		}
		toFetch := map[klog.TopicPartition]followState{}
		for tp, st := range parts {
			if st.truncated {
				toFetch[tp] = st
				continue
			}
			if err := f.truncate(ctx, tp, st.leaderEpoch); err != nil {
				if ctx.Err() == nil {
					log.Warn("truncation to the leader's log failed", "partition", tp.String(), "err", err)
				}
				f.backoff(tp, st.leaderEpoch)
				continue
			}
			f.update(tp, st.leaderEpoch, func(s *followState) { s.truncated = true })
			st.truncated = true
			toFetch[tp] = st
		}
		if len(toFetch) == 0 {
			continue
		}
		if err := f.fetch(ctx, toFetch); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("fetch from leader failed", "err", err)
			for tp, st := range toFetch {
				f.backoff(tp, st.leaderEpoch)
			}
		}
	}
}

// followed returns tp's partition and log end if this broker still follows f.leader at epoch there.
func (f *fetcher) followed(tp klog.TopicPartition, epoch int32) (*Partition, bool) {
	f.m.mu.RLock()
	p := f.m.partitions[tp]
	f.m.mu.RUnlock()
	if p == nil {
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p, p.leader == f.leader && p.leaderEpoch == epoch
}

// truncate cuts tp's log back to where it agrees with the leader's (AbstractFetcherThread's truncation by leader
// epoch): the leader's end offset for our latest epoch, or, where our log has no epochs, our high watermark. With
// truncation on fetch, a log with epochs is left to the fetches.
func (f *fetcher) truncate(ctx context.Context, tp klog.TopicPartition, epoch int32) error {
	for range 16 { // each round removes at least one epoch of ours the leader does not have
		p, ok := f.followed(tp, epoch)
		if !ok {
			return nil
		}
		l := p.log
		latest := l.LatestEpoch()
		if latest < 0 {
			return l.TruncateTo(l.HighWatermark())
		}
		if f.m.fetchCfg.TruncateOnFetch && !f.oldLeader {
			return nil
		}
		req := kmsg.NewPtrOffsetForLeaderEpochRequest()
		req.ReplicaID = f.m.cfg.BrokerID
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = tp.Topic
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = tp.Partition, epoch, latest
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := f.send(ctx, f.leader, req)
		if err != nil {
			return err
		}
		r, ok := findEpochEnd(resp.(*kmsg.OffsetForLeaderEpochResponse), tp)
		if !ok {
			return fmt.Errorf("no answer for %s", tp)
		}
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return err
		}
		if r.EndOffset < 0 { // the leader has no epoch at or below ours
			return l.TruncateTo(l.HighWatermark())
		}
		if done, err := f.truncateTo(tp, l, latest, r.LeaderEpoch, r.EndOffset); done || err != nil {
			return err
		}
	}
	return errors.New("truncation did not converge")
}

// truncateTo applies the leader's answer for our epoch latest, its largest epoch up to it and where that ends
// (getOffsetTruncationState): our log is cut to where both agree; done is false while the leader's epoch is not one
// of ours, and the next question is about our new latest epoch.
func (f *fetcher) truncateTo(tp klog.TopicPartition, l *klog.Log, latest, leaderEpoch int32, leaderEnd int64) (done bool, err error) {
	// Our end offset for the leader's epoch bounds what we share with it.
	ourEpoch, ourEnd := l.EndOffsetForEpoch(leaderEpoch)
	target := min(leaderEnd, l.LogEndOffset())
	if leaderEpoch != latest {
		target = min(target, ourEnd)
	}
	if target >= l.LogEndOffset() {
		// All of our log is shared; an epoch of ours past it holds no records, and goes from the epoch cache.
		return true, l.TruncateTo(target)
	}
	f.m.logger.Info("truncating follower log to the leader's", "partition", tp.String(), "to", target,
		"leader_epoch", leaderEpoch, "leader_end", leaderEnd)
	if err := l.TruncateTo(target); err != nil {
		return false, err
	}
	return leaderEpoch == latest || ourEpoch == leaderEpoch, nil
}

func findEpochEnd(resp *kmsg.OffsetForLeaderEpochResponse, tp klog.TopicPartition) (kmsg.OffsetForLeaderEpochResponseTopicPartition, bool) {
	for _, t := range resp.Topics {
		if t.Topic != tp.Topic {
			continue
		}
		for _, p := range t.Partitions {
			if p.Partition == tp.Partition {
				return p, true
			}
		}
	}
	return kmsg.OffsetForLeaderEpochResponseTopicPartition{}, false
}

// fetch sends one Fetch for parts and applies the answer (ReplicaFetcherThread.processPartitionData). The fetcher's
// incremental fetch session with the leader leaves out of the request the partitions whose parameters did not
// change, and the leader leaves out of its answer the partitions without news.
func (f *fetcher) fetch(ctx context.Context, parts map[klog.TopicPartition]followState) error {
	cfg := f.m.fetchCfg
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = f.m.cfg.BrokerID
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = cfg.MaxWaitMs, cfg.MinBytes, cfg.ResponseMaxBytes
	sent := map[klog.TopicPartition]fetchedAt{}
	next := map[klog.TopicPartition]kmsg.FetchRequestTopicPartition{}
	fq, throttled := f.m.followerQuota, 0
	for tp, st := range parts {
		p, ok := f.followed(tp, st.leaderEpoch)
		if !ok {
			// Its state is changing under a LeaderAndIsr or StopReplica, which updates the fetchers next; wait
			// rather than spin.
			f.backoff(tp, st.leaderEpoch)
			continue
		}
		if !st.inSync && fq.Throttled(tp.Topic, tp.Partition) && fq.Exceeded(time.Now().UnixMilli()) {
			throttled++ // shouldFollowerThrottle: left out of this fetch
			continue
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch = tp.Partition, st.leaderEpoch
		rp.FetchOffset, rp.LogStartOffset = p.log.LogEndOffset(), p.log.LogStartOffset()
		rp.LastFetchedEpoch = p.log.LatestEpoch() // -1 without epochs: not sent
		rp.PartitionMaxBytes = cfg.PartitionMaxBytes
		next[tp] = rp
		sent[tp] = fetchedAt{rp.FetchOffset, rp.LastFetchedEpoch}
	}
	if len(sent) == 0 {
		if throttled > 0 {
			// Everything waits for the quota: as Kafka's fetcher with an empty request, back off.
			t := time.NewTimer(cfg.Backoff)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
		return nil
	}
	f.session.build(req, next)
	resp, err := f.send(ctx, f.leader, req)
	if err != nil {
		f.session.handleError()
		return err
	}
	fr := resp.(*kmsg.FetchResponse)
	if !f.session.handleResponse(fr) {
		switch fr.ErrorCode {
		case kerr.FetchSessionIDNotFound.Code, kerr.InvalidFetchSessionEpoch.Code, 0:
			// The session is gone or out of step (or the answer does not fit it): a full fetch at once.
			f.m.logger.Info("fetch session with leader reset", "leader", f.leader, "session", req.SessionID,
				"epoch", req.SessionEpoch, "err", kerr.ErrorForCode(fr.ErrorCode))
			return nil
		}
		return kerr.ErrorForCode(fr.ErrorCode)
	}
	if fr.Version < 12 && cfg.TruncateOnFetch && !f.oldLeader {
		// The leader cannot tell us that our log diverges from its: truncate with OffsetForLeaderEpoch first. This
		// answer is not used, so the next fetch is a full one.
		f.oldLeader = true
		f.session.handleError()
		f.mu.Lock()
		for _, st := range f.parts {
			st.truncated = false
		}
		f.mu.Unlock()
		return nil
	}
	appended := false
	for _, t := range fr.Topics {
		for _, rp := range t.Partitions {
			tp := klog.TopicPartition{Topic: t.Topic, Partition: rp.Partition}
			st, ok := parts[tp]
			at, asked := sent[tp]
			if !ok || !asked {
				continue
			}
			n, err := f.apply(ctx, tp, st.leaderEpoch, at, &rp)
			if err != nil {
				f.m.logger.Warn("follower fetch of partition failed", "partition", tp.String(), "leader", f.leader, "err", err)
				f.backoff(tp, st.leaderEpoch)
			}
			appended = appended || n > 0
		}
	}
	if appended {
		f.m.signal()
	}
	return nil
}

// fetchedAt is what a follower's Fetch asked of one partition: its offset and the epoch of our last batch.
type fetchedAt struct {
	offset      int64
	lastFetched int32
}

// apply applies one partition of a follower fetch response; it returns the records appended.
func (f *fetcher) apply(ctx context.Context, tp klog.TopicPartition, epoch int32, at fetchedAt, rp *kmsg.FetchResponseTopicPartition) (int, error) {
	p, ok := f.followed(tp, epoch)
	if !ok {
		return 0, nil
	}
	l := p.log
	switch err := kerr.ErrorForCode(rp.ErrorCode); {
	case err == nil:
	case errors.Is(err, kerr.OffsetOutOfRange):
		return 0, f.outOfRange(ctx, tp, epoch, l)
	default:
		return 0, err
	}
	if l.LogEndOffset() != at.offset {
		return 0, nil // truncated or appended meanwhile: the next fetch starts from the new end
	}
	if d := rp.DivergingEpoch; d.Epoch >= 0 && at.lastFetched >= 0 {
		// Truncation on fetch (truncateOnFetchResponse); the next fetch asks about our new latest epoch.
		_, err := f.truncateTo(tp, l, at.lastFetched, d.Epoch, d.EndOffset)
		return 0, err
	}
	n := 0
	if len(rp.RecordBatches) > 0 {
		info, err := l.AppendAsFollower(rp.RecordBatches)
		if err != nil {
			return 0, err
		}
		n = info.NumMessages
		f.m.cfg.Stats.ReplicationIn(int64(len(rp.RecordBatches)))
		if fq := f.m.followerQuota; fq.Throttled(tp.Topic, tp.Partition) {
			fq.Record(int64(len(rp.RecordBatches)), time.Now().UnixMilli())
		}
	}
	inSync := l.LogEndOffset() >= rp.HighWatermark
	f.update(tp, epoch, func(st *followState) { st.inSync = inSync })
	// The follower's high watermark is the leader's, within our log (Log.updateHighWatermark).
	hw := max(min(rp.HighWatermark, l.LogEndOffset()), l.LogStartOffset())
	p.mu.Lock()
	if hw != l.HighWatermark() {
		l.SetHighWatermark(hw)
		p.signalLocked()
	}
	p.mu.Unlock()
	if rp.LogStartOffset > l.LogStartOffset() {
		if err := l.DeleteRecordsBefore(min(rp.LogStartOffset, l.HighWatermark())); err != nil {
			return n, fmt.Errorf("follow the leader's log start %d: %w", rp.LogStartOffset, err)
		}
	}
	return n, nil
}

// outOfRange is ReplicaFetcherThread's handling of OFFSET_OUT_OF_RANGE: a log end past the leader's is cut back to
// it; a log end below the leader's log start restarts the log empty there.
func (f *fetcher) outOfRange(ctx context.Context, tp klog.TopicPartition, epoch int32, l *klog.Log) error {
	leaderEnd, err := f.leaderOffset(ctx, tp, epoch, klog.LatestTimestamp)
	if err != nil {
		return err
	}
	if leaderEnd < l.LogEndOffset() {
		f.m.logger.Warn("follower log end past the leader's: truncating", "partition", tp.String(), "to", leaderEnd)
		return l.TruncateTo(leaderEnd)
	}
	leaderStart, err := f.leaderOffset(ctx, tp, epoch, klog.EarliestTimestamp)
	if err != nil {
		return err
	}
	if leaderStart > l.LogEndOffset() {
		f.m.logger.Warn("follower log end below the leader's log start: restarting the log there", "partition", tp.String(), "at", leaderStart)
		return l.TruncateFullyAndStartAt(leaderStart)
	}
	return nil
}

func (f *fetcher) leaderOffset(ctx context.Context, tp klog.TopicPartition, epoch int32, ts int64) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = f.m.cfg.BrokerID
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = tp.Topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.Timestamp = tp.Partition, epoch, ts
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := f.send(ctx, f.leader, req)
	if err != nil {
		return 0, err
	}
	for _, t := range resp.(*kmsg.ListOffsetsResponse).Topics {
		for _, p := range t.Partitions {
			if t.Topic == tp.Topic && p.Partition == tp.Partition {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					return 0, err
				}
				return p.Offset, nil
			}
		}
	}
	return 0, fmt.Errorf("no offset for %s", tp)
}
