package kbench

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/broker"
	"github.com/zkafka/zkafka/zkserver/zktest"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// testValue is n bytes that differ from each other, so a value read from the wrong place shows.
func testValue(n int) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(i*7 + 3)
	}
	return v
}

// checkMessageSet decodes a magic 0 or 1 message set with kmsg, checks each message's CRC (IEEE over magic to
// end) and size, and returns the messages as (offset, key, value).
func checkMessageSet(t *testing.T, set []byte, magic int8) (offsets []int64, values [][]byte) {
	t.Helper()
	for len(set) > 0 {
		if len(set) < 12 {
			t.Fatalf("%d trailing bytes", len(set))
		}
		size := int(int32(binary.BigEndian.Uint32(set[8:])))
		if size < 0 || 12+size > len(set) {
			t.Fatalf("message size %d, %d bytes left", size, len(set))
		}
		msg := set[:12+size]
		set = set[12+size:]
		if want, got := crc32.ChecksumIEEE(msg[16:]), binary.BigEndian.Uint32(msg[12:]); want != got {
			t.Fatalf("message at %d: CRC %#x, computed %#x", len(offsets), got, want)
		}
		var off int64
		var key, value []byte
		var crc int32
		var encoded []byte
		switch magic {
		case 0:
			var m kmsg.MessageV0
			if err := m.ReadFrom(msg); err != nil {
				t.Fatal(err)
			}
			if m.Magic != 0 || m.Attributes != 0 || int(m.MessageSize) != size {
				t.Fatalf("message %+v", m)
			}
			off, key, value, crc = m.Offset, m.Key, m.Value, m.CRC
			encoded = m.AppendTo(nil)
		case 1:
			var m kmsg.MessageV1
			if err := m.ReadFrom(msg); err != nil {
				t.Fatal(err)
			}
			if m.Magic != 1 || m.Attributes != 0 || int(m.MessageSize) != size || m.Timestamp <= 0 {
				t.Fatalf("message %+v", m)
			}
			off, key, value, crc = m.Offset, m.Key, m.Value, m.CRC
			encoded = m.AppendTo(nil)
		}
		// Nothing past the value: the re-encoding is the message, byte for byte.
		if !bytes.Equal(encoded, msg) {
			t.Fatalf("message at %d re-encodes to %x, was %x", len(offsets), encoded, msg)
		}
		if uint32(crc) != crc32.ChecksumIEEE(msg[16:]) {
			t.Fatalf("decoded CRC %#x", crc)
		}
		if key != nil {
			t.Fatalf("key %q, want null", key)
		}
		offsets = append(offsets, off)
		values = append(values, value)
	}
	return offsets, values
}

// checkBatch decodes one v2 record batch with kmsg, checks its length, CRC (Castagnoli over attributes to end)
// and every record's length, and returns the records.
func checkBatch(t *testing.T, enc []byte) (kmsg.RecordBatch, []kmsg.Record) {
	t.Helper()
	if len(enc) < 61 {
		t.Fatalf("batch of %d bytes", len(enc))
	}
	var b kmsg.RecordBatch
	if err := b.ReadFrom(enc); err != nil {
		t.Fatal(err)
	}
	if int(b.Length) != len(enc)-12 {
		t.Fatalf("batch Length %d, encoded %d bytes", b.Length, len(enc))
	}
	if want := crc32.Checksum(enc[21:], castagnoli); uint32(b.CRC) != want || binary.BigEndian.Uint32(enc[17:]) != want {
		t.Fatalf("batch CRC %#x, computed %#x", uint32(b.CRC), want)
	}
	if b.Magic != 2 || b.Attributes != 0 || b.FirstOffset != 0 || b.ProducerID != -1 || b.ProducerEpoch != -1 ||
		b.FirstSequence != -1 || b.FirstTimestamp <= 0 || b.MaxTimestamp != b.FirstTimestamp {
		t.Fatalf("batch header %+v", b)
	}
	var recs []kmsg.Record
	rest := b.Records
	for len(rest) > 0 {
		l, w := binary.Varint(rest)
		if w <= 0 || l < 0 || int(l) > len(rest)-w {
			t.Fatalf("record %d: length %d (%d bytes), %d bytes left", len(recs), l, w, len(rest))
		}
		raw := rest[:w+int(l)]
		rest = rest[w+int(l):]
		var r kmsg.Record
		if err := r.ReadFrom(raw); err != nil {
			t.Fatalf("record %d: %v", len(recs), err)
		}
		if int64(r.Length) != l {
			t.Fatalf("record %d: Length %d, varint %d", len(recs), r.Length, l)
		}
		// The re-encoding is the record, byte for byte: Length counts exactly what follows it.
		if again := r.AppendTo(nil); !bytes.Equal(again, raw) {
			t.Fatalf("record %d re-encodes to %x, was %x", len(recs), again, raw)
		}
		recs = append(recs, r)
	}
	return b, recs
}

