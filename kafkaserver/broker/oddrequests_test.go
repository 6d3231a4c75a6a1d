package broker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestEveryAPIWithOddRequests sends every API key at every version the broker advertises, with bodies that decode
// (kmsg encodes them) but hold what clients rarely send: empty and invalid names, negative, zero and huge counts
// and ids, nulls, random record bytes, the names of real topics, groups and configs mixed in. Any of them may be
// refused, with an error code or a closed connection; none may panic a handler, and afterwards the broker still
// creates, writes and reads a topic.
func TestEveryAPIWithOddRequests(t *testing.T) {
	logs := &panicLines{}
	c := newCluster(t)
	c.logOut = logs
	c.start("group.initial.rebalance.delay.ms=0", "auto.create.topics.enable=true")
	cl := c.client(kgo.AllowAutoTopicCreation())
	ctx := ctxT(t)
	produceN(t, cl, oddTopic, 0, 0, 10) // a real topic for the requests to land on

	vers, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	g := &oddGen{r: rand.New(rand.NewPCG(oddSeed, 2))}
	rc := &rawConn{addr: c.addr()}
	defer rc.close()
	sent, closed := 0, 0
	send := func(k kmsg.ApiVersionsResponseApiKey) {
		t.Helper()
		for v := k.MinVersion; v <= k.MaxVersion; v++ {
			for i := 0; i < oddPer; i++ {
				req := kmsg.RequestForKey(k.ApiKey)
				if req == nil {
					t.Fatalf("kmsg knows no request for advertised key %d", k.ApiKey)
				}
				g.fillRequest(req, v)
				answered, err := rc.roundTrip(req)
				if err != nil {
					t.Fatalf("%s v%d (%+v): %v", kmsg.NameForKey(k.ApiKey), v, req, err)
				}
				sent++
				if !answered {
					closed++
				}
			}
		}
		if out, _ := logs.since(0); out != "" {
			t.Fatalf("after %s: a handler panicked:\n%s", kmsg.NameForKey(k.ApiKey), out)
		}
	}
	// A controller's requests (LeaderAndIsr, StopReplica, UpdateMetadata, ControlledShutdown) with an epoch above
	// the broker's are obeyed, forged or not, as Kafka obeys them: they go last, after the broker has shown it still
	// serves clients.
	var fromController []kmsg.ApiVersionsResponseApiKey
	for _, k := range vers.ApiKeys {
		if k.ApiKey >= 4 && k.ApiKey <= 7 {
			fromController = append(fromController, k)
			continue
		}
		send(k)
	}

	// The broker is not wedged: a fresh topic is created, written and read.
	cl2 := c.client(kgo.AllowAutoTopicCreation())
	produceN(t, cl2, "after-odd", 0, 0, 5)
	if got := consumeN(t, c, "after-odd", 0, 5); len(got) != 5 {
		t.Fatalf("read %d records back, want 5", len(got))
	}

	for _, k := range fromController {
		send(k)
	}
	t.Logf("%d requests over %d APIs; %d closed their connection", sent, len(vers.ApiKeys), closed)
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, c.client()); err != nil {
		t.Fatalf("metadata after the controller's requests: %v", err)
	}
}

const oddTopic = "odd"

// oddGen fills kmsg request structs from small vocabularies of unusual values, by type and field name.
type oddGen struct {
	r *rand.Rand
}

var (
	oddStrings = []string{"", oddTopic, "g", "missing", "bad name!", "..", "__consumer_offsets", strings.Repeat("x", 300),
		"PLAIN", "cleanup.policy", "compact", "retention.ms", "-1", "0", "log.retention.bytes", "min.insync.replicas"}
	oddInts = []int64{0, 1, -1, 2, 3, 7, -2, 1 << 20, 1 << 30, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}
	// Times are kept short where the broker waits them out (a long poll); group timeouts include valid ones.
	oddTimes = []int64{0, 1, 20, -1, 6000, 10000}
	oddWaits = []int64{0, 1, 20, -1}
	tagsType = reflect.TypeOf(kmsg.Tags{})
)

func (g *oddGen) fillRequest(req kmsg.Request, version int16) {
	rv := reflect.ValueOf(req).Elem()
	rv.Set(reflect.Zero(rv.Type()))
	if d, ok := req.(interface{ Default() }); ok && g.r.IntN(4) == 0 {
		d.Default() // sometimes kmsg's defaults: empty arrays, null strings where nullable
	} else {
		g.fill(rv, "", 0)
	}
	req.SetVersion(version)
	// acks=0 has no response to wait for; the read would only time out.
	if p, ok := req.(*kmsg.ProduceRequest); ok && p.Acks == 0 {
		p.Acks = 1
	}
}

