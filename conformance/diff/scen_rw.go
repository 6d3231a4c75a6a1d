package diff

import (
	"time"

	"github.com/zkafka/zkafka/jute"
)

var badPaths = []string{"", "noslash", "/trailing/", "//", "/a//b", "/.", "/a/.", "/a/..", "/..", "/a/./b",
	"/ctl\x01", "/ctl\x1f", "/del\x7f", "/c1\u0080", "/nul\x00x", "/tab\tx"}

var rwScenarios = []Scenario{
	{"paths/bad-create", func(r *R, c *Client) {
		for _, p := range badPaths {
			c.Create(p, "", persistent, nil)
		}
		for _, p := range []string{"/trailing/", "//", "/a/..", "/."} {
			c.Create(r.Root()+p, "", persistent, nil)
		}
		c.Create(r.P("ok."), "", persistent, nil)
		c.Create(r.P(".ok"), "", persistent, nil)
		c.Create(r.P("..."), "", persistent, nil)
		c.Children(r.Root(), false)
	}},
	{"paths/bad-sequential", func(r *R, c *Client) {
		// The suffix makes a trailing slash valid; "." components do not become valid.
		c.Create(r.P("q"), "", persistent, nil)
		c.Create(r.P("q/"), "", pseq, nil)
		c.Create(r.P("q//"), "", pseq, nil)
		c.Create(r.P("q/./"), "", pseq, nil)
		c.Create(r.P("q/."), "", pseq, nil)
		c.Children(r.P("q"), false)
	}},
	{"paths/bad-read-write", func(r *R, c *Client) {
		// "" aliases the root: only ops whose reply does not show the root's
		// stat (which depends on the other scenarios).
		c.ExistsCode("")
		c.Set("", "", 5)
		c.Delete("", -1)
		c.SetACL("", jute.OpenACLUnsafe, 5)
		c.Sync("")
		for _, p := range []string{"noslash", "/trailing/", "//", "/a/.."} {
			c.Exists(p, false)
			c.Get(p, false)
			c.Children(p, false)
			c.Set(p, "", -1)
			c.Delete(p, -1)
			c.GetACL(p)
			c.SetACL(p, jute.OpenACLUnsafe, -1)
			c.Sync(p)
		}
	}},
	{"paths/zookeeper-tree", func(r *R, c *Client) {
		c.Exists("/zookeeper", false)
		c.Children("/zookeeper", false)
		c.Get("/zookeeper", false)
		c.GetACL("/zookeeper")
		c.Get("/zookeeper/quota", false)
		c.Children("/zookeeper/quota", false)
		c.Get("/zookeeper/config", false)
		c.GetACL("/zookeeper/config")
		c.ExistsCode("")
	}},
	{"paths/special-nodes-writes", func(r *R, c *Client) {
		c.Create("/zookeeper", "", persistent, nil)
		c.Create("/zookeeper/quota", "", persistent, nil)
		c.Create("/zookeeper/config", "", persistent, nil)
		c.Delete("/zookeeper", -1)
		c.Delete("/zookeeper/quota", -1)
		c.Delete("/zookeeper/config", -1)
		c.Delete("/", -1)
		c.Set("/zookeeper/config", "x", -1)
		c.SetACL("/zookeeper/config", jute.OpenACLUnsafe, -1)
		c.Set("/zookeeper", "x", 0)
		c.Exists("/zookeeper", false)
	}},
	{"paths/create-under-zookeeper", func(r *R, c *Client) {
		c.Create("/zookeeper/zkconf-"+r.Root()[1:], "", persistent, nil)
		c.Create("/zookeeper/config/zkconf", "", persistent, nil)
		c.Create("/zookeeper/quota/zkconf-"+r.Root()[1:], "", persistent, nil)
		c.Delete("/zookeeper/zkconf-"+r.Root()[1:], -1)
		c.Delete("/zookeeper/quota/zkconf-"+r.Root()[1:], -1)
	}},
	{"delete/versions", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.Set(r.P("a"), "1", -1)
		c.Delete(r.P("a"), 0)
		c.Delete(r.P("a"), 2)
		c.Delete(r.P("a"), -2)
		c.Delete(r.P("a"), 1)
		c.Delete(r.P("a"), 1)
		c.Create(r.P("b"), "", persistent, nil)
		c.Delete(r.P("b"), -1)
		c.Exists(r.P("b"), false)
	}},
	{"delete/not-empty-and-no-node", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("p/c"), "", persistent, nil)
		c.Delete(r.P("p"), -1)
		c.Delete(r.P("p"), 7) // version mismatch vs not empty: which wins
		c.Delete(r.P("p/nope"), -1)
		c.Delete(r.P("nope/nope"), -1)
		c.Delete(r.P("p/c"), -1)
		c.Delete(r.P("p"), -1)
		c.Children2(r.Root(), false)
	}},
	{"set/versions-and-stat", func(r *R, c *Client) {
		c.Create(r.P("a"), "v0", persistent, nil)
		c.Set(r.P("a"), "v1", 0)
		c.Set(r.P("a"), "v2", 0)
		c.Set(r.P("a"), "v2", 1)
		c.Set(r.P("a"), "longer value", -1)
		c.Set(r.P("a"), "", -1)
		c.Set(r.P("a"), "x", 99)
		c.Get(r.P("a"), false)
		c.Set(r.P("nope"), "x", -1)
		c.Set(r.P("nope"), "x", 3)
	}},
	{"read/getchildren-variants", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		for _, n := range []string{"z", "a", "m", "b-1", "B", "0"} {
			c.Create(r.P("p/"+n), "", persistent, nil)
		}
		c.Children(r.P("p"), false)
		c.Children2(r.P("p"), false)
		c.Children(r.P("p/z"), false)
		c.Children2(r.P("p/z"), false)
		c.Children(r.P("nope"), false)
		c.Children2(r.P("nope"), true)
		c.Get(r.P("nope"), true)
		c.Create(r.P("nope"), "", persistent, nil)
		c.Flush()
	}},
	{"read/many-children", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		ops := make([]jute.Op, 0, 60)
		for i := 0; i < 60; i++ {
			ops = append(ops, MCreate(r.P("p/child-"+string(rune('a'+i%26))+string(rune('a'+i/26))), "", persistent))
		}
		c.Multi(ops...)
		c.Children2(r.P("p"), false)
		c.AllChildrenNumber(r.P("p"))
	}},
	{"read/stats-through-lifecycle", func(r *R, c *Client) {
		c.Create(r.P("n"), "abc", persistent, nil)
		c.Exists(r.P("n"), false)
		c.Set(r.P("n"), "abcd", -1)
		c.Exists(r.P("n"), false)
		c.SetACL(r.P("n"), jute.OpenACLUnsafe, -1)
		c.Exists(r.P("n"), false)
		c.Create(r.P("n/k"), "", persistent, nil)
		c.Exists(r.P("n"), false)
		c.Set(r.P("n/k"), "child data", -1)
		c.Exists(r.P("n"), false)
		c.Delete(r.P("n/k"), -1)
		c.Exists(r.P("n"), false)
		c.Create(r.P("n/k"), "", persistent, nil)
		c.Exists(r.P("n"), false)
	}},
	{"read/sync", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.Sync(r.P("a"))
		c.Sync("/")
		c.Sync(r.P("missing"))
		c.Sync("")
		c.Sync("relative")
		c.Get(r.P("a"), false)
	}},
	{"read/get-all-children-number", func(r *R, c *Client) {
		c.Create(r.P("t"), "", persistent, nil)
		c.Create(r.P("t/a"), "", persistent, nil)
		c.Create(r.P("t/a/b"), "", persistent, nil)
		c.Create(r.P("t/a/b/c"), "", ephemeral, nil)
		c.Create(r.P("t/d"), "", persistent, nil)
		c.AllChildrenNumber(r.P("t"))
		c.AllChildrenNumber(r.P("t/a"))
		c.AllChildrenNumber(r.P("t/a/b/c"))
		c.AllChildrenNumber(r.P("nope"))
		c.AllChildrenNumber("/zookeeper")
		c.AllChildrenNumber("bad")
	}},
	{"read/get-ephemerals", func(r *R, c *Client) {
		c.Create(r.P("x"), "", persistent, nil)
		c.Create(r.P("x/e1"), "", ephemeral, nil)
		c.Create(r.P("x/e2-"), "", eseq, nil)
		c.Create(r.P("y"), "", ephemeral, nil)
		c.Create(r.P("xy"), "", ephemeral, nil)
		c2 := r.Connect("c2")
		c2.Create(r.P("x/other"), "", ephemeral, nil)
		c.GetEphemerals(r.P("x"))
		c.GetEphemerals(r.P("x/"))
		c.GetEphemerals(r.P(""))
		c.GetEphemerals(r.P("nope"))
		c2.GetEphemerals(r.Root())
		c2.Close()
		c.GetEphemerals(r.Root())
	}},
	{"read/get-ephemerals-root", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.GetEphemerals("/")
		c2.GetEphemerals("")
		c2.Create(r.P("e"), "", ephemeral, nil)
		c2.GetEphemerals("/")
		c2.GetEphemerals("")
		c2.GetEphemerals("/s")
	}},
	{"read/check-top-level", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		// Apache 3.8.0 consumes a zxid for a successful top-level check but
		// sends no reply at all.
		c.SetOpTimeout(time.Second)
		c.Check(r.P("a"), 0)
		c.Check(r.P("a"), 5)
		c.Check(r.P("a"), -1)
		c.Check(r.P("nope"), 0)
		c.Get(r.P("a"), false)
	}},
	{"misc/whoami", func(r *R, c *Client) {
		c.WhoAmI()
		c.AddAuth("digest", "alice:secret")
		c.WhoAmI()
		c.AddAuth("digest", "bob:pw")
		c.AddAuth("digest", "alice:secret")
		c.WhoAmI()
		c.AddAuth("ip", "127.0.0.1")
		c.WhoAmI()
	}},
}