func TestMessageSet(t *testing.T) {
	for _, v := range []int16{0, 1, 2, 3, 8} {
		for _, tc := range []struct{ size, count int }{{0, 1}, {0, 5}, {1, 1}, {100, 3}, {1000, 40}, {70, 200}} {
			t.Run(fmt.Sprintf("v%d/size%d/count%d", v, tc.size, tc.count), func(t *testing.T) {
				value := testValue(tc.size)
				set := messageSet(v, value, tc.count)
				if v <= 2 {
					magic := int8(0)
					if v == 2 {
						magic = 1
					}
					offsets, values := checkMessageSet(t, set, magic)
					if len(offsets) != tc.count {
						t.Fatalf("%d messages, want %d", len(offsets), tc.count)
					}
					for i := range offsets {
						if offsets[i] != int64(i) {
							t.Fatalf("message %d at offset %d", i, offsets[i])
						}
						if values[i] == nil || !bytes.Equal(values[i], value) {
							t.Fatalf("message %d value %x", i, values[i])
						}
					}
					overhead := 26 // offset, size, crc, magic, attributes, key and value lengths
					if magic == 1 {
						overhead += 8 // timestamp
					}
					if len(set) != tc.count*(overhead+tc.size) {
						t.Fatalf("%d bytes, want %d", len(set), tc.count*(overhead+tc.size))
					}
					return
				}
				b, recs := checkBatch(t, set)
				if int(b.NumRecords) != tc.count || int(b.LastOffsetDelta) != tc.count-1 || len(recs) != tc.count {
					t.Fatalf("NumRecords %d, LastOffsetDelta %d, %d records; want %d", b.NumRecords, b.LastOffsetDelta,
						len(recs), tc.count)
				}
				for i, r := range recs {
					if int(r.OffsetDelta) != i || r.TimestampDelta64 != 0 || r.Attributes != 0 || r.Key != nil ||
						len(r.Headers) != 0 || r.Value == nil || !bytes.Equal(r.Value, value) {
						t.Fatalf("record %d: %+v", i, r)
					}
				}
			})
		}
	}
}

// rebase moves a message set or batch (as messageSet makes them) to start at offset base. Neither CRC covers
// offsets.
func rebase(set []byte, base int64) []byte {
	out := append([]byte(nil), set...)
	for b := out; len(b) >= 12; {
		binary.BigEndian.PutUint64(b, uint64(int64(binary.BigEndian.Uint64(b))+base))
		b = b[12+int(binary.BigEndian.Uint32(b[8:])):]
	}
	return out
}

// batchV2 encodes a v2 batch at base with the given offset deltas and values (nil: null), its LastOffsetDelta
// last, as a compacted log can hold.
func batchV2(base int64, last int32, deltas []int32, values [][]byte) []byte {
	b := kmsg.RecordBatch{FirstOffset: base, Magic: 2, LastOffsetDelta: last, FirstTimestamp: 1, MaxTimestamp: 1,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(len(deltas))}
	for i, d := range deltas {
		r := kmsg.Record{OffsetDelta: d, Key: []byte("key"), Value: values[i]}
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		b.Records = r.AppendTo(b.Records)
	}
	enc := b.AppendTo(nil)
	binary.BigEndian.PutUint32(enc[8:], uint32(len(enc)-12))
	binary.BigEndian.PutUint32(enc[17:], crc32.Checksum(enc[21:], castagnoli))
	return enc
}

