package kwire

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchResponseFor builds a Fetch response whose partitions hold record sets of the given sizes (bytes that are
// not real batches: kwire does not look at them), with topic names, aborted transactions and tagged fields around
// them so that the pieces between record sets are not empty. The record bytes come from Scratch when scratch is
// set.
func fetchResponseFor(rc *RequestContext, req *kmsg.FetchRequest, sizes []int, seed uint64, scratch bool) *kmsg.FetchResponse {
	rng := rand.New(rand.NewPCG(seed, 1))
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	resp.SessionID = 7
	for i, n := range sizes {
		if i%3 == 0 {
			resp.Topics = append(resp.Topics, kmsg.FetchResponseTopic{Topic: fmt.Sprintf("topic-%d", i)})
		}
		t := &resp.Topics[len(resp.Topics)-1]
		p := kmsg.NewFetchResponseTopicPartition()
		p.Partition, p.HighWatermark, p.LastStableOffset = int32(i), int64(1000+i), int64(900+i)
		at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		at.ProducerID, at.FirstOffset = int64(i), 5
		p.AbortedTransactions = append(p.AbortedTransactions, at)
		var recs []byte
		if scratch {
			recs = rc.Scratch(n)[:n]
		} else {
			recs = make([]byte, n)
		}
		for j := range recs {
			recs[j] = byte(rng.Uint32())
		}
		p.RecordBatches = recs
		t.Partitions = append(t.Partitions, p)
	}
	return resp
}

// TestFetchResponseVectored checks that a Fetch response whose large record sets go out by reference (encodeVec)
// decodes, in every version, to exactly what kmsg's own encoding of it holds.
func TestFetchResponseVectored(t *testing.T) {
	sizes := []int{0, 10, vecMin - 1, vecMin, 100 << 10, 3, 1 << 20, vecMin + 1, 0}
	mux := NewMux()
	mux.Handle(1, 0, 12, func(_ context.Context, rc *RequestContext, r kmsg.Request) (kmsg.Response, error) {
		req := r.(*kmsg.FetchRequest)
		return fetchResponseFor(rc, req, sizes, uint64(req.Version), true), nil
	})
	s, _ := startServer(t, Config{}, mux)
	c := dialRaw(t, s)
	for v := int16(0); v <= 12; v++ {
		req := kmsg.NewPtrFetchRequest()
		req.Version = v
		c.write(c.frame(req, int32(v)))
		corr, got := c.read(req, v)
		if corr != int32(v) {
			t.Fatalf("v%d: correlation id %d", v, corr)
		}
		want := fetchResponseFor(&RequestContext{}, req, sizes, uint64(v), false)
		want.Version = v
		// Compare through kmsg's encoding: the decoded response must re-encode to the reference bytes.
		gotB := got.AppendTo(nil)
		wantB := want.AppendTo(nil)
		if !bytes.Equal(gotB, wantB) {
			t.Fatalf("v%d: response differs from kmsg's encoding (%d vs %d bytes)", v, len(gotB), len(wantB))
		}
	}
}

// TestEncodeVecPieces checks that encodeVec really sends the large record sets by reference, and only those.
func TestEncodeVecPieces(t *testing.T) {
	sizes := []int{10, vecMin, 1 << 20, 5}
	for _, v := range []int16{1, 12} {
		req := kmsg.NewPtrFetchRequest()
		req.Version = v
		resp := fetchResponseFor(&RequestContext{}, req, sizes, 1, false)
		c := &conn{nonce: 42}
		p := &pending{rc: &RequestContext{Header: RequestHeader{APIKey: 1, APIVersion: v}}, resp: resp, version: v}
		_, out, err := c.encodeVec(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		var refs int
		for _, b := range out {
			for _, s := range resp.Topics[0].Partitions {
				if len(b) > 0 && len(s.RecordBatches) > 0 && &b[0] == &s.RecordBatches[0] {
					refs++
				}
			}
		}
		if refs != 2 || len(out) != 7 {
			t.Fatalf("v%d: %d pieces, %d record sets by reference; want 7 and 2", v, len(out), refs)
		}
	}
}

func TestBufPoolClasses(t *testing.T) {
	var bp bufPool
	for _, n := range []int{minPooled, minPooled + 1, 1 << 20, 3 << 20} {
		b := bp.get(n)
		if cap(*b) < n || len(*b) != 0 {
			t.Fatalf("get(%d): len %d cap %d", n, len(*b), cap(*b))
		}
		*b = append(*b, 1, 2, 3)
		bp.put(b)
	}
	odd := make([]byte, 100, 100_000) // not a class size: dropped, never handed out short
	bp.put(&odd)
	if b := bp.get(100_000); cap(*b) < 100_000 {
		t.Fatalf("cap %d", cap(*b))
	}
	rc := &RequestContext{}
	if b := rc.Scratch(1 << 20); cap(b) < 1<<20 || len(rc.scratch) != 0 {
		t.Fatalf("scratch outside a connection: cap %d, %d tracked", cap(b), len(rc.scratch))
	}
}

// TestPooledFrames checks that large Produce requests, read into pooled buffers that go back after their (serial)
// handler, each reach the handler intact, and that the bytes of another request a handler keeps are never reused.
func TestPooledFrames(t *testing.T) {
	var (
		mu   sync.Mutex // the handlers run on the connection's goroutine
		kept []byte
		got  []uint64
	)
	sum := func(b []byte) uint64 {
		var h uint64 = 14695981039346656037
		for _, c := range b {
			h = (h ^ uint64(c)) * 1099511628211
		}
		return h
	}
	mux := NewMux()
	mux.Handle(0, 0, 9, func(_ context.Context, rc *RequestContext, r kmsg.Request) (kmsg.Response, error) {
		req := r.(*kmsg.ProduceRequest)
		mu.Lock()
		got = append(got, sum(req.Topics[0].Partitions[0].Records))
		mu.Unlock()
		_ = rc.Scratch(1 << 20) // handed back after the response
		return req.ResponseKind(), nil
	}, Serial())
	mux.Handle(11, 0, 7, func(_ context.Context, _ *RequestContext, r kmsg.Request) (kmsg.Response, error) {
		mu.Lock()
		kept = r.(*kmsg.JoinGroupRequest).Protocols[0].Metadata // aliases the frame
		mu.Unlock()
		return r.ResponseKind(), nil
	}, Serial())
	s, _ := startServer(t, Config{}, mux)
	c := dialRaw(t, s)
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	join := kmsg.NewPtrJoinGroupRequest()
	join.Version = 5
	meta := fill(200 << 10)
	join.Protocols = append(join.Protocols, kmsg.JoinGroupRequestProtocol{Name: "range", Metadata: bytes.Clone(meta)})
	c.write(c.frame(join, 1))
	c.read(join, 5)
	var want []uint64
	for i := range 20 {
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks = 7, 1
		recs := fill(100<<10 + i*4096)
		want = append(want, sum(recs))
		req.Topics = []kmsg.ProduceRequestTopic{{Topic: "t", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: recs}}}}
		c.write(c.frame(req, int32(10+i)))
		c.read(req, 7)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("produce handler saw other bytes than were sent")
	}
	if !bytes.Equal(kept, meta) {
		t.Fatal("a kept request's bytes were overwritten")
	}
	// Whether a frame goes back is decided by one rule; the pool's reuse is not deterministic enough to see it above.
	for key := int16(0); key < 70; key++ {
		if recyclableFrame(key, true) != (key == 0) || recyclableFrame(key, false) {
			t.Fatalf("key %d recyclable: serial %v, concurrent %v", key, recyclableFrame(key, true), recyclableFrame(key, false))
		}
	}
}
