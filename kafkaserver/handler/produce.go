package handler

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kwire"
)

// adminClientID may write to internal topics (AdminUtils.AdminClientId).
const adminClientID = "__admin_client"

// parallelAppendMin is the request size from which its partitions are appended concurrently.
const parallelAppendMin = 64 << 10

// produce is KafkaApis.handleProduceRequest: append to each partition this broker leads; acks=0 sends nothing,
// acks=1 answers after the local append, acks=-1 waits (up to the request timeout) until the ISR has the records.
func (h *Handlers) produce(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.ProduceRequest)
	if !ok {
		return nil, fmt.Errorf("produce: unexpected %T", r)
	}
	// Transactional records need WRITE on their transactional id, checked over the request as sent.
	txnDenied := hasTransactionalRecords(req) && (req.TransactionID == nil ||
		!h.authorize(rc, kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, *req.TransactionID))
	// Kafka keys a request's partitions by topic and partition: a partition sent twice is appended once, with the
	// records of its last entry, and answered once.
	req.Topics = mergeTopics(req.Topics,
		func(t *kmsg.ProduceRequestTopic) string { return t.Topic },
		func(t *kmsg.ProduceRequestTopic) *[]kmsg.ProduceRequestTopicPartition { return &t.Partitions },
		func(p *kmsg.ProduceRequestTopicPartition) int32 { return p.Partition })
	if txnDenied {
		return produceRefused(req, kerr.TransactionalIDAuthorizationFailed)
	}
	denied := h.unauthorizedNames(rc, kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTopic, produceTopics(req), true)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	resp.Version = req.Version
	type waiter struct {
		rp     *kmsg.ProduceResponseTopicPartition
		topic  string
		part   int32
		offset int64
	}
	// Old clients' message sets are up-converted into the connection's pooled buffers (given back once the response
	// is written), not into a fresh MiB per request. Scratch is not safe for concurrent use: appends share it
	// through a lock.
	var allocMu sync.Mutex
	alloc := func(n int) []byte {
		allocMu.Lock()
		defer allocMu.Unlock()
		return rc.Scratch(n)
	}
	validAcks := req.Acks == -1 || req.Acks == 0 || req.Acks == 1
	type job struct {
		topic string
		p     *kmsg.ProduceRequestTopicPartition
		rp    *kmsg.ProduceResponseTopicPartition
		err   error
		info  klog.AppendInfo
	}
	var jobs []job
	size := 0
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
	}
	for ti := range req.Topics {
		t := &req.Topics[ti]
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			rp := &resp.Topics[ti].Partitions[pi]
			*rp = kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.BaseOffset, rp.LogAppendTime, rp.LogStartOffset = p.Partition, -1, -1, -1
			j := job{topic: t.Topic, p: p, rp: rp}
			// Kafka's order: WRITE on the topic, a partition it does not know, then the request's record rules,
			// then acks, then the internal-topic rule.
			switch err := klog.CheckProduceRecords(req.Version, p.Records); {
			case denied[t.Topic]:
				j.err = kerr.TopicAuthorizationFailed
			case err != nil:
				j.err = err
				if _, perr := h.rm.Partition(t.Topic, p.Partition); errors.Is(perr, kerr.UnknownTopicOrPartition) {
					j.err = perr
				}
			case !validAcks:
				j.err = kerr.InvalidRequiredAcks
			case replica.IsInternal(t.Topic) && rc.ClientID() != adminClientID:
				j.err = kerr.InvalidTopicException
			}
			size += len(p.Records)
			jobs = append(jobs, j)
		}
	}
	appendOne := func(j *job) {
		if j.err == nil {
			j.info, j.err = h.rm.AppendWith(j.topic, j.p.Partition, j.p.Records, req.Acks, alloc)
		}
	}
	// Partitions are separate logs: a large request's appends (CRC checks, up-conversion, the page-cache copy) run
	// on several cores, as a Fetch's down-conversions do; Kafka spreads the same work over its handler threads
	// across requests.
	if workers := min(runtime.GOMAXPROCS(0), len(jobs)); workers > 1 && size >= parallelAppendMin {
		var (
			next atomic.Int32
			wg   sync.WaitGroup
		)
		for range workers {
			wg.Go(func() {
				for k := int(next.Add(1)) - 1; k < len(jobs); k = int(next.Add(1)) - 1 {
					appendOne(&jobs[k])
				}
			})
		}
		wg.Wait()
	} else {
		for k := range jobs {
			appendOne(&jobs[k])
		}
	}
	var waits []waiter
	anyErr := false
	for k := range jobs {
		j := &jobs[k]
		rp := j.rp
		h.stats.Produced(j.topic, outcome(j.err), int64(len(j.p.Records)), int64(j.info.NumMessages))
		// Every partition's stats, a failed one's empty, as Kafka's processingStatsCallback hands them on.
		cv := j.info.Conversion
		h.stats.Converted(j.topic, false, int64(cv.Records))
		rc.RecordConversion(cv.Records, cv.Time, cv.TempBytes)
		if j.err == nil {
			rp.BaseOffset, rp.LogAppendTime, rp.LogStartOffset = j.info.FirstOffset, j.info.LogAppendTime, j.info.LogStartOffset
			if req.Acks == -1 {
				waits = append(waits, waiter{rp, j.topic, j.p.Partition, j.info.LastOffset + 1})
			}
			continue
		}
		anyErr = true
		rp.ErrorCode, rp.ErrorMessage = apiError(j.err)
		if req.Version < 8 {
			rp.ErrorMessage = nil
		}
		h.logger.Debug("produce failed", "topic", j.topic, "partition", j.p.Partition, "err", j.err)
	}
	if req.Acks == 0 {
		// Over its produce quota, an acks=0 client's connection is muted too.
		h.produceThrottle(rc, req.Acks)
		// Kafka closes the connection so an acks=0 producer notices a failure (it gets no response either way).
		if anyErr {
			return nil, fmt.Errorf("produce with acks=0 failed on some partition")
		}
		return nil, nil
	}
	if len(waits) > 0 {
		rc.LocalComplete()
		wctx, cancel := context.WithTimeout(ctx, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
		defer cancel()
		for _, w := range waits {
			if err := h.rm.WaitReplicated(wctx, w.topic, w.part, w.offset); err != nil {
				w.rp.ErrorCode = errCode(err)
			}
		}
	}
	// Over its produce quota, the client's connection is muted and the response says for how long; recorded when
	// the response is ready, as Kafka's callback does.
	resp.ThrottleMillis = int32(h.produceThrottle(rc, req.Acks))
	return resp, nil
}

