package diff

import (
	"encoding/binary"
	"time"

	"github.com/zkafka/zkafka/jute"
)

var sessionScenarios = []Scenario{
	{"session/id-format", func(r *R, c *Client) {
		c.LogSessionIDShape()
		c2 := r.Connect("c2")
		c2.LogSessionIDShape()
	}},
	{"session/ephemeral-cleanup-on-close", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Create(r.P("p/e1"), "", ephemeral, nil)
		c2.Create(r.P("p/e2-"), "", eseq, nil)
		c2.Create(r.P("top"), "", ephemeral, nil)
		c.Children(r.P("p"), true)
		c.Exists(r.P("p/e1"), true)
		c.Get(r.P("top"), true)
		c.Exists(r.P("p"), false)
		c2.Close()
		c.FlushSorted()
		c.Children2(r.P("p"), false)
		c.Exists(r.P("top"), false)
	}},
	{"session/expiry", func(r *R, c *Client) {
		c2 := r.Connect("c2", ConnOpts{Timeout: 1000 * time.Millisecond})
		c2.Create(r.P("e"), "", ephemeral, nil)
		c.Exists(r.P("e"), true)
		c2.Drop()
		c.WaitEvents(1, 20*time.Second)
		c.Exists(r.P("e"), false)
		c2.Reattach("c2b")
		c.GetEphemerals(r.Root())
	}},
	{"session/reattach-keeps-session", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Create(r.P("e"), "", ephemeral, nil)
		c2.Get(r.P("e"), true)
		c2.Drop()
		c3 := c2.Reattach("c2b")
		c3.Exists(r.P("e"), false)
		c3.GetEphemerals(r.Root())
		c.Set(r.P("e"), "x", -1) // the old connection's watch went with it
		c3.Flush()
		c3.Close()
		c.Exists(r.P("e"), false)
	}},
	{"session/reattach-steals-connection", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Create(r.P("e"), "", ephemeral, nil)
		c3 := c2.Reattach("c2b")
		c2.WaitClosed(5 * time.Second)
		c3.Exists(r.P("e"), false)
		c3.Close()
		c.Exists(r.P("e"), false)
	}},
	{"session/reattach-bad-password", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Create(r.P("e"), "", ephemeral, nil)
		c2.ReattachBadPassword("bad")
		c2.Exists(r.P("e"), false)
	}},
	{"session/reattach-closed-session", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Close()
		c2.Reattach("again")
		c.Exists(r.Root(), false)
	}},
	{"session/timeout-negotiation", func(r *R, c *Client) {
		r.Connect("short", ConnOpts{Timeout: 10 * time.Millisecond})
		r.Connect("min", ConnOpts{Timeout: 1000 * time.Millisecond})
		r.Connect("mid", ConnOpts{Timeout: 4321 * time.Millisecond})
		r.Connect("long", ConnOpts{Timeout: 10 * time.Minute})
	}},
	{"session/close-then-request", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Create(r.P("e"), "", ephemeral, nil)
		c2.Close()
		c2.Exists(r.Root(), false)
		c.Exists(r.P("e"), false)
	}},
	{"session/set-watches-after-reconnect", func(r *R, c *Client) {
		c.Create(r.P("d"), "0", persistent, nil)
		c.Create(r.P("keep"), "0", persistent, nil)
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("gone"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("d"), true)
		c2.Get(r.P("keep"), true)
		c2.Exists(r.P("new"), true)
		c2.Children(r.P("p"), true)
		c2.Get(r.P("gone"), true)
		rel := c2.LastZxid()
		c2.Drop()
		c.Set(r.P("d"), "1", -1)
		c.Create(r.P("new"), "", persistent, nil)
		c.Create(r.P("p/k"), "", persistent, nil)
		c.Delete(r.P("gone"), -1)
		c3 := c2.Reattach("c2b")
		c3.SetWatches(&jute.SetWatches{RelativeZxid: rel,
			DataWatches:  []string{r.P("d"), r.P("keep"), r.P("gone")},
			ExistWatches: []string{r.P("new")},
			ChildWatches: []string{r.P("p")}})
		c3.Flush()
		c.Set(r.P("keep"), "1", -1)
		c3.Flush()
	}},
	{"session/set-watches-fresh-session", func(r *R, c *Client) {
		c.Create(r.P("exists"), "", persistent, nil)
		c.Create(r.P("p"), "", persistent, nil)
		c2 := r.Connect("c2")
		rel := c2.LastZxid()
		c2.Exists(r.Root(), false)
		rel = c2.LastZxid()
		c2.SetWatches(&jute.SetWatches{RelativeZxid: rel,
			DataWatches:  []string{r.P("missing")},
			ExistWatches: []string{r.P("exists"), r.P("absent")},
			ChildWatches: []string{r.P("p"), r.P("nochild")}})
		c2.Flush()
		c.Create(r.P("absent"), "", persistent, nil)
		c.Create(r.P("p/k"), "", persistent, nil)
		c2.Flush()
		c2.SetWatches(&jute.SetWatches{RelativeZxid: 0, DataWatches: []string{r.P("exists")}, ChildWatches: []string{r.P("p")}})
		c2.Flush()
	}},
	{"session/set-watches2-persistent", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.Create(r.P("t"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Exists(r.Root(), false)
		c2.SetWatches2(&jute.SetWatches2{RelativeZxid: c2.LastZxid(),
			PersistentWatches:          []string{r.P("a")},
			PersistentRecursiveWatches: []string{r.P("t")}})
		c.Set(r.P("a"), "1", -1)
		c.Set(r.P("a"), "2", -1)
		c.Create(r.P("t/x"), "", persistent, nil)
		c.Create(r.P("t/x/y"), "", persistent, nil)
		c2.Flush()
		c2.CheckWatches(r.P("a"), jute.WatcherAny)
	}},
	{"session/ephemeral-owner-across-sessions", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c3 := r.Connect("c3")
		c2.Create(r.P("e2"), "", ephemeral, nil)
		c3.Create(r.P("e3"), "", ephemeral, nil)
		c.Exists(r.P("e2"), false)
		c.Exists(r.P("e3"), false)
		c3.Delete(r.P("e2"), -1) // any session may delete another's ephemeral
		c2.GetEphemerals(r.Root())
		c2.Close()
		c3.GetEphemerals(r.Root())
	}},
	{"session/connect-with-future-zxid", func(r *R, c *Client) {
		r.dial("future", ConnOpts{lastZxid: 1 << 50})
		c.Exists(r.Root(), false)
	}},
	{"session/readonly-flag-connect", func(r *R, c *Client) {
		ro := true
		c2 := r.Connect("ro", ConnOpts{ReadOnly: &ro})
		c2.Create(r.P("x"), "", persistent, nil)
		rw := false
		c3 := r.Connect("rw", ConnOpts{ReadOnly: &rw})
		c3.Exists(r.P("x"), false)
	}},
}

