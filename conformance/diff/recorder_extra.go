package diff

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/jute"
)

// Watcher types of checkWatches/removeWatches beyond jute's constants
// (ZooDefs... WatcherType.Persistent / PersistentRecursive in 3.6+).
const (
	watcherPersistent          int32 = 4
	watcherPersistentRecursive int32 = 5
)

// CreateContainerACL sends createContainer(19) with an explicit ACL.
func (cl *Client) CreateContainerACL(path, d string, acl []jute.ACL) (string, jute.Err) {
	return cl.create2(jute.OpCreateContainer, &jute.CreateRequest{Path: path, Data: []byte(d), ACL: acl, Flags: jute.ModeContainer})
}

// CreateTTLACL sends createTTL(21) with an explicit ACL.
func (cl *Client) CreateTTLACL(path, d string, flags int32, ttl int64, acl []jute.ACL) (string, jute.Err) {
	req := &jute.CreateTTLRequest{Path: path, Data: []byte(d), ACL: acl, Flags: flags, TTL: ttl}
	var resp jute.Create2Response
	desc := fmt.Sprintf("createTTL %q data=%s flags=%d ttl=%d acl=%s", path, data(req.Data), flags, ttl, acls(acl))
	code := cl.call(jute.OpCreateTTL, req, &resp, desc, func() string { return "path=" + resp.Path + " stat=" + cl.r.n.stat(&resp.Stat) })
	return resp.Path, code
}

// MCreateACL is a create op for Multi with an explicit ACL.
func MCreateACL(path, d string, flags int32, acl []jute.ACL) jute.Op {
	return jute.Op{Type: jute.OpCreate, Rec: &jute.CreateRequest{Path: path, Data: []byte(d), ACL: acl, Flags: flags}}
}

// quiet sends a request without logging it; ok is false when no reply came.
func (cl *Client) quiet(op int32, req, resp jute.Record) (jute.Err, bool) {
	if cl.c == nil || cl.dead {
		return jute.ErrConnectionLoss, false
	}
	ctx, cancel := context.WithTimeout(cl.r.ctx, OpTimeout)
	defer cancel()
	res, err := cl.c.Do(ctx, op, req, resp)
	if err != nil {
		return jute.ErrConnectionLoss, false
	}
	return jute.Err(res.Hdr.Err), true
}

// walkCount counts the nodes below path (path itself excluded) with
// unlogged getChildren calls; -1 when the walk failed.
func (cl *Client) walkCount(path string) int {
	n := 0
	stack := []string{path}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var resp jute.GetChildrenResponse
		code, ok := cl.quiet(jute.OpGetChildren, &jute.GetChildrenRequest{Path: p}, &resp)
		if !ok {
			return -1
		}
		// NoNode: deleted meanwhile (expired TTL, container); NoAuth: no
		// READ, so its subtree is not counted (the same on every server).
		if code == jute.ErrNoNode || code == jute.ErrNoAuth {
			continue
		}
		if code != 0 {
			return -1
		}
		for _, ch := range resp.Children {
			n++
			if p == "/" {
				stack = append(stack, "/"+ch)
			} else {
				stack = append(stack, p+"/"+ch)
			}
		}
	}
	return n
}

// AllChildrenNumberVsWalk sends getAllChildrenNumber(path) and logs the
// answer relative to a client-side walk of the tree: the absolute count of
// "/" depends on every earlier scenario, the difference does not.
func (cl *Client) AllChildrenNumberVsWalk(path string) {
	desc := fmt.Sprintf("getAllChildrenNumber %q (minus walked count)", path)
	walked := cl.walkCount(path)
	var resp jute.GetAllChildrenNumberResponse
	code, ok := cl.quiet(jute.OpGetAllChildrenNumber, &jute.GetAllChildrenNumberRequest{Path: path}, &resp)
	switch {
	case walked < 0 || !ok:
		cl.r.add(fmt.Sprintf("%s: %s -> FAILED walk=%d ok=%v", cl.label, desc, walked, ok))
	case code != 0:
		cl.r.add(fmt.Sprintf("%s: %s -> %s", cl.label, desc, errName(int32(code))))
	default:
		cl.r.add(fmt.Sprintf("%s: %s -> OK total-walked=%d", cl.label, desc, int(resp.TotalNumber)-walked))
	}
}

