package electionnet

import (
	"context"
	"log/slog"
	"time"

	"github.com/zkafka/zkafka/zkserver/quorum/election"
)

// Node runs an election state machine over a Manager: it feeds it received notifications and the time, and
// sends what it returns. It keeps running between rounds, so that a settled server answers looking ones.
type Node struct {
	e   *election.Election
	m   *Manager
	log *slog.Logger
	now func() time.Time

	calls chan func()
	// waiters are Look calls waiting for the round's decision; only Run's goroutine touches them.
	waiters []chan election.Vote
}

// NewNode drives e over m. The clock is time.Now.
func NewNode(e *election.Election, m *Manager, logger *slog.Logger) *Node {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Node{e: e, m: m, log: logger, now: time.Now, calls: make(chan func())}
}

// Run processes notifications and timers until ctx ends.
func (n *Node) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if d := n.e.Deadline(); !d.IsZero() {
			timer.Reset(max(time.Until(d), 0))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-ctx.Done():
			for _, w := range n.waiters {
				close(w)
			}
			return
		case f := <-n.calls:
			f()
		case msg := <-n.m.Recv():
			notif, err := election.Unmarshal(msg.Payload)
			if err != nil {
				n.log.Warn("skipping a malformed election notification", "sid", msg.From, "err", err)
				break
			}
			n.send(n.e.Receive(msg.From, notif, n.now()))
		case <-timer.C:
			n.send(n.e.Tick(n.now()))
		}
		// A round may be decided by any event, even within Look's own call.
		if len(n.waiters) > 0 {
			if v, ok := n.e.Decided(); ok {
				for _, w := range n.waiters {
					w <- v
				}
				n.waiters = nil
			}
		}
	}
}

func (n *Node) send(msgs []election.Message) {
	for _, m := range msgs {
		n.m.Send(m.To, m.Notification.Marshal())
	}
}

// Look starts a round from the server's last logged zxid and current epoch and waits for its decision.
func (n *Node) Look(ctx context.Context, lastLoggedZxid, currentEpoch int64) (election.Vote, error) {
	w := make(chan election.Vote, 1)
	start := func() {
		n.send(n.e.Look(lastLoggedZxid, currentEpoch, n.now()))
		n.waiters = append(n.waiters, w)
	}
	select {
	case n.calls <- start:
	case <-ctx.Done():
		return election.Vote{}, ctx.Err()
	}
	select {
	case v, ok := <-w:
		if !ok {
			return election.Vote{}, context.Canceled
		}
		return v, nil
	case <-ctx.Done():
		return election.Vote{}, ctx.Err()
	}
}

// Do runs f on the election inside the node's loop (to read its state or set its current vote).
func (n *Node) Do(ctx context.Context, f func(e *election.Election)) error {
	done := make(chan struct{})
	select {
	case n.calls <- func() { f(n.e); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-done
	return nil
}
