package txn

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// memLog is __transaction_state in memory; failNext makes the next append fail with that error, fired keeps the
// last error that did.
type memLog struct {
	mu       sync.Mutex
	parts    map[int32][][]byte
	failNext error
	fired    error
}

func (l *memLog) Append(p int32, b []byte) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.failNext; err != nil {
		l.failNext, l.fired = nil, err
		return -1, err
	}
	if l.parts == nil {
		l.parts = map[int32][][]byte{}
	}
	l.parts[p] = append(l.parts[p], b)
	return int64(len(l.parts[p]) - 1), nil
}

func (l *memLog) ReadAll(p int32, fn func([]byte) error) error {
	l.mu.Lock()
	bs := append([][]byte(nil), l.parts[p]...)
	l.mu.Unlock()
	for _, b := range bs {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

// states lists the transaction states written for id, in order ("-" for a tombstone).
func (l *memLog) states(t *testing.T, id string) []string {
	t.Helper()
	var out []string
	for _, bs := range l.parts {
		for _, b := range bs {
			recs, err := klog.DecodeRecords(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				k, err := decodeKey(r.Key)
				if err != nil || k != id {
					continue
				}
				m, err := decodeValue(k, r.Value)
				switch {
				case err != nil:
					t.Fatal(err)
				case m == nil:
					out = append(out, "-")
				default:
					out = append(out, fmt.Sprintf("%s/%d", m.state, m.epoch))
				}
			}
		}
	}
	return out
}

type seqIDs struct{ next int64 }

func (s *seqIDs) Generate() (int64, error) {
	s.next++
	return s.next - 1, nil
}

// cluster answers Leader and WriteTxnMarkers: every partition is led by broker 1 unless listed in gone (deleted)
// or codes (the error the leader answers).
type cluster struct {
	mu    sync.Mutex
	gone  map[TopicPartition]bool
	codes map[TopicPartition]int16
	sent  []*kmsg.WriteTxnMarkersRequest
	down  bool
}

func (c *cluster) Leader(topic string, p int32) (int32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone[TopicPartition{topic, p}] {
		return -1, false
	}
	return 1, true
}

func (c *cluster) WriteTxnMarkers(_ context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return nil, errors.New("connection refused")
	}
	c.sent = append(c.sent, req)
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, m := range req.Markers {
		rm := kmsg.WriteTxnMarkersResponseMarker{ProducerID: m.ProducerID}
		for _, t := range m.Topics {
			rt := kmsg.WriteTxnMarkersResponseMarkerTopic{Topic: t.Topic}
			for _, p := range t.Partitions {
				rt.Partitions = append(rt.Partitions, kmsg.WriteTxnMarkersResponseMarkerTopicPartition{
					Partition: p, ErrorCode: c.codes[TopicPartition{t.Topic, p}]})
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp, nil
}

type env struct {
	t   *testing.T
	now int64
	log *memLog
	cl  *cluster
	ids *seqIDs
	c   *Coordinator
}

func newEnv(t *testing.T, log *memLog) *env {
	e := &env{t: t, now: 1_000_000, log: log, cl: &cluster{gone: map[TopicPartition]bool{}, codes: map[TopicPartition]int16{}},
		ids: &seqIDs{next: 1000}}
	if e.log == nil {
		e.log = &memLog{}
	}
	cfg := DefaultConfig()
	cfg.NumPartitions = 4
	cfg.Now = func() int64 { return e.now }
	e.c = New(cfg, e.log, e.ids, e.cl, e.cl, discardLogger())
	for p := int32(0); p < 4; p++ {
		if err := e.c.BecomeCoordinator(p, 7); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) init(id string) (int64, int16) {
	e.t.Helper()
	pid, epoch, err := e.c.InitProducerID(id, 60000, -1, -1)
	if err != nil {
		e.t.Fatalf("InitProducerId(%s): %v", id, err)
	}
	return pid, epoch
}

func (e *env) step() { e.c.Step(context.Background()) }

func (e *env) state(id string) (State, int16) {
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	_, m, _ := e.c.lookup(id)
	if m == nil {
		return -1, -1
	}
	return m.state, m.epoch
}

func tps(s ...string) []TopicPartition {
	var out []TopicPartition
	for _, x := range s {
		i := strings.LastIndexByte(x, '-')
		var p int32
		fmt.Sscan(x[i+1:], &p)
		out = append(out, TopicPartition{x[:i], p})
	}
	return out
}

func TestCommitWritesMarkersThenCompletes(t *testing.T) {
	e := newEnv(t, nil)
	pid, epoch := e.init("app")
	if pid != 1000 || epoch != 0 {
		t.Fatalf("first InitProducerId: %d/%d", pid, epoch)
	}
	if err := e.c.AddPartitions("app", pid, epoch, tps("a-0", "b-1")); err != nil {
		t.Fatal(err)
	}
	if err := e.c.AddPartitions("app", pid, epoch, tps("a-0")); err != nil {
		t.Fatal("re-adding a partition:", err)
	}
	if err := e.c.EndTxn("app", pid, epoch, true); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.state("app"); st != PrepareCommit {
		t.Fatalf("after EndTxn: %s", st)
	}
	e.step()
	if len(e.cl.sent) != 1 {
		t.Fatalf("%d marker requests", len(e.cl.sent))
	}
	mk := e.cl.sent[0].Markers[0]
	if mk.ProducerID != pid || mk.ProducerEpoch != 0 || !mk.Committed || mk.CoordinatorEpoch != 7 || len(mk.Topics) != 2 ||
		mk.Topics[0].Topic != "a" || mk.Topics[1].Topic != "b" || mk.Topics[1].Partitions[0] != 1 {
		t.Fatalf("marker %+v", mk)
	}
	if st, _ := e.state("app"); st != CompleteCommit {
		t.Fatalf("after markers: %s", st)
	}
	want := []string{"Empty/0", "Ongoing/0", "PrepareCommit/0", "CompleteCommit/0"}
	if got := e.log.states(t, "app"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("log %v, want %v", got, want)
	}
	// A retried EndTxn of the same result is answered OK; the other result is refused.
	if err := e.c.EndTxn("app", pid, epoch, true); err != nil {
		t.Fatal(err)
	}
	if err := e.c.EndTxn("app", pid, epoch, false); err != kerr.InvalidTxnState {
		t.Fatalf("abort after commit: %v", err)
	}
}

// TestValueBytes checks one TransactionLogValue v0 field by field (the schema of Kafka 2.8's
// TransactionLogValue.json: version, producer id, epoch, timeout, status, nullable partitions, update and start
// timestamps).
func TestValueBytes(t *testing.T) {
	v := encodeValue(transit{producerID: 5, epoch: 2, timeoutMs: 60000, state: Ongoing,
		partitions: tps("a-0", "a-3", "b-1"), startMs: 10, updateMs: 11})
	want := "0000" + "0000000000000005" + "0002" + "0000ea60" + "01" +
		"00000002" + "0001" + "61" + "00000002" + "00000000" + "00000003" + "0001" + "62" + "00000001" + "00000001" +
		"000000000000000b" + "000000000000000a"
	if got := hex.EncodeToString(v); got != want {
		t.Fatalf("value\n got %s\nwant %s", got, want)
	}
	empty := encodeValue(transit{producerID: 5, state: Empty, startMs: -1, updateMs: 11})
	if !bytes.Contains(empty, []byte{0, 0xff, 0xff, 0xff, 0xff}) {
		t.Fatalf("an Empty value has a null partition list: %x", empty)
	}
	if k := encodeKey("app"); hex.EncodeToString(k) != "00000003617070" {
		t.Fatalf("key %x", k)
	}
}

func TestFencing(t *testing.T) {
	e := newEnv(t, nil)
	pid, _ := e.init("app")
	pid2, epoch2 := e.init("app")
	if pid2 != pid || epoch2 != 1 {
		t.Fatalf("second InitProducerId %d/%d", pid2, epoch2)
	}
	if err := e.c.AddPartitions("app", pid, 0, tps("a-0")); err != kerr.ProducerFenced {
		t.Fatalf("old epoch: %v", err)
	}
	if err := e.c.AddPartitions("app", pid+1, 1, tps("a-0")); err != kerr.InvalidProducerIDMapping {
		t.Fatalf("wrong producer id: %v", err)
	}
	if err := e.c.AddPartitions("nobody", pid, 1, tps("a-0")); err != kerr.InvalidProducerIDMapping {
		t.Fatalf("unknown transactional id: %v", err)
	}
	if err := e.c.EndTxn("app", pid, 1, true); err != kerr.InvalidTxnState {
		t.Fatalf("EndTxn without a transaction: %v", err)
	}
	if _, _, err := e.c.InitProducerID("app", 0, -1, -1); err != kerr.InvalidTransactionTimeout {
		t.Fatalf("zero timeout: %v", err)
	}
	if _, _, err := e.c.InitProducerID("app", 900001, -1, -1); err != kerr.InvalidTransactionTimeout {
		t.Fatalf("timeout over the maximum: %v", err)
	}
	// KIP-360: a producer that knows its id and epoch bumps it; a stale one is fenced; a retry of the last bump
	// gets the same epoch again.
	if _, ep, err := e.c.InitProducerID("app", 60000, pid, 1); err != nil || ep != 2 {
		t.Fatalf("bump with expected epoch: %d %v", ep, err)
	}
	if _, ep, err := e.c.InitProducerID("app", 60000, pid, 1); err != nil || ep != 2 {
		t.Fatalf("retried bump: %d %v", ep, err)
	}
	if _, _, err := e.c.InitProducerID("app", 60000, pid, 0); err != kerr.ProducerFenced {
		t.Fatalf("stale expected epoch: %v", err)
	}
	if _, _, err := e.c.InitProducerID("app", 60000, 77, 0); err != kerr.ProducerFenced {
		t.Fatalf("other producer id: %v", err)
	}
}

// TestInitDuringTransactionAbortsIt: a new producer instance fences the old one's open transaction.
func TestInitDuringTransactionAbortsIt(t *testing.T) {
	e := newEnv(t, nil)
	pid, epoch := e.init("app")
	if err := e.c.AddPartitions("app", pid, epoch, tps("a-0")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.c.InitProducerID("app", 60000, -1, -1); err != kerr.ConcurrentTransactions {
		t.Fatalf("InitProducerId during a transaction: %v", err)
	}
	if st, ep := e.state("app"); st != PrepareAbort || ep != 1 {
		t.Fatalf("after the fence: %s/%d", st, ep)
	}
	if _, _, err := e.c.InitProducerID("app", 60000, -1, -1); err != kerr.ConcurrentTransactions {
		t.Fatalf("InitProducerId before the markers: %v", err)
	}
	e.step()
	mk := e.cl.sent[0].Markers[0]
	if mk.Committed || mk.ProducerEpoch != 1 {
		t.Fatalf("fence marker %+v", mk)
	}
	if _, ep := e.init("app"); ep != 2 {
		t.Fatalf("epoch after the fence: %d", ep)
	}
	if err := e.c.EndTxn("app", pid, epoch, true); err != kerr.ProducerFenced {
		t.Fatalf("the fenced producer's commit: %v", err)
	}
	want := []string{"Empty/0", "Ongoing/0", "PrepareAbort/1", "CompleteAbort/1", "Empty/2"}
	if got := e.log.states(t, "app"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("log %v, want %v", got, want)
	}
}

func TestTimedOutTransactionIsAborted(t *testing.T) {
	e := newEnv(t, nil)
	pid, epoch := e.init("app")
	if err := e.c.AddPartitions("app", pid, epoch, tps("a-0")); err != nil {
		t.Fatal(err)
	}
	e.now += 30000
	e.c.AbortTimedOut()
	if st, _ := e.state("app"); st != Ongoing {
		t.Fatalf("before the timeout: %s", st)
	}
	e.now += 40000
	e.step() // the periodic check (every 10 s) is due
	e.step() // its markers
	if st, ep := e.state("app"); st != CompleteAbort || ep != 1 {
		t.Fatalf("after the timeout: %s/%d", st, ep)
	}
	if err := e.c.EndTxn("app", pid, epoch, true); err != kerr.ProducerFenced {
		t.Fatalf("commit after the timeout: %v", err)
	}
}

func TestMarkerRetries(t *testing.T) {
	e := newEnv(t, nil)
	pid, epoch := e.init("app")
	if err := e.c.AddPartitions("app", pid, epoch, tps("a-0", "gone-0")); err != nil {
		t.Fatal(err)
	}
	e.cl.codes[TopicPartition{"a", 0}] = kerr.NotLeaderForPartition.Code
	e.cl.gone[TopicPartition{"gone", 0}] = true
	if err := e.c.EndTxn("app", pid, epoch, false); err != nil {
		t.Fatal(err)
	}
	e.step()
	e.cl.down = true
	e.step()
	if st, _ := e.state("app"); st != PrepareAbort {
		t.Fatalf("with a marker refused: %s", st)
	}
	e.cl.down = false
	delete(e.cl.codes, TopicPartition{"a", 0})
	e.step()
	if st, _ := e.state("app"); st != CompleteAbort {
		t.Fatalf("after the retry: %s", st)
	}
	if n := len(e.cl.sent); n != 2 {
		t.Fatalf("%d marker requests, want 2", n)
	}
	for _, r := range e.cl.sent {
		for _, tp := range r.Markers[0].Topics {
			if tp.Topic == "gone" {
				t.Fatal("a marker went to a deleted partition")
			}
		}
	}
	// A fenced producer epoch at the partition ends the sending for good.
	pid, epoch = e.init("app")
	if err := e.c.AddPartitions("app", pid, epoch, tps("a-0")); err != nil {
		t.Fatal(err)
	}
	e.cl.codes[TopicPartition{"a", 0}] = kerr.InvalidProducerEpoch.Code
	if err := e.c.EndTxn("app", pid, epoch, true); err != nil {
		t.Fatal(err)
	}
	e.step()
	if len(e.c.jobs) != 0 {
		t.Fatal("markers refused for a fenced epoch are still queued")
	}
}

func TestAppendFailure(t *testing.T) {
	e := newEnv(t, nil)
	pid, epoch := e.init("app")
	e.log.failNext = fmt.Errorf("append: %w", kerr.NotEnoughReplicas)
	if err := e.c.AddPartitions("app", pid, epoch, tps("a-0")); err != kerr.CoordinatorNotAvailable {
		t.Fatalf("failed append: %v", err)
	}
	if err := e.c.AddPartitions("app", pid, epoch, tps("a-0")); err != nil {
		t.Fatalf("after a failed append the transition is not pending: %v", err)
	}
	e.log.failNext = fmt.Errorf("append: %w", kerr.NotLeaderForPartition)
	if err := e.c.EndTxn("app", pid, epoch, true); err != kerr.NotCoordinator {
		t.Fatalf("append as a follower: %v", err)
	}
}

// TestReload: a new coordinator of the partition finds every transaction as written and sends the markers of a
// prepared one.
func TestReload(t *testing.T) {
	e := newEnv(t, nil)
	pid, epoch := e.init("done")
	if err := e.c.AddPartitions("done", pid, epoch, tps("a-0")); err != nil {
		t.Fatal(err)
	}
	if err := e.c.EndTxn("done", pid, epoch, true); err != nil {
		t.Fatal(err)
	}
	e.step()
	pid2, epoch2 := e.init("open")
	if err := e.c.AddPartitions("open", pid2, epoch2, tps("b-2")); err != nil {
		t.Fatal(err)
	}
	pid3, epoch3 := e.init("prepared")
	if err := e.c.AddPartitions("prepared", pid3, epoch3, tps("c-0")); err != nil {
		t.Fatal(err)
	}
	e.cl.down = true
	if err := e.c.EndTxn("prepared", pid3, epoch3, true); err != nil {
		t.Fatal(err)
	}
	e.step()

	e2 := newEnv(t, e.log)
	for id, want := range map[string]State{"done": CompleteCommit, "open": Ongoing, "prepared": PrepareCommit} {
		if st, _ := e2.state(id); st != want {
			t.Errorf("%s reloaded as %s, want %s", id, st, want)
		}
	}
	e2.step()
	if st, _ := e2.state("prepared"); st != CompleteCommit {
		t.Fatalf("prepared transaction after reload: %s", st)
	}
	if mk := e2.cl.sent[0].Markers[0]; mk.ProducerID != pid3 || !mk.Committed || mk.Topics[0].Topic != "c" {
		t.Fatalf("resent marker %+v", mk)
	}
	if err := e2.c.AddPartitions("open", pid2, epoch2, tps("b-3")); err != nil {
		t.Fatalf("the open transaction goes on: %v", err)
	}
	e2.c.ResignCoordinator(e2.c.PartitionFor("open"))
	if err := e2.c.AddPartitions("open", pid2, epoch2, tps("b-4")); err != kerr.NotCoordinator {
		t.Fatalf("after resigning: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t, nil)
	pid, _ := e.init("idle")
	p2, e2 := e.init("busy")
	if err := e.c.AddPartitions("busy", p2, e2, tps("a-0")); err != nil {
		t.Fatal(err)
	}
	e.now += 7*24*3600*1000 + 1
	e.c.RemoveExpired()
	if st, _ := e.state("idle"); st != -1 {
		t.Fatalf("idle id kept: %s", st)
	}
	if st, _ := e.state("busy"); st != Ongoing {
		t.Fatalf("an open transaction's id expired: %s", st)
	}
	if got := e.log.states(t, "idle"); got[len(got)-1] != "-" {
		t.Fatalf("no tombstone: %v", got)
	}
	if pid2, epoch, _ := e.c.InitProducerID("idle", 1000, -1, -1); pid2 == pid || epoch != 0 {
		t.Fatalf("after expiry: %d/%d", pid2, epoch)
	}
	// Replaying the tombstone forgets the id too.
	e3 := newEnv(t, e.log)
	if st, _ := e3.state("idle"); st != Empty {
		t.Fatalf("reloaded: %s", st)
	}
}

// TestEpochExhaustion: at the last epoch a producer id is replaced by a new one at epoch 0.
func TestEpochExhaustion(t *testing.T) {
	l := &memLog{}
	v := encodeValue(transit{producerID: 9, epoch: 32766, timeoutMs: 60000, state: CompleteCommit, startMs: 1, updateMs: 1})
	e0 := newEnv(t, nil)
	l.Append(e0.c.PartitionFor("old"), coordlog.EncodeBatch(1, coordlog.Producer{}, []coordlog.Record{{Key: encodeKey("old"), Value: v}}))
	e := newEnv(t, l)
	pid, epoch := e.init("old")
	if pid == 9 || epoch != 0 {
		t.Fatalf("after exhaustion: %d/%d", pid, epoch)
	}
}

func TestNotCoordinator(t *testing.T) {
	e := newEnv(t, nil)
	e.c.ResignCoordinator(e.c.PartitionFor("x"))
	if _, _, err := e.c.InitProducerID("x", 1000, -1, -1); err != kerr.NotCoordinator {
		t.Fatalf("unowned partition: %v", err)
	}
	e.c.mu.Lock()
	e.c.loading[e.c.PartitionFor("x")] = 8
	e.c.mu.Unlock()
	if _, _, err := e.c.InitProducerID("x", 1000, -1, -1); err != kerr.CoordinatorLoadInProgress {
		t.Fatalf("loading partition: %v", err)
	}
	if _, _, err := e.c.InitProducerID("", 1000, -1, -1); err != kerr.InvalidRequest {
		t.Fatalf("empty id: %v", err)
	}
	e.c.Shutdown()
	if _, _, err := e.c.InitProducerID("y", 1000, -1, -1); err != kerr.CoordinatorNotAvailable {
		t.Fatalf("after shutdown: %v", err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
