package diff

import (
	"crypto/sha1"
	"encoding/base64"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// DigestID is the stored digest ACL id for user:password
// (user:base64(sha1("user:password"))).
func DigestID(user, password string) string {
	h := sha1.Sum([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(h[:])
}

func acl(perms int32, scheme, id string) jute.ACL {
	return jute.ACL{Perms: perms, ID: jute.Id{Scheme: scheme, ID: id}}
}

func aclList(a ...jute.ACL) []jute.ACL { return a }

var world = func(p int32) jute.ACL { return acl(p, "world", "anyone") }

var aclScenarios = []Scenario{
	{"acl/world-read-only", func(r *R, c *Client) {
		c.Create(r.P("ro"), "data", persistent, jute.ReadACLUnsafe)
		c.GetACL(r.P("ro"))
		c.Get(r.P("ro"), false)
		c.Set(r.P("ro"), "x", -1)
		c.Create(r.P("ro/kid"), "", persistent, nil)
		c.SetACL(r.P("ro"), jute.OpenACLUnsafe, -1)
		c.Delete(r.P("ro"), -1) // delete needs DELETE on the parent, not the node
		c.Exists(r.P("ro"), false)
	}},
	{"acl/perm-bits", func(r *R, c *Client) {
		for _, p := range []struct {
			name  string
			perms int32
		}{{"c", jute.PermCreate}, {"d", jute.PermDelete}, {"w", jute.PermWrite}, {"a", jute.PermAdmin}, {"none", 0}} {
			n := r.P(p.name)
			c.Create(n, "v", persistent, nil)
			c.Create(n+"/victim", "", persistent, nil)
			c.SetACL(n, aclList(world(p.perms)), -1)
			c.Get(n, false)
			c.Exists(n, false)
			c.Children(n, false)
			c.GetACL(n)
			c.Set(n, "w", -1)
			c.Create(n+"/new", "", persistent, nil)
			c.Delete(n+"/victim", -1)
			c.SetACL(n, jute.OpenACLUnsafe, -1)
		}
	}},
	{"acl/digest", func(r *R, c *Client) {
		id := DigestID("alice", "pw")
		c.AddAuth("digest", "alice:pw")
		c.Create(r.P("d"), "secret", persistent, aclList(acl(jute.PermAll, "digest", id)))
		c.Get(r.P("d"), false)
		c.GetACL(r.P("d"))
		c2 := r.Connect("c2")
		c2.Get(r.P("d"), false)
		c2.Exists(r.P("d"), false)
		c2.GetACL(r.P("d"))
		c2.AddAuth("digest", "alice:wrong")
		c2.Get(r.P("d"), false)
		c2.AddAuth("digest", "alice:pw")
		c2.Get(r.P("d"), false)
	}},
	{"acl/getacl-masking", func(r *R, c *Client) {
		id := DigestID("bob", "pw")
		c.AddAuth("digest", "bob:pw")
		c.Create(r.P("m"), "", persistent, aclList(acl(jute.PermRead, "world", "anyone"), acl(jute.PermAll, "digest", id)))
		c2 := r.Connect("c2")
		c2.GetACL(r.P("m")) // READ but no ADMIN: digest ids masked
		c.GetACL(r.P("m"))
		c.SetACL(r.P("m"), aclList(acl(jute.PermAdmin, "world", "anyone"), acl(jute.PermAll, "digest", id)), -1)
		c2.GetACL(r.P("m"))
		c.SetACL(r.P("m"), aclList(acl(jute.PermWrite, "world", "anyone"), acl(jute.PermAll, "digest", id)), -1)
		c2.GetACL(r.P("m"))
	}},
	{"acl/auth-scheme-expansion", func(r *R, c *Client) {
		c.Create(r.P("none"), "", persistent, jute.CreatorAllACL)
		c.AddAuth("digest", "carol:pw")
		c.AddAuth("digest", "dave:pw")
		c.Create(r.P("a"), "", persistent, jute.CreatorAllACL)
		c.GetACL(r.P("a"))
		c.Create(r.P("b"), "", persistent, aclList(acl(jute.PermRead, "auth", "ignored"), world(jute.PermRead)))
		c.GetACL(r.P("b"))
		c.SetACL(r.P("b"), jute.CreatorAllACL, -1)
		c.GetACL(r.P("b"))
		c2 := r.Connect("c2")
		c2.SetACL(r.P("b"), jute.CreatorAllACL, -1)
		c2.Get(r.P("a"), false)
	}},
	{"acl/invalid-acl", func(r *R, c *Client) {
		c.Create(r.P("empty"), "", persistent, []jute.ACL{})
		c.Create(r.P("unknown"), "", persistent, aclList(acl(jute.PermAll, "nosuch", "x")))
		c.Create(r.P("digest-no-colon"), "", persistent, aclList(acl(jute.PermAll, "digest", "justuser")))
		c.Create(r.P("digest-two-colons"), "", persistent, aclList(acl(jute.PermAll, "digest", "a:b:c")))
		c.Create(r.P("ip-bad"), "", persistent, aclList(acl(jute.PermAll, "ip", "not.an.ip")))
		c.Create(r.P("ip-badmask"), "", persistent, aclList(acl(jute.PermAll, "ip", "127.0.0.1/99")))
		c.Create(r.P("world-other"), "", persistent, aclList(acl(jute.PermAll, "world", "someone")))
		c.Create(r.P("super"), "", persistent, aclList(acl(jute.PermAll, "super", "")))
		c.Create(r.P("perms-big"), "", persistent, aclList(acl(0x7f, "world", "anyone")))
		c.GetACL(r.P("perms-big"))
		c.Create(r.P("perms-zero"), "", persistent, aclList(acl(0, "world", "anyone")))
		c.GetACL(r.P("perms-zero"))
		c.Create(r.P("dup"), "", persistent, aclList(world(jute.PermAll), world(jute.PermAll), world(jute.PermRead)))
		c.GetACL(r.P("dup"))
		c.Create(r.P("x"), "", persistent, nil)
		c.SetACL(r.P("x"), []jute.ACL{}, -1)
		c.SetACL(r.P("x"), aclList(acl(jute.PermAll, "nosuch", "x")), -1)
		c.Children(r.Root(), false)
	}},
	{"acl/ip", func(r *R, c *Client) {
		c.Create(r.P("lo"), "", persistent, aclList(acl(jute.PermAll, "ip", "127.0.0.1")))
		c.Get(r.P("lo"), false)
		c.GetACL(r.P("lo"))
		c.Create(r.P("net"), "", persistent, aclList(acl(jute.PermAll, "ip", "127.0.0.0/8")))
		c.Get(r.P("net"), false)
		c.Create(r.P("other"), "", persistent, aclList(acl(jute.PermAll, "ip", "10.1.2.3")))
		c.Get(r.P("other"), false)
		c.GetACL(r.P("other"))
		c.Create(r.P("othernet"), "", persistent, aclList(acl(jute.PermAll, "ip", "10.0.0.0/8"), acl(jute.PermRead, "ip", "127.0.0.1/32")))
		c.Get(r.P("othernet"), false)
		c.Set(r.P("othernet"), "", -1)
	}},
	{"acl/super-digest", func(r *R, c *Client) {
		c.AddAuth("digest", "owner:pw")
		c.Create(r.P("locked"), "v", persistent, aclList(acl(jute.PermAll, "digest", DigestID("owner", "pw"))))
		s := r.Connect("su")
		s.Get(r.P("locked"), false)
		s.AddAuth("digest", "super:test")
		s.Get(r.P("locked"), false)
		s.GetACL(r.P("locked"))
		s.Set(r.P("locked"), "overwritten", -1)
		s.Create(r.P("locked/kid"), "", persistent, nil)
		s.SetACL(r.P("locked"), jute.ReadACLUnsafe, -1)
		s.WhoAmI()
		s.Create(r.P("mine"), "", persistent, jute.CreatorAllACL)
		s.GetACL(r.P("mine"))
		s.Delete(r.P("locked/kid"), -1)
	}},
	{"acl/setacl-versions", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, 1)
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, 0)
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, 0)
		c.SetACL(r.P("a"), jute.ReadACLUnsafe, 1)
		c.SetACL(r.P("a"), jute.OpenACLUnsafe, -1)
		c.GetACL(r.P("a"))
		c.SetACL(r.P("nope"), jute.OpenACLUnsafe, -1)
		c.GetACL(r.P("nope"))
	}},
	{"acl/create-needs-parent-create-perm", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, aclList(world(jute.PermAll&^jute.PermCreate)))
		c.Create(r.P("p/k"), "", persistent, nil)
		c.Create(r.P("p/k"), "", ephemeral, nil)
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Create(r.P("p/missing/k"), "", persistent, nil)
		c.SetACL(r.P("p"), aclList(world(jute.PermCreate)), -1)
		c.Create(r.P("p/k"), "", persistent, nil)
		c.Create(r.P("p/k"), "", persistent, nil) // NodeExists vs NoAuth order
		c.Delete(r.P("p/k"), -1)
		c.Exists(r.P("p/k"), false)
	}},
	{"acl/auth-failed", func(r *R, c *Client) {
		c2 := r.Connect("c2")
		c2.AddAuth("nosuchscheme", "whatever")
		c2.WaitClosed(time.Second)
		c3 := c2.Reattach("c3")
		c3.Exists(r.Root(), false)
		c3.AddAuth("digest", "no-colon")
		c3.WaitClosed(time.Second)
		c4 := c3.Reattach("c4")
		c4.AddAuth("ip", "10.0.0.1")
		c4.WaitClosed(time.Second)
		c5 := c4.Reattach("c5")
		c5.AddAuth("world", "anyone")
		c5.WaitClosed(time.Second)
		c6 := c5.Reattach("c6")
		c6.Close()
	}},
}
