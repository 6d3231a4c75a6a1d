package kafka09

import (
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func init() {
	scenarios = append(scenarios, scenario{"console/message-larger-than-fetch", scenMessageTooLarge})
}

// scenMessageTooLarge: a message larger than a 0.9 consumer's fetch size. The broker answers the fetch at once with
// the first fetch-size bytes of it (Kafka's LogSegment.read slice), which both 0.9 consumers report as a message
// too large for their fetch size, as they do against Kafka; an empty answer would leave them polling forever.
func scenMessageTooLarge(e *env) error {
	const topic = "toobig"
	if err := e.createTopic(topic, 1); err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker), kgo.DisableIdempotentWrite(), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := e.produceBig(cl, topic, 5000); err != nil {
		return err
	}
	for _, c := range []struct {
		name, want string
		args       []string
		props      []string
	}{
		{"old consumer", "MessageSizeTooLargeException", []string{"--zookeeper", e.zkConnect},
			[]string{"group.id=toobigold", "fetch.message.max.bytes=1024"}},
		{"new consumer", "RecordTooLargeException", []string{"--new-consumer", "--bootstrap-server", e.broker},
			[]string{"group.id=toobignew", "max.partition.fetch.bytes=1024"}},
	} {
		cfg := e.writeProps(strings.ReplaceAll(c.name, " ", "-")+".properties", c.props...)
		p := e.start(90*time.Second, "", "kafka-console-consumer.sh", append(c.args, "--topic", topic,
			"--from-beginning", "--max-messages", "1", "--consumer.config", cfg)...)
		<-p.done
		out := p.stdout.String() + p.stderr.String()
		if !strings.Contains(out, c.want) || !strings.Contains(out, topic) {
			return fmt.Errorf("%s: no %s for the 5000-byte message (exit: %v)\n%s", c.name, c.want, p.err, p.diag())
		}
	}
	return nil
}