// hasTransactionalRecords is RequestUtils.hasTransactionalRecords: some partition's first batch is transactional.
func hasTransactionalRecords(req *kmsg.ProduceRequest) bool {
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			if firstBatchTransactional(p.Records) {
				return true
			}
		}
	}
	return false
}

// firstBatchTransactional reads the attributes of a v2 batch at the start of records (bit 4: transactional);
// message sets of magic 0 and 1 are never transactional.
func firstBatchTransactional(records []byte) bool {
	const magicAt, attrsAt = 16, 21
	if len(records) < attrsAt+2 || records[magicAt] < 2 {
		return false
	}
	return records[attrsAt+1]&0x10 != 0
}

func produceTopics(req *kmsg.ProduceRequest) []string {
	names := make([]string, len(req.Topics))
	for i, t := range req.Topics {
		names[i] = t.Topic
	}
	return names
}

// produceRefused is ProduceRequest.getErrorResponse: every partition fails with code (no message: it is the
// error's own); acks=0 gets no response, and the connection closes.
func produceRefused(req *kmsg.ProduceRequest, code *kerr.Error) (kmsg.Response, error) {
	if req.Acks == 0 {
		return nil, fmt.Errorf("produce refused: %w", code)
	}
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	resp.Version = req.Version
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code.Code
			rp.BaseOffset, rp.LogAppendTime, rp.LogStartOffset = -1, -1, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}
