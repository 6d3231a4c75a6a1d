package diff

import (
	"github.com/zkafka/zkafka/jute"
)

func ipACL(p int32, id string) jute.ACL { return acl(p, "ip", id) }

var acl2Scenarios = []Scenario{
	{"acl/ip-prefixes", func(r *R, c *Client) {
		// The client connects from 127.0.0.1.
		for i, id := range []string{"127.0.0.1/8", "127.0.0.0/16", "127.0.0.0/24", "127.0.0.0/31", "127.0.0.1/32",
			"127.0.0.2/32", "127.0.0.2/31", "127.255.255.255/8", "0.0.0.0/0", "128.0.0.1/1", "126.0.0.1/8",
			"127.0.0.1/33", "127.0.0.1/-1", "127.0.0.1/", "/8", "127.0.0/8", "127.0.0.1.5", "::1", "0:0:0:0:0:0:0:1"} {
			n := r.P("n" + string(rune('a'+i)))
			if _, code := c.Create(n, "v", persistent, aclList(ipACL(jute.PermAll, id))); code == 0 {
				c.Get(n, false)
				c.GetACL(n)
			}
		}
	}},
	{"acl/ip-perm-mix", func(r *R, c *Client) {
		c.Create(r.P("m"), "", persistent, aclList(ipACL(jute.PermRead, "127.0.0.0/8"), ipACL(jute.PermWrite, "127.0.0.1"),
			ipACL(jute.PermAll, "10.0.0.0/8")))
		c.Get(r.P("m"), false)
		c.Set(r.P("m"), "w", -1)
		c.Create(r.P("m/k"), "", persistent, nil)
		c.GetACL(r.P("m"))
		c.SetACL(r.P("m"), jute.OpenACLUnsafe, -1)
		c.Delete(r.P("m"), -1)
	}},
	{"acl/super-bypass-every-op", func(r *R, c *Client) {
		c.Create(r.P("lock"), "v", persistent, aclList(world(0)))
		c.Create(r.P("par"), "", persistent, nil)
		c.Create(r.P("par/kid"), "", persistent, nil)
		c.SetACL(r.P("par"), aclList(world(0)), -1)
		s := r.Connect("su")
		s.AddAuth("digest", "super:test")
		s.Get(r.P("lock"), true)
		s.Exists(r.P("lock"), true)
		s.Children(r.P("lock"), true)
		s.Children2(r.P("lock"), false)
		s.GetACL(r.P("lock"))
		s.Set(r.P("lock"), "w", -1)
		s.Create(r.P("lock/k"), "", persistent, nil)
		s.Create2(r.P("lock/s-"), "", pseq, nil)
		s.CreateContainer(r.P("lock/box"), "", jute.ModeContainer)
		s.CreateTTL(r.P("lock/ttl"), "", jute.ModePersistentWithTTL, 60000)
		s.Create(r.P("lock/e"), "", ephemeral, nil)
		s.Delete(r.P("par/kid"), -1)
		s.Multi(MSet(r.P("lock"), "m", -1), MCheck(r.P("lock"), 2), MDelete(r.P("lock/k"), -1), MDelete(r.P("lock/box"), -1), MDelete(r.P("lock/ttl"), -1))
		s.MultiRead(MGet(r.P("lock")), MChildren(r.P("lock")))
		s.AddWatch(r.P("lock"), jute.AddWatchPersistent)
		s.AllChildrenNumber(r.P("lock"))
		s.GetEphemerals(r.P("lock"))
		s.Sync(r.P("lock"))
		s.SetACL(r.P("lock"), aclList(world(jute.PermRead)), -1)
		s.GetACL(r.P("lock"))
		s.Flush()
		// A plain session still cannot.
		c.Get(r.P("lock/e"), false)
		c.Delete(r.P("lock/s-0000000001"), -1)
	}},
	{"acl/world-variants", func(r *R, c *Client) {
		for i, a := range []jute.ACL{world(jute.PermRead | jute.PermWrite), world(jute.PermCreate | jute.PermDelete),
			world(jute.PermAdmin), acl(jute.PermAll, "world", "Anyone"), acl(jute.PermAll, "world", ""),
			acl(jute.PermAll, "World", "anyone"), world(jute.PermAll | 64)} {
			n := r.P("w" + string(rune('a'+i)))
			if _, code := c.Create(n, "d", persistent, aclList(a)); code == 0 {
				c.Get(n, false)
				c.Set(n, "x", -1)
				c.Create(n+"/k", "", persistent, nil)
				c.Delete(n+"/k", -1)
				c.GetACL(n)
			}
		}
	}},
	{"acl/auth-expansion-several-digests", func(r *R, c *Client) {
		c.AddAuth("digest", "u1:p1")
		c.AddAuth("digest", "u2:p2")
		c.AddAuth("digest", "u3:p3")
		c.AddAuth("digest", "u1:p1")
		c.Create(r.P("a"), "", persistent, jute.CreatorAllACL)
		c.GetACL(r.P("a"))
		c.Create(r.P("b"), "", persistent, aclList(acl(jute.PermRead, "auth", ""), acl(jute.PermWrite, "digest", DigestID("u2", "p2"))))
		c.GetACL(r.P("b"))
		c.Create(r.P("c"), "", persistent, aclList(acl(jute.PermRead, "auth", "x"), acl(jute.PermAll, "auth", "y")))
		c.GetACL(r.P("c"))
		c2 := r.Connect("c2")
		c2.AddAuth("digest", "u3:p3")
		c2.Get(r.P("a"), false)
		c2.Set(r.P("a"), "by u3", -1)
		c2.Create(r.P("d"), "", persistent, aclList(acl(jute.PermAll, "auth", "")))
		c2.GetACL(r.P("d"))
		c2.WhoAmI()
		c.WhoAmI()
	}},
	{"acl/auth-without-identity", func(r *R, c *Client) {
		c.Create(r.P("x"), "", persistent, nil)
		c.SetACL(r.P("x"), jute.CreatorAllACL, -1)
		c.Create(r.P("y"), "", persistent, aclList(acl(jute.PermAll, "auth", ""), world(jute.PermRead)))
		c.Multi(MCreateACL(r.P("z"), "", persistent, jute.CreatorAllACL))
		c.GetACL(r.P("x"))
		c.Exists(r.P("y"), false)
	}},
	{"acl/setacl-aversion-rules", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, 0)
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, 1)
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, 1) // same ACL again still bumps aversion
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, 5)
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, -2)
		c.Set(r.P("a"), "data does not move aversion", -1)
		c.Children2(r.P(""), false)
		c.SetACL(r.P("a"), aclList(world(jute.PermRead)), 2)
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, 99) // no ADMIN: NoAuth or BadVersion first?
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, 3)
		c.SetACL(r.P("a"), []jute.ACL{}, 99)
		c.Exists(r.P("a"), false)
		c.Multi(MSet(r.P("a"), "", -1))
	}},
	{"acl/on-sequential-ephemeral-container-ttl", func(r *R, c *Client) {
		c.AddAuth("digest", "own:pw")
		d := acl(jute.PermAll, "digest", DigestID("own", "pw"))
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("p/s-"), "", pseq, aclList(d))
		c.Create(r.P("p/e-"), "", eseq, aclList(world(jute.PermRead), d))
		c.Create(r.P("p/e"), "", ephemeral, jute.CreatorAllACL)
		c.CreateContainerACL(r.P("p/box"), "", aclList(world(jute.PermRead|jute.PermCreate)))
		c.CreateTTLACL(r.P("p/ttl"), "", jute.ModePersistentWithTTL, 60000, jute.CreatorAllACL)
		c.CreateTTLACL(r.P("p/ttl2"), "", jute.ModePersistentSequentialWithTTL, 60000, []jute.ACL{})
		c.CreateContainerACL(r.P("p/box2"), "", aclList(acl(jute.PermAll, "auth", "")))
		for _, n := range []string{"p/s-0000000000", "p/e-0000000001", "p/e", "p/box", "p/ttl", "p/box2"} {
			c.GetACL(r.P(n))
		}
		c2 := r.Connect("c2")
		c2.Get(r.P("p/s-0000000000"), false)
		c2.Get(r.P("p/e-0000000001"), false)
		c2.Create(r.P("p/box/k"), "", persistent, nil)
		c2.Delete(r.P("p/box/k"), -1) // box grants c and r only
		c2.Get(r.P("p/ttl"), false)
		// box keeps k: emptying a used container, even inside one multi,
		// lets Apache's container manager (which reads the tree without
		// the apply's lock) see it empty and spend a zxid on a failing
		// deleteContainer. The TTL node goes before it can expire in a
		// later scenario.
		c.Multi(MDelete(r.P("p/box2"), -1), MDelete(r.P("p/ttl"), -1))
	}},
	{"acl/delete-uses-parent-acl", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, aclList(world(jute.PermAll&^jute.PermDelete)))
		c.Create(r.P("p/k"), "", persistent, aclList(world(jute.PermAll)))
		c.Delete(r.P("p/k"), -1)
		c.Delete(r.P("p/nope"), -1) // NoAuth before NoNode?
		c.Create(r.P("q"), "", persistent, aclList(world(jute.PermDelete|jute.PermCreate)))
		c.Create(r.P("q/k"), "", persistent, aclList(world(0)))
		c.Delete(r.P("q/k"), 7)
		c.Delete(r.P("q/k"), -1)
		c.Delete(r.P("q/nope"), -1)
	}},
	{"acl/digest-identity-forms", func(r *R, c *Client) {
		c.AddAuth("digest", "Alice:pw")
		c.AddAuth("digest", "u:p:w") // password with a colon
		c.AddAuth("digest", ":empty-user")
		c.AddAuth("digest", "empty-pass:")
		c.WhoAmI()
		c.Create(r.P("n"), "", persistent, jute.CreatorAllACL)
		c.GetACL(r.P("n"))
		c2 := r.Connect("c2")
		c2.AddAuth("digest", "alice:pw")
		c2.Get(r.P("n"), false)
		c2.AddAuth("digest", "u:p:w")
		c2.Get(r.P("n"), false)
	}},
	{"acl/getacl-without-read", func(r *R, c *Client) {
		c.Create(r.P("none"), "", persistent, aclList(world(0)))
		c.Create(r.P("admin"), "", persistent, aclList(world(jute.PermAdmin)))
		c.Create(r.P("write"), "", persistent, aclList(world(jute.PermWrite), acl(jute.PermAll, "digest", DigestID("x", "y"))))
		c.GetACL(r.P("none"))
		c.GetACL(r.P("admin"))
		c.GetACL(r.P("write"))
		c.Exists(r.P("none"), false)
		c.Children2(r.P("none"), false)
	}},
	{"acl/auth-scheme-with-only-ip-identity", func(r *R, c *Client) {
		c.Create(r.P("n"), "", persistent, aclList(ipACL(jute.PermAll, "10.0.0.1")))
		c2 := r.Connect("c2")
		c2.Get(r.P("n"), false)
		c2.Create(r.P("m"), "", persistent, aclList(acl(jute.PermAll, "auth", "")))
		c2.WhoAmI()
	}},
}