// FourLetter sends a four-letter word on a fresh connection and returns the
// reply text and how the exchange ended ("closed" or "error").
func (r *R) FourLetter(word string) (string, string) {
	out, err := harness.FourLetter(r.ctx, r.addr, word)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return out, "timeout"
		}
		return out, "error"
	}
	return out, "closed"
}

// FourLetterLog sends word and logs show(reply) line by line (nil show logs
// the reply verbatim).
func (r *R) FourLetterLog(word string, show func(out string) []string) {
	out, end := r.FourLetter(word)
	var lines []string
	if show == nil {
		lines = strings.Split(strings.TrimRight(out, "\n"), "\n")
		if out == "" {
			lines = nil
		}
	} else {
		lines = show(out)
	}
	if show == nil {
		r.add(fmt.Sprintf("4lw %s -> %d bytes, %s", word, len(out), end))
	} else {
		r.add(fmt.Sprintf("4lw %s -> empty=%v, %s", word, out == "", end))
	}
	for _, l := range lines {
		r.add(fmt.Sprintf("4lw %s | %s", word, l))
	}
}

// FourLetterLogStable is FourLetterLog for words whose output includes the
// tree's size and zxid: it retries until no txn (a session of an earlier
// scenario expiring, say) landed between the word and what show reads after
// it, since such a txn would show on one server and not the other.
func (r *R) FourLetterLogStable(c *Client, word string, show func(out string) []string) {
	zxid := func() int64 {
		ctx, cancel := context.WithTimeout(r.ctx, OpTimeout)
		defer cancel()
		res, err := c.c.DoXid(ctx, 0, jute.OpExists, &jute.ExistsRequest{Path: "/"})
		if err != nil {
			return -1
		}
		return res.Hdr.Zxid
	}
	for try := 0; ; try++ {
		before := zxid()
		out, end := r.FourLetter(word)
		lines := show(out)
		if after := zxid(); (after == before && after >= 0) || try == 4 {
			r.add(fmt.Sprintf("4lw %s -> empty=%v, %s", word, out == "", end))
			for _, l := range lines {
				r.add(fmt.Sprintf("4lw %s | %s", word, l))
			}
			return
		}
	}
}

var sessionHex = regexp.MustCompile(`0x[0-9a-fA-F]+`)

// maskSessions replaces session ids of this scenario by their labels and
// any other hex id by "0x?".
func (r *R) maskSessions(s string) string {
	return sessionHex.ReplaceAllStringFunc(s, func(h string) string {
		var id uint64
		if _, err := fmt.Sscanf(h, "0x%x", &id); err == nil {
			if l, ok := r.n.sessions[int64(id)]; ok {
				return l
			}
		}
		return "0x?"
	})
}

// groupedSorted parses "header\n\titem\n..." text (wchc, wchp, dump's
// ephemerals) into sorted "header: item item" lines with sessions masked.
func (r *R) groupedSorted(text string) []string {
	groups := map[string][]string{}
	var order []string
	cur := ""
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if strings.HasPrefix(l, "\t") {
			groups[cur] = append(groups[cur], r.maskSessions(strings.TrimSpace(l)))
			continue
		}
		cur = r.maskSessions(strings.TrimSpace(l))
		if _, ok := groups[cur]; !ok {
			order = append(order, cur)
			groups[cur] = nil
		}
	}
	sort.Strings(order)
	out := make([]string, 0, len(order))
	for _, h := range order {
		items := groups[h]
		sort.Strings(items)
		out = append(out, h+" "+strings.Join(items, " "))
	}
	return out
}

// RawReq is one request of a RawPipeline.
type RawReq struct {
	Xid, Op int32
	Req     jute.Record
}

