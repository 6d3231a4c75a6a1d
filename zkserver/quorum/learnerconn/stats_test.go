package learnerconn

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/zkafka/zkafka/zkserver/metrics"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
)

// The counters obsr shows move where Apache's LearnerHandler moves them.
func TestStats(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	var m metrics.Quorum
	c := New(1, a, time.Second, &m)
	defer c.Close()
	c.SetSid(7)
	// Nothing drains the pipe yet: what is sent stays queued.
	c.Send(zab.Packet{Type: zab.LeaderInfo, Zxid: 1 << 32})                     // written directly by Apache: not counted
	c.Send(zab.Packet{Type: zab.Diff, Zxid: 5})                                 // 28
	c.Send(zab.Packet{Type: zab.NewLeader, Zxid: 1 << 32, Data: []byte("cfg")}) // queued without its size
	c.Send(zab.Packet{Type: zab.UpToDate})                                      // likewise
	if i := c.Info(); i.QueuedPackets != 3 || i.QueuedPacketsSize != 28 || i.PacketsSent != 0 || i.LastZxid != -1 || i.Sid != 7 {
		t.Fatalf("queued: %+v", i)
	}
	go func() { _, _ = io.Copy(io.Discard, b) }()
	go c.Write()
	deadline := time.Now().Add(5 * time.Second)
	for c.Info().PacketsSent != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("not written: %+v", c.Info())
		}
		time.Sleep(time.Millisecond)
	}
	if i := c.Info(); i.QueuedPackets != 0 || i.QueuedPacketsSize != -(28+3+28) || i.LastZxid != 1<<32 {
		t.Errorf("written: %+v", i)
	}
	// learner_handler_qp_size counts what went through the queue: DIFF, the marker queued after the first packet
	// queuePacket queued, NEWLEADER and UPTODATE; learner_handler_qp_time_ms the marker.
	if size, tm := m.LearnerHandlerQPSize.Snapshot()["7"], m.LearnerHandlerQPTime.Snapshot()["7"]; size.Count != 4 || tm.Count != 1 {
		t.Errorf("qp_size %+v, qp_time %+v; want 4 packets taken and 1 marker", size, tm)
	}
	// The next marker follows the 1000th packet after the first.
	for i := range 1000 {
		c.Send(zab.Packet{Type: zab.Ping, Zxid: int64(i)})
	}
	for c.Info().PacketsSent != 1003 {
		if time.Now().After(deadline) {
			t.Fatalf("not written: %+v", c.Info())
		}
		time.Sleep(time.Millisecond)
	}
	if size, tm := m.LearnerHandlerQPSize.Snapshot()["7"], m.LearnerHandlerQPTime.Snapshot()["7"]; size.Count != 1005 || tm.Count != 2 {
		t.Errorf("after 1000 pings: qp_size %+v, qp_time %+v; want 1005 packets taken and 2 markers", size, tm)
	}
	// The handshake and the NEWLEADER ACK are not counted; what follows is.
	for _, p := range []zab.Packet{{Type: zab.ObserverInfo}, {Type: zab.AckEpoch}, {Type: zab.Ack}, {Type: zab.Ping},
		{Type: zab.Request}, {Type: zab.Request}} {
		c.Received(p)
	}
	if i := c.Info(); i.PacketsReceived != 3 || i.Requests != 2 {
		t.Errorf("received: %+v", i)
	}
	c.ResetStats()
	if i := c.Info(); i.PacketsReceived != 0 || i.Requests != 0 || i.PacketsSent != 0 || i.LastZxid != -1 || i.QueuedPacketsSize != -(28+3+28) {
		t.Errorf("reset: %+v", i)
	}
	if i := c.Info(); i.RemoteAddress != "/"+a.RemoteAddr().String() {
		t.Errorf("remote %q", i.RemoteAddress)
	}
}
