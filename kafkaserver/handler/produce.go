package handler

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kwire"
)

// adminClientID may write to internal topics (AdminUtils.AdminClientId).
const adminClientID = "__admin_client"

// produce is KafkaApis.handleProduceRequest: append to each partition this broker leads; acks=0 sends nothing,
// acks=1 answers after the local append, acks=-1 waits (up to the request timeout) until the ISR has the records.
func (h *Handlers) produce(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.ProduceRequest)
	if !ok {
		return nil, fmt.Errorf("produce: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	resp.Version = req.Version
	type waiter struct {
		rp     *kmsg.ProduceResponseTopicPartition
		topic  string
		part   int32
		offset int64
	}
	var waits []waiter
	anyErr := false
	// Old clients' message sets are up-converted into the connection's pooled buffers (given back once the response
	// is written), not into a fresh MiB per request.
	alloc := func(n int) []byte { return rc.Scratch(n) }
	validAcks := req.Acks == -1 || req.Acks == 0 || req.Acks == 1
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
	}
	for ti, t := range req.Topics {
		for pi, p := range t.Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			*rp = kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.BaseOffset, rp.LogAppendTime, rp.LogStartOffset = p.Partition, -1, -1, -1
			var err error
			switch {
			case !validAcks:
				err = kerr.InvalidRequiredAcks
			case replica.IsInternal(t.Topic) && rc.ClientID() != adminClientID:
				err = kerr.InvalidTopicException
			}
			if err == nil {
				info, aerr := h.rm.AppendWith(t.Topic, p.Partition, p.Records, req.Acks, alloc)
				if aerr == nil {
					rp.BaseOffset, rp.LogAppendTime, rp.LogStartOffset = info.FirstOffset, info.LogAppendTime, info.LogStartOffset
					if req.Acks == -1 {
						waits = append(waits, waiter{rp, t.Topic, p.Partition, info.LastOffset + 1})
					}
				}
				err = aerr
			}
			if err != nil {
				anyErr = true
				rp.ErrorCode, rp.ErrorMessage = apiError(err)
				if req.Version < 8 {
					rp.ErrorMessage = nil
				}
				h.logger.Debug("produce failed", "topic", t.Topic, "partition", p.Partition, "err", err)
			}
		}
	}
	if req.Acks == 0 {
		// Kafka closes the connection so an acks=0 producer notices a failure (it gets no response either way).
		if anyErr {
			return nil, fmt.Errorf("produce with acks=0 failed on some partition")
		}
		return nil, nil
	}
	if len(waits) > 0 {
		wctx, cancel := context.WithTimeout(ctx, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
		defer cancel()
		for _, w := range waits {
			if err := h.rm.WaitReplicated(wctx, w.topic, w.part, w.offset); err != nil {
				w.rp.ErrorCode = errCode(err)
			}
		}
	}
	return resp, nil
}
