package diff

import (
	"github.com/zkafka/zkafka/jute"
)

var watch2Scenarios = []Scenario{
	{"watch2/persistent-and-oneshot-same-path", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.AddWatch(r.P("p"), jute.AddWatchPersistent)
		c2.Get(r.P("p"), true)
		c2.Children(r.P("p"), true)
		c.Set(r.P("p"), "1", -1)
		c2.Flush()
		c.Create(r.P("p/k"), "", persistent, nil)
		c2.Flush()
		c.Set(r.P("p"), "2", -1)
		c2.Flush()
		c2.Exists(r.P("p"), true)
		c.Delete(r.P("p/k"), -1)
		c.Delete(r.P("p"), -1)
		c2.Flush()
		c2.CheckWatches(r.P("p"), jute.WatcherData)
		c2.CheckWatches(r.P("p"), watcherPersistent)
	}},
	{"watch2/recursive-deep-tree-deletes", func(r *R, c *Client) {
		c.Create(r.P("t"), "", persistent, nil)
		c.Create(r.P("t/a"), "", persistent, nil)
		c.Create(r.P("t/a/b"), "", persistent, nil)
		c.Create(r.P("t/a/b/c"), "", persistent, nil)
		c.Create(r.P("t/a/b/c/d"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.AddWatch(r.P("t/a"), jute.AddWatchPersistentRecursive)
		c3 := r.Connect("c3")
		c3.AddWatch(r.P("t"), jute.AddWatchPersistentRecursive)
		c.Set(r.P("t/a/b/c/d"), "deep", -1)
		c.Delete(r.P("t/a/b/c/d"), -1)
		c.Delete(r.P("t/a/b/c"), -1)
		c.Delete(r.P("t/a/b"), -1)
		c.Delete(r.P("t/a"), -1)
		c2.Flush()
		c3.Flush()
		c.Create(r.P("t/a"), "back", persistent, nil)
		c.Create(r.P("t/a/x"), "", ephemeral, nil)
		c.Create(r.P("t/a/s-"), "", pseq, nil)
		c2.Flush()
		c3.Flush()
	}},
	{"watch2/data-and-child-then-delete", func(r *R, c *Client) {
		c.Create(r.P("n"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("n"), true)
		c2.Children2(r.P("n"), true)
		c3 := r.Connect("c3")
		c3.Children(r.P("n"), true)
		c4 := r.Connect("c4")
		c4.Exists(r.P("n"), true)
		c.Delete(r.P("n"), -1)
		c2.Flush()
		c3.Flush()
		c4.Flush()
		c2.CheckWatches(r.P("n"), jute.WatcherAny)
	}},
	{"watch2/exists-then-create-by-other-sessions", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c3 := r.Connect("c3")
		c2.Exists(r.P("e"), true)
		c3.Exists(r.P("e"), true)
		c4 := r.Connect("c4")
		c4.Create(r.P("e"), "", ephemeral, nil)
		c2.Flush()
		c3.Flush()
		c2.Exists(r.P("e"), true)
		c4.Close()
		c2.Flush()
		c3.Flush()
	}},
	{"watch2/multi-fires-each-kind", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.Create(r.P("b"), "", persistent, nil)
		c.Create(r.P("b/k"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Get(r.P("a"), true)
		c2.Children(r.P("b"), true)
		c2.Exists(r.P("b/k"), true)
		c2.Exists(r.P("c"), true)
		c2.AddWatch(r.P("x"), jute.AddWatchPersistent)
		c.Multi(MSet(r.P("a"), "1", -1), MDelete(r.P("b/k"), -1), MCreate(r.P("c"), "", persistent),
			MCreate(r.P("x"), "", persistent), MDelete(r.P("x"), -1), MCheck(r.P("a"), 1))
		c2.Flush()
		c.Multi(MCreate(r.P("x"), "", persistent), MSet(r.P("x"), "y", -1), MCheck(r.P("x"), 0))
		c2.Flush()
	}},
	{"watch2/ephemerals-deleted-at-close", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Create(r.P("p/e1"), "", ephemeral, nil)
		c2.Create(r.P("p/e2"), "", ephemeral, nil)
		c3 := r.Connect("c3")
		c3.AddWatch(r.P("p"), jute.AddWatchPersistentRecursive)
		c4 := r.Connect("c4")
		c4.Get(r.P("p/e1"), true)
		c4.Exists(r.P("p/e2"), true)
		c4.Children(r.P("p"), true)
		c2.Close()
		c3.FlushSorted()
		c4.FlushSorted()
	}},
	{"watch2/persistent-watcher-loses-read", func(r *R, c *Client) {
		c.AddAuth("digest", "own:pw")
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("p/k"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.AddWatch(r.P("p"), jute.AddWatchPersistentRecursive)
		c2.AddWatch(r.P("p/k"), jute.AddWatchPersistent)
		c.SetACL(r.P("p/k"), aclList(acl(jute.PermAll, "digest", DigestID("own", "pw"))), -1)
		c.Set(r.P("p/k"), "hidden", -1)
		c.Create(r.P("p/k/g"), "", persistent, nil)
		c.Delete(r.P("p/k/g"), -1)
		c2.Flush()
		c.Delete(r.P("p/k"), -1)
		c2.Flush()
	}},
	{"watch2/set-watches-relative-zxid", func(r *R, c *Client) {
		c.Create(r.P("d"), "0", persistent, nil)
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("gone"), "", persistent, nil)
		before := c.LastZxid()
		c.Set(r.P("d"), "1", -1)
		c.Create(r.P("p/k"), "", persistent, nil)
		c.Create(r.P("born"), "", persistent, nil)
		c.Delete(r.P("gone"), -1)
		after := c.LastZxid()
		// Watches as of before the changes: each fires at once.
		c2 := r.Connect("c2")
		c2.SetWatches(&jute.SetWatches{RelativeZxid: before,
			DataWatches: []string{r.P("d"), r.P("gone")}, ExistWatches: []string{r.P("born")}, ChildWatches: []string{r.P("p")}})
		c2.Flush()
		// As of after them: nothing fires until the next change.
		c3 := r.Connect("c3")
		c3.SetWatches(&jute.SetWatches{RelativeZxid: after,
			DataWatches: []string{r.P("d"), r.P("gone")}, ExistWatches: []string{r.P("born"), r.P("never")}, ChildWatches: []string{r.P("p")}})
		c3.Flush()
		c.Set(r.P("d"), "2", -1)
		c.Create(r.P("p/k2"), "", persistent, nil)
		c.Delete(r.P("born"), -1)
		c.Create(r.P("never"), "", persistent, nil)
		c3.Flush()
		c2.Flush()
	}},
	{"watch2/set-watches2-relative-zxid", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.Create(r.P("t"), "", persistent, nil)
		before := c.LastZxid()
		c.Set(r.P("a"), "1", -1)
		c.Create(r.P("t/x"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.SetWatches2(&jute.SetWatches2{RelativeZxid: before,
			DataWatches:                []string{r.P("a")},
			PersistentWatches:          []string{r.P("a"), r.P("missing")},
			PersistentRecursiveWatches: []string{r.P("t")}})
		c2.Flush()
		c.Set(r.P("a"), "2", -1)
		c.Create(r.P("t/x/y"), "", persistent, nil)
		c.Create(r.P("missing"), "", persistent, nil)
		c2.Flush()
		c2.CheckWatches(r.P("t"), watcherPersistentRecursive)
		c2.CheckWatches(r.P("missing"), watcherPersistent)
	}},
	{"watch2/remove-watches-each-type", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		for _, typ := range []int32{jute.WatcherChildren, jute.WatcherData, jute.WatcherAny, watcherPersistent, watcherPersistentRecursive, 6, 0} {
			c.Get(r.P("d"), true)
			c.Children(r.P("d"), true)
			c.AddWatch(r.P("d"), jute.AddWatchPersistent)
			c.AddWatch(r.P("d"), jute.AddWatchPersistentRecursive)
			c.RemoveWatches(r.P("d"), typ)
			for _, chk := range []int32{jute.WatcherChildren, jute.WatcherData, watcherPersistent, watcherPersistentRecursive} {
				c.CheckWatches(r.P("d"), chk)
			}
			c.RemoveWatches(r.P("d"), jute.WatcherAny)
		}
		c.Set(r.P("d"), "no watchers left", -1)
		c.Flush()
	}},
	{"watch2/remove-persistent-type-only", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c.AddWatch(r.P("d"), jute.AddWatchPersistent)
		c.RemoveWatches(r.P("d"), watcherPersistentRecursive)
		c.RemoveWatches(r.P("d"), watcherPersistent)
		c.RemoveWatches(r.P("d"), watcherPersistent)
		c.AddWatch(r.P("d"), jute.AddWatchPersistentRecursive)
		c.RemoveWatches(r.P("d"), watcherPersistent)
		c.RemoveWatches(r.P("d"), watcherPersistentRecursive)
		c.Set(r.P("d"), "x", -1)
		c.Flush()
	}},
	{"watch2/check-watches-persistent", func(r *R, c *Client) {
		c.Create(r.P("d"), "", persistent, nil)
		c.AddWatch(r.P("d"), jute.AddWatchPersistent)
		for _, t := range []int32{jute.WatcherChildren, jute.WatcherData, jute.WatcherAny, watcherPersistent, watcherPersistentRecursive} {
			c.CheckWatches(r.P("d"), t)
		}
		c.AddWatch(r.P("d"), jute.AddWatchPersistentRecursive)
		for _, t := range []int32{jute.WatcherChildren, jute.WatcherData, jute.WatcherAny, watcherPersistent, watcherPersistentRecursive} {
			c.CheckWatches(r.P("d"), t)
		}
		c.CheckWatches(r.P("d/below"), jute.WatcherAny)
		c2 := r.Connect("c2")
		c2.CheckWatches(r.P("d"), watcherPersistent)
	}},
	{"watch2/addwatch-missing-path", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.AddWatch(r.P("a/b/c"), jute.AddWatchPersistentRecursive)
		c2.AddWatch(r.P("a"), jute.AddWatchPersistent)
		c2.CheckWatches(r.P("a/b/c"), watcherPersistentRecursive)
		c.Create(r.P("a"), "", persistent, nil)
		c.Create(r.P("a/b"), "", persistent, nil)
		c.Create(r.P("a/b/c"), "", persistent, nil)
		c.Create(r.P("a/b/c/d"), "", persistent, nil)
		c2.Flush()
		c.Delete(r.P("a/b/c/d"), -1)
		c.Delete(r.P("a/b/c"), -1)
		c2.Flush()
	}},
	{"watch2/children2-and-exists-on-existing", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.Children2(r.P("p"), true)
		c2.Exists(r.P("p"), true)
		c.Create(r.P("p/s-"), "", eseq, nil)
		c2.Flush()
		c.Set(r.P("p"), "x", -1)
		c2.Flush()
		c2.Children2(r.P("p"), true)
		c.Delete(r.P("p/s-0000000000"), -1)
		c2.Flush()
	}},
	{"watch2/persistent-survives-delete-recreate", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.AddWatch(r.P("n"), jute.AddWatchPersistent)
		for i := 0; i < 3; i++ {
			c.Create(r.P("n"), "", persistent, nil)
			c.Set(r.P("n"), "v", -1)
			c.Delete(r.P("n"), -1)
		}
		c2.Flush()
		c2.CheckWatches(r.P("n"), watcherPersistent)
	}},
	{"watch2/recursive-and-child-watch-combined", func(r *R, c *Client) {
		c.Create(r.P("r"), "", persistent, nil)
		c2 := r.Connect("c2")
		c2.AddWatch(r.P("r"), jute.AddWatchPersistentRecursive)
		c2.Children(r.P("r"), true)
		c2.Get(r.P("r"), true)
		c.Create(r.P("r/k"), "", persistent, nil) // recursive sends no NodeChildrenChanged; the one-shot does
		c.Set(r.P("r"), "x", -1)
		c.Create(r.P("r/k2"), "", persistent, nil)
		c2.Flush()
	}},
}
