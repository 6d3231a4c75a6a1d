package learnerconn

import (
	"sync"
	"time"

	"github.com/zkafka/zkafka/compat/javanet"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
)

// Info is what obsr lists for each observer (LearnerHandler.getLearnerHandlerInfo), in Apache's key order.
type Info struct {
	RemoteAddress     string    // Java's InetSocketAddress form, "/ip:port"
	Sid               int64     //
	Established       time.Time // when the connection was accepted
	QueuedPackets     int64     // packets waiting for the writer
	QueuedPacketsSize int64     // their approximate size: 28 bytes each plus the data (see stats.queue)
	PacketsReceived   int64     // since the learner synced
	PacketsSent       int64     // queued packets written
	Requests          int64     // REQUEST packets received
	LastZxid          int64     // of the last packet written with a zxid, -1 before any
}

// stats are a learner connection's counters, as Apache's LearnerHandler keeps them: what the learner sent once it
// synced (the handshake and its NEWLEADER ACK are read apart from the main loop in Apache), and what went out
// through the queue (LEADERINFO and SNAP with its snapshot are written directly in Apache, not counted).
type stats struct {
	mu          sync.Mutex
	established time.Time
	sid         int64
	synced      bool // the learner's first ACK (of NEWLEADER) was read
	queued      int64
	queuedSize  int64
	received    int64
	sent        int64
	requests    int64
	lastZxid    int64
}

// packetSize is LearnerHandler.packetSize: a packet's base size estimate plus its data.
func packetSize(p zab.Packet) int64 { return 4 + 8 + 8 + 8 + int64(len(p.Data)) }

// queuedDirect reports the packets Apache writes outside its queue.
func queuedDirect(p zab.Packet) bool { return p.Type == zab.LeaderInfo || p.Type == zab.Snap }

func (s *stats) queue(p zab.Packet) {
	if queuedDirect(p) {
		return
	}
	s.mu.Lock()
	s.queued++
	// Apache queues NEWLEADER and UPTODATE without adding their size, and takes it off when they are written:
	// after a sync its queued_packets_size stays that much below zero. Kept, as obsr shows it.
	if p.Type != zab.NewLeader && p.Type != zab.UpToDate {
		s.queuedSize += packetSize(p)
	}
	s.mu.Unlock()
}

// wrote accounts for a batch of queued packets the writer wrote, under one lock.
func (s *stats) wrote(out []queued) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range out {
		p := q.p
		if !q.marker.IsZero() || queuedDirect(p) {
			continue
		}
		s.queued--
		s.queuedSize -= packetSize(p)
		if p.Zxid > 0 {
			s.lastZxid = p.Zxid
		}
		s.sent++
	}
}

// Received counts a packet read from the learner; call it for every packet, in order.
func (c *Conn) Received(p zab.Packet) {
	s := &c.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.synced {
		s.synced = p.Type == zab.Ack
		return
	}
	s.received++
	if p.Type == zab.Request {
		s.requests++
	}
}

func (s *stats) sidOf() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sid
}

// SetSid records the learner's server id once its handshake names it.
func (c *Conn) SetSid(sid int64) {
	c.stats.mu.Lock()
	c.stats.sid = sid
	c.stats.mu.Unlock()
}

// ResetStats is resetObserverConnectionStats (orst): the packet and request counts and the last zxid start over.
func (c *Conn) ResetStats() {
	s := &c.stats
	s.mu.Lock()
	s.received, s.sent, s.requests, s.lastZxid = 0, 0, 0, -1
	s.mu.Unlock()
}

// Info returns the connection's obsr entry.
func (c *Conn) Info() Info {
	s := &c.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	return Info{RemoteAddress: javanet.SocketAddressText(c.NC.RemoteAddr()), Sid: s.sid, Established: s.established,
		QueuedPackets: s.queued, QueuedPacketsSize: s.queuedSize, PacketsReceived: s.received, PacketsSent: s.sent,
		Requests: s.requests, LastZxid: s.lastZxid}
}
