package kafka09

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// defaultWireSeeds is how many seeded random sequences TestWireAgainstKafka09 runs after its fixed steps when
// ZKCONF_KAFKA_SEEDS is unset ("N" = seeds 1..N, "A-B", "0" for none).
const defaultWireSeeds = 2

// randomTarget is the broker the random steps compare with Apache's: ours in the 0.9.0 message format stores
// and serves what 0.9 clients send as Kafka 0.9 does. In Kafka 2.8's default format a Fetch v0/v1 answer is
// down-converted, which drops a partial message where 0.9 sends its bytes, so its answers differ by design.
const randomTarget = "ours-0.9.0-format"

// randomWireSteps are the steps of each seed of ZKCONF_KAFKA_SEEDS: two topics made through ZooKeeper, then
// requests of 0.9's clients drawn from the seed alone (never from answers): produce of plain and gzip message sets
// (acks 0, 1 and all; bad checksums; unknown partitions), fetches at any offset with any size limit, offsets
// listed, committed and fetched (v0 in ZooKeeper, v1 and v2 in Kafka) for simple consumer groups.
func randomWireSteps(t *testing.T) []wireStep {
	lo, hi := uint64(1), uint64(defaultWireSeeds)
	if v := os.Getenv("ZKCONF_KAFKA_SEEDS"); v != "" {
		a, b, isRange := strings.Cut(v, "-")
		var err1, err2 error
		hi, err1 = strconv.ParseUint(a, 10, 64)
		if isRange {
			lo = hi
			hi, err2 = strconv.ParseUint(b, 10, 64)
		}
		if err1 != nil || err2 != nil {
			t.Fatalf("ZKCONF_KAFKA_SEEDS=%q: want N or A-B", v)
		}
	}
	var steps []wireStep
	for seed := lo; seed <= hi && hi > 0; seed++ {
		steps = append(steps, newWireRandom(seed).steps()...)
	}
	return steps
}

// wireRandom draws one seed's requests.
type wireRandom struct {
	seed   uint64
	rng    *rand.Rand
	sent   int64  // messages drawn for the plain topic so far (offsets to fetch are drawn below about sent/3)
	plain  string // three partitions, plain messages only: fetches of any size compare byte for byte
	gz     string // one partition, gzip wrappers only: brokers compress differently, so only whole fetches
	groups []string
}

func newWireRandom(seed uint64) *wireRandom {
	return &wireRandom{seed: seed, rng: rand.New(rand.NewPCG(seed, 0x6b61666b61)),
		plain: fmt.Sprintf("wr%d-p", seed), gz: fmt.Sprintf("wr%d-g", seed),
		groups: []string{fmt.Sprintf("wr%d-c0", seed), fmt.Sprintf("wr%d-c1", seed)}}
}

func (w *wireRandom) steps() []wireStep {
	prefix := fmt.Sprintf("random-%d/", w.seed)
	steps := []wireStep{
		{name: prefix + "zk/create-plain", zk: createTopicZK(w.plain, 3)},
		{name: prefix + "zk/create-gzip", zk: createTopicZK(w.gz, 1)},
		{name: prefix + "metadata/ready", req: metadataReq(w.plain, w.gz), until: topicReady, view: metadataView},
	}
	n := 100 + w.rng.IntN(60)
	for i := range n {
		st := w.step()
		st.name = fmt.Sprintf("%s%03d-%s", prefix, i, st.name)
		st.only = randomTarget
		steps = append(steps, st)
	}
	return steps
}

// step draws one request.
func (w *wireRandom) step() wireStep {
	switch r := w.rng.IntN(100); {
	case r < 35:
		return w.producePlain()
	case r < 43:
		return w.produceGzip()
	case r < 68:
		return w.fetchPlain()
	case r < 73:
		return wireStep{name: "fetch-gzip", req: fetchOffsetsReq(w.pick(0, 1), 1<<20,
			fetchAt{w.gz, 0, w.rng.Int64N(25)}), view: fetchView}
	case r < 81:
		return w.listOffsets()
	case r < 91:
		return w.commit()
	default:
		return w.offsetFetch()
	}
}

func (w *wireRandom) pick(vs ...int16) int16 { return vs[w.rng.IntN(len(vs))] }

