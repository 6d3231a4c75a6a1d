package diff

import (
	"strings"
)

// quotaPath is where a quota on target lives (Quotas.quotaPath).
func quotaPath(target string) string { return "/zookeeper/quota" + target }

// mkQuotaDirs creates /zookeeper/quota/<target> component by component, as
// zkCli's setquota does; existing components are fine.
func mkQuotaDirs(c *Client, target string) {
	p := "/zookeeper/quota"
	for _, comp := range strings.Split(strings.TrimPrefix(target, "/"), "/") {
		p += "/" + comp
		c.Create(p, "", persistent, nil)
	}
}

// setQuota creates the limits node then the stats node (zkCli's order).
func setQuota(c *Client, target, limits string) {
	mkQuotaDirs(c, target)
	c.Create(quotaPath(target)+"/zookeeper_limits", limits, persistent, nil)
	c.Create(quotaPath(target)+"/zookeeper_stats", "count=0,bytes=0", persistent, nil)
}

func getStats(c *Client, target string) {
	c.Get(quotaPath(target)+"/zookeeper_stats", false)
}

var quotaScenarios = []Scenario{
	{"quota/stats-track-create-set-delete", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "12345", persistent, nil)
		c.Create(q+"/a", "xy", persistent, nil)
		setQuota(c, q, "count=10,bytes=1000")
		getStats(c, q)
		c.Get(quotaPath(q)+"/zookeeper_limits", false)
		c.Create(q+"/b", "abc", persistent, nil)
		getStats(c, q)
		c.Create(q+"/b/c", "", persistent, nil)
		getStats(c, q)
		c.Set(q+"/a", "longer data", -1)
		getStats(c, q)
		c.Set(q, "", -1)
		getStats(c, q)
		c.Delete(q+"/b/c", -1)
		getStats(c, q)
		c.Delete(q+"/b", -1)
		getStats(c, q)
		c.Exists(quotaPath(q)+"/zookeeper_stats", false)
		c.Children2(quotaPath(q), false)
	}},
	{"quota/stats-node-before-limits", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "d", persistent, nil)
		c.Create(q+"/k", "dd", persistent, nil)
		mkQuotaDirs(c, q)
		c.Create(quotaPath(q)+"/zookeeper_stats", "count=0,bytes=0", persistent, nil)
		getStats(c, q)
		c.Create(q+"/k2", "ddd", persistent, nil)
		getStats(c, q)
		c.Create(quotaPath(q)+"/zookeeper_limits", "count=5,bytes=50", persistent, nil)
		c.Create(q+"/k3", "dddd", persistent, nil)
		getStats(c, q)
	}},
	{"quota/limits-without-stats", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "", persistent, nil)
		mkQuotaDirs(c, q)
		c.Create(quotaPath(q)+"/zookeeper_limits", "count=1,bytes=1", persistent, nil)
		c.Create(q+"/over", "way over the byte limit", persistent, nil)
		c.Create(q+"/over2", "", persistent, nil)
		c.Children2(quotaPath(q), false)
		c.Exists(q+"/over2", false)
	}},
	{"quota/nested-deepest-prefix-wins", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "", persistent, nil)
		c.Create(q+"/sub", "s", persistent, nil)
		setQuota(c, q, "count=100,bytes=-1")
		setQuota(c, q+"/sub", "count=-1,bytes=100")
		getStats(c, q)
		getStats(c, q+"/sub")
		c.Create(q+"/sub/x", "xxxx", persistent, nil)
		c.Create(q+"/y", "yy", persistent, nil)
		getStats(c, q)
		getStats(c, q+"/sub")
		c.Delete(q+"/sub/x", -1)
		getStats(c, q)
		getStats(c, q+"/sub")
	}},
	{"quota/delete-limits-stops-tracking", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "", persistent, nil)
		setQuota(c, q, "count=3,bytes=10")
		c.Create(q+"/a", "aa", persistent, nil)
		getStats(c, q)
		c.Delete(quotaPath(q)+"/zookeeper_limits", -1)
		c.Create(q+"/b", "bbb", persistent, nil)
		getStats(c, q)
		c.Create(quotaPath(q)+"/zookeeper_limits", "count=3,bytes=10", persistent, nil)
		c.Create(q+"/c", "c", persistent, nil)
		getStats(c, q)
	}},
	{"quota/set-limits-and-stats-data", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "", persistent, nil)
		setQuota(c, q, "count=2,bytes=20")
		c.Set(quotaPath(q)+"/zookeeper_limits", "count=-1,bytes=-1,countHardLimit=5,bytesHardLimit=-1", -1)
		c.Get(quotaPath(q)+"/zookeeper_limits", false)
		c.Set(quotaPath(q)+"/zookeeper_stats", "count=99,bytes=99", -1)
		getStats(c, q)
		c.Create(q+"/a", "a", persistent, nil)
		getStats(c, q)
		c.Set(quotaPath(q)+"/zookeeper_limits", "garbage", -1)
		c.Create(q+"/b", "b", persistent, nil)
		getStats(c, q)
		// Apache's mntr stops after its gauges while any limits node does not parse (its quota gauge sets throw):
		// leave a valid one for the scenarios after this one.
		c.Set(quotaPath(q)+"/zookeeper_limits", "count=2,bytes=20", -1)
	}},
	{"quota/ephemerals-and-session-close", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "", persistent, nil)
		setQuota(c, q, "count=10,bytes=100")
		c2 := r.Connect("c2")
		c2.Create(q+"/e1", "e", ephemeral, nil)
		c2.Create(q+"/e2-", "ee", eseq, nil)
		getStats(c, q)
		c2.Close()
		getStats(c, q)
	}},
	{"quota/multi-updates-stats", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "", persistent, nil)
		setQuota(c, q, "count=10,bytes=100")
		c.Multi(MCreate(q+"/a", "aaa", persistent), MCreate(q+"/b", "b", persistent), MSet(q, "root", -1), MDelete(q+"/b", -1))
		getStats(c, q)
		c.Multi(MCreate(q+"/c", "ccc", persistent), MCheck(q, 99))
		getStats(c, q)
	}},
	// The servers run with enforceQuota=true (serverConfig): hard limits refuse creates and setData.
	{"quota/enforced-hard-count-limit", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "ab", persistent, nil)
		setQuota(c, q, "count=-1,bytes=-1=;countHardLimit=3")
		c.Create(q+"/a", "", persistent, nil)
		c.Create(q+"/b", "", persistent, nil)
		c.Create(q+"/c", "", persistent, nil)                         // 4 > 3: QuotaExceeded
		c.Create(q+"/b", "", persistent, nil)                         // NodeExists comes first
		c.Create(q+"/b/c", "", persistent, nil)                       // the deepest quota above applies
		c.Create(q+"/s-", "", pseq, nil)                              // no sequence number used up
		c.Set(q+"/a", "data is fine", -1)                             // no count change
		c.Multi(MDelete(q+"/b", -1), MCreate(q+"/d", "", persistent)) // checked against the applied tree
		c.Multi(MCreate(q+"/e", "", persistent), MCreate(q+"/f", "", persistent))
		getStats(c, q)
		c.Delete(q+"/a", -1)
		c.Create(q+"/g", "", persistent, nil)
		getStats(c, q)
	}},
	{"quota/enforced-hard-byte-limit", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "ab", persistent, nil)
		setQuota(c, q, "count=-1,bytes=-1=;byteHardLimit=6")
		c.Create(q+"/a", "cd", persistent, nil)
		c.Create(q+"/b", "efg", persistent, nil) // 7 > 6
		c.Set(q+"/a", "cdefg", -1)               // 7 > 6
		c.Set(q+"/a", "cdef", -1)
		c.Set(q+"/a", "cdefgh", 7)    // the quota before the version
		c.Set(q+"/nope", "cdefgh", 7) // NoNode before the quota
		c.Set(q+"/a", "", -1)
		c.Create(q+"/b", "efg", persistent, nil)
		c.Multi(MSet(q+"/a", "xxxxxxxx", -1))
		getStats(c, q)
	}},
	{"quota/enforced-soft-limits-only-warn", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "", persistent, nil)
		setQuota(c, q, "count=1,bytes=1")
		c.Create(q+"/a", "way over", persistent, nil)
		c.Create(q+"/b", "", persistent, nil)
		getStats(c, q)
		c.Set(quotaPath(q)+"/zookeeper_limits", "count=1,bytes=1=;countHardLimit=-1;byteHardLimit=100", -1)
		c.Create(q+"/c", "", persistent, nil)
		c.Create(q+"/d", strings.Repeat("d", 100), persistent, nil)
		getStats(c, q)
	}},
	// A limits node that does not parse fails the checked request with MarshallingError (Apache's parser throws).
	// (Not a stats node: Apache's tree update parses it for every change below the quota, and a throw there stops
	// Apache's server.)
	{"quota/enforced-malformed-limits", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "", persistent, nil)
		setQuota(c, q, "count=5,bytes=50")
		c.Set(quotaPath(q)+"/zookeeper_limits", "count=abc", -1)
		c.Set(q, "", -1) // no change in size: nothing checked
		c.Set(q, "x", -1)
		c.Set(quotaPath(q)+"/zookeeper_limits", ",,;", -1) // no pairs: no limits
		c.Create(q+"/a", "", persistent, nil)
		c.Set(quotaPath(q)+"/zookeeper_limits", ",count=5", -1)
		c.Create(q+"/b", "", persistent, nil)
		c.Multi(MCreate(r.P("other"), "", persistent), MCreate(q+"/c", "", persistent))
		c.Exists(r.P("other"), false)
		c.Set(quotaPath(q)+"/zookeeper_limits", "count==5;bytes=+7=", -1)
		c.Create(q+"/d", "dd", persistent, nil)
		c.Create(q+"/e", "eeeeeeee", persistent, nil)
		getStats(c, q)
	}},
	{"quota/quota-node-stats-and-acl", func(r *R, c *Client) {
		q := r.P("q")
		c.Create(q, "", persistent, nil)
		setQuota(c, q, "count=10,bytes=100")
		c.Exists(quotaPath(q)+"/zookeeper_limits", false)
		c.Exists(quotaPath(q)+"/zookeeper_stats", false)
		c.GetACL(quotaPath(q) + "/zookeeper_stats")
		c.Create(q+"/a", "aaaa", persistent, nil)
		c.Exists(quotaPath(q)+"/zookeeper_stats", false) // data changed, version not
		c.AllChildrenNumber(quotaPath(q))
		c.Children("/zookeeper/quota"+r.Root(), false)
		c.Delete(quotaPath(q), -1)
	}},
}
