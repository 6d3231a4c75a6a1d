package diff

import (
	"strings"
	"time"

	"github.com/zkafka/zkafka/jute"
)

const (
	persistent = jute.ModePersistent
	ephemeral  = jute.ModeEphemeral
	pseq       = jute.ModePersistentSequential
	eseq       = jute.ModeEphemeralSequential
)

var createScenarios = []Scenario{
	{"create/persistent", func(r *R, c *Client) {
		c.Create(r.P("a"), "hello", persistent, nil)
		c.Get(r.P("a"), false)
		c.Exists(r.P("a"), false)
		c.Children(r.Root(), false)
		c.Exists(r.Root(), false)
		c.Create(r.P("a/b"), "", persistent, nil)
		c.Children2(r.P("a"), false)
	}},
	{"create/ephemeral", func(r *R, c *Client) {
		c.Create(r.P("e"), "x", ephemeral, nil)
		c.Exists(r.P("e"), false)
		c2 := r.Connect("c2")
		c2.Get(r.P("e"), false)
		c2.Create(r.P("e2"), "y", ephemeral, nil)
		c.Exists(r.P("e2"), false)
		c.GetEphemerals(r.Root())
		c2.GetEphemerals(r.Root())
	}},
	{"create/persistent-sequential", func(r *R, c *Client) {
		c.Create(r.P("q"), "", persistent, nil)
		for i := 0; i < 3; i++ {
			c.Create(r.P("q/n-"), "d", pseq, nil)
		}
		c.Create(r.P("q/"), "", pseq, nil)
		c.Create(r.P("q/x"), "", pseq, nil)
		c.Children2(r.P("q"), false)
	}},
	{"create/ephemeral-sequential", func(r *R, c *Client) {
		c.Create(r.P("q"), "", persistent, nil)
		c.Create(r.P("q/lock-"), "", eseq, nil)
		c.Create(r.P("q/lock-"), "", eseq, nil)
		c.Exists(r.P("q/lock-0000000001"), false)
		c.Children(r.P("q"), false)
		c.GetEphemerals(r.P("q"))
	}},
	{"create/create2-stats", func(r *R, c *Client) {
		c.Create2(r.P("a"), "v1", persistent, nil)
		c.Create2(r.P("a/b"), "", ephemeral, nil)
		c.Create2(r.P("a/s-"), "zz", pseq, nil)
		c.Exists(r.P("a"), false)
		c.Create2(r.P("a"), "again", persistent, nil)
		c.Create2(r.P("nope/x"), "", persistent, nil)
	}},
	{"create/node-exists-and-no-node", func(r *R, c *Client) {
		c.Create(r.P("a"), "", persistent, nil)
		c.Create(r.P("a"), "", persistent, nil)
		c.Create(r.P("a"), "", ephemeral, nil)
		c.Create(r.P("missing/child"), "", persistent, nil)
		c.Create(r.P("missing/child-"), "", pseq, nil)
		c.Create("/", "", persistent, nil)
	}},
	{"create/no-children-for-ephemerals", func(r *R, c *Client) {
		c.Create(r.P("e"), "", ephemeral, nil)
		c.Create(r.P("e/child"), "", persistent, nil)
		c.Create(r.P("e/child"), "", ephemeral, nil)
		c.Create(r.P("e/seq-"), "", pseq, nil)
		c.Create2(r.P("e/c2"), "", persistent, nil)
		c.Exists(r.P("e"), false)
	}},
	{"create/bad-flags", func(r *R, c *Client) {
		for _, f := range []int32{7, 8, -1, 100} {
			c.Create(r.P("f"), "", f, nil)
		}
		c.Create2(r.P("f"), "", 7, nil)
		c.Exists(r.P("f"), false)
	}},
	{"create/container-flags-via-create", func(r *R, c *Client) {
		// Flags 4/5/6 on the plain create opcode: the txn type follows the opcode.
		c.Create(r.P("c4"), "", jute.ModeContainer, nil)
		c.Exists(r.P("c4"), false)
		c.Create(r.P("t5"), "", jute.ModePersistentWithTTL, nil)
		c.Create(r.P("t6"), "", jute.ModePersistentSequentialWithTTL, nil)
		c.Create2(r.P("c2"), "", jute.ModeContainer, nil)
		c.Delete(r.P("c4"), -1)
		c.Delete(r.P("c2"), -1)
	}},
	{"create/container-lifecycle", func(r *R, c *Client) {
		c.CreateContainer(r.P("box"), "d", jute.ModeContainer)
		c.Exists(r.P("box"), false)
		c.Create(r.P("box/item"), "", persistent, nil)
		c.Exists(r.P("box"), true)
		c.Delete(r.P("box/item"), -1)
		// The container manager deletes the now-empty container.
		c.WaitEvents(1, 15*time.Second)
		c.Resync(300 * time.Millisecond)
		c.Exists(r.P("box"), false)
	}},
	{"create/container-never-used", func(r *R, c *Client) {
		c.CreateContainer(r.P("box"), "", jute.ModeContainer)
		r.Sleep(400 * time.Millisecond)
		c.Exists(r.P("box"), false)
		c.Create(r.P("box/e"), "", ephemeral, nil)
		c.Create(r.P("box/e/x"), "", persistent, nil)
		c.CreateContainer(r.P("box/inner"), "", jute.ModeContainer)
		c.Children2(r.P("box"), false)
		c.Delete(r.P("box/inner"), -1)
		// The watch goes on while box still has a child: once box is
		// empty the container manager may delete it at any moment.
		c.Exists(r.P("box"), true)
		c.Delete(r.P("box/e"), -1)
		c.WaitEvents(1, 15*time.Second)
		c.Resync(300 * time.Millisecond)
	}},
	{"create/container-bad-flags", func(r *R, c *Client) {
		c.CreateContainer(r.P("b0"), "", persistent)
		c.CreateContainer(r.P("b1"), "", ephemeral)
		c.CreateContainer(r.P("b2"), "", pseq)
		c.Exists(r.P("b0"), false)
	}},
	{"create/ttl-lifecycle", func(r *R, c *Client) {
		c.CreateTTL(r.P("t"), "ttl", jute.ModePersistentWithTTL, 1000)
		c.Exists(r.P("t"), true)
		c.WaitEvents(1, 15*time.Second)
		c.Resync(300 * time.Millisecond)
		c.Exists(r.P("t"), false)
	}},
	{"create/ttl-sequential", func(r *R, c *Client) {
		c.Create(r.P("q"), "", persistent, nil)
		c.CreateTTL(r.P("q/t-"), "", jute.ModePersistentSequentialWithTTL, 60000)
		c.CreateTTL(r.P("q/t-"), "", jute.ModePersistentSequentialWithTTL, 60000)
		c.Children2(r.P("q"), false)
		c.Exists(r.P("q/t-0000000001"), false)
		c.Delete(r.P("q/t-0000000000"), -1)
		c.Delete(r.P("q/t-0000000001"), -1)
	}},
	{"create/ttl-kept-with-children", func(r *R, c *Client) {
		c.CreateTTL(r.P("t"), "", jute.ModePersistentWithTTL, 600)
		c.Create(r.P("t/kid"), "", persistent, nil)
		r.Sleep(1000 * time.Millisecond)
		c.Exists(r.P("t"), true)
		c.Delete(r.P("t/kid"), -1)
		c.WaitEvents(1, 15*time.Second)
		c.Resync(300 * time.Millisecond)
	}},
	{"create/ttl-bad-args", func(r *R, c *Client) {
		c.CreateTTL(r.P("a"), "", jute.ModePersistentWithTTL, 0)
		c.CreateTTL(r.P("a"), "", jute.ModePersistentWithTTL, -5)
		c.CreateTTL(r.P("a"), "", jute.ModePersistentWithTTL, 1<<40)
		c.CreateTTL(r.P("a"), "", jute.ModePersistentWithTTL, 1<<40-1)
		c.Exists(r.P("a"), false)
		c.Delete(r.P("a"), -1)
		c.CreateTTL(r.P("b"), "", persistent, 1000)
		c.CreateTTL(r.P("b"), "", ephemeral, 1000)
		c.CreateTTL(r.P("b"), "", jute.ModeContainer, 1000)
		c.CreateTTL(r.P("b"), "", 9, 1000)
		c.CreateTTL(r.P("nope/b"), "", jute.ModePersistentWithTTL, 1000)
	}},
	{"create/data-null-vs-empty", func(r *R, c *Client) {
		c.CreateReq(&jute.CreateRequest{Path: r.P("null"), Data: nil, ACL: jute.OpenACLUnsafe})
		c.CreateReq(&jute.CreateRequest{Path: r.P("empty"), Data: []byte{}, ACL: jute.OpenACLUnsafe})
		c.Get(r.P("null"), false)
		c.Get(r.P("empty"), false)
		c.SetB(r.P("empty"), nil, -1)
		c.Get(r.P("empty"), false)
		c.SetB(r.P("null"), []byte{0, 1, 2, 0}, -1)
		c.Get(r.P("null"), false)
	}},
	{"create/large-data", func(r *R, c *Client) {
		big := strings.Repeat("0123456789abcdef", 32*1024) // 512 KiB
		c.Create(r.P("big"), big, persistent, nil)
		c.Get(r.P("big"), false)
		c.Set(r.P("big"), big+big[:100000], -1)
		c.Exists(r.P("big"), false)
	}},
	{"create/unicode-paths", func(r *R, c *Client) {
		c.Create(r.P("ü"), "ü", persistent, nil)
		c.Create(r.P("日本語"), "", persistent, nil)
		c.Create(r.P("emoji-😀"), "", persistent, nil)
		c.Create(r.P("sp ace"), "", persistent, nil)
		c.Create(r.P("\uE000"), "", persistent, nil)
		c.Create(r.P("\uFFF5"), "", persistent, nil)
		c.Create(r.P("\u0085"), "", persistent, nil)
		c.Create(r.P("\u00a0"), "", persistent, nil)
		c.Children(r.Root(), false)
	}},
	{"create/sequence-format-and-cversion", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("p/a"), "", persistent, nil)
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Create(r.P("p/b"), "", ephemeral, nil)
		c.Create(r.P("p/s-"), "", eseq, nil)
		c.Set(r.P("p"), "data does not move cversion", -1)
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Create(r.P("p/s-0000000006"), "", persistent, nil)
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Children2(r.P("p"), false)
	}},
	{"create/sequence-after-delete", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c.Exists(r.P("p"), false)
		c.Create(r.P("p/x"), "", persistent, nil)
		c.Exists(r.P("p"), false)
		c.Delete(r.P("p/x"), -1)
		c.Exists(r.P("p"), false)
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Exists(r.P("p"), false)
		c.Delete(r.P("p/s-0000000001"), -1)
		c.Delete(r.P("p/s-0000000002"), -1)
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Children2(r.P("p"), false)
	}},
	{"create/sequence-failed-creates", func(r *R, c *Client) {
		c.Create(r.P("p"), "", persistent, nil)
		c.Create(r.P("p/a"), "", persistent, nil)
		c.Create(r.P("p/a"), "", persistent, nil) // fails: does it move cversion?
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Multi(MCreate(r.P("p/m"), "", persistent), MCreate(r.P("p/a"), "", persistent))
		c.Create(r.P("p/s-"), "", pseq, nil)
		c.Children2(r.P("p"), false)
	}},
}