func TestCountRecords(t *testing.T) {
	type want struct {
		n, vb uint64
		next  int64
	}
	v7 := testValue(7)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name        string
		set         []byte
		from, limit int64
		want        want
	}{
		{"empty", nil, 5, 100, want{0, 0, 5}},
		{"empty limit 0", nil, 0, 0, want{0, 0, 0}},
		{"limit 0", messageSet(1, v7, 3), 0, 0, want{0, 0, 0}},
		{"too short for a header", messageSet(1, v7, 1)[:16], 0, 10, want{0, 0, 0}},
		{"short header v2", messageSet(3, v7, 2)[:16], 4, 10, want{0, 0, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, vb, next := countRecords(tc.set, tc.from, tc.limit)
			if got := (want{n, vb, next}); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}

	// The same cases for each format: a set of 5 seven-byte records at 10 and one of 3 at 15.
	for _, v := range []int16{0, 1, 2, 3} {
		a, b := rebase(messageSet(v, v7, 5), 10), rebase(messageSet(v, v7, 3), 15)
		both := cat(a, b)
		partial := want{5, 35, 15} // the second batch cut short
		if v <= 2 {
			partial = want{7, 49, 17} // the last message cut short
		}
		for _, tc := range []struct {
			name        string
			set         []byte
			from, limit int64
			want        want
		}{
			{"all", a, 10, 100, want{5, 35, 15}},
			{"limit exact", a, 10, 5, want{5, 35, 15}},
			{"limit", a, 10, 2, want{2, 14, 12}},
			{"below from", a, 13, 100, want{2, 14, 15}},
			{"below from, limit", a, 11, 3, want{3, 21, 14}},
			{"all below from", a, 15, 100, want{0, 0, 15}},
			{"concatenated", both, 10, 100, want{8, 56, 18}},
			{"concatenated from second", both, 16, 100, want{2, 14, 18}},
			{"concatenated limit across", both, 12, 4, want{4, 28, 16}},
			{"concatenated limit at first end", both, 10, 5, want{5, 35, 15}},
			{"partial trailing entry", both[:len(both)-1], 10, 100, partial},
			{"partial trailing header", both[:len(a)+14], 10, 100, want{5, 35, 15}},
			{"partial trailing size", both[:len(a)+8], 10, 100, want{5, 35, 15}},
		} {
			t.Run(fmt.Sprintf("v%d/%s", v, tc.name), func(t *testing.T) {
				n, vb, next := countRecords(tc.set, tc.from, tc.limit)
				if got := (want{n, vb, next}); got != tc.want {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
			})
		}
		// Any prefix counts the whole entries in it, and no more.
		t.Run(fmt.Sprintf("v%d/prefixes", v), func(t *testing.T) {
			for i := 0; i <= len(both); i++ {
				n, vb, next := countRecords(both[:i], 10, 100)
				var w want
				switch {
				case i == len(both):
					w = want{8, 56, 18}
				case v >= 3 && i >= len(a):
					w = want{5, 35, 15}
				case v >= 3:
					w = want{0, 0, 10}
				default: // one message per entry, all the same size
					per := len(a) / 5
					w = want{uint64(i / per), uint64(i/per) * 7, 10 + int64(i/per)}
				}
				if got := (want{n, vb, next}); got != w {
					t.Fatalf("prefix %d of %d: got %+v, want %+v", i, len(both), got, w)
				}
			}
		})
	}

	// Zero-byte and null values count as records of no bytes; keys are not value bytes.
	for _, v := range []int16{0, 1, 2, 3} {
		if n, vb, next := countRecords(messageSet(v, []byte{}, 4), 0, 10); n != 4 || vb != 0 || next != 4 {
			t.Errorf("v%d, empty values: %d %d %d", v, n, vb, next)
		}
	}
	var nulls []byte
	for i := range 3 {
		m := kmsg.MessageV1{Offset: int64(i), Magic: 1, Key: []byte("key")}
		if i == 1 {
			m.Value = []byte("abcde")
		}
		m.MessageSize = int32(len(m.AppendTo(nil)) - 12)
		nulls = m.AppendTo(nulls)
	}
	if n, vb, next := countRecords(nulls, 0, 10); n != 3 || vb != 5 || next != 3 {
		t.Errorf("magic 1 with keys and null values: %d %d %d", n, vb, next)
	}
	var nulls0 []byte
	for i := range 2 {
		m := kmsg.MessageV0{Offset: int64(i), Key: []byte("k")}
		if i == 0 {
			m.Value = []byte("abc")
		}
		m.MessageSize = int32(len(m.AppendTo(nil)) - 12)
		nulls0 = m.AppendTo(nulls0)
	}
	if n, vb, next := countRecords(nulls0, 0, 10); n != 2 || vb != 3 || next != 2 {
		t.Errorf("magic 0 with keys and null values: %d %d %d", n, vb, next)
	}

	// A compacted v2 batch: offsets 20, 22 of 20..24. Unlimited, the next fetch starts past the batch.
	comp := batchV2(20, 4, []int32{0, 2}, [][]byte{[]byte("abc"), nil})
	for _, tc := range []struct {
		from, limit int64
		want        want
	}{
		{20, 10, want{2, 3, 25}},
		{21, 10, want{1, 0, 25}},
		{23, 10, want{0, 0, 25}},
		{20, 1, want{1, 3, 21}},
		{20, 2, want{2, 3, 23}},
	} {
		n, vb, next := countRecords(comp, tc.from, tc.limit)
		if got := (want{n, vb, next}); got != tc.want {
			t.Errorf("compacted batch from %d limit %d: got %+v, want %+v", tc.from, tc.limit, got, tc.want)
		}
	}

	// A log written in both formats (messages converted on upgrade): magic 1 messages, then a v2 batch.
	mixed := cat(rebase(messageSet(2, v7, 3), 0), rebase(messageSet(3, testValue(2), 4), 3))
	if n, vb, next := countRecords(mixed, 1, 100); n != 6 || vb != 2*7+4*2 || next != 7 {
		t.Errorf("mixed formats: %d %d %d", n, vb, next)
	}
}

// TestCountRecordsGarbage feeds damaged record sets, as a broker under test could send them: countRecords may
// count what it likes but must not panic.
func TestCountRecordsGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var sets [][]byte
	for _, v := range []int16{0, 1, 2, 3} {
		sets = append(sets, messageSet(v, testValue(9), 4))
	}
	sets = append(sets, batchV2(0, 4, []int32{0, 2}, [][]byte{[]byte("abc"), nil}))
	for _, set := range sets {
		for i := 0; i < 2000; i++ {
			b := append([]byte(nil), set...)
			for range 1 + rng.IntN(4) {
				p := rng.IntN(len(b))
				switch rng.IntN(3) {
				case 0:
					b[p] = byte(rng.Uint32())
				case 1:
					b[p] = 0xff
				default:
					b[p] = 0x80
				}
			}
			b = b[:rng.IntN(len(b)+1)]
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("countRecords(%x) panicked: %v", b, r)
					}
				}()
				countRecords(b, 0, 100)
			}()
		}
	}
}

