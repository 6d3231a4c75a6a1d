package diff

import (
	"github.com/zkafka/zkafka/jute"
)

var multiScenarios = []Scenario{
	{"multi/success", func(r *R, c *Client) {
		c.Create(r.P("gone"), "", persistent, nil)
		c.Multi(
			MCreate(r.P("a"), "1", persistent),
			MCreate2(r.P("b"), "2", persistent),
			MCreate(r.P("a/s-"), "", pseq),
			MSet(r.P("a"), "11", 0),
			MCheck(r.P("a"), 1),
			MDelete(r.P("gone"), -1),
			MCreate(r.P("e"), "", ephemeral),
		)
		c.Children2(r.Root(), false)
		c.Get(r.P("a"), false)
	}},
	{"multi/failure-rollback", func(r *R, c *Client) {
		c.Create(r.P("x"), "orig", persistent, nil)
		c.Multi(
			MCreate(r.P("new"), "", persistent),
			MSet(r.P("x"), "changed", -1),
			MCreate(r.P("x"), "", persistent),
			MDelete(r.P("x"), -1),
			MCreate(r.P("new2"), "", persistent),
		)
		c.Get(r.P("x"), false)
		c.Exists(r.P("new"), false)
		c.Children2(r.Root(), false)
	}},
	{"multi/check-version", func(r *R, c *Client) {
		c.Create(r.P("v"), "", persistent, nil)
		c.Multi(MCheck(r.P("v"), 0), MSet(r.P("v"), "a", -1))
		c.Multi(MCheck(r.P("v"), 0), MSet(r.P("v"), "b", -1))
		c.Multi(MCheck(r.P("nope"), -1))
		c.Multi(MCheck(r.P("v"), -1))
		c.Get(r.P("v"), false)
	}},
	{"multi/failure-error-kinds", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("p/k"), "", persistent, nil)
		c.Create(r.P("eph"), "", ephemeral, nil)
		c.Multi(MDelete(r.P("p"), -1))
		c.Multi(MCreate(r.P("eph/k"), "", persistent))
		c.Multi(MCreate(r.P("bad/"), "", persistent))
		c.Multi(MCreate(r.P("none/k"), "", persistent))
		c.Multi(MSet(r.P("p"), "", 5))
		c.Multi(MCreate(r.P("f"), "", 42))
		c.Multi(MDelete(r.P("p/k"), -1), MDelete(r.P("p"), -1), MDelete(r.P("p"), -1))
		c.Children2(r.P("p"), false)
	}},
	{"multi/ops-see-earlier-ops", func(r *R, c *Client) {
		c.Multi(
			MCreate(r.P("a"), "", persistent),
			MCreate(r.P("a/b"), "", persistent),
			MSet(r.P("a/b"), "x", 0),
			MCheck(r.P("a/b"), 1),
			MDelete(r.P("a/b"), 1),
			MCreate(r.P("a/b"), "again", persistent),
		)
		c.Get(r.P("a/b"), false)
		c.Exists(r.P("a"), false)
	}},
	{"multi/create-variants", func(r *R, c *Client) {
		c.Multi(
			MCreate2(r.P("c2"), "x", persistent),
			MCreateContainer(r.P("box"), ""),
			MCreate(r.P("box/k"), "", persistent),
			MCreateTTL(r.P("ttl"), "", jute.ModePersistentWithTTL, 60000),
			MCreate2(r.P("s-"), "", pseq),
		)
		c.Exists(r.P("box"), false)
		c.Exists(r.P("ttl"), false)
		c.Multi(MCreateTTL(r.P("ttl2"), "", persistent, 100))
		c.Delete(r.P("ttl"), -1)
	}},
	{"multi/empty", func(r *R, c *Client) {
		c.Multi()
		c.MultiRead()
		c.Exists(r.Root(), false)
	}},
	{"multi/read", func(r *R, c *Client) {
		c.Create(r.P("a"), "A", persistent, nil)
		c.Create(r.P("a/k"), "", persistent, nil)
		c.MultiRead(MGet(r.P("a")), MChildren(r.P("a")), MGet(r.P("missing")), MChildren(r.P("missing")), MGet(r.P("a/k")))
		c.Create(r.P("locked"), "", persistent, aclList(acl(jute.PermAll, "ip", "10.9.9.9")))
		c.MultiRead(MGet(r.P("locked")), MChildren(r.P("locked")), MGet(r.P("a")))
	}},
	{"multi/read-write-mixed", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.Multi(MCreate(r.P("b"), "", persistent), MGet(r.P("a")))
		c.MultiRead(MGet(r.P("a")), MCreate(r.P("c"), "", persistent))
		c.MultiRead(MCheck(r.P("a"), 0))
		c.Children(r.Root(), false)
	}},
	{"multi/acl-failure", func(r *R, c *Client) {
		c.Create(r.P("ro"), "", persistent, jute.ReadACLUnsafe)
		c.Multi(MCreate(r.P("ok"), "", persistent), MSet(r.P("ro"), "x", -1))
		c.Multi(MCreate(r.P("ro/k"), "", persistent))
		c.Multi(MCheck(r.P("ro"), 0))
		c.Exists(r.P("ok"), false)
	}},
	{"multi/ephemeral-parent-in-same-multi", func(r *R, c *Client) {
		c.Multi(MCreate(r.P("e"), "", ephemeral), MCreate(r.P("e/k"), "", persistent))
		c.Multi(MCreate(r.P("e"), "", ephemeral), MCreate(r.P("e"), "", ephemeral))
		c.Multi(MCreate(r.P("q"), "", persistent), MCreate(r.P("q/s-"), "", pseq), MCreate(r.P("q/s-"), "", pseq), MDelete(r.P("q/s-0000000000"), -1), MCreate(r.P("q/s-"), "", pseq))
		c.Children2(r.P("q"), false)
	}},
}
