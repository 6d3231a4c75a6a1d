package diff

import (
	"sort"
	"time"

	"github.com/zkafka/zkafka/jute"
)

var session2Scenarios = []Scenario{
	{"session2/timeout-clamping", func(r *R, c *Client) {
		// Server: tickTime 500 (min 1000), maxSessionTimeout 60000.
		for _, to := range []time.Duration{-time.Millisecond, time.Microsecond /* 0 on the wire */, 999 * time.Millisecond,
			1000 * time.Millisecond, 1001 * time.Millisecond, 59999 * time.Millisecond, 60000 * time.Millisecond,
			60001 * time.Millisecond, 2147483647 * time.Millisecond} {
			cl := r.Connect("t", ConnOpts{Timeout: to, NoPing: true})
			cl.Close()
		}
	}},
	{"session2/ping-replies", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		r.RawPipeline("raw", 500*time.Millisecond,
			RawReq{Xid: jute.XidPing, Op: jute.OpPing},
			RawReq{Xid: 1, Op: jute.OpExists, Req: &jute.ExistsRequest{Path: r.P("a")}},
			RawReq{Xid: jute.XidPing, Op: jute.OpPing},
			RawReq{Xid: 7, Op: jute.OpPing},
			RawReq{Xid: 8, Op: jute.OpSetData, Req: &jute.SetDataRequest{Path: r.P("a"), Data: []byte("x"), Version: -1}},
			RawReq{Xid: jute.XidPing, Op: jute.OpPing})
	}},
	{"session2/requests-then-close-pipelined", func(r *R, c *Client) {
		// A second closeSession in the same batch is answered or not
		// depending on timing in Apache, so there is only one.
		r.RawPipeline("raw", 500*time.Millisecond,
			RawReq{Xid: 1, Op: jute.OpCreate, Req: &jute.CreateRequest{Path: r.P("e"), ACL: jute.OpenACLUnsafe, Flags: ephemeral}},
			RawReq{Xid: 2, Op: jute.OpExists, Req: &jute.ExistsRequest{Path: r.P("e")}},
			RawReq{Xid: 3, Op: jute.OpCloseSession})
		c.Exists(r.P("e"), false)
	}},
	{"session2/pipelined-no-close", func(r *R, c *Client) {
		r.RawPipeline("raw", 500*time.Millisecond,
			RawReq{Xid: 1, Op: jute.OpCreate, Req: &jute.CreateRequest{Path: r.P("p"), ACL: jute.OpenACLUnsafe}},
			RawReq{Xid: 2, Op: jute.OpExists, Req: &jute.ExistsRequest{Path: r.P("p")}},
			RawReq{Xid: 3, Op: jute.OpSetData, Req: &jute.SetDataRequest{Path: r.P("p"), Data: []byte("x"), Version: 0}})
		c.Get(r.P("p"), false)
	}},
	{"session2/close-sequential-client", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Create(r.P("e"), "", ephemeral, nil)
		c2.Raw(jute.OpCloseSession, nil)
		c2.WaitClosed(2 * time.Second)
		c2.Raw(jute.OpCloseSession, nil)
		c3 := c2.Reattach("c2b")
		c3.Exists(r.Root(), false)
		c.Exists(r.P("e"), false)
	}},
	{"session2/xid-echo-and-odd-xids", func(r *R, c *Client) {
		r.RawPipeline("raw", 500*time.Millisecond,
			RawReq{Xid: 0, Op: jute.OpExists, Req: &jute.ExistsRequest{Path: r.Root()}},
			RawReq{Xid: 1 << 30, Op: jute.OpExists, Req: &jute.ExistsRequest{Path: r.P("nope")}},
			RawReq{Xid: -5, Op: jute.OpExists, Req: &jute.ExistsRequest{Path: r.Root()}},
			RawReq{Xid: 5, Op: jute.OpExists, Req: &jute.ExistsRequest{Path: r.Root()}},
			RawReq{Xid: 5, Op: jute.OpExists, Req: &jute.ExistsRequest{Path: r.Root()}})
	}},
	{"session2/auth-pipelined-with-requests", func(r *R, c *Client) {
		c.AddAuth("digest", "own:pw")
		c.Create(r.P("d"), "v", persistent, aclList(acl(jute.PermAll, "digest", DigestID("own", "pw"))))
		// Apache answers auth on the I/O thread, so its reply may overtake
		// the getData before it: the replies are logged sorted.
		mark := len(r.lines)
		defer func() { sort.Strings(r.lines[mark+2:]) }()
		r.RawPipeline("raw", 500*time.Millisecond,
			RawReq{Xid: 1, Op: jute.OpGetData, Req: &jute.GetDataRequest{Path: r.P("d")}},
			RawReq{Xid: jute.XidAuth, Op: jute.OpAuth, Req: &jute.AuthPacket{Scheme: "digest", Auth: []byte("own:pw")}},
			RawReq{Xid: 2, Op: jute.OpGetData, Req: &jute.GetDataRequest{Path: r.P("d")}})
	}},
}
