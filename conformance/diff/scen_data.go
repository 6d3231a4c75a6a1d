package diff

import (
	"strings"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// setDataPayload is the size of a setData frame body (after the 4 length
// bytes): header 8, path 4+len, data 4+n, version 4.
func setDataPayload(path string, n int) int { return 8 + 4 + len(path) + 4 + n + 4 }

var dataScenarios = []Scenario{
	{"data/frame-exactly-at-maxbuffer", func(r *R, c *Client) {
		p := r.P("big")
		c.Create(p, "", persistent, nil)
		n := jute.DefaultMaxBuffer - setDataPayload(p, 0)
		c.SetB(p, make([]byte, n), -1)
		c.Exists(p, false)
		c.Get(p, false)
		c2 := r.Connect("c2")
		c2.SetB(p, make([]byte, n+1), -1) // one byte over: the frame is refused
		c2.WaitClosed(5 * time.Second)
		c.Exists(p, false)
	}},
	{"data/create-near-maxbuffer", func(r *R, c *Client) {
		p := r.P("big")
		// create body: header 8, path 4+len, data 4+n, acl count 4 + (perms 4, "world" 4+5, "anyone" 4+6), flags 4
		over := 8 + 4 + len(p) + 4 + 4 + 4 + 9 + 10 + 4
		n := jute.DefaultMaxBuffer - over
		c.CreateReq(&jute.CreateRequest{Path: p, Data: make([]byte, n), ACL: jute.OpenACLUnsafe})
		c.Exists(p, false)
		c.Multi(MSet(p, "", -1), MSet(p, strings.Repeat("x", 1000), -1))
		c.Exists(p, false)
		c.Children2(r.Root(), false)
	}},
	{"data/null-vs-empty-every-write", func(r *R, c *Client) {
		c.Create2(r.P("c2"), "", persistent, nil)
		c.create2(jute.OpCreate2, &jute.CreateRequest{Path: r.P("c2null"), ACL: jute.OpenACLUnsafe})
		c.CreateTTL(r.P("ttl"), "", jute.ModePersistentWithTTL, 60000)
		c.create2(jute.OpCreateContainer, &jute.CreateRequest{Path: r.P("box"), ACL: jute.OpenACLUnsafe, Flags: jute.ModeContainer})
		c.Multi(jute.Op{Type: jute.OpCreate, Rec: &jute.CreateRequest{Path: r.P("m"), ACL: jute.OpenACLUnsafe}},
			jute.Op{Type: jute.OpSetData, Rec: &jute.SetDataRequest{Path: r.P("c2"), Version: -1}})
		for _, n := range []string{"c2", "c2null", "ttl", "box", "m"} {
			c.Get(r.P(n), false)
		}
		c.MultiRead(MGet(r.P("c2")), MGet(r.P("m")))
		c.Multi(MDelete(r.P("ttl"), -1), MDelete(r.P("box"), -1))
	}},
	{"paths/long-names", func(r *R, c *Client) {
		long := strings.Repeat("n", 10000)
		c.Create(r.P(long), "", persistent, nil)
		c.Children(r.Root(), false)
		c.Exists(r.P(long), false)
		p := r.Root()
		for i := 0; i < 60; i++ {
			p += "/d"
		}
		c.Create(p, "", persistent, nil) // parent missing
		var ops []jute.Op
		q := r.Root()
		for i := 0; i < 60; i++ {
			q += "/d"
			ops = append(ops, MCreate(q, "", persistent))
		}
		c.Multi(ops...)
		c.Exists(q, false)
		c.AllChildrenNumber(r.P("d"))
		c.Delete(r.P("d"), -1)
	}},
	{"paths/spaces-and-bmp", func(r *R, c *Client) {
		for _, n := range []string{" ", "  lead", "trail ", "a b", "\u3000", "\u2028", "\ufeff", "\ud7ff", "\uf900",
			"\uffef", "é", "e\u0301", "\u00ad", "tab\u000b", "\u200b"} {
			if _, code := c.Create(r.P(n), n, persistent, nil); code == 0 {
				c.Get(r.P(n), false)
			}
		}
		c.Children(r.Root(), false)
		c.Delete(r.P(" "), -1)
		c.Set(r.P("a b"), "set", -1)
		c.Children(r.Root(), false)
	}},
	{"paths/invalid-utf8", func(r *R, c *Client) {
		for _, n := range []string{"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "ok\xe2\x82", "\xf4\x90\x80\x80"} {
			c.Create(r.P(n), "", persistent, nil)
		}
		c.Children(r.Root(), false)
		c.Exists(r.P("\xff"), false)
	}},
}
