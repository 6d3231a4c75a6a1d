package kafkaclients

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// createTopic creates topic with n partitions (replication factor 1) through a franz-go client.
func (c *cluster) createTopic(t *testing.T, topic string, n int32) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, n, 1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// committed sums the group's committed offsets on topic.
func (c *cluster) committed(t *testing.T, group, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("offset fetch %s: %v", group, err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("offset fetch %s: %v", group, err)
	}
	var sum int64
	for _, rt := range resp.Topics {
		if rt.Topic != topic {
			continue
		}
		for _, p := range rt.Partitions {
			if p.Offset > 0 {
				sum += p.Offset
			}
		}
	}
	return sum
}

// messageLines keeps kcat's "key=value" output lines, sorted (partitions interleave).
func messageLines(out string) []string {
	var msgs []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "k") && strings.Contains(l, "=") {
			msgs = append(msgs, l)
		}
	}
	slices.Sort(msgs)
	return msgs
}

// TestKcat drives librdkafka through kcat: metadata (-L), produce (-P, plain and compressed), consume to the end
// (-C -e) and a balanced consumer group (-G) whose commits a second run honours.
func TestKcat(t *testing.T) {
	kcat := lookPathOrSkip(t, "kcat", "kcat")
	onBothZooKeepers(t, "kcat", func(t *testing.T, c *cluster) {
		const topic = "kcat-topic"
		c.createTopic(t, topic, 3)

		t.Run("metadata", func(t *testing.T) {
			out, err := run(t, 30*time.Second, nil, kcat, "-b", c.addr, "-L", "-J", "-t", topic)
			if err != nil {
				t.Fatalf("kcat -L: %v\n%s", err, out)
			}
			var md struct {
				ControllerID int32 `json:"controllerid"`
				Brokers      []struct {
					ID   int32  `json:"id"`
					Name string `json:"name"`
				} `json:"brokers"`
				Topics []struct {
					Topic      string `json:"topic"`
					Err        string `json:"error"`
					Partitions []struct {
						Partition int32 `json:"partition"`
						Leader    int32 `json:"leader"`
					} `json:"partitions"`
				} `json:"topics"`
			}
			if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &md); err != nil {
				t.Fatalf("kcat -L -J output: %v\n%s", err, out)
			}
			if md.ControllerID != 0 || len(md.Brokers) != 1 || md.Brokers[0].Name != c.addr {
				t.Fatalf("brokers/controller: %s", out)
			}
			if len(md.Topics) != 1 || md.Topics[0].Topic != topic || md.Topics[0].Err != "" || len(md.Topics[0].Partitions) != 3 {
				t.Fatalf("topic metadata: %s", out)
			}
			for _, p := range md.Topics[0].Partitions {
				if p.Leader != 0 {
					t.Fatalf("partition %d leader %d", p.Partition, p.Leader)
				}
			}
		})

		var want []string
		produce := func(t *testing.T, from, to int, extra ...string) {
			var in strings.Builder
			for i := from; i < to; i++ {
				line := fmt.Sprintf("k%03d=v%03d", i, i)
				want = append(want, line)
				in.WriteString(strings.Replace(line, "=", ":", 1) + "\n")
			}
			args := append([]string{"-b", c.addr, "-P", "-t", topic, "-K:"}, extra...)
			if out, err := run(t, 30*time.Second, []byte(in.String()), kcat, args...); err != nil {
				t.Fatalf("kcat -P %v: %v\n%s", extra, err, out)
			}
		}
		t.Run("produce", func(t *testing.T) {
			produce(t, 0, 20)
			produce(t, 20, 30, "-z", "gzip")
			produce(t, 30, 40, "-z", "snappy")
			produce(t, 40, 50, "-z", "lz4")
			slices.Sort(want)
		})

		t.Run("consume", func(t *testing.T) {
			out, err := run(t, 30*time.Second, nil, kcat, "-b", c.addr, "-C", "-t", topic, "-o", "beginning", "-e", "-f", "%k=%s\n")
			if err != nil {
				t.Fatalf("kcat -C: %v\n%s", err, out)
			}
			if got := messageLines(out); !slices.Equal(got, want) {
				t.Fatalf("kcat -C got %d messages, want %d\n%s", len(got), len(want), out)
			}
		})

		t.Run("group", func(t *testing.T) {
			const group = "kcat-group"
			out, err := run(t, 60*time.Second, nil, kcat, "-b", c.addr, "-G", group, "-o", "beginning", "-e", "-f", "%k=%s\n", topic)
			if err != nil {
				t.Fatalf("kcat -G: %v\n%s", err, out)
			}
			if got := messageLines(out); !slices.Equal(got, want) {
				t.Fatalf("kcat -G got %d messages, want %d\n%s", len(got), len(want), out)
			}
			// librdkafka commits on close: the offsets are the log ends, and the same group resumes there.
			if sum := c.committed(t, group, topic); sum != int64(len(want)) {
				t.Fatalf("committed offsets sum to %d, want %d", sum, len(want))
			}
			out, err = run(t, 60*time.Second, nil, kcat, "-b", c.addr, "-G", group, "-e", "-f", "%k=%s\n", topic)
			if err != nil {
				t.Fatalf("kcat -G again: %v\n%s", err, out)
			}
			if got := messageLines(out); len(got) != 0 {
				t.Fatalf("second kcat -G re-read %d messages\n%s", len(got), out)
			}
		})

		t.Run("headers-zstd-offsets", func(t *testing.T) {
			const topic = "kcat-zstd"
			c.createTopic(t, topic, 1)
			out, err := run(t, 30*time.Second, []byte("a:1\nb:2\n"), kcat, "-b", c.addr, "-P", "-t", topic, "-K:", "-z", "zstd",
				"-H", "h1=x", "-H", "h2=y")
			if err != nil {
				t.Fatalf("kcat -P -z zstd -H: %v\n%s", err, out)
			}
			out, err = run(t, 30*time.Second, nil, kcat, "-b", c.addr, "-C", "-t", topic, "-e", "-f", "%k=%s %h\n")
			if err != nil || !strings.Contains(out, "a=1 h1=x,h2=y\n") || !strings.Contains(out, "b=2 h1=x,h2=y\n") {
				t.Fatalf("kcat -C with headers: %v\n%s", err, out)
			}
			// -Q is ListOffsets: -1 is the log end, -2 the log start, a timestamp the first offset at or after it.
			for q, want := range map[string]string{":0:-1": "offset 2", ":0:-2": "offset 0", ":0:0": "offset 0"} {
				out, err := run(t, 30*time.Second, nil, kcat, "-b", c.addr, "-Q", "-t", topic+q)
				if err != nil || !strings.Contains(out, want) {
					t.Fatalf("kcat -Q %s: want %q: %v\n%s", q, want, err, out)
				}
			}
		})

		t.Run("old-protocol", func(t *testing.T) {
			// Without ApiVersions librdkafka speaks 0.9/0.10 (Produce v1, Fetch v1-v2 with message sets).
			const topic = "kcat-old"
			c.createTopic(t, topic, 1)
			old := []string{"-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0"}
			out, err := run(t, 30*time.Second, []byte("a:1\nb:2\n"), kcat, append([]string{"-b", c.addr, "-P", "-t", topic, "-K:"}, old...)...)
			if err != nil {
				t.Fatalf("kcat -P (0.9 protocol): %v\n%s", err, out)
			}
			out, err = run(t, 30*time.Second, nil, kcat, append([]string{"-b", c.addr, "-C", "-t", topic, "-e", "-f", "%k=%s\n"}, old...)...)
			if err != nil || !strings.Contains(out, "a=1\nb=2\n") {
				t.Fatalf("kcat -C (0.9 protocol): %v\n%s", err, out)
			}
		})

		t.Run("auto-create", func(t *testing.T) {
			out, err := run(t, 30*time.Second, []byte("a:b\n"), kcat, "-b", c.addr, "-P", "-t", "kcat-auto", "-K:")
			if err != nil {
				t.Fatalf("kcat -P to a new topic: %v\n%s", err, out)
			}
			out, err = run(t, 30*time.Second, nil, kcat, "-b", c.addr, "-C", "-t", "kcat-auto", "-e", "-f", "%k=%s\n")
			if err != nil || !strings.Contains(out, "a=b") {
				t.Fatalf("kcat -C of the auto-created topic: %v\n%s", err, out)
			}
		})
	})
}
