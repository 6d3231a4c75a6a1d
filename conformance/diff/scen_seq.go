package diff

import (
	"fmt"

	"github.com/zkafka/zkafka/jute"
)

var seqScenarios = []Scenario{
	{"seq/after-many-deletes", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		var ops []jute.Op
		for i := 0; i < 20; i++ {
			ops = append(ops, MCreate(r.P(fmt.Sprintf("p/n%02d", i)), "", persistent))
		}
		c.Multi(ops...)
		ops = ops[:0]
		for i := 0; i < 20; i++ {
			ops = append(ops, MDelete(r.P(fmt.Sprintf("p/n%02d", i)), -1))
		}
		c.Multi(ops...)
		c.Exists(r.P("p"), false)
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Create(r.P("p/s-"), "", eseq, nil)
		c.Delete(r.P("p/s-0000000040"), -1)
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Children2(r.P("p"), false)
	}},
	{"seq/numbering-with-interleaved-deletes", func(r *R, c *Client) {
		c.Create(r.P("q"), "", persistent, nil)
		for i := 0; i < 12; i++ {
			p, code := c.Create(r.P("q/x-"), "", pseq, nil)
			if code == 0 && i%2 == 0 {
				c.Delete(p, -1)
			}
		}
		c.Children2(r.P("q"), false)
	}},
	{"seq/under-container", func(r *R, c *Client) {
		c.CreateContainer(r.P("box"), "", jute.ModeContainer)
		c.Create(r.P("box/s-"), "", pseq, nil)
		c.Create(r.P("box/s-"), "", eseq, nil)
		c.CreateTTL(r.P("box/t-"), "", jute.ModePersistentSequentialWithTTL, 60000)
		c.Children2(r.P("box"), false)
		c.Exists(r.P("box"), false)
		// box keeps its persistent child, so the container manager never
		// sees it empty (not even midway through a multi that would
		// remove it); the ephemeral and TTL children would leave later.
		c.Multi(MDelete(r.P("box/s-0000000001"), -1), MDelete(r.P("box/t-0000000002"), -1))
	}},
	{"seq/name-forms", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("p/"), "", eseq, nil)
		c.Create(r.P("p/with space "), "", pseq, nil)
		c.Create(r.P("p/ü-"), "", pseq, nil)
		c.Create(r.P("p/0000000003"), "", persistent, nil)
		c.Create(r.P("p/"), "", pseq, nil) // would be 0000000004
		c.Create(r.P("p/00000000"), "", pseq, nil)
		c.Create(r.P("p/0000000006"), "", pseq, nil)
		c.Children2(r.P("p"), false)
	}},
	{"seq/in-multi-after-failed-multi", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c.Multi(MCreate(r.P("p/s-"), "", pseq), MCreate(r.P("p/s-"), "", pseq), MCheck(r.P("p"), 42))
		c.Multi(MCreate(r.P("p/s-"), "", pseq), MCreate(r.P("p/s-"), "", eseq), MCreate2(r.P("p/s-"), "", pseq))
		c.Children2(r.P("p"), false)
	}},
}
