package handler

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/fetchsession"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kwire"
)

// fetch is KafkaApis.handleFetchRequest with a long poll (DelayedFetch): it answers at once when min_bytes are
// there, a partition has an error or max_wait is zero, else when data arrives or max_wait passes. Fetch v7+ may use
// incremental fetch sessions (KIP-227): the session context says which partitions to read and, at the end, which go
// into the response.
func (h *Handlers) fetch(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.FetchRequest)
	if !ok {
		return nil, fmt.Errorf("fetch: unexpected %T", r)
	}
	fctx := h.fetchContext(req)
	parts := fctx.Partitions()
	// Records are read (and down-converted) into the connection's pooled buffers, which go back once the response
	// is written: a consumer's fetches reuse the same memory instead of allocating a MiB per partition each time.
	st := &fetchState{alloc: func(n int) []byte { return rc.Scratch(n) }, denied: h.fetchDenied(rc, req, parts)}
	if rc.CanAttachRegions() {
		st.rc = rc
	}
	quotaLimit := h.fetchQuotaLimit(rc, req)
	deadline := time.Now().Add(time.Duration(max(req.MaxWaitMillis, 0)) * time.Millisecond)
	for fctx.Kind() != fetchsession.SessionError {
		changed := h.rm.Changed()
		n, answerNow := h.readFetch(req, parts, st, quotaLimit)
		if n >= int(req.MinBytes) || answerNow || req.MaxWaitMillis <= 0 || len(parts) == 0 {
			break
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		rc.LocalComplete() // the wait is Kafka's purgatory, not its handler thread
		t := time.NewTimer(wait)
		select {
		case <-changed:
			t.Stop()
			continue
		case <-t.C:
			// One more read: data may have come in since.
			h.readFetch(req, parts, st, quotaLimit)
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		break
	}
	out, throttleMs := h.respondFetch(rc, req, fctx, parts, st)
	if req.ReplicaID >= 0 {
		h.recordThrottled(parts, st.sizes)
	}
	h.countFetch(rc, req.ReplicaID >= 0, parts, st, out)
	resp := buildFetchResponse(req, parts, st, out)
	resp.ThrottleMillis = int32(throttleMs)
	return resp, nil
}

// countFetch counts a fetch's partitions as read, and the record bytes of those its response carries as sent, with
// their down-conversions (a throttled fetch sends none: Kafka converts while it writes the response).
func (h *Handlers) countFetch(rc *kwire.RequestContext, follower bool, parts []fetchsession.PartitionRequest, st *fetchState, out fetchsession.Response) {
	sent := func(i int) bool {
		return out.ErrorCode == 0 && (out.Include == nil || out.Include[i]) && st.sizes[i] > 0
	}
	for i, p := range parts {
		h.stats.FetchRead(p.Topic, outcome(kerr.ErrorForCode(st.parts[i].ErrorCode)))
		if sent(i) {
			h.stats.BytesOut(p.Topic, follower, int64(st.sizes[i]))
		}
	}
	for _, c := range st.convs {
		if sent(c.i) {
			h.stats.Converted(parts[c.i].Topic, true, int64(c.records))
			rc.RecordConversion(c.records, st.convTime, c.tempBytes)
		}
	}
}

// recordThrottled counts what a follower's fetch sends of throttled partitions against the leader's replication
// quota, whether that follower is in the ISR or not, as KafkaApis does with sizeOfThrottledPartitions (which adds
// each partition's response header; we count the records).
func (h *Handlers) recordThrottled(parts []fetchsession.PartitionRequest, sizes []int) {
	q := h.rm.LeaderQuota()
	var n int64
	for i, p := range parts {
		if sizes[i] > 0 && q.Throttled(p.Topic, p.Partition) {
			n += int64(sizes[i])
		}
	}
	if n > 0 {
		q.Record(n, time.Now().UnixMilli())
	}
}

// fetchDenied is handleFetchRequest's authorization over the session's partitions: a follower needs CLUSTER_ACTION
// for all of them, a consumer READ on each topic. Denied partitions are answered TOPIC_AUTHORIZATION_FAILED without
// being read; nil when none is.
func (h *Handlers) fetchDenied(rc *kwire.RequestContext, req *kmsg.FetchRequest,
	parts []fetchsession.PartitionRequest) []bool {
	if h.cfg.Authorizer == nil || len(parts) == 0 {
		return nil
	}
	denied := make([]bool, len(parts))
	if req.ReplicaID >= 0 {
		if !h.authorizeCluster(rc, kmsg.ACLOperationClusterAction) {
			for i := range denied {
				denied[i] = true
			}
		}
		return denied
	}
	topics := make([]string, len(parts))
	for i, p := range parts {
		topics[i] = p.Topic
	}
	refused := h.unauthorizedNames(rc, kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, topics, true)
	for i, p := range parts {
		denied[i] = refused[p.Topic]
	}
	return denied
}

// fetchContext turns the request into fetch-session terms (FetchManager.newContext). Fetch v0-6 has no sessions:
// its metadata is always (0, FINAL_EPOCH).
func (h *Handlers) fetchContext(req *kmsg.FetchRequest) *fetchsession.Context {
	n := 0
	for i := range req.Topics {
		n += len(req.Topics[i].Partitions)
	}
	parts := make([]fetchsession.PartitionRequest, 0, n)
	for i := range req.Topics {
		t := &req.Topics[i]
		for j := range t.Partitions {
			p := &t.Partitions[j]
			pr := fetchsession.PartitionRequest{
				TopicPartition: fetchsession.TopicPartition{Topic: t.Topic, Partition: p.Partition},
				FetchOffset:    p.FetchOffset, MaxBytes: p.PartitionMaxBytes,
				LogStartOffset: -1, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1,
			}
			if req.Version >= 5 {
				pr.LogStartOffset = p.LogStartOffset
			}
			if req.Version >= 9 {
				pr.CurrentLeaderEpoch = p.CurrentLeaderEpoch
			}
			if req.Version >= 12 {
				pr.LastFetchedEpoch = p.LastFetchedEpoch
			}
			parts = append(parts, pr)
		}
	}
	sessionID, epoch := fetchsession.InvalidSessionID, fetchsession.FinalEpoch
	var forget []fetchsession.TopicPartition
	if req.Version >= 7 {
		sessionID, epoch = req.SessionID, req.SessionEpoch
		for _, ft := range req.ForgottenTopics {
			for _, p := range ft.Partitions {
				forget = append(forget, fetchsession.TopicPartition{Topic: ft.Topic, Partition: p})
			}
		}
	}
	return h.fetchSessions.NewContext(time.Now().UnixMilli(), sessionID, epoch, parts, forget, req.ReplicaID >= 0)
}

// fetchState holds one request's reads; a long poll reads again into the same slices.
type fetchState struct {
	alloc   klog.Alloc
	rc      *kwire.RequestContext // where records sent from the segment files go (file regions); nil reads bytes
	regions bool                  // the last read attached regions to rc
	denied  []bool                // partitions not authorized (nil: none), answered without a read
	parts   []kmsg.FetchResponseTopicPartition
	sizes   []int // each partition's records in bytes (RecordBatches holds a placeholder for a region)
	results []fetchsession.PartitionResult
	// The last read's down-conversions, counted once the response is known to carry them.
	convs    []convStat
	convTime time.Duration
}

// convStat is one partition's down-conversion (Kafka's RecordConversionStats of a fetch).
type convStat struct {
	i         int // index in the request's partitions
	records   int
	tempBytes int64 // the batches read plus the converted ones, as RecordsUtil.downConvert counts them
}

// regionMin is the size from which a partition's records go out from the segment file (kwire.FileRegion) rather than
// being read: below it, reading the headers already read the records (the log reads 32 KiB at a time), and a copy
// costs less than a region's own syscalls (dup, fstat, mmap, munmap, close).
const regionMin = 32 << 10

// regionMagic is the highest magic that a Fetch version takes unchanged: 0 for v0-1, 1 for v2-3, 2 after.
func regionMagic(version int16) int8 {
	switch {
	case version <= 1:
		return 0
	case version <= 3:
		return 1
	}
	return 2
}

// emptyPartition is a Fetch response partition before it is read: every offset -1 as in Kafka's answer without data,
// and Fetch v12's tagged fields (diverging epoch, current leader, snapshot id) at their defaults, so that they are not
// sent. Zero values there would tell a Kafka follower that its log diverges at epoch 0, offset 0.
func emptyPartition(partition int32) kmsg.FetchResponseTopicPartition {
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.Partition, rp.HighWatermark, rp.PreferredReadReplica = partition, -1, -1
	return rp
}

// readFetch reads every partition once (ReplicaManager.readFromLocalLog) and returns the bytes read and whether the
// answer cannot wait: a partition failed, or a follower's log diverges from ours.
func (h *Handlers) readFetch(req *kmsg.FetchRequest, parts []fetchsession.PartitionRequest, st *fetchState, quotaLimit int64) (int, bool) {
	if st.parts == nil {
		st.parts = make([]kmsg.FetchResponseTopicPartition, len(parts))
		st.sizes = make([]int, len(parts))
		st.results = make([]fetchsession.PartitionResult, len(parts))
	}
	if st.regions {
		// A long poll reads again: the earlier read's regions will not be sent.
		st.rc.ReleaseRegions()
		st.regions = false
	}
	hardMaxBytesLimit := req.Version <= 2
	limit := int64(math.MaxInt32)
	if req.Version >= 3 {
		limit = int64(min(req.MaxBytes, h.props.FetchMaxBytes))
		if req.ReplicaID >= 0 {
			limit = int64(req.MaxBytes)
		}
	}
	// A consumer with a fetch quota gets at most a quota window's worth.
	limit = min(limit, quotaLimit)
	minOneMessage := !hardMaxBytesLimit
	total, answerNow, readable := 0, false, 0
	var convs []conversion
	for i := range parts {
		p := &parts[i]
		rp := &st.parts[i]
		*rp = emptyPartition(p.Partition)
		if st.denied != nil && st.denied[i] {
			rp.ErrorCode, rp.RecordBatches, st.sizes[i] = kerr.TopicAuthorizationFailed.Code, []byte{}, 0
			continue
		}
		readable++
		maxBytes := int32(min(int64(p.MaxBytes), max(limit, 0)))
		params := replica.ReadParams{
			Offset: p.FetchOffset, MaxBytes: maxBytes, MinOneMessage: minOneMessage, ReplicaID: req.ReplicaID,
			CurrentLeaderEpoch: p.CurrentLeaderEpoch, ReadCommitted: req.Version >= 4 && req.IsolationLevel == 1,
			Alloc: st.alloc,
		}
		if p.LastFetchedEpoch >= 0 {
			params.LastFetchedEpoch = &p.LastFetchedEpoch
		}
		var (
			res    replica.ReadResult
			region *klog.Region
			err    error
		)
		if st.rc != nil {
			res, region, err = h.rm.ReadRegion(p.Topic, p.Partition, params, regionMagic(req.Version), regionMin)
		} else {
			res, err = h.rm.Read(p.Topic, p.Partition, params)
		}
		size := 0
		if err != nil {
			answerNow = true
			rp.ErrorCode = errCode(err)
		} else {
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = res.HighWatermark, res.LastStableOffset, res.LogStartOffset
			rp.AbortedTransactions = abortedTransactions(res.AbortedTxns)
			if d := res.Diverging; d != nil {
				// A follower to truncate: answered at once, as Kafka does for a diverging epoch.
				rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = d.Epoch, d.EndOffset
				answerNow = true
			}
			if res.FirstBatchTooLarge && !hardMaxBytesLimit {
				// The start of a batch larger than maxBytes: v3+ consumers get nothing and progress with a larger
				// fetch (readFromLocalLog); v0-v2 get the slice, which tells an old consumer the message is too large.
				if region != nil {
					_ = region.File.Close()
				}
				region, res.Records = nil, nil
				// Kafka answers with a new empty FetchDataInfo, which carries no aborted transactions (null).
				rp.AbortedTransactions = nil
			}
			switch {
			case region != nil:
				// Sent from the segment file as stored: every batch's magic suits the version.
				size = region.Len
				// A follower reads past the high watermark, where a leadership change may truncate the log.
				rp.RecordBatches = st.rc.AttachRegion(&kwire.FileRegion{File: region.File, Offset: region.Pos, Len: region.Len,
					MayTruncate: req.ReplicaID >= 0})
				st.regions = true
			case len(res.Records) > 0:
				size = len(res.Records)
				rp.RecordBatches = res.Records
				// A partial batch holds no whole batch to convert, so it goes as it is (hasCompatibleMagic in Kafka).
				if req.Version <= 3 && !res.FirstBatchTooLarge && klog.NeedsDownConversion(res.Records, regionMagic(req.Version)) {
					c := conversion{i: i, records: res.Records, from: p.FetchOffset}
					if res.DownConversionDisabled && req.ReplicaID < 0 {
						c.err = kerr.UnsupportedVersion // message.downconversion.enable=false (maybeConvertFetchedData)
					}
					convs = append(convs, c)
				}
			}
			if size > 0 {
				minOneMessage = false
			}
			// Sizes count as stored, before any down-conversion, as in readFromLocalLog.
			limit -= int64(size)
			total += size
		}
		st.sizes[i] = size
		if rp.RecordBatches == nil {
			// Kafka always sends a records field (MemoryRecords.EMPTY), never null: librdkafka rejects a
			// -1 length as "invalid MessageSetSize".
			rp.RecordBatches = []byte{}
		}
	}
	if readable == 0 {
		// Nothing to wait for: Kafka answers at once when no partition is left for the replica manager.
		answerNow = true
	}
	st.convs = st.convs[:0]
	convStart := time.Now()
	converted := downConvertAll(convs, req.Version, st.alloc)
	st.convTime = time.Since(convStart)
	for _, c := range converted {
		rp := &st.parts[c.i]
		if c.err != nil {
			answerNow = true
			*rp = emptyPartition(rp.Partition)
			rp.ErrorCode, rp.RecordBatches = errCode(c.err), []byte{}
			continue
		}
		st.convs = append(st.convs, convStat{i: c.i, records: klog.ConvertedRecordCount(c.records, regionMagic(req.Version)),
			tempBytes: int64(len(c.records) + len(c.out))})
		rp.RecordBatches = c.out
		st.sizes[c.i] = len(c.out)
	}
	for i := range parts {
		rp := &st.parts[i]
		if rp.ErrorCode != 0 {
			st.sizes[i] = 0
		}
		st.results[i] = fetchsession.PartitionResult{
			RecordBytes: st.sizes[i], HighWatermark: rp.HighWatermark, LastStableOffset: rp.LastStableOffset,
			LogStartOffset: rp.LogStartOffset, ErrorCode: rp.ErrorCode, PreferredReadReplica: rp.PreferredReadReplica,
			DivergingEpoch: rp.DivergingEpoch.Epoch >= 0,
		}
	}
	return total, answerNow
}

// abortedTransactions is a read's aborted transactions as Fetch v4+ sends them: null for a read_uncommitted
// consumer or a follower (nil), a list, empty when there are none, for read_committed, as KafkaApis passes them on.
func abortedTransactions(txns []klog.AbortedTxn) []kmsg.FetchResponseTopicPartitionAbortedTransaction {
	if txns == nil {
		return nil
	}
	out := make([]kmsg.FetchResponseTopicPartitionAbortedTransaction, len(txns))
	for i, t := range txns {
		out[i] = kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		out[i].ProducerID, out[i].FirstOffset = t.ProducerID, t.FirstOffset
	}
	return out
}

// conversion is one partition's records to down-convert for Fetch v0-v3.
type conversion struct {
	i       int // index in the request's partitions
	records []byte
	from    int64 // the fetch offset: records of uncompressed batches below it are left out
	out     []byte
	err     error
}

// parallelConvertMin is the size from which a fetch's down-conversions (CRC-32 over every message: CPU bound) run on
// several cores: the consumer waits for the whole response, so the time of one fetch is what it sees.
const parallelConvertMin = 512 << 10

// splitConvertMin is the size from which one partition's records are cut into runs converted on several cores (a
// consumer of one partition, or one partition holding most of a fetch).
const splitConvertMin = 256 << 10

// convRun is a run of whole batches of one conversion, converted into its own part of the conversion's buffer.
type convRun struct {
	c     *conversion
	in    []byte
	out   []byte // a window of c.out
	first bool   // the conversion's first run
	err   error
}

// downConvertAll rewrites the v2 batches of convs for Fetch v0-v3 (magic 0 for v0-v1, magic 1 for v2-v3) into
// buffers from alloc (taken in this goroutine) and returns them filled in; conversions refused already (err set) are
// left as they are.
func downConvertAll(convs []conversion, version int16, alloc klog.Alloc) []conversion {
	if len(convs) == 0 {
		return nil
	}
	magic := int8(1)
	if version <= 1 {
		magic = 0
	}
	size := 0
	for k := range convs {
		size += len(convs[k].records)
	}
	workers := runtime.GOMAXPROCS(0)
	if size < parallelConvertMin {
		workers = 1
	}
	var runs []convRun
	for k := range convs {
		c := &convs[k]
		if c.err != nil {
			continue
		}
		c.out = alloc(klog.DownConvertedSizeBound(c.records, magic))
		n := 1
		if len(c.records) >= splitConvertMin {
			n = workers
		}
		parts := klog.SplitForDownConversion(c.records, magic, n)
		if len(parts) == 1 {
			runs = append(runs, convRun{c: c, in: c.records, out: c.out[:0], first: true})
			continue
		}
		off := 0
		for i, in := range parts {
			// Each run converts into its own window of c.out (the bounds add up to the whole's); a window too small
			// would make AppendDownConverted grow a buffer of its own rather than write into the next window.
			bound := klog.DownConvertedSizeBound(in, magic)
			end := min(off+bound, cap(c.out))
			runs = append(runs, convRun{c: c, in: in, out: c.out[off:off:end], first: i == 0})
			off = end
		}
	}
	convert := func(r *convRun) {
		// Runs may convert on goroutines of their own, where a panic would end the process: it fails the run.
		defer func() {
			if v := recover(); v != nil {
				r.err = fmt.Errorf("panic: %v", v)
			}
		}()
		r.out, r.err = klog.AppendDownConvertedFrom(r.out, r.in, magic, r.c.from)
	}
	if workers < 2 || len(runs) < 2 {
		for k := range runs {
			convert(&runs[k])
		}
	} else {
		var (
			next atomic.Int32
			wg   sync.WaitGroup
		)
		for range min(workers, len(runs)) {
			wg.Go(func() {
				for k := int(next.Add(1)) - 1; k < len(runs); k = int(next.Add(1)) - 1 {
					convert(&runs[k])
				}
			})
		}
		wg.Wait()
	}
	// Join each conversion's runs: each moves down to where the previous one ended, never past its own start.
	for k := range runs {
		r := &runs[k]
		c := r.c
		switch {
		case c.err != nil:
		case r.err != nil:
			c.err = fmt.Errorf("down-convert to magic %d: %w", magic, r.err)
		case r.first && len(r.out) > 0 && cap(c.out) > 0 && &r.out[0] == &c.out[:1][0]:
			c.out = c.out[:len(r.out)] // still in the buffer from alloc, with its capacity
		case r.first:
			c.out = r.out
		default:
			c.out = append(c.out, r.out...)
		}
	}
	return convs
}

// buildFetchResponse lays out the partitions the session context keeps, grouping consecutive partitions of one
// topic under one topic entry as FetchResponse.toMessage does.
func buildFetchResponse(req *kmsg.FetchRequest, parts []fetchsession.PartitionRequest, st *fetchState, out fetchsession.Response) *kmsg.FetchResponse {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	resp.Version = req.Version
	resp.ErrorCode = out.ErrorCode
	resp.SessionID = out.SessionID
	if out.ErrorCode != 0 {
		return resp
	}
	for i := range parts {
		if out.Include != nil && !out.Include[i] {
			continue
		}
		if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != parts[i].Topic {
			resp.Topics = append(resp.Topics, kmsg.FetchResponseTopic{Topic: parts[i].Topic})
		}
		t := &resp.Topics[len(resp.Topics)-1]
		t.Partitions = append(t.Partitions, st.parts[i])
	}
	return resp
}

// FetchSessions is the broker's fetch session cache.
func (h *Handlers) FetchSessions() *fetchsession.Cache { return h.fetchSessions }