// frame builds a length-prefixed client frame with the given xid and op.
func frame(xid, op int32, body []byte) []byte {
	b := make([]byte, 12, 12+len(body))
	binary.BigEndian.PutUint32(b, uint32(8+len(body)))
	binary.BigEndian.PutUint32(b[4:], uint32(xid))
	binary.BigEndian.PutUint32(b[8:], uint32(op))
	return append(b, body...)
}

var protocolScenarios = []Scenario{
	{"protocol/reconfig-disabled", func(r *R, c *Client) {
		c.Reconfig("server.5=127.0.0.1:2888:3888;2181", "", "", -1)
		c.Reconfig("", "1", "", -1)
		c.AddAuth("digest", "super:test")
		c.Reconfig("", "", "server.1=127.0.0.1:2888:3888;2181", -1)
		c.Get("/zookeeper/config", false)
	}},
	{"protocol/maxbuffer-oversize-request", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Create(r.P("e"), "", ephemeral, nil)
		big := make([]byte, jute.DefaultMaxBuffer+10)
		c2.SetB(r.P("e"), big, -1)
		c2.WaitClosed(5 * time.Second)
		c3 := c2.Reattach("c2b")
		c3.Exists(r.P("e"), false)
	}},
	{"protocol/maxbuffer-frame-length-only", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		var lb [4]byte
		binary.BigEndian.PutUint32(lb[:], jute.DefaultMaxBuffer+1)
		c2.WriteFrame(lb[:], "length 0x100000 then nothing")
		c2.WaitClosed(5 * time.Second)
		c3 := c2.Reattach("c2b")
		c3.Exists(r.Root(), false)
	}},
	{"protocol/maxbuffer-near-limit", func(r *R, c *Client) {
		// Just under the frame limit: accepted.
		n := jute.DefaultMaxBuffer - 12 - 4 - len(r.P("big")) - 4 - 4 - 100
		c.SetB(r.Root(), make([]byte, n), -1)
		c.Exists(r.Root(), false)
		c.Create(r.P("big"), "", persistent, nil)
		c.SetB(r.P("big"), make([]byte, n+100), -1)
		c.Exists(r.P("big"), false)
	}},
	{"protocol/negative-frame-length", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.WriteFrame([]byte{0xff, 0xff, 0xff, 0xf0}, "length -16")
		c2.WaitClosed(5 * time.Second)
		c2.Reattach("c2b")
	}},
	{"protocol/unknown-opcode", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Raw(999, nil)
		c2.WaitClosed(time.Second)
		c2.Reattach("c2b")
	}},
	{"protocol/unused-opcode-10", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Raw(10, nil)
		c2.WaitClosed(time.Second)
		c2.Reattach("c2b")
	}},
	{"protocol/client-sends-internal-ops", func(r *R, c *Client) {
		c.Create(r.P("box"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.RawBytes(jute.OpDeleteContainer, []byte(r.P("box")), "path bytes")
		c2.WaitClosed(time.Second)
		c3 := c2.Reattach("c2b")
		c3.Raw(jute.OpCreateSession, nil)
		c3.WaitClosed(time.Second)
		c4 := c3.Reattach("c2c")
		c4.Exists(r.P("box"), false)
	}},
	{"protocol/sasl-without-provider", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Raw(jute.OpSASL, &jute.GetSASLRequest{Token: []byte("x")})
		c2.WaitClosed(time.Second)
		c2.Reattach("c2b")
	}},
	{"protocol/truncated-body", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.RawBytes(jute.OpGetData, []byte{0, 0, 0, 10, '/'}, "short string")
		c2.WaitClosed(time.Second)
		c2.Reattach("c2b")
	}},
}