func TestRawVersions(t *testing.T) {
	for _, tc := range []struct {
		pin  string
		want rawVersions
		err  bool
	}{
		{pin: "", err: true},
		{pin: "9.9.9.9", err: true},
		{pin: "0.9.0", want: rawVersions{produce: 1, fetch: 1}},
		{pin: "0.10.0", want: rawVersions{produce: 2, fetch: 2}},
		{pin: "0.11.0", want: rawVersions{produce: 3, fetch: 5}},
		{pin: "2.8.0", want: rawVersions{produce: 8, fetch: 11}},
		{pin: "3.8.0", want: rawVersions{produce: 8, fetch: 11}}, // below the flexible versions
	} {
		c := Config{MaxVersion: tc.pin}
		got, err := c.rawVersions()
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("pin %q: %+v %v", tc.pin, got, err)
		}
	}
}

// startBroker runs ZooKeeper and one broker in this process, as `zkafka dev` does, for the test's lifetime.
func startBroker(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	zk := zktest.Start(t, dir, quiet)
	props, err := serverprops.FromMap(map[string]string{
		"broker.id":                        "0",
		"listeners":                        "PLAINTEXT://127.0.0.1:" + strconv.Itoa(freePort(t)),
		"log.dirs":                         filepath.Join(dir, "kafka"),
		"zookeeper.connect":                zk.Addr().String(),
		"offsets.topic.replication.factor": "1",
		"num.partitions":                   "1",
	}, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	b := broker.New(props, quiet)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() }) // before ZooKeeper's
	addr := b.Addr("PLAINTEXT").String()

	// Usable once the broker lists itself in its metadata.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		if err == nil && len(resp.Brokers) > 0 {
			return addr
		}
		select {
		case <-ctx.Done():
			t.Fatalf("broker at %s not up: %v", addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRawEndToEnd produces with the raw client to an in-process broker at 0.9 and 2.8 request versions (message
// sets of magic 0, record batches), consumes back with the raw client, and checks the counts.
func TestRawEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	addr := startBroker(t)
	for _, tc := range []struct {
		pin  string
		size int
	}{{"0.9.0", 100}, {"2.8.0", 100}, {"0.10.0", 30}, {"2.8.0", 0}} {
		t.Run(fmt.Sprintf("%s/size%d", tc.pin, tc.size), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			topic := fmt.Sprintf("raw-%s-%d", tc.pin, tc.size)
			const records, batchBytes, partitions = 500, 4096, 2
			cfg := Config{Brokers: []string{addr}, Topic: topic, Op: OpProduce, Acks: "1", Size: tc.size,
				Partitions: partitions, Records: records, Buffered: 1, Inflight: 3, Client: "raw",
				BatchBytes: batchBytes, MaxVersion: tc.pin}
			if tc.size == 0 {
				cfg.BatchBytes = 50 // 50 zero-byte records per partition per request
			}
			prod, err := Run(ctx, cfg)
			if err != nil {
				t.Fatalf("produce: %v (%+v)", err, prod)
			}
			// Requests carry whole batches: the budget rounds up to requests of perPart records per partition.
			perReq := uint64(partitions * max(1, cfg.BatchBytes/max(tc.size, 1)))
			want := (records + perReq - 1) / perReq * perReq
			if prod.Records != want || prod.Bytes != want*uint64(tc.size) || prod.Errors != 0 || prod.Op != "produce" {
				t.Fatalf("produce: %+v, want %d records", prod, want)
			}

			cfg.Op, cfg.Records = OpConsume, 0
			cons, err := Run(ctx, cfg)
			if err != nil {
				t.Fatalf("consume: %v (%+v)", err, cons)
			}
			if cons.Records != want || cons.Expected != want || cons.Bytes != want*uint64(tc.size) || cons.Errors != 0 {
				t.Fatalf("consume: %+v, want %d records", cons, want)
			}

			// A bounded consume reads that many records, not that many per partition.
			cfg.Records = 300
			cons, err = Run(ctx, cfg)
			if err != nil {
				t.Fatalf("consume 300: %v (%+v)", err, cons)
			}
			if cons.Records != 300 || cons.Expected != 300 || cons.Bytes != 300*uint64(tc.size) || cons.Errors != 0 {
				t.Fatalf("consume 300: %+v", cons)
			}

			// The franz-go consumer agrees on what the raw producer wrote.
			cfg.Client, cfg.Records = "franz", 0
			cons, err = Run(ctx, cfg)
			if err != nil {
				t.Fatalf("franz consume: %v (%+v)", err, cons)
			}
			if cons.Records != want || cons.Expected != want || cons.Bytes != want*uint64(tc.size) || cons.Errors != 0 {
				t.Fatalf("franz consume: %+v, want %d records", cons, want)
			}
		})
	}
}

func TestRawProduceAcks0(t *testing.T) {
	// Rejected before any connection: the raw client waits for every response.
	cfg := Config{Client: "raw", MaxVersion: "0.9.0", Acks: "0", Size: 10, BatchBytes: 100}
	if _, err := rawProduce(context.Background(), cfg, nil); err == nil {
		t.Fatal("acks 0 accepted")
	}
}
