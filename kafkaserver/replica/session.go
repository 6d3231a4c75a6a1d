package replica

import (
	"cmp"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/fetchsession"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// fetchSession is a fetcher's side of an incremental fetch session (KIP-227; Kafka's FetchSessionHandler): the first
// Fetch lists every partition and asks for a session; while the leader keeps it, each Fetch lists only the
// partitions added since or whose parameters changed, and names the ones dropped as forgotten. The leader answers
// with the partitions that have something new. It holds no I/O: build fills a request, handleResponse and
// handleError take the outcome.
type fetchSession struct {
	id    int32 // the leader's session id; InvalidSessionID when there is none
	epoch int32 // of the next request: InitialEpoch means a full fetch
	// parts are the partitions as the leader's session holds them (the parameters last sent for each).
	parts map[klog.TopicPartition]kmsg.FetchRequestTopicPartition
}

func newFetchSession() *fetchSession {
	return &fetchSession{id: fetchsession.InvalidSessionID, epoch: fetchsession.InitialEpoch}
}

// full says whether the next request is a full fetch (FetchMetadata.isFull).
func (s *fetchSession) full() bool {
	return s.epoch == fetchsession.InitialEpoch || s.epoch == fetchsession.FinalEpoch
}

// sameParams is FetchRequest.PartitionData.equals: a partition whose parameters are unchanged is not sent again.
func sameParams(a, b *kmsg.FetchRequestTopicPartition) bool {
	return a.FetchOffset == b.FetchOffset && a.LogStartOffset == b.LogStartOffset &&
		a.PartitionMaxBytes == b.PartitionMaxBytes && a.CurrentLeaderEpoch == b.CurrentLeaderEpoch &&
		a.LastFetchedEpoch == b.LastFetchedEpoch
}

// build fills req's session fields, partitions and forgotten topics from next, every partition this fetch is for
// (FetchSessionHandler.Builder.build), in topic and partition order.
func (s *fetchSession) build(req *kmsg.FetchRequest, next map[klog.TopicPartition]kmsg.FetchRequestTopicPartition) {
	req.SessionID, req.SessionEpoch = s.id, s.epoch
	req.Topics, req.ForgottenTopics = req.Topics[:0], req.ForgottenTopics[:0]
	var send, forget []klog.TopicPartition
	full := s.full()
	for tp, p := range next {
		if prev, ok := s.parts[tp]; full || !ok || !sameParams(&prev, &p) {
			send = append(send, tp)
		}
	}
	if !full {
		for tp := range s.parts {
			if _, ok := next[tp]; !ok {
				forget = append(forget, tp)
			}
		}
	}
	s.parts = make(map[klog.TopicPartition]kmsg.FetchRequestTopicPartition, len(next))
	for tp, p := range next {
		s.parts[tp] = p
	}
	for _, tp := range sortTPs(send) {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != tp.Topic {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = tp.Topic
			req.Topics = append(req.Topics, t)
		}
		t := &req.Topics[len(req.Topics)-1]
		t.Partitions = append(t.Partitions, next[tp])
	}
	for _, tp := range sortTPs(forget) {
		if n := len(req.ForgottenTopics); n == 0 || req.ForgottenTopics[n-1].Topic != tp.Topic {
			ft := kmsg.NewFetchRequestForgottenTopic()
			ft.Topic = tp.Topic
			req.ForgottenTopics = append(req.ForgottenTopics, ft)
		}
		ft := &req.ForgottenTopics[len(req.ForgottenTopics)-1]
		ft.Partitions = append(ft.Partitions, tp.Partition)
	}
}

func sortTPs(tps []klog.TopicPartition) []klog.TopicPartition {
	slices.SortFunc(tps, func(a, b klog.TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return tps
}

// handleResponse takes the leader's answer to the request build made (FetchSessionHandler.handleResponse) and says
// whether its partitions can be used. A session error or an answer naming partitions the session does not hold
// makes the next request a full one.
func (s *fetchSession) handleResponse(resp *kmsg.FetchResponse) bool {
	if resp.ErrorCode != 0 {
		if resp.ErrorCode == kerr.FetchSessionIDNotFound.Code {
			s.id = fetchsession.InvalidSessionID
		}
		s.epoch = fetchsession.InitialEpoch // a full fetch, closing the session it names
		return false
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if _, ok := s.parts[klog.TopicPartition{Topic: t.Topic, Partition: p.Partition}]; !ok {
				// Kafka starts over without closing the session the answer opened; naming it closes it.
				s.id, s.epoch = resp.SessionID, fetchsession.InitialEpoch
				return false
			}
		}
	}
	switch {
	case resp.Version < 7 || resp.SessionID == fetchsession.InvalidSessionID:
		// No session (the leader's cache is full, or it closed the session): the next fetch is full again.
		s.id, s.epoch = fetchsession.InvalidSessionID, fetchsession.InitialEpoch
	case s.full():
		s.id, s.epoch = resp.SessionID, fetchsession.NextEpoch(fetchsession.InitialEpoch)
	default:
		s.epoch = fetchsession.NextEpoch(s.epoch)
	}
	return true
}

// handleError is FetchSessionHandler.handleError: the request failed, so whether the leader applied it is unknown;
// the next request is a full one that closes the session.
func (s *fetchSession) handleError() { s.epoch = fetchsession.InitialEpoch }