func (g *oddGen) fill(v reflect.Value, name string, depth int) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == tagsType {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Name == "Version" {
				continue
			}
			g.fill(v.Field(i), f.Name, depth+1)
		}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		vocab := oddInts
		switch {
		case name == "MaxWaitMillis":
			vocab = oddWaits
		case isTimeField(name):
			vocab = oddTimes
		}
		n := vocab[g.r.IntN(len(vocab))]
		if v.OverflowInt(n) {
			n = int64(g.r.IntN(3)) - 1
		}
		v.SetInt(n)
	case reflect.Float64:
		v.SetFloat([]float64{0, -1, math.Inf(1), math.NaN()}[g.r.IntN(4)])
	case reflect.Bool:
		v.SetBool(g.r.IntN(2) == 0)
	case reflect.String:
		v.SetString(g.str())
	case reflect.Pointer:
		if g.r.IntN(3) == 0 {
			return // null
		}
		p := reflect.New(v.Type().Elem())
		g.fill(p.Elem(), name, depth)
		v.Set(p)
	case reflect.Array:
		if g.r.IntN(2) == 0 {
			for i := 0; i < v.Len(); i++ {
				v.Index(i).SetUint(uint64(g.r.IntN(256)))
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes(g.bytes())
			return
		}
		n := g.r.IntN(4)
		if depth > 4 {
			n = 0
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			g.fill(s.Index(i), name, depth+1)
		}
		v.Set(s)
	}
}

func isTimeField(name string) bool {
	for _, s := range []string{"Millis", "Timeout", "Ms", "Time"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func (g *oddGen) str() string {
	if g.r.IntN(8) == 0 {
		b := make([]byte, g.r.IntN(12))
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return string(b)
	}
	return oddStrings[g.r.IntN(len(oddStrings))]
}

// bytes returns nothing, random bytes, a valid v2 batch, or one with a byte flipped.
func (g *oddGen) bytes() []byte {
	switch g.r.IntN(5) {
	case 0:
		return nil
	case 1:
		return []byte{}
	case 2:
		b := make([]byte, g.r.IntN(80))
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return b
	default:
		b := oddBatch(g.r.IntN(3) + 1)
		if g.r.IntN(2) == 0 {
			b[g.r.IntN(len(b))] ^= 0xff
		}
		return b
	}
}

// oddBatch encodes an uncompressed v2 batch of n small records.
func oddBatch(n int) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		r := kmsg.Record{OffsetDelta: int32(i), Key: []byte("k"), Value: []byte(fmt.Sprint("v", i))}
		body := r.AppendTo(nil)
		// Record.AppendTo leaves Length as set: encode once to learn the length, then again with it.
		r.Length = int32(len(body) - 1)
		recs = r.AppendTo(recs)
	}
	b := kmsg.RecordBatch{Magic: 2, LastOffsetDelta: int32(n - 1), ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: int32(n), Records: recs}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// rawConn sends one request at a time on a connection it redials after the broker closes it.
type rawConn struct {
	addr string
	nc   net.Conn
	corr int32
}

// roundTrip sends req and reads its response; answered=false means the broker closed the connection instead.
func (rc *rawConn) roundTrip(req kmsg.Request) (answered bool, err error) {
	if rc.nc == nil {
		if rc.nc, err = net.DialTimeout("tcp", rc.addr, 5*time.Second); err != nil {
			return false, err
		}
	}
	rc.corr++
	frame := requestFrame(req, rc.corr)
	_ = rc.nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := rc.nc.Write(frame); err != nil {
		return rc.closed(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(rc.nc, size[:]); err != nil {
		return rc.closed(err)
	}
	resp := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(rc.nc, resp); err != nil {
		return rc.closed(err)
	}
	if len(resp) < 4 || int32(binary.BigEndian.Uint32(resp)) != rc.corr {
		return false, fmt.Errorf("response correlation id %x, want %d", resp[:min(4, len(resp))], rc.corr)
	}
	return true, nil
}

// requestFrame encodes req with a request header (size prefix included). Not kmsg's RequestFormatter: for
// ControlledShutdown v0 (header v0) it writes the header alone, without the body or its size.
func requestFrame(req kmsg.Request, corr int32) []byte {
	b := make([]byte, 4, 64)
	b = binary.BigEndian.AppendUint16(b, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	if !(req.Key() == 7 && req.GetVersion() == 0) { // ControlledShutdown v0 has header v0: no client id
		b = binary.BigEndian.AppendUint16(b, 3)
		b = append(b, "odd"...)
		if req.IsFlexible() {
			b = append(b, 0) // no tagged fields
		}
	}
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// closed turns a connection the broker closed into answered=false; a timeout is an error (a handler hung).
func (rc *rawConn) closed(err error) (bool, error) {
	rc.close()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false, fmt.Errorf("no answer: %w", err)
	}
	return false, nil
}

func (rc *rawConn) close() {
	if rc.nc != nil {
		_ = rc.nc.Close()
		rc.nc = nil
	}
}

// panicLines keeps the broker's log lines that mention a panic (the logger writes one line per call).
type panicLines struct {
	mu    sync.Mutex
	lines []string
}

func (p *panicLines) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("panic")) {
		p.mu.Lock()
		p.lines = append(p.lines, string(b))
		p.mu.Unlock()
	}
	return len(b), nil
}

// since returns the lines after the first n, and how many there are in all.
func (p *panicLines) since(n int) (string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines[min(n, len(p.lines)):], ""), len(p.lines)
}

// oddSeed and oddPer (requests per API version) come from ODD_SEED and ODD_PER, to search wider by hand than
// make test does (seed 1, 10 per version).
var oddSeed, oddPer = func() (uint64, int) {
	var seed uint64 = 1
	per := 10
	_, _ = fmt.Sscan(os.Getenv("ODD_SEED"), &seed)
	_, _ = fmt.Sscan(os.Getenv("ODD_PER"), &per)
	return seed, per
}()

// TestPartitionCountsNoZnodeHolds: a CreateTopics or CreatePartitions asking for more partitions than a topic's
// znode can list is refused with INVALID_PARTITIONS at once. (The odd-requests search found the broker building a
// 2^31-entry assignment for one until the kernel killed it.)
func TestPartitionCountsNoZnodeHolds(t *testing.T) {
	c := newCluster(t)
	c.start()
	adm := kadm.NewClient(c.client())
	ctx := ctxT(t)
	res, err := adm.CreateTopics(ctx, math.MaxInt32, 1, nil, "huge")
	if err != nil {
		t.Fatal(err)
	}
	if r := res["huge"]; !errors.Is(r.Err, kerr.InvalidPartitions) || !strings.Contains(r.ErrMessage, "znode") {
		t.Fatalf("create with 2^31-1 partitions: %v %q", r.Err, r.ErrMessage)
	}
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "grows"); err != nil {
		t.Fatal(err)
	}
	pres, err := adm.CreatePartitions(ctx, 1<<30, "grows")
	if err != nil {
		t.Fatal(err)
	}
	if r := pres["grows"]; !errors.Is(r.Err, kerr.InvalidPartitions) || !strings.Contains(r.ErrMessage, "znode") {
		t.Fatalf("grow to 2^30 partitions: %v %q", r.Err, r.ErrMessage)
	}
	// A count that fits is still taken.
	if pres, err = adm.CreatePartitions(ctx, 2, "grows"); err != nil || pres["grows"].Err != nil {
		t.Fatalf("grow by 2: %v %v", err, pres["grows"].Err)
	}
}

