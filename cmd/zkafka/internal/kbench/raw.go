package kbench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/zkafka/zkafka/cmd/zkafka/internal/zkbench"
)

// The raw client measures the broker rather than a client library: a produce request is encoded once (kmsg
// bodies, message sets of identical records with their CRCs) and sent again and again, Inflight at a time on one
// connection per leader; a consumer walks the fetched message sets only far enough to count records and find the
// next offset. Both brokers receive byte-identical requests, and the client's own CPU stays small, which on a
// shared 2-core machine is what lets the broker's cost show.

// rawVersions are the request versions the raw client sends: the highest the pin allows.
type rawVersions struct{ produce, fetch int16 }

func (c *Config) rawVersions() (rawVersions, error) {
	if c.MaxVersion == "" {
		return rawVersions{}, errors.New("the raw client needs --max-version (it does not negotiate versions)")
	}
	v := kversion.FromString(c.MaxVersion)
	if v == nil {
		return rawVersions{}, fmt.Errorf("unknown Kafka version %q", c.MaxVersion)
	}
	p, okp := v.LookupMaxKeyVersion(0)
	f, okf := v.LookupMaxKeyVersion(1)
	if !okp || !okf {
		return rawVersions{}, fmt.Errorf("Kafka %s has no produce or fetch versions", c.MaxVersion)
	}
	// Flexible versions (produce 9+, fetch 12+) would need tagged header fields: keep below them.
	return rawVersions{produce: min(p, 8), fetch: min(f, 11)}, nil
}

// leaders maps each partition of the topic to its leader's address.
func leaders(ctx context.Context, cl *kgo.Client, topic string, n int) (map[string][]int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("metadata for %s: %w", topic, err)
	}
	addrs := make(map[int32]string, len(resp.Brokers))
	for _, b := range resp.Brokers {
		addrs[b.NodeID] = net.JoinHostPort(b.Host, fmt.Sprint(b.Port))
	}
	out := make(map[string][]int32)
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		for _, p := range t.Partitions {
			if int(p.Partition) >= n {
				continue
			}
			a, ok := addrs[p.Leader]
			if !ok {
				return nil, fmt.Errorf("%s-%d: leader %d not among the brokers", topic, p.Partition, p.Leader)
			}
			out[a] = append(out[a], p.Partition)
		}
	}
	for _, ps := range out {
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	}
	return out, nil
}

// messageSet encodes count records of value in the format a produce request of version v carries.
func messageSet(v int16, value []byte, count int) []byte {
	var out []byte
	switch {
	case v <= 2: // magic 0 (v0, v1) or 1 (v2)
		magic := int8(0)
		if v == 2 {
			magic = 1
		}
		for i := 0; i < count; i++ {
			start := len(out)
			if magic == 0 {
				m := kmsg.MessageV0{Offset: int64(i), MessageSize: int32(14 + len(value)), Value: value}
				out = m.AppendTo(out)
			} else {
				m := kmsg.MessageV1{Offset: int64(i), MessageSize: int32(22 + len(value)), Magic: 1,
					Timestamp: time.Now().UnixMilli(), Value: value}
				out = m.AppendTo(out)
			}
			binary.BigEndian.PutUint32(out[start+12:], crc32.ChecksumIEEE(out[start+16:]))
		}
	default: // a v2 record batch
		b := kmsg.RecordBatch{Magic: 2, LastOffsetDelta: int32(count - 1), FirstTimestamp: time.Now().UnixMilli(),
			ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(count)}
		b.MaxTimestamp = b.FirstTimestamp
		for i := 0; i < count; i++ {
			r := kmsg.Record{OffsetDelta: int32(i), Value: value}
			r.Length = int32(len(r.AppendTo(nil)) - varintLen(0)) // Length counts what follows it
			b.Records = r.AppendTo(b.Records)
		}
		enc := b.AppendTo(nil)
		b.Length = int32(len(enc) - 12)
		enc = b.AppendTo(nil)
		binary.BigEndian.PutUint32(enc[17:], crc32.Checksum(enc[21:], crc32.MakeTable(crc32.Castagnoli)))
		out = enc
	}
	return out
}

func varintLen(v int64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutVarint(buf[:], v)
}

// rawConn is one connection with requests pipelined on it.
type rawConn struct {
	c   net.Conn
	w   *bufio.Writer
	r   *bufio.Reader
	hdr []byte
}