// RawPipeline opens a session by hand, writes every request in one go (no
// waiting for replies) and logs each frame the server sends until it closes
// the connection or nothing arrives for idle. Replies to closeSession mark
// the session closed for cleanup.
func (r *R) RawPipeline(label string, idle time.Duration, reqs ...RawReq) {
	ctx, cancel := context.WithTimeout(r.ctx, OpTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		r.broken = fmt.Errorf("%s: dial: %w", label, err)
		r.add(label + ": connect -> FAILED")
		return
	}
	defer nc.Close()
	e := jute.Encoder{Buf: make([]byte, 4, 64)}
	(&jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}).Encode(&e)
	binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))
	_ = nc.SetDeadline(time.Now().Add(OpTimeout))
	if _, err := nc.Write(e.Buf); err != nil {
		r.add(label + ": connect -> write error")
		return
	}
	fr, err := readRawFrame(nc)
	if err != nil {
		r.add(label + ": connect -> no reply")
		return
	}
	var cr jute.ConnectResponse
	cdec := jute.NewDecoder(fr) // a trailing readOnly byte may follow
	cr.Decode(cdec)
	if cdec.Err() != nil {
		r.add(fmt.Sprintf("%s: connect -> undecodable %v", label, cdec.Err()))
		return
	}
	sid := cr.SessionID
	if _, ok := r.n.sessions[sid]; !ok {
		r.n.sessions[sid] = fmt.Sprintf("S%d", len(r.n.sessions)+1)
	}
	r.live[sid] = cr.Passwd
	r.add(fmt.Sprintf("%s: raw connect -> session=%s timeout=%d", label, r.n.sessions[sid], cr.TimeOut))

	var out []byte
	closeXids := map[int32]bool{}
	descs := make([]string, len(reqs))
	for i, q := range reqs {
		enc := jute.Encoder{Buf: make([]byte, 4, 64)}
		(&jute.RequestHeader{Xid: q.Xid, Type: q.Op}).Encode(&enc)
		if q.Req != nil {
			q.Req.Encode(&enc)
		}
		binary.BigEndian.PutUint32(enc.Buf, uint32(len(enc.Buf)-4))
		out = append(out, enc.Buf...)
		if q.Op == jute.OpCloseSession {
			closeXids[q.Xid] = true
		}
		descs[i] = fmt.Sprintf("xid=%d %s", q.Xid, opName(q.Op))
	}
	if _, err := nc.Write(out); err != nil {
		r.add(label + ": write -> error")
		return
	}
	r.add(fmt.Sprintf("%s: pipelined [%s]", label, strings.Join(descs, " | ")))
	for {
		_ = nc.SetReadDeadline(time.Now().Add(idle))
		fr, err := readRawFrame(nc)
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				r.add(label + ": no more replies (connection open)")
			default:
				r.add(label + ": connection closed by server")
			}
			return
		}
		dec := jute.NewDecoder(fr)
		var hdr jute.ReplyHeader
		hdr.Decode(dec)
		if dec.Err() != nil {
			r.add(label + ": undecodable reply header")
			return
		}
		r.n.observe(hdr.Zxid)
		if hdr.Xid == jute.XidNotification {
			var ev jute.WatcherEvent
			ev.Decode(dec)
			r.add(fmt.Sprintf("%s: event %s %s %q zxid=%s", label, eventName(ev.Type), stateName(ev.State), ev.Path, r.n.zx(hdr.Zxid)))
			continue
		}
		if closeXids[hdr.Xid] && hdr.Err == 0 {
			delete(r.live, sid)
		}
		r.add(fmt.Sprintf("%s: reply xid=%d %s %s zxid=%s", label, hdr.Xid, errName(hdr.Err), rawBody(dec.Rest()), r.n.zx(hdr.Zxid)))
	}
}

func readRawFrame(rd io.Reader) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(rd, lb[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(lb[:]))
	if n < 0 || n > 64<<20 {
		return nil, fmt.Errorf("bad frame length %d", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rd, b); err != nil {
		return nil, err
	}
	return b, nil
}
