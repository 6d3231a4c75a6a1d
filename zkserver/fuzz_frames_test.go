package zkserver

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// FuzzServerFrames (make fuzz) opens a session on a running server, sends it arbitrary bytes as its requests (size
// prefixes included, so framing is fuzzed too) and then requires a fresh session to be answered. The server runs
// in the fuzzing process: a panic anywhere in it fails the input.
func FuzzServerFrames(f *testing.F) {
	acl := jute.OpenACLUnsafe
	reqs := []struct {
		op  int32
		rec jute.Record
	}{
		{jute.OpCreate, &jute.CreateRequest{Path: "/a", Data: []byte("d"), ACL: acl}},
		{jute.OpCreate2, &jute.CreateRequest{Path: "/a/s-", Data: []byte("d"), ACL: acl, Flags: 3}},
		{jute.OpCreateContainer, &jute.CreateRequest{Path: "/c", ACL: acl, Flags: 4}},
		{jute.OpCreateTTL, &jute.CreateTTLRequest{Path: "/t", ACL: acl, Flags: 5, TTL: 100}},
		{jute.OpGetData, &jute.GetDataRequest{Path: "/a", Watch: true}},
		{jute.OpSetData, &jute.SetDataRequest{Path: "/a", Data: []byte("e"), Version: -1}},
		{jute.OpExists, &jute.ExistsRequest{Path: "/b", Watch: true}},
		{jute.OpGetChildren2, &jute.GetChildren2Request{Path: "/", Watch: true}},
		{jute.OpSetACL, &jute.SetACLRequest{Path: "/a", ACL: acl, Version: -1}},
		{jute.OpGetACL, &jute.GetACLRequest{Path: "/a"}},
		{jute.OpSync, &jute.SyncRequest{Path: "/"}},
		{jute.OpAddWatch, &jute.AddWatchRequest{Path: "/", Mode: 1}},
		{jute.OpRemoveWatches, &jute.RemoveWatchesRequest{Path: "/", Type: 3}},
		{jute.OpSetWatches, &jute.SetWatches{DataWatches: []string{"/a"}, ChildWatches: []string{"/"}}},
		{jute.OpGetAllChildrenNumber, &jute.GetAllChildrenNumberRequest{Path: "/"}},
		{jute.OpGetEphemerals, &jute.GetEphemeralsRequest{PrefixPath: "/"}},
		{jute.OpReconfig, &jute.ReconfigRequest{CurConfigID: -1}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.Op{
			{Type: jute.OpCreate, Rec: &jute.CreateRequest{Path: "/m", ACL: acl}},
			{Type: jute.OpCheck, Rec: &jute.CheckVersionRequest{Path: "/m", Version: 0}},
			{Type: jute.OpDelete, Rec: &jute.DeleteRequest{Path: "/m", Version: -1}},
		}}},
		{jute.OpDelete, &jute.DeleteRequest{Path: "/a", Version: -1}},
		{jute.OpWhoAmI, nil},
		{jute.OpPing, nil},
		{jute.OpCloseSession, nil},
	}
	var all []byte
	for i, r := range reqs {
		xid := int32(i + 1)
		if r.op == jute.OpPing {
			xid = -2
		}
		fr := requestBytes(xid, r.op, r.rec)
		f.Add(fr)
		all = append(all, fr...)
	}
	f.Add(all) // a whole session's worth, pipelined
	f.Add(requestBytes(-4, jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("u:p")}))

	s := startTestServer(f, f.TempDir())
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, frames []byte) {
		c := dialRaw(t, s)
		openSession(t, c)
		// Then end of input: the server answers what it takes, closes, or waits for the rest of a frame.
		_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
		_, _ = c.Write(frames)
		_ = c.(*net.TCPConn).CloseWrite()
		_, _ = io.Copy(io.Discard, c)
		c.Close()

		c2 := dialRaw(t, s)
		openSession(t, c2)
		if _, err := c2.Write(requestBytes(1, jute.OpExists, &jute.ExistsRequest{Path: "/"})); err != nil {
			t.Fatal(err)
		}
		var hdr jute.ReplyHeader
		if err := jute.Unmarshal(readFrame(t, c2)[:16], &hdr); err != nil || hdr.Xid != 1 || hdr.Err != 0 {
			t.Fatalf("exists / on a fresh session: %+v %v", hdr, err)
		}
	})
}