// message draws a plain message: keys null, empty or short; values null, short or up to 3000 bytes.
func (w *wireRandom) message() legacyMsg {
	var m legacyMsg
	switch r := w.rng.IntN(10); {
	case r < 3:
	case r < 4:
		m.key = []byte{}
	default:
		m.key = []byte(fmt.Sprintf("k%d", w.rng.IntN(20)))
	}
	switch r := w.rng.IntN(20); {
	case r < 2:
	case r < 3:
		m.value = make([]byte, 1500+w.rng.IntN(1500))
		for i := range m.value {
			m.value[i] = byte('a' + i%26)
		}
	default:
		m.value = []byte(strings.Repeat("v", w.rng.IntN(200)) + strconv.Itoa(w.rng.IntN(1000)))
	}
	return m
}

func (w *wireRandom) messages(max int) []legacyMsg {
	msgs := make([]legacyMsg, 1+w.rng.IntN(max))
	for i := range msgs {
		msgs[i] = w.message()
	}
	return msgs
}

func (w *wireRandom) producePlain() wireStep {
	// An acks=0 produce that fails closes the connection (both brokers), which the next request finds closed or
	// failing to write, as the close's timing has it: acks=0 sets are drawn valid.
	acks := w.pick(1, 1, 1, -1, 0)
	msgs := w.messages(6)
	set := appendMessageSet(nil, msgs...)
	name := "produce"
	if acks != 0 && w.rng.IntN(20) == 0 {
		set[len(set)-1] ^= 0xff // the last message's checksum no longer holds
		name = "produce-bad-crc"
	}
	var parts []int32
	for range 1 + w.rng.IntN(2) {
		p := int32(w.rng.IntN(3))
		if acks != 0 && w.rng.IntN(15) == 0 {
			p = 5 // no such partition
		}
		parts = append(parts, p)
		w.sent += int64(len(msgs))
	}
	return wireStep{name: fmt.Sprintf("%s-acks%d", name, acks), req: produceReq(w.pick(0, 1), acks, w.plain, set, parts...),
		view: produceView, noResponse: acks == 0}
}

func (w *wireRandom) produceGzip() wireStep {
	set := appendMessageSet(nil, gzipWrapper(w.messages(4)...))
	return wireStep{name: "produce-gzip", req: produceReq(w.pick(0, 1), w.pick(1, -1), w.gz, set, 0), view: produceView}
}

func (w *wireRandom) fetchPlain() wireStep {
	var at []fetchAt
	for range 1 + w.rng.IntN(3) {
		p := int32(w.rng.IntN(3))
		if w.rng.IntN(20) == 0 {
			p = 7
		}
		var off int64
		switch r := w.rng.IntN(10); {
		case r < 1:
			off = -1
		case r < 2:
			off = 1000
		default:
			off = w.rng.Int64N(w.sent/3 + 3)
		}
		at = append(at, fetchAt{w.plain, p, off})
	}
	var max int32
	switch r := w.rng.IntN(10); {
	case r < 1:
		max = 0
	case r < 3:
		max = int32(w.rng.IntN(40)) // inside the first message's header
	case r < 8:
		max = int32(w.rng.IntN(3000))
	default:
		max = 1 << 20
	}
	return wireStep{name: "fetch", req: fetchOffsetsReq(w.pick(0, 1), max, at...), view: fetchView}
}

func (w *wireRandom) listOffsets() wireStep {
	topic, part := w.plain, int32(w.rng.IntN(3))
	if w.rng.IntN(4) == 0 {
		topic, part = w.gz, 0
	}
	ts := []int64{-1, -2}[w.rng.IntN(2)]
	return wireStep{name: "list-offsets", req: listOffsetsReq(topic, part, ts, int32(w.rng.IntN(4)))}
}

// commitAt draws the partitions of a commit or an offset fetch: the plain topic's, sometimes the gzip topic's,
// one that does not exist (offset fetches only: Kafka 0.9 takes a commit for any partition of a topic it knows,
// 2.8 refuses one its metadata lacks, KafkaApis.handleOffsetCommitRequest), or a topic that does not.
func (w *wireRandom) commitAt(fetch bool) []commit {
	var out []commit
	for range 1 + w.rng.IntN(3) {
		c := commit{topic: w.plain, partition: int32(w.rng.IntN(3)), offset: w.rng.Int64N(50)}
		switch w.rng.IntN(12) {
		case 0:
			c.topic, c.partition = w.gz, 0
		case 1:
			if fetch {
				c.partition = 9
			}
		case 2:
			c.topic = "wr-none"
		case 3:
			c.offset = -1
		}
		out = append(out, c)
	}
	return out
}

