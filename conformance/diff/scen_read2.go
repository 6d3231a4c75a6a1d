package diff

import (
	"fmt"

	"github.com/zkafka/zkafka/jute"
)

var read2Scenarios = []Scenario{
	{"read2/get-ephemerals-prefixes", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.Create(r.P("a/e"), "", ephemeral, nil)
		c.Create(r.P("ab"), "", ephemeral, nil)
		c2 := r.Connect("c2")
		c2.Create(r.P("a/f"), "", ephemeral, nil)
		c2.Create(r.P("abc"), "", ephemeral, nil)
		for _, p := range []string{r.P("a"), r.P("a/"), r.P("ab"), r.P("abc"), r.P("a/e"), r.P("a/e/"), r.Root() + "/", r.Root(),
			"/s", "  " + r.P("a"), r.P("a") + " ", "noslash", r.P("zzz")} {
			c.GetEphemerals(p)
			c2.GetEphemerals(p)
		}
	}},
	{"read2/get-ephemerals-after-close-and-delete", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.Create(r.P("e1"), "", ephemeral, nil)
		c2.Create(r.P("e2-"), "", eseq, nil)
		c2.Delete(r.P("e1"), -1)
		c2.GetEphemerals(r.Root())
		c3 := c2.Reattach("c2b")
		c3.GetEphemerals(r.Root())
		c3.Create(r.P("e3"), "", ephemeral, nil)
		c3.GetEphemerals(r.Root())
		c.Delete(r.P("e3"), -1)
		c3.GetEphemerals(r.Root())
	}},
	{"read2/all-children-number-deep", func(r *R, c *Client) {
		var ops []jute.Op
		ops = append(ops, MCreate(r.P("t"), "", persistent))
		for i := 0; i < 3; i++ {
			a := r.P(fmt.Sprintf("t/%d", i))
			ops = append(ops, MCreate(a, "", persistent))
			for j := 0; j < 3; j++ {
				b := fmt.Sprintf("%s/%d", a, j)
				ops = append(ops, MCreate(b, "", persistent))
				for k := 0; k < 2; k++ {
					ops = append(ops, MCreate(fmt.Sprintf("%s/%d", b, k), "", persistent))
				}
			}
		}
		c.Multi(ops...)
		c.AllChildrenNumber(r.P("t"))
		c.AllChildrenNumber(r.P("t/1"))
		c.AllChildrenNumber(r.P("t/1/2"))
		c.AllChildrenNumber(r.P("t/1/2/0"))
		c.Delete(r.P("t/1/2/0"), -1)
		c.Delete(r.P("t/1/2/1"), -1)
		c.AllChildrenNumber(r.P("t"))
		c.AllChildrenNumber(r.P("t/"))
		c.AllChildrenNumber(r.P("t/1/2/0"))
		c.AllChildrenNumberVsWalk(r.P("t"))
	}},
	{"read2/all-children-number-root", func(r *R, c *Client) {
		c.AddAuth("digest", "super:test") // the walk must see every node
		c.AllChildrenNumberVsWalk("/")
		c.AllChildrenNumberVsWalk("/zookeeper")
		c.AllChildrenNumber("/zookeeper/quota" + r.Root())
		c.AllChildrenNumberVsWalk("")
		c.AllChildrenNumber(r.P("x") + "/")
	}},
	{"read2/multiread-errors-per-op", func(r *R, c *Client) {
		c.Create(r.P("a"), "A", persistent, nil)
		c.Create(r.P("e"), "", ephemeral, nil)
		c.Create(r.P("noread"), "", persistent, aclList(world(jute.PermAll&^jute.PermRead)))
		c.Create(r.P("noread/k"), "", persistent, nil)
		c.MultiRead(MGet(r.P("a")), MGet(r.P("noread")), MChildren(r.P("noread")), MGet(r.P("noread/k")),
			MChildren(r.P("e")), MGet(r.P("missing")), MChildren(r.P("a")))
		c.MultiRead(MGet("bad"), MGet(r.P("a")))
		c.MultiRead(MChildren(r.P("a/")), MGet(r.P("a")))
		c.MultiRead(MGet("/zookeeper/config"), MChildren("/zookeeper"))
	}},
	{"read2/multiread-watch-flags-ignored", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.MultiRead(jute.Op{Type: jute.OpGetData, Rec: &jute.GetDataRequest{Path: r.P("a"), Watch: true}},
			jute.Op{Type: jute.OpGetChildren, Rec: &jute.GetChildrenRequest{Path: r.P("a"), Watch: true}})
		c.CheckWatches(r.P("a"), jute.WatcherAny)
		c.Set(r.P("a"), "x", -1)
		c.Create(r.P("a/k"), "", persistent, nil)
		c.Flush()
	}},
}