func dialRaw(ctx context.Context, addr string) (*rawConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &rawConn{c: c, w: bufio.NewWriterSize(c, 64<<10), r: bufio.NewReaderSize(c, 1<<20)}, nil
}

// send writes one request: size, header v1 (key, version, correlation id, client id) and the encoded body.
func (rc *rawConn) send(key, version int16, corr int32, body []byte) error {
	const client = "zkafka-bench"
	h := rc.hdr[:0]
	h = binary.BigEndian.AppendUint32(h, uint32(2+2+4+2+len(client)+len(body)))
	h = binary.BigEndian.AppendUint16(h, uint16(key))
	h = binary.BigEndian.AppendUint16(h, uint16(version))
	h = binary.BigEndian.AppendUint32(h, uint32(corr))
	h = binary.BigEndian.AppendUint16(h, uint16(len(client)))
	h = append(h, client...)
	rc.hdr = h
	if _, err := rc.w.Write(h); err != nil {
		return err
	}
	if _, err := rc.w.Write(body); err != nil {
		return err
	}
	return nil
}

// recv reads one response into buf (grown as needed) and returns its correlation id and body.
func (rc *rawConn) recv(buf []byte) (int32, []byte, error) {
	var sz [4]byte
	if _, err := io.ReadFull(rc.r, sz[:]); err != nil {
		return 0, buf, err
	}
	n := int(binary.BigEndian.Uint32(sz[:]))
	if n < 4 || n > 1<<30 {
		return 0, buf, fmt.Errorf("response of %d bytes", n)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(rc.r, buf); err != nil {
		return 0, buf, err
	}
	return int32(binary.BigEndian.Uint32(buf)), buf, nil
}

func rawProduce(ctx context.Context, cfg Config, admin *kgo.Client) (*Result, error) {
	vers, err := cfg.rawVersions()
	if err != nil {
		return nil, err
	}
	acks := int16(1)
	switch cfg.Acks {
	case "all", "-1":
		acks = -1
	case "0":
		return nil, errors.New("the raw client does not produce with acks 0")
	}
	byLeader, err := leaders(ctx, admin, cfg.Topic, cfg.Partitions)
	if err != nil {
		return nil, err
	}
	value := make([]byte, cfg.Size)
	_, _ = rand.Read(value)
	perPart := max(1, cfg.BatchBytes/max(cfg.Size, 1))
	set := messageSet(vers.produce, value, perPart)

	runCtx, cancel := cfg.runContext(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		lat     = zkbench.NewHistogram()
		errs    errorLog
		records uint64
		wg      sync.WaitGroup
		budget  = cfg.Records
	)
	// take reserves a request's worth of records; false once the run is over.
	take := func(n int64) bool {
		mu.Lock()
		defer mu.Unlock()
		if runCtx.Err() != nil {
			return false
		}
		if cfg.Records > 0 {
			if budget <= 0 {
				return false
			}
			budget -= n
		}
		return true
	}
	start := time.Now()
	for addr, parts := range byLeader {
		req := kmsg.NewPtrProduceRequest()
		req.Version = vers.produce
		req.Acks = acks
		req.TimeoutMillis = 30000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = cfg.Topic
		for _, p := range parts {
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Partition = p
			rp.Records = set
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		body := req.AppendTo(nil)
		perReq := int64(perPart * len(parts))

		conn, err := dialRaw(ctx, addr)
		if err != nil {
			return nil, err
		}
		defer conn.c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			inflight := max(cfg.Inflight, 1)
			slots := make(chan struct{}, inflight) // a slot per request out
			sent := make(chan time.Time, inflight)
			done := make(chan struct{})
			go func() { // writer: keeps Inflight requests out
				defer close(sent)
				for corr := int32(0); ; corr++ {
					select {
					case slots <- struct{}{}:
					case <-done:
						return
					}
					if !take(perReq) {
						return
					}
					sent <- time.Now()
					err := conn.send(0, vers.produce, corr, body)
					if err == nil {
						err = conn.w.Flush()
					}
					if err != nil {
						errs.add(fmt.Errorf("send produce: %w", err))
						return
					}
				}
			}()
			defer close(done)
			var buf []byte
			resp := kmsg.NewPtrProduceResponse()
			resp.Version = vers.produce
			for t0 := range sent {
				var b []byte
				var err error
				_, b, err = conn.recv(buf)
				buf = b
				if err != nil {
					errs.add(fmt.Errorf("read produce response: %w", err))
					return
				}
				d := time.Since(t0)
				<-slots
				if err := resp.ReadFrom(b[4:]); err != nil {
					errs.add(fmt.Errorf("decode produce response: %w", err))
					return
				}
				ok := true
				for _, t := range resp.Topics {
					for _, p := range t.Partitions {
						if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
							errs.add(fmt.Errorf("%s-%d: %w", t.Topic, p.Partition, err))
							ok = false
						}
					}
				}
				if ok {
					mu.Lock()
					lat.RecordN(d, uint64(perReq))
					records += uint64(perReq)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	res := newResult(cfg, elapsed, records, records*uint64(cfg.Size), lat, &errs)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

// partFetch is one partition's place in a raw consume.
type partFetch struct {
	next int64 // offset to fetch from
	left int64 // records still to read
}

func rawConsume(ctx context.Context, cfg Config, admin *kgo.Client, n int) (*Result, error) {
	vers, err := cfg.rawVersions()
	if err != nil {
		return nil, err
	}
	starts, err := listOffsets(ctx, admin, cfg.Topic, n, -2)
	if err != nil {
		return nil, err
	}
	ends, err := listOffsets(ctx, admin, cfg.Topic, n, -1)
	if err != nil {
		return nil, err
	}
	byLeader, err := leaders(ctx, admin, cfg.Topic, n)
	if err != nil {
		return nil, err
	}
	// Records to read per partition: all a partition holds, or for a bounded run the first Records of the topic
	// taken partition by partition, so that the run reads Records in all as the franz-go consumer does.
	var want int64
	left := make(map[int32]int64, n)
	for p := int32(0); p < int32(n); p++ {
		c := max(ends[p]-starts[p], 0)
		if cfg.Records > 0 {
			c = min(c, cfg.Records-want)
		}
		if c > 0 {
			left[p] = c
			want += c
		}
	}
	if want == 0 {
		return nil, fmt.Errorf("topic %s is empty: produce to it first", cfg.Topic)
	}
	runCtx, cancel := cfg.runContext(ctx)
	defer cancel()
	var (
		mu             sync.Mutex
		lat            = zkbench.NewHistogram()
		errs           errorLog
		records, bytes uint64
		wg             sync.WaitGroup
	)
	start := time.Now()
	for addr, parts := range byLeader {
		state := make(map[int32]*partFetch, len(parts))
		for _, p := range parts {
			if c := left[p]; c > 0 {
				state[p] = &partFetch{next: starts[p], left: c}
			}
		}
		if len(state) == 0 {
			continue
		}
		conn, err := dialRaw(ctx, addr)
		if err != nil {
			return nil, err
		}
		defer conn.c.Close()
		finished := make(chan struct{})
		go func() { // a cancelled run ends the read the loop is blocked in
			select {
			case <-runCtx.Done():
				conn.c.SetDeadline(time.Now())
			case <-finished:
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(finished)
			var buf, body []byte
			resp := kmsg.NewPtrFetchResponse()
			resp.Version = vers.fetch
			for corr := int32(0); len(state) > 0 && runCtx.Err() == nil; corr++ {
				req := kmsg.NewPtrFetchRequest()
				req.Version = vers.fetch
				req.ReplicaID = -1
				req.MaxWaitMillis = 500
				req.MinBytes = 1
				req.MaxBytes = 50 << 20
				rt := kmsg.NewFetchRequestTopic()
				rt.Topic = cfg.Topic
				for p, st := range state {
					rp := kmsg.NewFetchRequestTopicPartition()
					rp.Partition = p
					rp.FetchOffset = st.next
					rp.PartitionMaxBytes = 1 << 20
					rt.Partitions = append(rt.Partitions, rp)
				}
				req.Topics = append(req.Topics, rt)
				body = req.AppendTo(body[:0])
				t0 := time.Now()
				err := conn.send(1, vers.fetch, corr, body)
				if err == nil {
					err = conn.w.Flush()
				}
				if err != nil {
					if runCtx.Err() == nil {
						errs.add(fmt.Errorf("send fetch: %w", err))
					}
					return
				}
				var b []byte
				_, b, err = conn.recv(buf)
				buf = b
				if err != nil {
					if runCtx.Err() == nil {
						errs.add(fmt.Errorf("read fetch response: %w", err))
					}
					return
				}
				d := time.Since(t0)
				if err := resp.UnsafeReadFrom(b[4:]); err != nil {
					errs.add(fmt.Errorf("decode fetch response: %w", err))
					return
				}
				var nrec, nbytes uint64
				for _, t := range resp.Topics {
					for _, p := range t.Partitions {
						st := state[p.Partition]
						if st == nil {
							continue
						}
						if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
							errs.add(fmt.Errorf("%s-%d: %w", t.Topic, p.Partition, err))
							continue
						}
						c, vb, next := countRecords(p.RecordBatches, st.next, st.left)
						st.next, st.left = next, st.left-int64(c)
						nrec, nbytes = nrec+c, nbytes+vb
						if st.left <= 0 {
							delete(state, p.Partition)
						}
					}
				}
				mu.Lock()
				lat.Record(d)
				records += nrec
				bytes += nbytes
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	res := newResult(cfg, elapsed, records, bytes, lat, &errs)
	res.Expected = uint64(want)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

// countRecords walks a fetched record set (message sets of magic 0 or 1, or v2 batches) from offset from, counting
// at most limit records and their value bytes, and returns the offset to fetch next. A trailing partial entry, which
// a broker may send, ends the walk; so does a malformed one, at its first bad length (the broker under test may be
// wrong). CRCs are not checked: the load measures the broker.
func countRecords(b []byte, from, limit int64) (n, valueBytes uint64, next int64) {
	next = from
	for len(b) >= 17 && int64(n) < limit {
		base := int64(binary.BigEndian.Uint64(b))
		size := int64(binary.BigEndian.Uint32(b[8:]))
		if size < 5 || 12+size > int64(len(b)) {
			break
		}
		entry := b[12 : 12+size]
		b = b[12+size:]
		switch magic := entry[4]; magic {
		case 0, 1:
			if base < from {
				continue
			}
			// crc(4) magic(1) attributes(1) [timestamp(8)] key length(4) key value length(4) value
			p := int64(6)
			if magic == 1 {
				p += 8
			}
			if p+4 > int64(len(entry)) {
				return n, valueBytes, next
			}
			klen := int64(int32(binary.BigEndian.Uint32(entry[p:])))
			p += 4 + max(klen, 0)
			if p+4 > int64(len(entry)) {
				return n, valueBytes, next
			}
			vlen := int64(int32(binary.BigEndian.Uint32(entry[p:])))
			if p+4+max(vlen, 0) > int64(len(entry)) {
				return n, valueBytes, next
			}
			valueBytes += uint64(max(vlen, 0))
			n++
			next = base + 1
		case 2:
			// leaderEpoch(4) magic(1) crc(4) attrs(2) lastOffsetDelta(4) 2 timestamps(16) pid(8) epoch(2) seq(4) count(4)
			if len(entry) < 49 {
				return n, valueBytes, next
			}
			last := int32(binary.BigEndian.Uint32(entry[11:]))
			recs := entry[49:]
			for len(recs) > 0 && int64(n) < limit {
				l, w := binary.Varint(recs)
				if w <= 0 || l < 1 || l > int64(len(recs)-w) {
					return n, valueBytes, next
				}
				rec := recs[w : int64(w)+l]
				recs = recs[int64(w)+l:]
				// attributes(1) timestampDelta offsetDelta keyLength key valueLength value headers
				_, r, ok := varint(rec[1:])
				od, r, ok2 := varint(r)
				if !ok || !ok2 {
					return n, valueBytes, next
				}
				if base+od < from {
					continue
				}
				kl, r, ok := varint(r)
				if !ok || kl > int64(len(r)) {
					return n, valueBytes, next
				}
				r = r[max(kl, 0):]
				vl, val, ok := varint(r)
				if !ok || vl > int64(len(val)) {
					return n, valueBytes, next
				}
				valueBytes += uint64(max(vl, 0))
				n++
				next = base + od + 1
			}
			if int64(n) < limit {
				next = max(next, base+int64(last)+1)
			}
		default:
			return n, valueBytes, next
		}
	}
	return n, valueBytes, next
}

// varint reads a zigzag varint from the front of b and returns it and the rest; false when b does not start with
// one.
func varint(b []byte) (int64, []byte, bool) {
	v, w := binary.Varint(b)
	if w <= 0 {
		return 0, nil, false
	}
	return v, b[w:], true
}