func (w *wireRandom) commit() wireStep {
	v := w.pick(0, 1, 2)
	group := w.groups[w.rng.IntN(2)]
	commits := w.commitAt(false)
	metadata := make([]string, len(commits))
	for i := range metadata {
		switch r := w.rng.IntN(20); {
		case r < 3:
		case r < 4:
			metadata[i] = strings.Repeat("m", 4097) // over offset.metadata.max.bytes
		default:
			metadata[i] = "m" + strconv.Itoa(w.rng.IntN(100))
		}
	}
	retention := []int64{-1, -1, 60_000, 86_400_000}[w.rng.IntN(4)]
	return wireStep{name: fmt.Sprintf("commit-v%d", v), view: offsetCommitView,
		req: func(*wireTarget) (kmsg.Request, int16) {
			r := kmsg.NewPtrOffsetCommitRequest()
			r.Group, r.Generation, r.RetentionTimeMillis = group, -1, retention
			for i, c := range commits {
				tp := kmsg.NewOffsetCommitRequestTopic()
				tp.Topic = c.topic
				p := kmsg.NewOffsetCommitRequestTopicPartition()
				p.Partition, p.Offset, p.Metadata = c.partition, c.offset, str(metadata[i])
				tp.Partitions = append(tp.Partitions, p)
				r.Topics = append(r.Topics, tp)
			}
			return r, v
		}}
}

func (w *wireRandom) offsetFetch() wireStep {
	v := w.pick(0, 1)
	return wireStep{name: fmt.Sprintf("offset-fetch-v%d", v), view: offsetFetchView,
		req: offsetFetchReq(v, w.groups[w.rng.IntN(2)], w.commitAt(true)...)}
}

// fetchAt is one partition of a fetch and the offset it starts at.
type fetchAt struct {
	topic     string
	partition int32
	offset    int64
}

// fetchOffsetsReq fetches several partitions (each its own topic entry, as 0.9's clients may send them), each
// with maxBytes.
func fetchOffsetsReq(v int16, maxBytes int32, at ...fetchAt) func(*wireTarget) (kmsg.Request, int16) {
	return func(*wireTarget) (kmsg.Request, int16) {
		r := kmsg.NewPtrFetchRequest()
		r.MaxWaitMillis = 50
		r.MinBytes = 1
		for _, a := range at {
			tp := kmsg.NewFetchRequestTopic()
			tp.Topic = a.topic
			p := kmsg.NewFetchRequestTopicPartition()
			p.Partition, p.FetchOffset, p.PartitionMaxBytes = a.partition, a.offset, maxBytes
			tp.Partitions = append(tp.Partitions, p)
			r.Topics = append(r.Topics, tp)
		}
		return r, v
	}
}

// offsetCommitView lists an OffsetCommit answer's partitions in topic and partition order (0.9 answers in its
// hash maps' order).
func offsetCommitView(_ *wireTarget, r kmsg.Response) any {
	type part struct {
		Topic     string
		Partition int32
		ErrorCode int16
	}
	var out []part
	for _, t := range r.(*kmsg.OffsetCommitResponse).Topics {
		for _, p := range t.Partitions {
			out = append(out, part{t.Topic, p.Partition, p.ErrorCode})
		}
	}
	sortPartitions(out, func(p part) (string, int32) { return p.Topic, p.Partition })
	return out
}

// offsetFetchView lists an OffsetFetch answer's partitions in topic and partition order.
func offsetFetchView(_ *wireTarget, r kmsg.Response) any {
	type part struct {
		Topic     string
		Partition int32
		Offset    int64
		Metadata  *string
		ErrorCode int16
	}
	var out []part
	for _, t := range r.(*kmsg.OffsetFetchResponse).Topics {
		for _, p := range t.Partitions {
			out = append(out, part{t.Topic, p.Partition, p.Offset, p.Metadata, p.ErrorCode})
		}
	}
	sortPartitions(out, func(p part) (string, int32) { return p.Topic, p.Partition })
	return out
}
