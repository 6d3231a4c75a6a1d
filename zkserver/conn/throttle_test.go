package conn

import (
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/pipeline"
)

// listen serves a standalone processor in a temporary directory on 127.0.0.1 with cfg.
func listen(t *testing.T, cfg Config) (*Listener, *pipeline.Processor) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "version-2")
	p, err := pipeline.New(pipeline.Config{ServerID: 1, TickTime: 2000, MinSessionTimeout: 4000,
		MaxSessionTimeout: 40000, SnapDir: dir, LogDir: dir}, func(err error) { t.Errorf("fatal: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	cfg.Addr = "127.0.0.1:0"
	l, err := Listen(cfg, p)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	go l.Serve()
	t.Cleanup(func() { l.Close(); p.Close() })
	return l, p
}

// frameOf is a size-prefixed frame of a request header and a record, either one optional.
func frameOf(hdr *jute.RequestHeader, rec jute.Record) []byte {
	e := jute.Encoder{Buf: make([]byte, 4, 64)}
	if hdr != nil {
		hdr.Encode(&e)
	}
	if rec != nil {
		rec.Encode(&e)
	}
	binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))
	return e.Buf
}

func readReply(t *testing.T, c net.Conn) []byte {
	t.Helper()
	var sz [4]byte
	if _, err := io.ReadFull(c, sz[:]); err != nil {
		t.Fatalf("read: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint32(sz[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

// A throttled connection reads its next request only once its outstanding ones are answered
// (incrOutstandingAndCheckThrottle / decrOutstandingAndCheckThrottle): however many the client pipelines, the server
// never holds more than one of them.
func TestThrottledConnectionReadsOneRequestAtATime(t *testing.T) {
	for _, over := range []bool{true, false} {
		var most atomic.Int64
		l, _ := listen(t, Config{Throttle: func(n int64) bool {
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			return over && n > 0
		}})
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Write(frameOf(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})); err != nil {
			t.Fatal(err)
		}
		readReply(t, c)
		const n = 2000
		var batch []byte
		for i := 1; i <= n; i++ {
			batch = append(batch, frameOf(&jute.RequestHeader{Xid: int32(i), Type: jute.OpExists},
				&jute.ExistsRequest{Path: "/"})...)
		}
		// A ping (xid -2) is not counted.
		batch = append(batch, frameOf(&jute.RequestHeader{Xid: -2, Type: jute.OpPing}, nil)...)
		go c.Write(batch)
		for i := 1; i <= n; i++ {
			if xid := int32(binary.BigEndian.Uint32(readReply(t, c))); xid != int32(i) {
				t.Fatalf("reply %d has xid %d", i, xid)
			}
		}
		if xid := int32(binary.BigEndian.Uint32(readReply(t, c))); xid != -2 {
			t.Fatalf("ping answered with xid %d", xid)
		}
		if m := most.Load(); over && m != 1 {
			t.Errorf("throttled: %d requests outstanding at once, want 1", m)
		}
		for _, cn := range l.Conns() {
			if q := cn.Queued(); q != 0 {
				t.Errorf("queued (outstanding requests) %d after every answer", q)
			}
		}
	}
}
