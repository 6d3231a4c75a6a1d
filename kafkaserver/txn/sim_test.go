package txn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TestSimulation drives a coordinator with seeded random schedules: InitProducerId, AddPartitionsToTxn and EndTxn
// from producers that may be stale, appends and marker writes that fail, time jumps past transaction timeouts, and
// the partition moving to a new coordinator (replaying the log in a higher epoch). After every step:
//   - a new coordinator replaying the log has what the old one holds (no transition applies without its record);
//   - a transactional id's written producer epoch never goes down while its producer id stays;
//   - every marker sent for a producer id and epoch carries the result its latest accepted EndTxn asked for.
//
// At the end, with failures off, every prepared transaction completes.
func TestSimulation(t *testing.T) {
	for seed := uint64(1); seed <= 1000; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { simulate(t, seed) })
	}
}

type simProducer struct {
	id    string
	pid   int64
	epoch int16
}

func simulate(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	log := &memLog{}
	cl := &cluster{gone: map[TopicPartition]bool{}, codes: map[TopicPartition]int16{}}
	ids := &seqIDs{next: 100}
	now := int64(1_000_000)
	epoch := int32(0)
	mk := func() *Coordinator {
		cfg := DefaultConfig()
		cfg.NumPartitions = 2
		cfg.Now = func() int64 { return now }
		c := New(cfg, log, ids, cl, cl, discardLogger())
		for p := int32(0); p < 2; p++ {
			if err := c.BecomeCoordinator(p, epoch); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	c := mk()
	// move hands the partitions to a new coordinator that replays the log in a higher epoch.
	move := func() {
		c.Shutdown()
		epoch++
		c = mk()
	}
	names := []string{"a", "b", "c"}
	parts := tps("x-0", "x-1", "y-0")
	var prods []simProducer
	lastEpoch := map[string][2]int64{} // id -> producer id, epoch
	intent := map[[2]int64]bool{}      // (pid, epoch) -> the result its EndTxn asked for
	for step := 0; step < 60; step++ {
		// Failures come and go.
		// An append refused for lost leadership is followed by the partition moving, as in a cluster.
		log.mu.Lock()
		moved := errors.Is(log.fired, kerr.NotLeaderForPartition)
		log.fired = nil
		if rng.IntN(8) == 0 {
			log.failNext = fmt.Errorf("append: %w", []*kerr.Error{kerr.NotEnoughReplicas, kerr.NotLeaderForPartition}[rng.IntN(2)])
		}
		log.mu.Unlock()
		if moved {
			move()
		}
		cl.mu.Lock()
		cl.down = rng.IntN(5) == 0
		clear(cl.codes)
		if rng.IntN(4) == 0 {
			cl.codes[parts[rng.IntN(len(parts))]] = kerr.NotLeaderForPartition.Code
		}
		cl.mu.Unlock()

		switch op := rng.IntN(10); {
		case op < 2 || len(prods) == 0:
			id := names[rng.IntN(len(names))]
			if pid, e, err := c.InitProducerID(id, 30000, -1, -1); err == nil {
				prods = append(prods, simProducer{id, pid, e})
			}
		case op < 5:
			p := prods[rng.IntN(len(prods))]
			_ = c.AddPartitions(p.id, p.pid, p.epoch, []TopicPartition{parts[rng.IntN(len(parts))]})
		case op < 7:
			p := prods[rng.IntN(len(prods))]
			commit := rng.IntN(2) == 0
			if err := c.EndTxn(p.id, p.pid, p.epoch, commit); err == nil {
				// The producer's latest transaction; an earlier one's markers all went out before this was accepted.
				intent[[2]int64{p.pid, int64(p.epoch)}] = commit
			}
		case op < 8:
			now += int64(rng.IntN(40000))
		case op < 9:
			move()
		default:
			c.Step(context.Background())
		}
		c.Step(context.Background())
		checkSim(t, seed, c, log, epoch, lastEpoch)
		// Markers carry the client's result; aborts the coordinator made itself (fences, timeouts) use a bumped epoch
		// no client EndTxn had.
		cl.mu.Lock()
		for _, req := range cl.sent {
			for _, m := range req.Markers {
				if want, ok := intent[[2]int64{m.ProducerID, int64(m.ProducerEpoch)}]; ok && want != m.Committed {
					t.Fatalf("seed %d: marker for producer %d epoch %d has commit=%v, EndTxn asked %v", seed, m.ProducerID,
						m.ProducerEpoch, m.Committed, want)
				}
			}
		}
		cl.sent = nil
		cl.mu.Unlock()
	}
	// Failures stop: every transaction that was prepared completes.
	log.mu.Lock()
	moved := errors.Is(log.fired, kerr.NotLeaderForPartition)
	log.failNext, log.fired = nil, nil
	log.mu.Unlock()
	if moved {
		move()
	}
	cl.mu.Lock()
	cl.down = false
	clear(cl.codes)
	cl.mu.Unlock()
	for range 5 {
		c.Step(context.Background())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.owned {
		for id, m := range o.txns {
			if m.state == PrepareCommit || m.state == PrepareAbort || m.hasPending {
				t.Fatalf("seed %d: %s still %s (pending %s) after failures stopped", seed, id, m.state, m.pendingString())
			}
		}
	}
}

func checkSim(t *testing.T, seed uint64, c *Coordinator, log *memLog, epoch int32, last map[string][2]int64) {
	t.Helper()
	replayed := map[string]*metadata{}
	for p := int32(0); p < 2; p++ {
		if err := log.ReadAll(p, func(b []byte) error { return replay(b, replayed) }); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, o := range c.owned {
		if o.epoch != epoch {
			t.Fatalf("seed %d: partition %d at coordinator epoch %d, want %d", seed, p, o.epoch, epoch)
		}
		for id, m := range o.txns {
			r := replayed[id]
			if r == nil {
				// Created by InitProducerId, its first record not (yet) written.
				if m.state != Empty || m.epoch != noProducerEpoch {
					t.Fatalf("seed %d: %s is %s/%d in memory and not in the log", seed, id, m.state, m.epoch)
				}
				continue
			}
			// As in Kafka, a fence whose PrepareAbort was not written leaves the bumped epoch in memory only
			// (hasFailedEpochFence); the next fence reuses it.
			fenceLost := m.failedEpochFence && m.state == Ongoing && m.epoch == r.epoch+1
			if r.state != m.state || r.producerID != m.producerID || (r.epoch != m.epoch && !fenceLost) || r.timeoutMs != m.timeoutMs ||
				fmt.Sprint(r.partitions.sorted()) != fmt.Sprint(m.partitions.sorted()) && m.state != PrepareCommit && m.state != PrepareAbort {
				t.Fatalf("seed %d: %s in memory %s, in the log %s", seed, id, m, r)
			}
			// The written epoch (what a client can have been given) never goes back.
			if prev, ok := last[id]; ok && prev[0] == r.producerID && int64(r.epoch) < prev[1] {
				t.Fatalf("seed %d: %s's epoch went from %d to %d", seed, id, prev[1], r.epoch)
			}
			last[id] = [2]int64{r.producerID, int64(r.epoch)}
		}
	}
}
