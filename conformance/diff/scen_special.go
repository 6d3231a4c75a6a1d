package diff

import (
	"github.com/zkafka/zkafka/jute"
)

var specialScenarios = []Scenario{
	{"special/config-node-reads", func(r *R, c *Client) {
		c.Exists("/zookeeper/config", false)
		c.Get("/zookeeper/config", true)
		c.GetACL("/zookeeper/config")
		c.Children2("/zookeeper/config", false)
		c.AllChildrenNumber("/zookeeper/config")
		c.GetEphemerals("/zookeeper")
		c.Sync("/zookeeper/config")
		c.CheckWatches("/zookeeper/config", jute.WatcherData)
		c.MultiRead(MGet("/zookeeper/config"), MChildren("/zookeeper/config"))
	}},
	{"special/config-node-writes", func(r *R, c *Client) {
		c.Set("/zookeeper/config", "x", 99)
		c.SetACL("/zookeeper/config", jute.ReadACLUnsafe, 99)
		c.Delete("/zookeeper/config", 99)
		c.Create("/zookeeper/config/k", "", persistent, nil)
		c.Multi(MSet("/zookeeper/config", "x", -1))
		c.Multi(MCheck("/zookeeper/config", 0))
		c.Exists("/zookeeper/config", false)
	}},
	{"special/config-node-as-super", func(r *R, c *Client) {
		c.AddAuth("digest", "super:test")
		c.Set("/zookeeper/config", "x", 99)
		c.SetACL("/zookeeper/config", jute.ReadACLUnsafe, 99)
		c.Delete("/zookeeper/config", 99)
		createThenDelete(c, "/zookeeper/config/k", persistent)
		c.Exists("/zookeeper/config", false)
	}},
	{"special/zookeeper-node-ops", func(r *R, c *Client) {
		c.Exists("/zookeeper", false)
		c.Set("/zookeeper", "x", 5)
		c.SetACL("/zookeeper", jute.OpenACLUnsafe, 5)
		c.Delete("/zookeeper", 5)
		c.Delete("/zookeeper/quota", 5)
		c.Set("/zookeeper/quota", "x", 5)
		createThenDelete(c, "/zookeeper/", pseq)
		createThenDelete(c, "/zookeeper/quota/", pseq)
		createThenDelete(c, "/zookeeper/config/", pseq)
		c.Create("/zookeeper", "", ephemeral, nil)
		c.Multi(MCreate("/zookeeper/quota", "", persistent))
		c.Multi(MDelete("/zookeeper/config", -1))
		c.Exists("/zookeeper/quota", false)
	}},
	{"special/zookeeper-children-watch", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Children("/zookeeper/quota", true)
		n := "/zookeeper/quota" + r.Root()
		c.Create(n, "", persistent, nil)
		c2.Flush()
		c2.Get(n, true)
		c.Set(n, "q", -1)
		c2.Flush()
		c.Delete(n, -1)
		c2.Flush()
	}},
	{"special/root-node-ops", func(r *R, c *Client) {
		c.Set("/", "x", 1<<30)
		c.SetACL("/", jute.OpenACLUnsafe, 1<<30)
		c.Delete("/", 0)
		createThenDelete(c, "/", pseq)
		c.Create("", "", persistent, nil)
		c.Multi(MDelete("/", -1))
		c.CheckWatches("/", jute.WatcherAny)
		c.RemoveWatches("/", jute.WatcherData)
		c.ExistsCode("/")
	}},
}

// createThenDelete creates path and, when that worked, deletes what was
// created so that no node outlives the scenario outside its root.
func createThenDelete(c *Client, path string, flags int32) {
	if p, code := c.Create(path, "", flags, nil); code == 0 {
		c.Delete(p, -1)
	}
}
