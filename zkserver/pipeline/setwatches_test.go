package pipeline

import (
	"testing"

	"github.com/zkafka/zkafka/jute"
)

// A reconnecting client's setWatches fires at once for what changed, even on
// a node it may not read: Apache's DataTree.setWatches calls the
// connection's process(event) without the node's ACL, so only events of txns
// are filtered by READ.
func TestSetWatchesEventsIgnoreACL(t *testing.T) {
	p := startStandalone(t, nil)

	c, out, _ := connectNew(t, p, 10000)
	secret := []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "ip", ID: "10.1.2.3"}}}
	submit(p, c, 1, jute.OpCreate, &jute.CreateRequest{Path: "/s", ACL: secret})
	expectReply(t, out, 1, jute.ErrOK)

	c2, out2, _ := connectNew(t, p, 10000)
	submit(p, c2, jute.XidSetWatches, jute.OpSetWatches2, &jute.SetWatches2{RelativeZxid: 0,
		DataWatches: []string{"/s"}, ExistWatches: []string{"/s"}, ChildWatches: []string{"/s"}})
	var got []int32
	for range 3 {
		hdr, d := reply(t, out2.next(t))
		if hdr.Xid != jute.XidNotification {
			t.Fatalf("reply %+v before the events %v", hdr, got)
		}
		var ev jute.WatcherEvent
		ev.Decode(d)
		if ev.Path != "/s" {
			t.Fatalf("event %+v", ev)
		}
		got = append(got, ev.Type)
	}
	want := []int32{jute.EventNodeDataChanged, jute.EventNodeCreated, jute.EventNodeChildrenChanged}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	expectReply(t, out2, jute.XidSetWatches, jute.ErrOK)
}
