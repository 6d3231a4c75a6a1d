package replica

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/fetchsession"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

func params(tp klog.TopicPartition, offset int64) kmsg.FetchRequestTopicPartition {
	p := kmsg.NewFetchRequestTopicPartition()
	p.Partition, p.FetchOffset, p.PartitionMaxBytes, p.CurrentLeaderEpoch, p.LastFetchedEpoch = tp.Partition, offset, 1<<20, 3, 2
	return p
}

// listed returns the partitions a request lists (as topic-partition strings) and the ones it forgets.
func listed(req *kmsg.FetchRequest) (sent, forgotten []string) {
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			sent = append(sent, fmt.Sprintf("%s-%d@%d", t.Topic, p.Partition, p.FetchOffset))
		}
	}
	for _, t := range req.ForgottenTopics {
		for _, p := range t.Partitions {
			forgotten = append(forgotten, fmt.Sprintf("%s-%d", t.Topic, p))
		}
	}
	return sent, forgotten
}

func answer(req *kmsg.FetchRequest, sessionID int32, errorCode int16, parts ...klog.TopicPartition) *kmsg.FetchResponse {
	resp := kmsg.NewPtrFetchResponse()
	resp.Version, resp.SessionID, resp.ErrorCode = req.Version, sessionID, errorCode
	for _, tp := range parts {
		t := kmsg.NewFetchResponseTopic()
		t.Topic = tp.Topic
		t.Partitions = append(t.Partitions, kmsg.FetchResponseTopicPartition{Partition: tp.Partition})
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// The follower's session, step by step as Kafka's FetchSessionHandler: a full fetch, then only what changed, and a
// full fetch again after each kind of failure.
func TestFetchSessionSteps(t *testing.T) {
	a0, a1, b0 := klog.TopicPartition{Topic: "a", Partition: 0}, klog.TopicPartition{Topic: "a", Partition: 1}, klog.TopicPartition{Topic: "b", Partition: 0}
	s := newFetchSession()
	step := func(name string, next map[klog.TopicPartition]kmsg.FetchRequestTopicPartition, wantID, wantEpoch int32, wantSent, wantForgot []string) *kmsg.FetchRequest {
		t.Helper()
		req := kmsg.NewPtrFetchRequest()
		req.Version = 12
		s.build(req, next)
		sent, forgot := listed(req)
		if req.SessionID != wantID || req.SessionEpoch != wantEpoch || !slices.Equal(sent, wantSent) || !slices.Equal(forgot, wantForgot) {
			t.Fatalf("%s: session %d epoch %d, sent %v, forgotten %v; want %d %d %v %v", name, req.SessionID,
				req.SessionEpoch, sent, forgot, wantID, wantEpoch, wantSent, wantForgot)
		}
		return req
	}
	next := map[klog.TopicPartition]kmsg.FetchRequestTopicPartition{a0: params(a0, 10), a1: params(a1, 20)}
	req := step("first", next, 0, 0, []string{"a-0@10", "a-1@20"}, nil)
	if !s.handleResponse(answer(req, 77, 0, a0, a1)) {
		t.Fatal("full answer refused")
	}
	// Nothing changed: an incremental fetch listing nothing.
	req = step("unchanged", next, 77, 1, nil, nil)
	if !s.handleResponse(answer(req, 77, 0)) {
		t.Fatal("empty incremental answer refused")
	}
	// a-0 moved on, a-1 dropped, b-0 added.
	next = map[klog.TopicPartition]kmsg.FetchRequestTopicPartition{a0: params(a0, 15), b0: params(b0, 0)}
	req = step("changed", next, 77, 2, []string{"a-0@15", "b-0@0"}, []string{"a-1"})
	if !s.handleResponse(answer(req, 77, 0, b0)) {
		t.Fatal("incremental answer refused")
	}
	// Another parameter than the offset changes: sent again.
	changed := params(b0, 0)
	changed.LastFetchedEpoch = 5
	next[b0] = changed
	req = step("epoch changed", next, 77, 3, []string{"b-0@0"}, nil)

	// The leader lost the session: a full fetch asking for a new one.
	if s.handleResponse(answer(req, 0, kerr.FetchSessionIDNotFound.Code)) {
		t.Fatal("session error accepted")
	}
	req = step("after FETCH_SESSION_ID_NOT_FOUND", next, 0, 0, []string{"a-0@15", "b-0@0"}, nil)
	s.handleResponse(answer(req, 78, 0))
	req = step("new session", next, 78, 1, nil, nil)
	// A wrong epoch: a full fetch that closes the session it names.
	if s.handleResponse(answer(req, 78, kerr.InvalidFetchSessionEpoch.Code)) {
		t.Fatal("epoch error accepted")
	}
	req = step("after INVALID_FETCH_SESSION_EPOCH", next, 78, 0, []string{"a-0@15", "b-0@0"}, nil)
	s.handleResponse(answer(req, 79, 0))
	// The request failed on the way: whether the leader applied it is unknown.
	step("before a failed request", next, 79, 1, nil, nil)
	s.handleError()
	req = step("after a failed request", next, 79, 0, []string{"a-0@15", "b-0@0"}, nil)
	s.handleResponse(answer(req, 80, 0))
	// An answer with a partition the session does not hold is not used.
	req = step("incremental", next, 80, 1, nil, nil)
	if s.handleResponse(answer(req, 80, 0, a1)) {
		t.Fatal("answer with a partition outside the session accepted")
	}
	req = step("after a stray partition", next, 80, 0, []string{"a-0@15", "b-0@0"}, nil)
	// The leader's cache is full: no session, so full fetches go on.
	if !s.handleResponse(answer(req, 0, 0, a0)) {
		t.Fatal("sessionless answer refused")
	}
	step("no session", next, 0, 0, []string{"a-0@15", "b-0@0"}, nil)

	// Epochs wrap to 1 (FetchMetadata.nextEpoch).
	s.id, s.epoch = 81, math.MaxInt32
	req = step("last epoch", next, 81, math.MaxInt32, nil, nil)
	s.handleResponse(answer(req, 81, 0))
	step("wrapped", next, 81, 1, nil, nil)
}

// The follower's session against the leader's session cache over random rounds: partitions come, go and move on,
// and after every round the leader's session holds exactly the parameters the follower means to fetch with, and
// every request but the first is incremental.
func TestFetchSessionAgainstLeaderCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cache := fetchsession.NewCache(10, fetchsession.DefaultEvictionMs, 3)
	s := newFetchSession()
	next := map[klog.TopicPartition]kmsg.FetchRequestTopicPartition{}
	full := 0
	for round := range 2000 {
		for range rng.IntN(4) {
			tp := klog.TopicPartition{Topic: fmt.Sprintf("t%d", rng.IntN(3)), Partition: int32(rng.IntN(8))}
			switch rng.IntN(3) {
			case 0:
				delete(next, tp)
			default:
				next[tp] = params(tp, rng.Int64N(1000))
			}
		}
		if len(next) == 0 {
			continue
		}
		req := kmsg.NewPtrFetchRequest()
		req.Version = 12
		s.build(req, next)
		if req.SessionEpoch == 0 {
			full++
		}
		var fetch []fetchsession.PartitionRequest
		for _, tt := range req.Topics {
			for _, p := range tt.Partitions {
				fetch = append(fetch, fetchsession.PartitionRequest{
					TopicPartition: fetchsession.TopicPartition{Topic: tt.Topic, Partition: p.Partition},
					FetchOffset:    p.FetchOffset, LogStartOffset: p.LogStartOffset, MaxBytes: p.PartitionMaxBytes,
					CurrentLeaderEpoch: p.CurrentLeaderEpoch, LastFetchedEpoch: p.LastFetchedEpoch,
				})
			}
		}
		var forget []fetchsession.TopicPartition
		for _, ft := range req.ForgottenTopics {
			for _, p := range ft.Partitions {
				forget = append(forget, fetchsession.TopicPartition{Topic: ft.Topic, Partition: p})
			}
		}
		x := cache.NewContext(int64(round), req.SessionID, req.SessionEpoch, fetch, forget, true)
		if x.Kind() == fetchsession.SessionError {
			t.Fatalf("round %d: session error %d", round, x.ErrorCode())
		}
		held := map[klog.TopicPartition]int64{}
		for _, p := range x.Partitions() {
			held[klog.TopicPartition{Topic: p.Topic, Partition: p.Partition}] = p.FetchOffset
		}
		want := map[klog.TopicPartition]int64{}
		for tp, p := range next {
			want[tp] = p.FetchOffset
		}
		if !maps.Equal(held, want) {
			t.Fatalf("round %d: leader holds %v, follower fetches %v", round, held, want)
		}
		// Each partition has news now and then.
		results := make([]fetchsession.PartitionResult, len(x.Partitions()))
		for i := range results {
			results[i] = fetchsession.PartitionResult{HighWatermark: int64(rng.IntN(3)), LastStableOffset: -1,
				LogStartOffset: 0, PreferredReadReplica: -1}
		}
		out := x.Respond(int64(round), results)
		resp := kmsg.NewPtrFetchResponse()
		resp.Version, resp.SessionID, resp.ErrorCode = 12, out.SessionID, out.ErrorCode
		for i, p := range x.Partitions() {
			if out.Include == nil || out.Include[i] {
				rt := kmsg.NewFetchResponseTopic()
				rt.Topic = p.Topic
				rt.Partitions = append(rt.Partitions, kmsg.FetchResponseTopicPartition{Partition: p.Partition})
				resp.Topics = append(resp.Topics, rt)
			}
		}
		if !s.handleResponse(resp) {
			t.Fatalf("round %d: answer refused", round)
		}
	}
	if full != 1 {
		t.Fatalf("%d full fetches, want only the first", full)
	}
	if cache.Len() != 1 {
		t.Fatalf("leader holds %d sessions", cache.Len())
	}
}
