// Package learnerconn is what a server serving learners (a leader, or a follower serving observers) needs for each
// learner connection: an ordered, non-blocking packet writer that streams a snapshot after SNAP, and the txn log
// read for learners behind the in-memory committed log.
package learnerconn

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/zkafka/zkafka/zkserver/metrics"
	"github.com/zkafka/zkafka/zkserver/pipeline"
	"github.com/zkafka/zkafka/zkserver/quorum/peertls"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// maxDiffBytes bounds the txns read from the log to sync one learner; past it, a snapshot is sent (Apache bounds
// it by a third of the snapshot's size).
const maxDiffBytes = 64 << 20

// Accept waits for the next learner connection on ln, with Nagle off and the quorum's transport (TLS or port
// unification) on it.
func Accept(ln net.Listener, transport *peertls.Config) (net.Conn, error) {
	nc, err := ln.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return transport.Server(nc), nil
}

// CaptureSnapshot captures p's database between two requests as the snapshot stream a SNAP is followed by, and
// the zxid it holds (the leader's and an observer master's SNAP).
func CaptureSnapshot(p *pipeline.Processor) (zxid int64, stream []byte, err error) {
	zxid, sessions, capture, err := p.CaptureSnapshot()
	if err != nil {
		return 0, nil, err
	}
	stream, err = zab.SnapshotStream(sessions, capture.WriteSnapshot)
	return zxid, stream, err
}

// New is the writer of learner connection nc; writes time out after writeTimeout (at least a second). m (nil: not
// counted) takes the send queue's learner_handler_qp_size and learner_handler_qp_time_ms.
func New(id zab.ConnID, nc net.Conn, writeTimeout time.Duration, m *metrics.Quorum) *Conn {
	c := &Conn{ID: id, NC: nc, writeTimeout: writeTimeout, wake: make(chan struct{}, 1), metrics: m}
	c.stats.established, c.stats.lastZxid = time.Now(), -1
	return c
}

// Conn is one learner connection's writer: packets queue without blocking the caller's loop and go out in order;
// a SNAP packet is followed by the snapshot captured for it.
type Conn struct {
	ID           zab.ConnID
	NC           net.Conn
	writeTimeout time.Duration

	mu       sync.Mutex
	out      []queued
	snapshot []byte
	closed   bool
	wake     chan struct{}
	counted  int64 // packets queued as LearnerHandler.queuePacket queues them (its packetCounter)

	stats   stats // obsr's counters
	metrics *metrics.Quorum
}

// queued is a packet waiting for the writer, or a marker (LearnerHandler's MarkerQuorumPacket): no packet, only
// the time it was queued, to time the queue.
type queued struct {
	p      zab.Packet
	marker time.Time
}

// markerInterval is LearnerHandler's markerPacketInterval: a marker follows the first packet and every 1000th.
const markerInterval = 1000

// Send queues p.
func (c *Conn) Send(p zab.Packet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.out = append(c.out, queued{p: p})
	if !queuedDirect(p) && p.Type != zab.NewLeader && p.Type != zab.UpToDate { // those two skip queuePacket
		if c.counted%markerInterval == 0 {
			c.out = append(c.out, queued{marker: time.Now()})
		}
		c.counted++
	}
	c.stats.queue(p)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// SetSnapshot is the snapshot stream to write after the next SNAP packet.
func (c *Conn) SetSnapshot(b []byte) {
	c.mu.Lock()
	c.snapshot = b
	c.mu.Unlock()
}

// Close closes the connection; queued packets not yet written are lost.
func (c *Conn) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		c.NC.Close()
		close(c.wake)
	}
	c.mu.Unlock()
}

// Write writes the queued packets until the connection closes; run it on its own goroutine.
func (c *Conn) Write() {
	bw := bufio.NewWriterSize(c.NC, 64<<10)
	for range c.wake {
		c.mu.Lock()
		out := c.out
		c.out = nil
		c.mu.Unlock()
		if len(out) == 0 {
			continue
		}
		c.NC.SetWriteDeadline(time.Now().Add(max(c.writeTimeout, time.Second)))
		c.queueMetrics(out)
		for _, q := range out {
			if !q.marker.IsZero() {
				continue
			}
			p := q.p
			bw.Write(p.Marshal())
			if p.Type == zab.Snap {
				c.mu.Lock()
				snap := c.snapshot
				c.snapshot = nil
				c.mu.Unlock()
				// A large snapshot may take longer than the sync limit to write.
				c.NC.SetWriteDeadline(time.Time{})
				bw.Write(snap)
			}
		}
		c.stats.wrote(out) // counted once buffered, as Apache counts a packet written to its buffered stream
		if err := bw.Flush(); err != nil {
			c.NC.Close() // the reader sees it and reports the end
			return
		}
	}
}

// queueMetrics counts the packets the writer took, as LearnerHandler.sendPackets: for each (LEADERINFO and SNAP
// aside, which Apache writes without its queue), the packets left behind it; for each marker, its wait.
func (c *Conn) queueMetrics(out []queued) {
	if c.metrics == nil {
		return
	}
	sid := strconv.FormatInt(c.stats.sidOf(), 10)
	for i, q := range out {
		if q.marker.IsZero() && queuedDirect(q.p) {
			continue
		}
		c.metrics.LearnerHandlerQPSize.Add(sid, int64(len(out)-i-1))
		if !q.marker.IsZero() {
			c.metrics.LearnerHandlerQPTime.Add(sid, time.Since(q.marker).Milliseconds())
		}
	}
}

// History reads older committed txns from a txn log (dir, dataLogDir/version-2) for a learner behind the
// in-memory committed log (zab.History).
type History struct {
	Dir string
}

// After implements zab.History.
func (h History) After(after, upTo int64) ([]zab.Txn, bool) {
	var txns []zab.Txn
	size := 0
	found := after&0xffffffff == 0
	errStop := errors.New("stop")
	_, err := storage.ReadLog(h.Dir, after-1, func(e *storage.Entry) error {
		z := e.Hdr.Zxid
		if z == after {
			found = true
			return nil
		}
		if z <= after {
			return nil
		}
		if z > upTo {
			return errStop
		}
		size += len(e.Raw)
		if size > maxDiffBytes {
			return errStop
		}
		txns = append(txns, zab.Txn{Zxid: z, Data: e.Raw})
		return nil
	})
	if err != nil && !errors.Is(err, errStop) || size > maxDiffBytes || !found {
		return nil, false
	}
	return txns, len(txns) > 0 && txns[len(txns)-1].Zxid == upTo
}