// FuzzBrokerFrames (make fuzz) sends the broker arbitrary request frames, one connection each, seeded with odd
// requests of every API: whatever the frame, no handler panics and the broker answers the next connection.
func FuzzBrokerFrames(f *testing.F) {
	g := &oddGen{r: rand.New(rand.NewPCG(3, 4))}
	for key := int16(0); key <= 61; key++ {
		v, ok := kversion.V2_8_0().LookupMaxKeyVersion(key)
		req := kmsg.RequestForKey(key)
		if !ok || req == nil {
			continue
		}
		g.fillRequest(req, v)
		f.Add(requestFrame(req, 1)[4:])
	}
	closeInheritedOnExec(f)
	logs := &panicLines{}
	c := newCluster(f)
	c.logOut = logs
	c.start("group.initial.rebalance.delay.ms=0")
	addr := c.addr()
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, seen := logs.since(0)
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = nc.SetDeadline(time.Now().Add(time.Second)) // a valid long poll may hold the answer back
		_, _ = nc.Write(binary.BigEndian.AppendUint32(nil, uint32(len(frame))))
		_, _ = nc.Write(frame)
		// One answer or a closed connection: either is fine.
		var size [4]byte
		if _, err := io.ReadFull(nc, size[:]); err == nil {
			_, _ = io.CopyN(io.Discard, nc, int64(binary.BigEndian.Uint32(size[:])))
		}
		_ = nc.Close()
		if out, _ := logs.since(seen); out != "" {
			t.Fatalf("a handler panicked:\n%s", out)
		}
		rc := &rawConn{addr: addr}
		defer rc.close()
		if answered, err := rc.roundTrip(kmsg.NewPtrApiVersionsRequest()); err != nil || !answered {
			t.Fatalf("the broker no longer answers ApiVersions: answered %v, %v", answered, err)
		}
	})
}

// closeInheritedOnExec marks every descriptor this process inherited close-on-exec. A fuzzing worker inherits the
// pipes it talks to its coordinator over without that flag; a zkserver started here would hold them open, and the
// coordinator would wait for the worker's end of them for ever.
func closeInheritedOnExec(t testing.TB) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range fds {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
