package diff

import (
	"fmt"

	"github.com/zkafka/zkafka/jute"
)

// everyOp is one multi covering every write op type, with op i replaced by
// a failing variant of itself when fail == i (fail < 0: all succeed).
func everyOp(r *R, base string, fail int) []jute.Op {
	p := func(s string) string { return r.P(base + "/" + s) }
	ops := []jute.Op{
		MCreate(p("c"), "c", persistent),
		MCreate2(p("c2"), "c2", persistent),
		MCreateContainer(p("box"), "b"),
		MCreateTTL(p("ttl"), "t", jute.ModePersistentWithTTL, 60000),
		MCreate(p("box/s-"), "", pseq),
		MSet(p("c"), "c'", 0),
		MCheck(p("c"), 1),
		MDelete(p("old"), 0),
		MCreate(p("eph"), "", ephemeral),
	}
	failing := []jute.Op{
		MCreate(p("old"), "", persistent),                                   // NodeExists
		MCreate2(p("nope/c2"), "", persistent),                              // NoNode
		MCreateContainer(p("old"), ""),                                      // NodeExists
		MCreateTTL(p("ttl"), "", jute.ModePersistentWithTTL, 0),             // BadArguments
		MCreate(p("old/k/s-"), "", pseq),                                    // NoNode
		MSet(p("c"), "", 7),                                                 // BadVersion
		MCheck(p("c"), 0),                                                   // BadVersion (already set)
		MDelete(p("notempty"), -1),                                          // NotEmpty
		MCreateACL(p("eph"), "", ephemeral, aclList(acl(31, "nosuch", ""))), // InvalidACL
	}
	if fail >= 0 {
		ops[fail] = failing[fail]
	}
	return ops
}

func multiFailScenario(from, to int) func(r *R, c *Client) {
	return func(r *R, c *Client) {
		for i := from; i < to; i++ {
			base := fmt.Sprintf("f%d", i)
			c.Create(r.P(base), "", persistent, nil)
			c.Create(r.P(base+"/old"), "", persistent, nil)
			c.Create(r.P(base+"/notempty"), "", persistent, nil)
			c.Create(r.P(base+"/notempty/k"), "", persistent, nil)
			c.Multi(everyOp(r, base, i)...)
			c.Children2(r.P(base), false)
		}
	}
}

var multi2Scenarios = []Scenario{
	{"multi2/every-op-type-success", func(r *R, c *Client) {
		c.Create(r.P("b"), "", persistent, nil)
		c.Create(r.P("b/old"), "", persistent, nil)
		c.Multi(everyOp(r, "b", -1)...)
		c.Children2(r.P("b"), false)
		c.Get(r.P("b/c"), false)
		c.Exists(r.P("b/ttl"), false)
		c.Exists(r.P("b/box"), false)
		c.Exists(r.P("b/eph"), false)
		// box keeps its child so the container manager never sees it
		// empty; the TTL node goes before it can expire.
		c.Delete(r.P("b/ttl"), -1)
	}},
	{"multi2/fail-at-each-position-0-4", multiFailScenario(0, 5)},
	{"multi2/fail-at-each-position-5-8", multiFailScenario(5, 9)},
	{"multi2/two-failures-first-reported", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.Multi(MCreate(r.P("x"), "", persistent), MSet(r.P("a"), "", 5), MDelete(r.P("nope"), -1), MCreate(r.P("a"), "", persistent))
		c.Multi(MCheck(r.P("nope"), 0), MCheck(r.P("a"), 9))
		c.Multi(MCreate(r.P("a"), "", 99), MCreate(r.P("y"), "", persistent))
		c.Exists(r.P("x"), false)
	}},
	{"multi2/bad-path-in-multi", func(r *R, c *Client) {
		c.Multi(MCreate(r.P("ok"), "", persistent), MCreate("bad", "", persistent))
		c.Multi(MCreate(r.P("ok"), "", persistent), MSet("/x/", "", -1))
		c.Multi(MCreate(r.P("ok"), "", persistent), MDelete("", -1))
		c.Multi(MCreate(r.P("ok"), "", persistent), MCheck("//", -1))
		c.Exists(r.P("ok"), false)
	}},
	{"multi2/ttl-and-container-bad-flags", func(r *R, c *Client) {
		c.Multi(MCreateTTL(r.P("t"), "", persistent, 1000))
		c.Multi(MCreateTTL(r.P("t"), "", jute.ModePersistentWithTTL, -1))
		c.Multi(jute.Op{Type: jute.OpCreateContainer, Rec: &jute.CreateRequest{Path: r.P("b"), ACL: jute.OpenACLUnsafe, Flags: persistent}})
		c.Multi(MCreate(r.P("c"), "", jute.ModeContainer), MCreate(r.P("t2"), "", jute.ModePersistentWithTTL))
		c.Exists(r.P("c"), false)
	}},
}
