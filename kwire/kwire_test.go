package kwire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// logBuf collects log output from server goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startServer(t *testing.T, cfg Config, mux *Mux) (*Server, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.ListenerName == "" {
		cfg.ListenerName = "PLAINTEXT"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Listen(cfg, mux)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, logs
}

// metadataHandler answers with one broker (id 1, the server itself) and no topics.
func metadataHandler(host string, port int32) Handler {
	return func(_ context.Context, _ *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = 1, host, port
		resp.Brokers = append(resp.Brokers, b)
		resp.ControllerID = 1
		resp.ClusterID = kmsg.StringPtr("test-cluster")
		return resp, nil
	}
}

// rawClient speaks the protocol over one TCP connection, for tests that need exact control.
type rawClient struct {
	t   *testing.T
	nc  net.Conn
	br  *bufio.Reader
	fmt *kmsg.RequestFormatter
}

func dialRaw(t *testing.T, s *Server) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	// A safety net so a broken server fails the test instead of hanging it.
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc), fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw"))}
}

func (c *rawClient) frame(req kmsg.Request, corr int32) []byte {
	return c.fmt.AppendRequest(nil, req, corr)
}

func (c *rawClient) write(frames ...[]byte) {
	c.t.Helper()
	if _, err := c.nc.Write(bytes.Join(frames, nil)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) readFrame() ([]byte, error) {
	var sz [4]byte
	if _, err := io.ReadFull(c.br, sz[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(sz[:]))
	_, err := io.ReadFull(c.br, b)
	return b, err
}

// read reads the next response, decoding it as a response to req at version respVersion.
func (c *rawClient) read(req kmsg.Request, respVersion int16) (int32, kmsg.Response) {
	c.t.Helper()
	b, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	corr := int32(binary.BigEndian.Uint32(b))
	b = b[4:]
	resp := req.ResponseKind()
	resp.SetVersion(respVersion)
	if resp.IsFlexible() && req.Key() != 18 {
		if b[0] != 0 {
			c.t.Fatalf("unexpected response header tags %d", b[0])
		}
		b = b[1:]
	}
	if err := resp.ReadFrom(b); err != nil {
		c.t.Fatalf("decode %s response: %v", kmsg.NameForKey(req.Key()), err)
	}
	return corr, resp
}

func (c *rawClient) expectClosed() {
	c.t.Helper()
	b, err := c.readFrame()
	if err == nil {
		c.t.Fatalf("expected the connection to close, got a %d-byte frame", len(b))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatal("connection was not closed")
	}
}

func listGroupsReq() *kmsg.ListGroupsRequest {
	r := kmsg.NewPtrListGroupsRequest()
	r.Version = 4
	return r
}

func metadataReq(v int16) *kmsg.MetadataRequest {
	r := kmsg.NewPtrMetadataRequest()
	r.Version = v
	return r
}

func TestKgoApiVersionsNegotiationAndMetadata(t *testing.T) {
	mux := NewMux()
	var (
		mu       sync.Mutex
		avSeen   []int16
		software []string
	)
	cfg := Config{ApiVersionsHook: func(rc *RequestContext, _ *kmsg.ApiVersionsResponse) {
		mu.Lock()
		defer mu.Unlock()
		avSeen = append(avSeen, rc.Header.APIVersion)
		name, ver := rc.Conn.ClientSoftware()
		software = append(software, name+"/"+ver)
	}}
	// The handler needs the address, known only after Listen; a pointer breaks the cycle.
	var addr atomic.Pointer[net.TCPAddr]
	mux.Handle(3, 0, 11, func(ctx context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		a := addr.Load()
		return metadataHandler(a.IP.String(), int32(a.Port))(ctx, rc, req)
	})
	mux.Handle(16, 0, 4, func(_ context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
		g := kmsg.NewListGroupsResponseGroup()
		g.Group = "client=" + rc.ClientID()
		resp.Groups = append(resp.Groups, g)
		return resp, nil
	})
	s, _ := startServer(t, cfg, mux)
	addr.Store(s.Addr().(*net.TCPAddr))

	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr().String()), kgo.ClientID("kwire-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	kresp, err := cl.Request(ctx, kmsg.NewPtrMetadataRequest())
	if err != nil {
		t.Fatal(err)
	}
	md := kresp.(*kmsg.MetadataResponse)
	if md.Version != 11 {
		t.Errorf("metadata version %d, want 11 (2.8 max)", md.Version)
	}
	if len(md.Brokers) != 1 || md.Brokers[0].NodeID != 1 {
		t.Fatalf("brokers %+v", md.Brokers)
	}

	kresp, err = cl.Broker(1).Request(ctx, kmsg.NewPtrListGroupsRequest())
	if err != nil {
		t.Fatal(err)
	}
	lg := kresp.(*kmsg.ListGroupsResponse)
	if lg.Version != 4 || len(lg.Groups) != 1 || lg.Groups[0].Group != "client=kwire-test" {
		t.Fatalf("list groups v%d %+v", lg.Version, lg.Groups)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(avSeen) == 0 {
		t.Fatal("no successful ApiVersions")
	}
	for i, v := range avSeen {
		if v != 3 {
			t.Errorf("ApiVersions answered at v%d, want v3 after downgrade", v)
		}
		if !strings.HasPrefix(software[i], "kgo/") {
			t.Errorf("client software %q", software[i])
		}
	}
	// Each connection: one too-new ApiVersions (answered with UNSUPPORTED_VERSION) plus the v3 retry.
	if got := s.Metrics().Requests(18); got != 2*int64(len(avSeen)) {
		t.Errorf("ApiVersions requests %d, successful %d", got, len(avSeen))
	}
	if s.Metrics().Requests(3) < 1 || s.Metrics().BytesIn.Load() == 0 || s.Metrics().BytesOut.Load() == 0 {
		t.Error("metrics not counted")
	}
}

func TestApiVersionsTable(t *testing.T) {
	mux := NewMux()
	noop := func(context.Context, *RequestContext, kmsg.Request) (kmsg.Response, error) { return nil, nil }
	mux.Handle(3, 0, 20, noop) // capped to 2.8's 11
	mux.Handle(0, 3, 9, noop)  // min raised to 3
	mux.Handle(94, 0, 0, noop) // not in 2.8's table: not advertised
	s, _ := startServer(t, Config{}, mux)

	// ApiVersions and the SASL keys are always served by kwire itself.
	want := map[int16][2]int16{0: {3, 9}, 3: {0, 11}, 17: {0, 1}, 18: {0, 3}, 36: {0, 2}}
	got := s.Versions()
	if len(got) != len(want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("key %d: %v, want %v", k, got[k], v)
		}
	}

	for _, v := range []int16{0, 1, 2, 3} {
		c := dialRaw(t, s)
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = v
		req.ClientSoftwareName, req.ClientSoftwareVersion = "raw", "1.0"
		c.write(c.frame(req, 7))
		corr, r := c.read(req, v)
		resp := r.(*kmsg.ApiVersionsResponse)
		if corr != 7 || resp.ErrorCode != 0 || len(resp.ApiKeys) != 5 {
			t.Fatalf("v%d: corr %d err %d keys %+v", v, corr, resp.ErrorCode, resp.ApiKeys)
		}
		for i, k := range []int16{0, 3, 17, 18, 36} { // ascending key order, as Kafka lists them
			ak := resp.ApiKeys[i]
			if ak.ApiKey != k || ak.MinVersion != want[k][0] || ak.MaxVersion != want[k][1] {
				t.Errorf("v%d entry %d: %+v", v, i, ak)
			}
		}
		if v == 3 && resp.FinalizedFeaturesEpoch != -1 {
			t.Errorf("finalized features epoch %d, want -1", resp.FinalizedFeaturesEpoch)
		}
	}
}

func TestApiVersionsUnsupportedVersion(t *testing.T) {
	s, _ := startServer(t, Config{}, NewMux())
	c := dialRaw(t, s)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 4 // flexible, newer than 2.8's 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "raw", "1.0"
	c.write(c.frame(req, 42))
	// The response is v0 (header v0, body v0) whatever the request version.
	corr, r := c.read(req, 0)
	resp := r.(*kmsg.ApiVersionsResponse)
	if corr != 42 || resp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("corr %d error %d", corr, resp.ErrorCode)
	}
	if len(resp.ApiKeys) != 1 || resp.ApiKeys[0].ApiKey != 18 || resp.ApiKeys[0].MinVersion != 0 || resp.ApiKeys[0].MaxVersion != 3 {
		t.Fatalf("api keys %+v", resp.ApiKeys)
	}
	// The connection stays usable.
	req.Version = 3
	c.write(c.frame(req, 43))
	if corr, r := c.read(req, 3); corr != 43 || r.(*kmsg.ApiVersionsResponse).ErrorCode != 0 {
		t.Fatalf("retry: corr %d %+v", corr, r)
	}
}

func TestApiVersionsInvalidSoftwareName(t *testing.T) {
	var hooked atomic.Bool
	s, _ := startServer(t, Config{ApiVersionsHook: func(*RequestContext, *kmsg.ApiVersionsResponse) { hooked.Store(true) }}, NewMux())
	c := dialRaw(t, s)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "bad name!", "1.0"
	c.write(c.frame(req, 1))
	_, r := c.read(req, 3)
	resp := r.(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != kerr.InvalidRequest.Code || len(resp.ApiKeys) != 0 {
		t.Fatalf("error %d keys %+v", resp.ErrorCode, resp.ApiKeys)
	}
	if hooked.Load() {
		t.Error("hook ran for an invalid request")
	}
}

func TestUnsupportedVersionAndKeyClose(t *testing.T) {
	mux2 := NewMux()
	mux2.Handle(3, 0, 13, metadataHandler("127.0.0.1", 1))
	s2, logs := startServer(t, Config{}, mux2)

	t.Run("version above table", func(t *testing.T) {
		c := dialRaw(t, s2)
		c.write(c.frame(metadataReq(12), 1)) // kmsg knows v12, 2.8 does not
		c.expectClosed()
	})
	t.Run("key without handler", func(t *testing.T) {
		c := dialRaw(t, s2)
		c.write(c.frame(listGroupsReq(), 1))
		c.expectClosed()
	})
	t.Run("key unknown to kafka", func(t *testing.T) {
		c := dialRaw(t, s2)
		frame := []byte{0, 0, 0, 10, 0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0, 0}
		c.write(frame)
		c.expectClosed()
	})
	t.Run("other connections unaffected", func(t *testing.T) {
		c := dialRaw(t, s2)
		c.write(c.frame(metadataReq(11), 5))
		if corr, _ := c.read(metadataReq(11), 11); corr != 5 {
			t.Fatalf("corr %d", corr)
		}
	})
	waitFor(t, func() bool { return strings.Count(logs.String(), "closing socket because of error") >= 3 })
	for _, want := range []string{"unsupported version 12", "not enabled", "unknown API key"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

func TestOversizeFrameClosesOnlyThatConnection(t *testing.T) {
	mux := NewMux()
	mux.Handle(3, 0, 11, metadataHandler("127.0.0.1", 1))
	s, logs := startServer(t, Config{MaxRequestBytes: 1024}, mux)

	good := dialRaw(t, s)
	bad := dialRaw(t, s)

	// A valid request first: its answer must still arrive before the close.
	var sz [4]byte
	binary.BigEndian.PutUint32(sz[:], 1025)
	bad.write(bad.frame(metadataReq(11), 1), sz[:])
	if corr, _ := bad.read(metadataReq(11), 11); corr != 1 {
		t.Fatalf("corr %d", corr)
	}
	bad.expectClosed()

	// Negative sizes are rejected too.
	neg := dialRaw(t, s)
	neg.write([]byte{0xff, 0xff, 0xff, 0xfe})
	neg.expectClosed()

	good.write(good.frame(metadataReq(11), 2))
	if corr, _ := good.read(metadataReq(11), 11); corr != 2 {
		t.Fatalf("corr %d", corr)
	}
	waitFor(t, func() bool { return strings.Contains(logs.String(), "size = 1025 larger than 1024") })
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("oversize not logged at WARN:\n%s", logs)
	}
	if got := s.Metrics().ConnectionsFailed.Load(); got != 2 {
		t.Errorf("failed connections %d", got)
	}
}

func TestOversizeDefaultLimit(t *testing.T) {
	s, logs := startServer(t, Config{}, NewMux())
	c := dialRaw(t, s)
	var sz [4]byte
	binary.BigEndian.PutUint32(sz[:], uint32(DefaultMaxRequestBytes)+1)
	c.write(sz[:])
	c.expectClosed()
	waitFor(t, func() bool { return strings.Contains(logs.String(), "larger than 104857600") })
}

func TestMalformedBodyClosesAfterEarlierResponses(t *testing.T) {
	mux := NewMux()
	mux.Handle(3, 0, 11, metadataHandler("127.0.0.1", 1))
	s, logs := startServer(t, Config{}, mux)
	c := dialRaw(t, s)

	req := metadataReq(11)
	topic := kmsg.NewMetadataRequestTopic()
	topic.Topic = kmsg.StringPtr("some-topic")
	req.Topics = append(req.Topics, topic)
	bad := c.frame(req, 2)
	bad = bad[:len(bad)-6] // cut into the topic name
	binary.BigEndian.PutUint32(bad, uint32(len(bad)-4))

	c.write(c.frame(metadataReq(11), 1), bad, c.frame(metadataReq(11), 3))
	if corr, _ := c.read(metadataReq(11), 11); corr != 1 {
		t.Fatalf("corr %d", corr)
	}
	c.expectClosed()
	waitFor(t, func() bool { return strings.Contains(logs.String(), "error getting request for apiKey: Metadata") })
}

// A flexible request whose last tag count claims 2^32-1 tags past the end of its bytes is malformed and closes
// its connection at once. (kmsg v1.15.0 looped through every claimed tag after the input ran out, about a minute
// of CPU for this 20-odd-byte frame, before it reported the short input; third_party/kmsg stops at the end.)
func TestTagCountPastEndOfInput(t *testing.T) {
	mux := NewMux()
	mux.Handle(3, 0, 11, metadataHandler("127.0.0.1", 1))
	s, logs := startServer(t, Config{}, mux)
	c := dialRaw(t, s)

	bad := c.frame(metadataReq(11), 1)
	if bad[len(bad)-1] != 0 {
		t.Fatalf("a Metadata v11 request ends with its (empty) tag section, not % x", bad[len(bad)-4:])
	}
	bad = append(bad[:len(bad)-1], 0xff, 0xff, 0xff, 0xff, 0x0f) // uvarint 2^32-1, then nothing
	binary.BigEndian.PutUint32(bad, uint32(len(bad)-4))
	c.write(bad)
	c.expectClosed() // within dialRaw's 20 s safety net; unpatched, the decode alone took about a minute
	waitFor(t, func() bool { return strings.Contains(logs.String(), "error getting request for apiKey: Metadata") })

	// The next connection is served.
	c2 := dialRaw(t, s)
	c2.write(c2.frame(metadataReq(11), 2))
	if corr, _ := c2.read(metadataReq(11), 11); corr != 2 {
		t.Fatalf("corr %d", corr)
	}
}

func TestPipelinedResponsesInRequestOrder(t *testing.T) {
	mux := NewMux()
	secondDone := make(chan struct{})
	// Request "first" cannot finish until "second" has finished, so handlers complete out of
	// order; responses must not.
	mux.Handle(16, 0, 4, func(ctx context.Context, _ *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		r := req.(*kmsg.ListGroupsRequest)
		name := r.StatesFilter[0]
		switch name {
		case "first":
			select {
			case <-secondDone:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		case "second":
			close(secondDone)
		}
		resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
		g := kmsg.NewListGroupsResponseGroup()
		g.Group = name
		resp.Groups = append(resp.Groups, g)
		return resp, nil
	})
	s, _ := startServer(t, Config{}, mux)
	c := dialRaw(t, s)

	var frames [][]byte
	names := []string{"first", "second", "third"}
	for i, n := range names {
		r := listGroupsReq()
		r.StatesFilter = []string{n}
		frames = append(frames, c.frame(r, int32(100+i)))
	}
	c.write(frames...)
	for i, n := range names {
		corr, r := c.read(listGroupsReq(), 4)
		g := r.(*kmsg.ListGroupsResponse).Groups
		if corr != int32(100+i) || len(g) != 1 || g[0].Group != n {
			t.Fatalf("response %d: corr %d groups %+v", i, corr, g)
		}
	}
}

func TestInFlightBound(t *testing.T) {
	const bound, n = 2, 6
	mux := NewMux()
	var cur, peak atomic.Int32
	entered := make(chan struct{}, n)
	var release [n]chan struct{}
	for i := range release {
		release[i] = make(chan struct{})
	}
	mux.Handle(16, 0, 4, func(ctx context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		now := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		entered <- struct{}{}
		select {
		case <-release[rc.Header.CorrelationID]:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return req.ResponseKind(), nil
	})
	s, _ := startServer(t, Config{MaxInFlight: bound}, mux)
	c := dialRaw(t, s)
	var frames [][]byte
	for i := range n {
		frames = append(frames, c.frame(listGroupsReq(), int32(i)))
	}
	c.write(frames...)
	// Request i+bound can only start once response i is written and frees a slot.
	for i := range n {
		<-entered
		close(release[i])
	}
	for i := range n {
		if corr, _ := c.read(listGroupsReq(), 4); corr != int32(i) {
			t.Fatalf("response %d has corr %d", i, corr)
		}
	}
	if p := peak.Load(); p > bound {
		t.Fatalf("%d handlers ran at once, bound %d", p, bound)
	}
}

func TestSerialHandlerWaitsForEarlierRequests(t *testing.T) {
	mux := NewMux()
	var slowDone atomic.Bool
	slowEntered := make(chan struct{})
	release := make(chan struct{})
	mux.Handle(16, 0, 4, func(ctx context.Context, _ *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		close(slowEntered)
		<-release
		slowDone.Store(true)
		return req.ResponseKind(), nil
	})
	mux.Handle(3, 0, 11, func(ctx context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		if !slowDone.Load() {
			t.Error("serial handler started before an earlier request finished")
		}
		return metadataHandler("127.0.0.1", 1)(ctx, rc, req)
	}, Serial())
	s, _ := startServer(t, Config{}, mux)
	c := dialRaw(t, s)
	c.write(c.frame(listGroupsReq(), 1), c.frame(metadataReq(11), 2))
	<-slowEntered
	close(release)
	if corr, _ := c.read(listGroupsReq(), 4); corr != 1 {
		t.Fatalf("corr %d", corr)
	}
	if corr, _ := c.read(metadataReq(11), 11); corr != 2 {
		t.Fatalf("corr %d", corr)
	}
}

func TestProduceAcksZeroSendsNothing(t *testing.T) {
	mux := NewMux()
	var produced atomic.Int32
	mux.Handle(0, 3, 9, func(_ context.Context, _ *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		r := req.(*kmsg.ProduceRequest)
		produced.Add(1)
		if r.Acks == 0 {
			return nil, nil
		}
		return r.ResponseKind(), nil
	}, Serial())
	mux.Handle(3, 0, 11, metadataHandler("127.0.0.1", 1))
	s, _ := startServer(t, Config{}, mux)

	t.Run("raw", func(t *testing.T) {
		c := dialRaw(t, s)
		p := kmsg.NewPtrProduceRequest()
		p.Version, p.Acks, p.TimeoutMillis = 9, 0, 1000
		c.write(c.frame(p, 1), c.frame(metadataReq(11), 2))
		// The first (and only) response is the Metadata one.
		if corr, _ := c.read(metadataReq(11), 11); corr != 2 {
			t.Fatalf("corr %d", corr)
		}
		if produced.Load() != 1 {
			t.Fatalf("produce handler ran %d times", produced.Load())
		}
	})
	t.Run("kgo", func(t *testing.T) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr().String()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		p := kmsg.NewPtrProduceRequest()
		p.Acks = 0
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, err := cl.Request(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if pr := resp.(*kmsg.ProduceResponse); pr.Version != 9 {
			t.Errorf("produce version %d", pr.Version)
		}
		// The connection is still in sync: a request after the acks=0 one gets its answer.
		if _, err := cl.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHandlerErrorAndCloseAfterResponse checks that a handler's error or panic closes the connection with a log
// line and that CloseAfterResponse closes it after the response, for handlers on their own goroutine and for
// Serial ones, whose responses the connection's reader writes itself when nothing is queued before them.
func TestHandlerErrorAndCloseAfterResponse(t *testing.T) {
	t.Run("concurrent", func(t *testing.T) { testHandlerErrorAndCloseAfterResponse(t) })
	t.Run("serial", func(t *testing.T) { testHandlerErrorAndCloseAfterResponse(t, Serial()) })
}

func testHandlerErrorAndCloseAfterResponse(t *testing.T, opts ...HandleOption) {
	mux := NewMux()
	mux.Handle(16, 0, 4, func(_ context.Context, _ *RequestContext, _ kmsg.Request) (kmsg.Response, error) {
		return nil, errors.New("boom")
	}, opts...)
	mux.Handle(36, 0, 2, func(_ context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		rc.Conn.SetValue("sasl", "failed")
		rc.CloseAfterResponse()
		return resp, nil
	}, opts...)
	mux.Handle(3, 0, 11, func(context.Context, *RequestContext, kmsg.Request) (kmsg.Response, error) {
		panic("handler bug")
	}, opts...)
	s, logs := startServer(t, Config{}, mux)

	c := dialRaw(t, s)
	c.write(c.frame(listGroupsReq(), 1))
	c.expectClosed()

	c = dialRaw(t, s)
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.Version = 2
	c.write(c.frame(auth, 9))
	corr, r := c.read(auth, 2)
	if corr != 9 || r.(*kmsg.SASLAuthenticateResponse).ErrorCode != kerr.SaslAuthenticationFailed.Code {
		t.Fatalf("corr %d resp %+v", corr, r)
	}
	c.expectClosed()

	c = dialRaw(t, s)
	c.write(c.frame(metadataReq(11), 1))
	c.expectClosed()
	waitFor(t, func() bool {
		l := logs.String()
		return strings.Contains(l, "boom") && strings.Contains(l, "handler panic: handler bug")
	})
}

func TestConnStateAndRequestContext(t *testing.T) {
	mux := NewMux()
	type key struct{}
	mux.Handle(17, 0, 1, func(_ context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		rc.Conn.SetValue(key{}, req.(*kmsg.SASLHandshakeRequest).Mechanism)
		return req.ResponseKind(), nil
	}, Serial())
	mux.Handle(36, 0, 2, func(_ context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		mech, _ := rc.Conn.Value(key{}).(string)
		rc.Conn.SetPrincipal(Principal{Type: "User", Name: mech + "-user"})
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorMessage = kmsg.StringPtr(strings.Join([]string{
			rc.Conn.Principal().String(), rc.ClientID(), strconv.Itoa(int(rc.Header.CorrelationID)),
			strconv.Itoa(int(rc.Header.Version)), rc.Conn.ListenerName(),
			strconv.FormatBool(rc.Conn.RemoteAddr() != nil), strconv.FormatBool(rc.Conn.ID() != ""),
		}, ","))
		return resp, nil
	}, Serial())
	s, _ := startServer(t, Config{ListenerName: "SASL_PLAINTEXT"}, mux)
	c := dialRaw(t, s)
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.Version = 2
	c.write(c.frame(hs, 1), c.frame(auth, 2))
	c.read(hs, 1)
	_, r := c.read(auth, 2)
	got := *r.(*kmsg.SASLAuthenticateResponse).ErrorMessage
	if want := "User:PLAIN-user,raw,2,2,SASL_PLAINTEXT,true,true"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestControlledShutdownV0HeaderV0(t *testing.T) {
	mux := NewMux()
	var clientID atomic.Pointer[string]
	mux.Handle(7, 0, 3, func(_ context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		if rc.Header.Version != 0 {
			t.Errorf("header version %d", rc.Header.Version)
		}
		clientID.Store(rc.Header.ClientID)
		r := req.(*kmsg.ControlledShutdownRequest)
		resp := r.ResponseKind().(*kmsg.ControlledShutdownResponse)
		resp.PartitionsRemaining = []kmsg.ControlledShutdownResponsePartitionsRemaining{{Topic: "t", Partition: r.BrokerID}}
		return resp, nil
	})
	s, _ := startServer(t, Config{}, mux)
	c := dialRaw(t, s)
	req := kmsg.NewPtrControlledShutdownRequest()
	req.Version, req.BrokerID = 0, 5
	// kmsg's RequestFormatter does not finish v0 ControlledShutdown frames; build it by hand:
	// header v0 is key, version, correlation id and nothing else.
	frame := []byte{0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 3}
	frame = req.AppendTo(frame)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	c.write(frame)
	corr, r := c.read(req, 0)
	resp := r.(*kmsg.ControlledShutdownResponse)
	if corr != 3 || len(resp.PartitionsRemaining) != 1 || resp.PartitionsRemaining[0].Partition != 5 {
		t.Fatalf("corr %d resp %+v", corr, resp)
	}
	if clientID.Load() != nil {
		t.Error("v0 header must carry no client id")
	}
}

func TestIdleConnectionClosed(t *testing.T) {
	s, _ := startServer(t, Config{ConnectionsMaxIdle: 20 * time.Millisecond}, NewMux())
	c := dialRaw(t, s)
	c.expectClosed()
	waitFor(t, func() bool { return s.Metrics().ConnectionsActive.Load() == 0 })
}

func TestCloseCancelsHandlers(t *testing.T) {
	mux := NewMux()
	entered := make(chan struct{})
	mux.Handle(16, 0, 4, func(ctx context.Context, _ *RequestContext, _ kmsg.Request) (kmsg.Response, error) {
		close(entered)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	s, err := Listen(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, mux)
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, s)
	c.write(c.frame(listGroupsReq(), 1))
	<-entered
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
	if _, err := net.Dial("tcp", s.Addr().String()); err == nil {
		t.Error("listener still accepting")
	}
}

func TestPrometheusCollector(t *testing.T) {
	mux := NewMux()
	mux.Handle(3, 0, 11, metadataHandler("127.0.0.1", 1))
	s, _ := startServer(t, Config{}, mux)
	c := dialRaw(t, s)
	c.write(c.frame(metadataReq(11), 1))
	c.read(metadataReq(11), 11)

	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(s.Metrics()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "kafka_network_requestmetrics_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "request" && l.GetValue() == "Metadata" && m.GetCounter().GetValue() == 1 {
					found = true
				}
			}
		}
	}
	if !found {
		t.Fatalf("metadata request counter missing: %v", mfs)
	}
}

func TestMuxRegistrationPanics(t *testing.T) {
	noop := func(context.Context, *RequestContext, kmsg.Request) (kmsg.Response, error) { return nil, nil }
	for name, f := range map[string]func(m *Mux){
		"apiversions": func(m *Mux) { m.Handle(18, 0, 3, noop) },
		"unknown key": func(m *Mux) { m.Handle(-5, 0, 0, noop) },
		"bad range":   func(m *Mux) { m.Handle(3, 4, 2, noop) },
		"nil handler": func(m *Mux) { m.Handle(3, 0, 2, nil) },
		"duplicate":   func(m *Mux) { m.Handle(3, 0, 2, noop); m.Handle(3, 0, 2, noop) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(NewMux())
		})
	}
	m := NewMux()
	m.Handle(3, 1, 5, noop)
	if got := m.SupportedVersions(); got[3] != [2]int16{1, 5} || len(got) != 1 {
		t.Errorf("supported %v", got)
	}
}

func TestRequestHeaderParsing(t *testing.T) {
	// Header v2 with one unknown tag must be skipped.
	frame := []byte{0, 3, 0, 11, 0, 0, 0, 9, 0, 1, 'x', 1, 5, 2, 0xaa, 0xbb, 0xcc}
	h := RequestHeader{APIKey: 3, APIVersion: 11}
	body, err := parseRequestHeader(frame, &h, true)
	if err != nil {
		t.Fatal(err)
	}
	if h.CorrelationID != 9 || h.ClientID == nil || *h.ClientID != "x" || h.Version != 2 || !bytes.Equal(body, []byte{0xcc}) {
		t.Fatalf("%+v body %x", h, body)
	}
	// Null client id.
	frame = []byte{0, 3, 0, 1, 0, 0, 0, 9, 0xff, 0xff}
	h = RequestHeader{APIKey: 3, APIVersion: 1}
	if _, err := parseRequestHeader(frame, &h, false); err != nil || h.ClientID != nil || h.Version != 1 {
		t.Fatalf("%+v %v", h, err)
	}
	// Truncations fail.
	for _, f := range [][]byte{{0, 3, 0, 1, 0, 0, 0}, {0, 3, 0, 1, 0, 0, 0, 9, 0}, {0, 3, 0, 1, 0, 0, 0, 9, 0, 5, 'a'}} {
		h = RequestHeader{APIKey: 3, APIVersion: 1}
		if _, err := parseRequestHeader(f, &h, false); err == nil {
			t.Errorf("%x parsed", f)
		}
	}
	if _, err := skipTags([]byte{1, 0, 9, 1}); err == nil {
		t.Error("oversized tag accepted")
	}
}

// A throttled connection gets the response in hand at once, but its next request is not read until the throttle
// ends, as Kafka mutes a channel; other connections are served meanwhile, and closing the server does not wait
// for the throttle.
func TestThrottleMutesConnection(t *testing.T) {
	mux := NewMux()
	var served atomic.Int32
	mux.Handle(3, 0, 11, func(ctx context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		served.Add(1)
		rc.Conn.Throttle(time.Hour)
		return metadataHandler("127.0.0.1", 1)(ctx, rc, req)
	}, Serial())
	s, _ := startServer(t, Config{}, mux)
	c := dialRaw(t, s)
	c.write(c.frame(metadataReq(11), 1), c.frame(metadataReq(11), 2))
	if corr, _ := c.read(metadataReq(11), 11); corr != 1 {
		t.Fatalf("corr %d", corr)
	}
	other := dialRaw(t, s)
	other.write(other.frame(metadataReq(11), 7))
	if corr, _ := other.read(metadataReq(11), 11); corr != 7 {
		t.Fatalf("other connection: corr %d", corr)
	}
	// Both connections' first requests were handled; the throttled one's second still waits.
	time.Sleep(200 * time.Millisecond)
	if n := served.Load(); n != 2 {
		t.Fatalf("%d requests handled, want 2 (the throttled connection's second must wait)", n)
	}
}

// The Handled hook sees every request answered after authentication, ApiVersions and kwire's own SASL answers
// included, with its response, before it is written: a throttle it sets reaches the client. A request's thread time
// stops at LocalComplete (the wait after it is not counted), and OnSent is told the write's duration.
func TestHandledHook(t *testing.T) {
	var (
		mu      sync.Mutex
		seen    []int16
		threads = map[int16]time.Duration{}
		local   time.Duration
		sent    = make(chan time.Duration, 4)
	)
	mux := NewMux()
	// ListGroups waits after its local work, as a long-polling handler does.
	mux.Handle(16, 0, 4, func(_ context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		rc.LocalComplete()
		mu.Lock()
		local = rc.ThreadTime()
		mu.Unlock()
		time.Sleep(50 * time.Millisecond)
		return req.ResponseKind(), nil
	})
	cfg := Config{Handled: func(rc *RequestContext, req kmsg.Request, resp kmsg.Response) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, req.Key())
		threads[req.Key()] = rc.ThreadTime()
		if tr, ok := resp.(kmsg.SetThrottleResponse); ok {
			tr.SetThrottle(7)
		}
		rc.OnSent(func(d time.Duration) { sent <- d })
	}}
	s, _ := startServer(t, cfg, mux)
	c := dialRaw(t, s)
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "test", "1.0"
	lg := kmsg.NewPtrListGroupsRequest()
	lg.Version = 3
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	c.write(c.frame(av, 1), c.frame(lg, 2), c.frame(hs, 3))
	for _, want := range []struct {
		req kmsg.Request
		v   int16
	}{{av, 3}, {lg, 3}, {hs, 1}} {
		_, r := c.read(want.req, want.v)
		if tr, ok := r.(kmsg.ThrottleResponse); ok {
			if ms, _ := tr.Throttle(); ms != 7 {
				t.Errorf("%s: throttle %d, want the hook's 7", kmsg.NameForKey(want.req.Key()), ms)
			}
		}
	}
	for range 3 {
		if d := <-sent; d < 0 {
			t.Errorf("send time %v", d)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(seen) // ListGroups runs beside the reader, which answers SaslHandshake meanwhile
	if !slices.Equal(seen, []int16{16, 17, 18}) {
		t.Fatalf("hook saw keys %v, want ApiVersions, ListGroups, SaslHandshake", seen)
	}
	// ListGroups' wait came after LocalComplete: its thread time is the work before it, whenever it is read.
	if d := threads[16]; d <= 0 || d != local {
		t.Fatalf("ListGroups thread time %v after the wait, %v before it", d, local)
	}
}

// RequestMetrics split a request's time as Kafka's do: a handler's wait after LocalComplete is remote time, and the
// request is named as Kafka names it.
func TestRequestMetrics(t *testing.T) {
	rm := NewRequestMetrics()
	mux := NewMux()
	mux.Handle(kmsg.InitProducerID.Int16(), 0, 4, func(_ context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		rc.LocalComplete()
		time.Sleep(30 * time.Millisecond)
		resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ThrottleMillis = 5
		return resp, nil
	})
	s, _ := startServer(t, Config{RequestMetrics: rm}, mux)
	c := dialRaw(t, s)
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = 2
	c.write(c.frame(req, 1))
	c.read(req, 2)
	reg := prometheus.NewRegistry()
	reg.MustRegister(rm)
	// The writer records after the response went out, request bytes last: wait for them.
	got := map[string]*dto.Summary{}
	var errs map[string]float64
	for deadline := time.Now().Add(10 * time.Second); got["requestbytes"].GetSampleCount() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == "kafka_network_requestmetrics_errors_total" {
				errs = map[string]float64{}
				for _, m := range f.Metric {
					labels := map[string]string{}
					for _, l := range m.Label {
						labels[l.GetName()] = l.GetValue()
					}
					errs[labels["request"]+"/"+labels["error"]] = m.Counter.GetValue()
				}
				continue
			}
			for _, m := range f.Metric {
				if len(m.Label) != 1 || m.Label[0].GetValue() != "InitProducerId" {
					t.Fatalf("%s labelled %v, want request=InitProducerId", f.GetName(), m.Label)
				}
				got[strings.TrimPrefix(f.GetName(), "kafka_network_requestmetrics_")] = m.Summary
			}
		}
	}
	if len(got) != histConversionTime { // the conversion histograms are Produce's and Fetch's only
		t.Fatalf("%d request metrics, want %d: %v", len(got), histConversionTime, got)
	}
	if s := got["remotetimems"]; s.GetSampleCount() != 1 || s.GetSampleSum() < 30 {
		t.Errorf("remote time %v ms over %d requests, want the 30 ms wait", s.GetSampleSum(), s.GetSampleCount())
	}
	if s := got["totaltimems"]; s.GetSampleSum() < got["remotetimems"].GetSampleSum() {
		t.Errorf("total time %v ms less than the remote time", s.GetSampleSum())
	}
	// ErrorsPerSec: the response's error code, NONE included, labelled as Kafka's Errors names it.
	if len(errs) != 1 || errs["InitProducerId/NONE"] != 1 {
		t.Errorf("error counts %v, want one NONE for InitProducerId", errs)
	}
	if s := got["throttletimems"]; s.GetSampleSum() != 5 {
		t.Errorf("throttle time %v, want the response's 5", s.GetSampleSum())
	}
	if s := got["requestbytes"]; s.GetSampleSum() <= 0 {
		t.Errorf("request bytes %v", s.GetSampleSum())
	}
}

// APIName spells requests as Kafka 2.8's ApiKeys do.
func TestAPIName(t *testing.T) {
	for key, want := range map[int16]string{0: "Produce", 4: "LeaderAndIsr", 17: "SaslHandshake", 22: "InitProducerId",
		29: "DescribeAcls", 45: "AlterPartitionReassignments", 51: "AlterUserScramCredentials", 56: "AlterIsr", 60: "DescribeCluster"} {
		if got := APIName(key); got != want {
			t.Errorf("key %d: %q, want %q", key, got, want)
		}
	}
}

// Produce and Fetch also have MessageConversionsTimeMs and TemporaryMemoryBytes; as Kafka's request, a later
// partition's conversion stats replace an earlier one's, the time only when records were converted.
func TestRequestMetricsConversions(t *testing.T) {
	rm := NewRequestMetrics()
	mux := NewMux()
	mux.Handle(kmsg.Produce.Int16(), 0, 9, func(_ context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		rc.RecordConversion(3, 7*time.Millisecond, 1000)
		rc.RecordConversion(0, 0, 500)
		return req.ResponseKind(), nil
	})
	s, _ := startServer(t, Config{RequestMetrics: rm}, mux)
	c := dialRaw(t, s)
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 7, 1, 1000
	c.write(c.frame(req, 1))
	c.read(req, 1)
	reg := prometheus.NewRegistry()
	reg.MustRegister(rm)
	got := map[string]*dto.Summary{}
	for deadline := time.Now().Add(10 * time.Second); got["temporarymemorybytes"].GetSampleCount() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			for _, m := range f.Metric {
				got[strings.TrimPrefix(f.GetName(), "kafka_network_requestmetrics_")] = m.Summary
			}
		}
	}
	if s := got["messageconversionstimems"]; s.GetSampleCount() != 1 || s.GetSampleSum() != 7 {
		t.Errorf("conversion time %v ms over %d requests, want 7 over 1", s.GetSampleSum(), s.GetSampleCount())
	}
	if s := got["temporarymemorybytes"]; s.GetSampleCount() != 1 || s.GetSampleSum() != 500 {
		t.Errorf("temporary memory %v over %d requests, want the last partition's 500 over 1", s.GetSampleSum(), s.GetSampleCount())
	}
}
