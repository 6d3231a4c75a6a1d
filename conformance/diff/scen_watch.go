package diff

import (
	"github.com/zkafka/zkafka/jute"
)

var watchScenarios = []Scenario{
	{"watch/exists-on-missing", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c.Exists(r.P("w"), true)
		c2.Create(r.P("w"), "", persistent, nil)
		c.Flush()
		c2.Set(r.P("w"), "x", -1) // one-shot: nothing more
		c.Flush()
		c.Exists(r.P("w"), true)
		c2.Delete(r.P("w"), -1)
		c.Flush()
	}},
	{"watch/getdata-one-shot", func(r *R, c *Client) {
		c.Create(r.P("d"), "0", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("d"), true)
		c.Set(r.P("d"), "1", -1)
		c.Set(r.P("d"), "2", -1)
		c2.Flush()
		c2.Get(r.P("d"), true)
		c.Delete(r.P("d"), -1)
		c2.Flush()
	}},
	{"watch/getdata-nonode-sets-no-watch", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Get(r.P("n"), true)
		c2.Children(r.P("n"), true)
		c2.Children2(r.P("n"), true)
		c.Create(r.P("n"), "", persistent, nil)
		c.Create(r.P("n/k"), "", persistent, nil)
		c2.Flush()
	}},
	{"watch/own-change-event-before-reply", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c.Get(r.P("d"), true)
		c.Set(r.P("d"), "x", -1) // the event arrives before this reply
		c.Children(r.P("d"), true)
		c.Create(r.P("d/k"), "", persistent, nil)
		c.Exists(r.P("d/k"), true)
		c.Delete(r.P("d/k"), -1)
	}},
	{"watch/child-create-delete", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Children(r.P("p"), true)
		c.Create(r.P("p/a"), "", persistent, nil)
		c.Create(r.P("p/b"), "", persistent, nil)
		c2.Flush()
		c2.Children2(r.P("p"), true)
		c.Set(r.P("p/a"), "child data change", -1)
		c.Set(r.P("p"), "own data change", -1)
		c2.Flush()
		c.Delete(r.P("p/a"), -1)
		c2.Flush()
	}},
	{"watch/child-watch-on-deleted-node", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Children(r.P("p"), true)
		c.Delete(r.P("p"), -1)
		c2.Flush()
		c2.Children(r.Root(), true)
		c.Create(r.P("p"), "", persistent, nil)
		c2.Flush()
	}},
	{"watch/data-and-child-same-path", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("p"), true)
		c2.Children(r.P("p"), true)
		c2.Exists(r.P("p"), true)
		c.Set(r.P("p"), "x", -1)
		c2.Flush()
		c2.Get(r.P("p"), true)
		c.Delete(r.P("p"), -1)
		c2.Flush()
	}},
	{"watch/delete-fires-both-kinds", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("p/k"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("p/k"), true)
		c2.Children(r.P("p/k"), true)
		c2.Children(r.P("p"), true)
		c2.Exists(r.P("p"), true)
		c.Delete(r.P("p/k"), -1)
		c2.Flush()
		c.Delete(r.P("p"), -1)
		c2.Flush()
	}},
	{"watch/registered-twice-fires-once", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("d"), true)
		c2.Get(r.P("d"), true)
		c2.Exists(r.P("d"), true)
		c.Set(r.P("d"), "1", -1)
		c2.Flush()
	}},
	{"watch/many-sessions", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c2 := r.Connect("c2")
		c3 := r.Connect("c3")
		c2.Get(r.P("d"), true)
		c3.Exists(r.P("d"), true)
		c3.Children(r.P("d"), true)
		c.Create(r.P("d/k"), "", persistent, nil)
		c.Set(r.P("d"), "x", -1)
		c2.Flush()
		c3.Flush()
	}},
	{"watch/failed-ops-no-trigger", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("d"), true)
		c2.Children(r.P("d"), true)
		c.Set(r.P("d"), "x", 42)
		c.Create(r.P("d"), "", persistent, nil)
		c.Delete(r.P("d"), 9)
		c.SetACL(r.P("d"), jute.OpenACLUnsafe, -1)
		c2.Flush()
		c.Multi(MCreate(r.P("d/k"), "", persistent), MCheck(r.P("d"), 99))
		c2.Flush()
	}},
	{"watch/multi-triggers", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("d"), true)
		c2.Children(r.P("d"), true)
		c2.Exists(r.P("n"), true)
		c.Multi(MCreate(r.P("d/k"), "", persistent), MSet(r.P("d"), "x", -1), MCreate(r.P("n"), "", persistent))
		c2.Flush()
	}},
	{"watch/acl-filtered-delivery", func(r *R, c *Client) {
		c.AddAuth("digest", "owner:pw")
		c.Create(r.P("d"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("d"), true)
		c2.Children(r.P("d"), true)
		c.SetACL(r.P("d"), []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: DigestID("owner", "pw")}}}, -1)
		c.Set(r.P("d"), "secret", -1)
		c.Create(r.P("d/k"), "", persistent, nil)
		c2.Flush()
		c2.Get(r.P("d"), true)
	}},
	{"watch/addwatch-persistent", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.AddWatch(r.P("p"), jute.AddWatchPersistent)
		c.Set(r.P("p"), "1", -1)
		c.Set(r.P("p"), "2", -1)
		c.Create(r.P("p/k"), "", persistent, nil)
		c.Set(r.P("p/k"), "child", -1)
		c.Create(r.P("p/k/g"), "", persistent, nil)
		c.Delete(r.P("p/k/g"), -1)
		c.Delete(r.P("p/k"), -1)
		c.Delete(r.P("p"), -1)
		c.Create(r.P("p"), "", persistent, nil)
		c2.Flush()
		c2.AddWatch(r.P("missing"), jute.AddWatchPersistent)
		c.Create(r.P("missing"), "", persistent, nil)
		c2.Flush()
	}},
	{"watch/addwatch-recursive", func(r *R, c *Client) {
		c.Create(r.P("r"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.AddWatch(r.P("r"), jute.AddWatchPersistentRecursive)
		c.Create(r.P("r/a"), "", persistent, nil)
		c.Create(r.P("r/a/b"), "", persistent, nil)
		c.Set(r.P("r/a/b"), "x", -1)
		c.Set(r.P("r"), "y", -1)
		c.Create(r.P("rr"), "", persistent, nil) // sibling with a common prefix: no event
		c.Delete(r.P("r/a/b"), -1)
		c.Delete(r.P("r/a"), -1)
		c2.Flush()
		c2.Get(r.P("r"), true) // a one-shot watch on the same path as well
		c.Set(r.P("r"), "z", -1)
		c2.Flush()
	}},
	{"watch/addwatch-bad-args", func(r *R, c *Client) {
		c.AddWatch(r.P("x"), 2)
		c.AddWatch(r.P("x"), -1)
		c.AddWatch("bad", jute.AddWatchPersistent)
		c.AddWatch("/", jute.AddWatchPersistentRecursive)
		c.Create(r.P("x"), "", persistent, nil)
		c.Flush()
		c.RemoveWatches("/", jute.WatcherAny)
		c.Create(r.P("y"), "", persistent, nil)
		c.Flush()
	}},
	{"watch/check-watches", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c.CheckWatches(r.P("d"), jute.WatcherData)
		c.CheckWatches(r.P("d"), jute.WatcherChildren)
		c.CheckWatches(r.P("d"), jute.WatcherAny)
		c.Get(r.P("d"), true)
		c.CheckWatches(r.P("d"), jute.WatcherData)
		c.CheckWatches(r.P("d"), jute.WatcherChildren)
		c.CheckWatches(r.P("d"), jute.WatcherAny)
		c.Children(r.P("d"), true)
		c.CheckWatches(r.P("d"), jute.WatcherChildren)
		c.Exists(r.P("missing"), true)
		c.CheckWatches(r.P("missing"), jute.WatcherData)
		c.CheckWatches(r.P("d"), 9)
		c.CheckWatches(r.P("nope"), jute.WatcherAny)
	}},
	{"watch/remove-watches", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c.Get(r.P("d"), true)
		c.Children(r.P("d"), true)
		c.RemoveWatches(r.P("d"), jute.WatcherData)
		c.RemoveWatches(r.P("d"), jute.WatcherData)
		c.Set(r.P("d"), "x", -1)
		c.Create(r.P("d/k"), "", persistent, nil)
		c.Children(r.P("d"), true)
		c.Get(r.P("d"), true)
		c.RemoveWatches(r.P("d"), jute.WatcherAny)
		c.RemoveWatches(r.P("d"), jute.WatcherAny)
		c.Delete(r.P("d/k"), -1)
		c.Flush()
		c.RemoveWatches(r.P("nope"), jute.WatcherChildren)
	}},
	{"watch/remove-persistent", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c.AddWatch(r.P("d"), jute.AddWatchPersistent)
		c.CheckWatches(r.P("d"), jute.WatcherData)
		c.CheckWatches(r.P("d"), jute.WatcherChildren)
		c.RemoveWatches(r.P("d"), jute.WatcherData)
		c.Set(r.P("d"), "x", -1)
		c.Create(r.P("d/k"), "", persistent, nil)
		c.RemoveWatches(r.P("d"), jute.WatcherAny)
		c.Set(r.P("d"), "y", -1)
		c.AddWatch(r.P("d"), jute.AddWatchPersistentRecursive)
		c.CheckWatches(r.P("d"), jute.WatcherAny)
		c.RemoveWatches(r.P("d"), jute.WatcherAny)
		c.Set(r.P("d/k"), "z", -1)
		c.Flush()
	}},
	{"watch/remove-other-session", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("d"), true)
		c.RemoveWatches(r.P("d"), jute.WatcherData) // c has none
		c.Set(r.P("d"), "x", -1)
		c2.Flush()
	}},
}
