package kafka09

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/zkafka/zkafka/conformance/harness"
)

type scenario struct {
	name string
	run  func(e *env) error
}

var scenarios = []scenario{
	{"topics/create-list-describe", scenCreateListDescribe},
	{"topics/produce-consume", scenTopicServed},
	{"ssl/produce-consume", scenSSL},
	{"topics/alter-partitions", scenAlterPartitions},
	{"topics/delete", scenDelete},
	{"console/old-consumer", scenOldConsumer},
	{"console/old-consumer-tail", scenOldConsumerTail},
	{"console/new-consumer-tail", scenNewConsumerTail},
	{"console/old-producer", scenOldProducer},
	{"verifiable/produce-consume", scenVerifiable},
}

// TestKafka09Tools runs every scenario against one zkserver + kafkaserver pair; each scenario uses its own topics.
func TestKafka09Tools(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM per tool run: about a minute")
	}
	home := harness.Kafka09Home(t)
	known, err := harness.KnownMismatches(filepath.Join("testdata", "known-failures.txt"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, home)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			e.t = t
			from := e.brokerLogSize()
			err := sc.run(e)
			switch {
			case err == nil && known.Has(sc.name):
				t.Logf("scenario %s now passes: remove it from testdata/known-failures.txt", sc.name)
			case err == nil:
			case known.Has(sc.name):
				t.Logf("known failure (not failing):\n%v\nbroker WARN/ERROR lines:\n%s", err, e.brokerLogSince(from))
			default:
				t.Errorf("%v\nbroker WARN/ERROR lines:\n%s", err, e.brokerLogSince(from))
			}
		})
	}
	e.t = t
}

var partitionLine = regexp.MustCompile(`(?m)^\s*Topic: (\S+)\s+Partition: (\d+)\s+Leader: (\S+)\s+Replicas: (\S*)\s+Isr: (\S*)$`)

// describe returns partition -> "leader/replicas/isr" from kafka-topics.sh --describe.
func (e *env) describe(topic string) (map[int]string, string, error) {
	out, err := e.topics("--describe", "--topic", topic)
	if err != nil {
		return nil, out, err
	}
	parts := map[int]string{}
	for _, m := range partitionLine.FindAllStringSubmatch(out, -1) {
		p, _ := strconv.Atoi(m[2])
		parts[p] = m[3] + "/" + m[4] + "/" + m[5]
	}
	return parts, out, nil
}

// waitLed waits until --describe shows n partitions, each led by broker 0 with ISR 0.
func (e *env) waitLed(topic string, n int) error {
	var last string
	err := waitFor("partitions of "+topic+" led by broker 0", 30*time.Second, nil, func() bool {
		parts, out, err := e.describe(topic)
		last = out
		if err != nil || len(parts) != n {
			return false
		}
		for _, s := range parts {
			if s != "0/0/0" {
				return false
			}
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("%w; last --describe:\n%s", err, last)
	}
	return nil
}

func (e *env) createTopic(topic string, partitions int) error {
	out, err := e.topics("--create", "--topic", topic, "--partitions", strconv.Itoa(partitions), "--replication-factor", "1")
	if err != nil {
		return err
	}
	if want := fmt.Sprintf("Created topic %q.", topic); !strings.Contains(out, want) {
		return fmt.Errorf("create %s: want %q, got %q", topic, want, out)
	}
	return e.waitLed(topic, partitions)
}

func lines(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// produce sends msgs with kafka-console-producer.sh (the new producer, acks=all) and waits for it to flush.
func (e *env) produce(topic string, msgs []string) error {
	_, _, err := e.run(60*time.Second, strings.Join(msgs, "\n")+"\n", "kafka-console-producer.sh",
		"--broker-list", e.broker, "--topic", topic, "--request-required-acks", "-1", "--sync")
	return err
}

// endOffsets asks the broker with kafka.tools.GetOffsetShell (ListOffsets v0) for each partition's log end offset.
func (e *env) endOffsets(topic string) (map[int]int64, error) {
	out, _, err := e.run(60*time.Second, "", "kafka-run-class.sh", "kafka.tools.GetOffsetShell",
		"--broker-list", e.broker, "--topic", topic, "--time", "-1")
	if err != nil {
		return nil, err
	}
	offs := map[int]int64{}
	for _, l := range strings.Fields(out) {
		f := strings.Split(l, ":")
		if len(f) != 3 || f[0] != topic {
			return nil, fmt.Errorf("GetOffsetShell line %q", l)
		}
		p, _ := strconv.Atoi(f[1])
		o, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("GetOffsetShell line %q: %w", l, err)
		}
		offs[p] = o
	}
	return offs, nil
}

// sameMessages compares what a console consumer printed with what was produced, ignoring order across partitions.
func sameMessages(got string, want []string) error {
	g := strings.Fields(got)
	w := slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		return fmt.Errorf("consumed %d messages %q, want %d %q", len(g), g, len(w), w)
	}
	return nil
}

func scenCreateListDescribe(e *env) error {
	if err := e.createTopic("created", 3); err != nil {
		return err
	}
	out, err := e.topics("--list")
	if err != nil {
		return err
	}
	if !slices.Contains(strings.Fields(out), "created") {
		return fmt.Errorf("--list misses created: %q", out)
	}
	_, out, err = e.describe("created")
	if err != nil {
		return err
	}
	if want := "Topic:created\tPartitionCount:3\tReplicationFactor:1\tConfigs:"; !strings.Contains(out, want) {
		return fmt.Errorf("--describe: want %q in %q", want, out)
	}
	// A second create of the same topic fails in the tool, before the broker is involved.
	if out, err := e.topics("--create", "--topic", "created", "--partitions", "1", "--replication-factor", "1"); err == nil &&
		!strings.Contains(out, "already exists") {
		return fmt.Errorf("second create: %q", out)
	}
	return nil
}

// scenTopicServed: the broker serves a topic the 0.9 tool created: console producer in, new consumer out.
func scenTopicServed(e *env) error {
	if err := e.createTopic("served", 2); err != nil {
		return err
	}
	msgs := lines("served", 20)
	if err := e.produce("served", msgs); err != nil {
		return err
	}
	offs, err := e.endOffsets("served")
	if err != nil {
		return err
	}
	if len(offs) != 2 || offs[0]+offs[1] != 20 {
		return fmt.Errorf("end offsets %v, want 2 partitions holding 20 messages", offs)
	}
	out, p, err := e.run(60*time.Second, "", "kafka-console-consumer.sh", "--new-consumer", "--bootstrap-server", e.broker,
		"--topic", "served", "--from-beginning", "--max-messages", "20")
	if err != nil {
		return err
	}
	if strings.Contains(p.stderr.String(), "Error processing message") {
		return fmt.Errorf("new console consumer failed\n%s", p.diag())
	}
	if err := sameMessages(out, msgs); err != nil {
		return fmt.Errorf("%w\n%s", err, p.diag())
	}
	return nil
}

// scenSSL: 0.9's console producer and new consumer over the broker's SSL listener (JKS stores made by keytool).
func scenSSL(e *env) error {
	if err := e.createTopic("overssl", 1); err != nil {
		return err
	}
	msgs := lines("overssl", 20)
	if _, p, err := e.run(60*time.Second, strings.Join(msgs, "\n")+"\n", "kafka-console-producer.sh",
		"--broker-list", e.sslBroker, "--topic", "overssl", "--request-required-acks", "-1", "--sync",
		"--producer.config", e.sslProps); err != nil {
		return fmt.Errorf("%w\n%s", err, p.diag())
	}
	out, p, err := e.run(60*time.Second, "", "kafka-console-consumer.sh", "--new-consumer", "--bootstrap-server",
		e.sslBroker, "--consumer.config", e.sslProps, "--topic", "overssl", "--from-beginning", "--max-messages", "20")
	if err != nil {
		return fmt.Errorf("%w\n%s", err, p.diag())
	}
	if err := sameMessages(out, msgs); err != nil {
		return fmt.Errorf("%w\n%s", err, p.diag())
	}
	return nil
}

func scenAlterPartitions(e *env) error {
	if err := e.createTopic("grown", 1); err != nil {
		return err
	}
	out, err := e.topics("--alter", "--topic", "grown", "--partitions", "3")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Adding partitions succeeded!") {
		return fmt.Errorf("--alter --partitions: %q", out)
	}
	if err := e.waitLed("grown", 3); err != nil {
		return err
	}
	// 0.9's producer spreads unkeyed messages over all partitions: each new partition must take writes.
	if err := e.produce("grown", lines("grown", 30)); err != nil {
		return err
	}
	offs, err := e.endOffsets("grown")
	if err != nil {
		return err
	}
	total := int64(0)
	for p := range 3 {
		if offs[p] == 0 {
			return fmt.Errorf("partition %d got no messages: end offsets %v", p, offs)
		}
		total += offs[p]
	}
	if total != 30 {
		return fmt.Errorf("end offsets %v, want 30 messages", offs)
	}
	return nil
}

func scenDelete(e *env) error {
	if err := e.createTopic("doomed", 2); err != nil {
		return err
	}
	if err := e.produce("doomed", lines("doomed", 5)); err != nil {
		return err
	}
	out, err := e.topics("--delete", "--topic", "doomed")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Topic doomed is marked for deletion.") {
		return fmt.Errorf("--delete: %q", out)
	}
	// The controller (our broker) completes the deletion: the topic and its marker go away.
	gone := func(path string) func() bool {
		return func() bool {
			ok, _, err := e.zk.Exists(chroot + path)
			return err == nil && !ok
		}
	}
	if err := waitFor("deletion of doomed", 30*time.Second, nil, gone("/brokers/topics/doomed")); err != nil {
		return err
	}
	if err := waitFor("deletion marker of doomed to go", 30*time.Second, nil, gone("/admin/delete_topics/doomed")); err != nil {
		return err
	}
	out, err = e.topics("--list")
	if err != nil {
		return err
	}
	if strings.Contains(out, "doomed") {
		return fmt.Errorf("--list after deletion: %q", out)
	}
	return nil
}

// zkOffsets reads the old consumer's committed offsets, /consumers/<group>/offsets/<topic>/<partition>.
func (e *env) zkOffsets(group, topic string) (map[int]int64, error) {
	base := fmt.Sprintf("%s/consumers/%s/offsets/%s", chroot, group, topic)
	children, _, err := e.zk.Children(base)
	if err != nil {
		return nil, fmt.Errorf("children of %s: %w", base, err)
	}
	offs := map[int]int64{}
	for _, c := range children {
		b, _, err := e.zk.Get(base + "/" + c)
		if err != nil {
			return nil, fmt.Errorf("get %s/%s: %w", base, c, err)
		}
		p, _ := strconv.Atoi(c)
		if offs[p], err = strconv.ParseInt(string(b), 10, 64); err != nil {
			return nil, fmt.Errorf("offset %s/%s = %q: %w", base, c, b, err)
		}
	}
	return offs, nil
}

// oldConsumerErrors finds the old consumer's fetcher complaints: it retries failed fetches, so they only show in
// its log.
func oldConsumerErrors(p *proc) error {
	if s := p.stderr.String(); strings.Contains(s, "Error in fetch") || strings.Contains(s, "ERROR") {
		return fmt.Errorf("old consumer logged fetch errors\n%s", p.diag())
	}
	return nil
}

// checkOldConsumer checks the messages and the offsets the old consumer committed to ZooKeeper.
func (e *env) checkOldConsumer(p *proc, group, topic string, msgs []string) error {
	if err := p.wait(); err != nil {
		return err
	}
	if err := sameMessages(p.stdout.String(), msgs); err != nil {
		return fmt.Errorf("%w\n%s", err, p.diag())
	}
	if err := oldConsumerErrors(p); err != nil {
		return err
	}
	offs, err := e.zkOffsets(group, topic)
	if err != nil {
		return err
	}
	end, err := e.endOffsets(topic)
	if err != nil {
		return err
	}
	if fmt.Sprint(offs) != fmt.Sprint(end) {
		return fmt.Errorf("offsets committed to ZooKeeper %v, want the log end offsets %v", offs, end)
	}
	return nil
}

// scenOldConsumer: the ZooKeeper-based consumer (Fetch v0, magic 0) reads a topic and commits under /consumers.
func scenOldConsumer(e *env) error {
	if err := e.createTopic("oldc", 2); err != nil {
		return err
	}
	msgs := lines("oldc", 20)
	if err := e.produce("oldc", msgs); err != nil {
		return err
	}
	cfg := e.writeProps("oldc.properties", "group.id=oldg")
	p := e.start(60*time.Second, "", "kafka-console-consumer.sh", "--zookeeper", e.zkConnect, "--topic", "oldc",
		"--from-beginning", "--max-messages", "20", "--consumer.config", cfg)
	return e.checkOldConsumer(p, "oldg", "oldc", msgs)
}

// scenOldConsumerTail: the old consumer waits at the log end (empty fetches) until messages arrive.
func scenOldConsumerTail(e *env) error {
	if err := e.createTopic("oldtail", 2); err != nil {
		return err
	}
	cfg := e.writeProps("oldtail.properties", "group.id=oldtailg")
	p := e.start(60*time.Second, "", "kafka-console-consumer.sh", "--zookeeper", e.zkConnect, "--topic", "oldtail",
		"--from-beginning", "--max-messages", "10", "--consumer.config", cfg)
	// Once it owns both partitions its fetchers are polling the (empty) log.
	err := waitFor("old consumer to own oldtail's partitions", 30*time.Second, p.done, func() bool {
		ch, _, err := e.zk.Children(chroot + "/consumers/oldtailg/owners/oldtail")
		return err == nil && len(ch) == 2
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, p.diag())
	}
	msgs := lines("oldtail", 10)
	if err := e.produce("oldtail", msgs); err != nil {
		return err
	}
	return e.checkOldConsumer(p, "oldtailg", "oldtail", msgs)
}

// scenOldProducer: the Scala producer (Produce v0, Metadata v0 through its own client, magic 0), read back by the
// old consumer. Unkeyed, it sticks to one partition, so the consumer's every fetch also covers an empty one.
func scenOldProducer(e *env) error {
	if err := e.createTopic("oldp", 2); err != nil {
		return err
	}
	msgs := lines("oldp", 20)
	_, p, err := e.run(60*time.Second, strings.Join(msgs, "\n")+"\n", "kafka-console-producer.sh", "--old-producer",
		"--broker-list", e.broker, "--topic", "oldp", "--request-required-acks", "-1", "--sync")
	if err != nil {
		return err
	}
	if strings.Contains(p.stderr.String(), "ERROR") {
		return fmt.Errorf("old producer logged errors\n%s", p.diag())
	}
	offs, err := e.endOffsets("oldp")
	if err != nil {
		return err
	}
	if offs[0]+offs[1] != 20 {
		return fmt.Errorf("end offsets %v after the old producer, want 20 messages", offs)
	}
	cfg := e.writeProps("oldp.properties", "group.id=oldpg")
	c := e.start(30*time.Second, "", "kafka-console-consumer.sh", "--zookeeper", e.zkConnect, "--topic", "oldp",
		"--from-beginning", "--max-messages", "20", "--consumer.config", cfg)
	return e.checkOldConsumer(c, "oldpg", "oldp", msgs)
}

// scenNewConsumerTail: the new consumer (group protocol v0, Fetch v1) joins, polls the empty log, then reads what
// arrives.
func scenNewConsumerTail(e *env) error {
	if err := e.createTopic("newtail", 2); err != nil {
		return err
	}
	cfg := e.writeProps("newtail.properties", "group.id=newtailg", "auto.commit.interval.ms=500")
	p := e.start(60*time.Second, "", "kafka-console-consumer.sh", "--new-consumer", "--bootstrap-server", e.broker,
		"--topic", "newtail", "--from-beginning", "--max-messages", "10", "--consumer.config", cfg)
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	err = waitFor("new consumer to join newtailg", 30*time.Second, p.done, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		groups, err := adm.DescribeGroups(ctx, "newtailg")
		g, ok := groups["newtailg"]
		return err == nil && ok && g.Err == nil && g.State == "Stable" && len(g.Members) == 1
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, p.diag())
	}
	// Its first auto-commit (of position 0) comes after it has started fetching the empty partitions.
	err = waitFor("new consumer to commit its starting positions", 30*time.Second, p.done, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		offs, err := adm.FetchOffsets(ctx, "newtailg")
		n := 0
		if err == nil {
			for p := range int32(2) {
				if o, ok := offs.Lookup("newtail", p); ok && o.Err == nil && o.At == 0 {
					n++
				}
			}
		}
		return n == 2
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, p.diag())
	}
	msgs := lines("newtail", 10)
	if err := e.produce("newtail", msgs); err != nil {
		return err
	}
	if err := p.wait(); err != nil {
		return err
	}
	if strings.Contains(p.stderr.String(), "Error processing message") {
		return fmt.Errorf("new console consumer failed after %d messages\n%s", len(strings.Fields(p.stdout.String())), p.diag())
	}
	if err := sameMessages(p.stdout.String(), msgs); err != nil {
		return fmt.Errorf("%w\n%s", err, p.diag())
	}
	return nil
}

// event is one JSON line of the verifiable producer or consumer.
type event struct {
	Name      string `json:"name"`
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	Value     string `json:"value"`
	Exception string `json:"exception"`
	Message   string `json:"message"`
	Sent      int    `json:"sent"`
	Acked     int    `json:"acked"`
	Success   bool   `json:"success"`
	Offsets   []struct {
		Topic     string `json:"topic"`
		Partition int    `json:"partition"`
		Offset    int64  `json:"offset"`
	} `json:"offsets"`
}

func parseEvents(out string) ([]event, error) {
	var evs []event
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l == "" || !strings.HasPrefix(l, "{") {
			continue
		}
		var ev event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			return nil, fmt.Errorf("JSON line %q: %w", l, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

type position struct {
	partition int
	offset    int64
}

// scenVerifiable: every message the verifiable producer had acknowledged is consumed exactly once, at the
// partition and offset the producer was told, and the consumer's final commit is the log end.
func scenVerifiable(e *env) error {
	const topic, n = "verified", 1000
	if err := e.createTopic(topic, 3); err != nil {
		return err
	}
	out, p, err := e.run(90*time.Second, "", "kafka-verifiable-producer.sh", "--topic", topic, "--broker-list", e.broker,
		"--max-messages", strconv.Itoa(n), "--acks", "-1")
	if err != nil {
		return err
	}
	evs, err := parseEvents(out)
	if err != nil {
		return err
	}
	acked := map[string]position{}
	taken := map[position]string{}
	for _, ev := range evs {
		switch ev.Name {
		case "producer_send_success":
			pos := position{ev.Partition, ev.Offset}
			if prev, dup := taken[pos]; dup {
				return fmt.Errorf("producer: values %s and %s both acked at %v", prev, ev.Value, pos)
			}
			if _, dup := acked[ev.Value]; dup {
				return fmt.Errorf("producer: value %s acked twice", ev.Value)
			}
			acked[ev.Value], taken[pos] = pos, ev.Value
		case "producer_send_error":
			return fmt.Errorf("producer: send of %s failed: %s: %s\n%s", ev.Value, ev.Exception, ev.Message, p.diag())
		}
	}
	if len(acked) != n {
		return fmt.Errorf("producer: %d of %d messages acked\n%s", len(acked), n, p.diag())
	}

	end := map[int]int64{}
	for pos := range taken {
		end[pos.partition] = max(end[pos.partition], pos.offset+1)
	}

	// 0.9.0.1's VerifiableConsumer never exits by itself: past --max-messages it keeps polling (its run loop is
	// while(true); Apache Kafka 0.9.0.1's own broker leaves it running the same way). Kafka's system tests stop it
	// with SIGTERM, whose shutdown hook wakes the consumer up, closes it and prints shutdown_complete. So do we,
	// once it has consumed everything and committed the log end.
	c := e.start(90*time.Second, "", "kafka-verifiable-consumer.sh", "--topic", topic, "--broker-list", e.broker,
		"--group-id", "verifiers", "--max-messages", strconv.Itoa(n), "--verbose", "--reset-policy", "earliest",
		"--session-timeout", "10000")
	var verr error
	var status string
	err = waitFor("verifiable consumer to consume and commit everything", 60*time.Second, c.done, func() bool {
		var done bool
		status, done, verr = verifyConsumed(c.stdout.String(), acked, end)
		return done || verr != nil
	})
	if verr != nil {
		return fmt.Errorf("%w\n%s", verr, c.diag())
	}
	if err != nil {
		return fmt.Errorf("%w: %s\n%s", err, status, c.diag())
	}
	if err := c.terminate(); err != nil {
		return err
	}
	<-c.done
	if ee := (*exec.ExitError)(nil); c.err != nil && (!errors.As(c.err, &ee) || ee.ExitCode() != 143) {
		return fmt.Errorf("verifiable consumer after SIGTERM: %w\n%s", c.err, c.diag())
	}
	if s := c.stderr.String(); strings.Contains(s, "Exception") {
		return fmt.Errorf("consumer threw\n%s", c.diag())
	}
	evs, err = parseEvents(c.stdout.String())
	if err != nil {
		return err
	}
	if len(evs) == 0 || evs[len(evs)-1].Name != "shutdown_complete" {
		return fmt.Errorf("consumer did not shut down cleanly after SIGTERM\n%s", c.diag())
	}
	// Whatever it did while closing must not break the invariants either.
	if status, done, err := verifyConsumed(c.stdout.String(), acked, end); err != nil || !done {
		return fmt.Errorf("after shutdown: %s: %v", status, err)
	}
	return nil
}

// verifyConsumed checks the verifiable consumer's output so far: done once every acked value was consumed
// exactly once, where the producer was told, and the last successful commit is the log end; an error at the first
// duplicate, misplaced value or failed commit. status says how far it got.
func verifyConsumed(out string, acked map[string]position, end map[int]int64) (status string, done bool, err error) {
	// The last line may be partly written.
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[:i+1]
	} else {
		out = ""
	}
	evs, err := parseEvents(out)
	if err != nil {
		return "", false, err
	}
	seen := map[string]bool{}
	var committed map[int]int64
	for _, ev := range evs {
		switch ev.Name {
		case "record_data":
			if seen[ev.Value] {
				return "", false, fmt.Errorf("consumer: value %s delivered twice", ev.Value)
			}
			seen[ev.Value] = true
			if want, ok := acked[ev.Value]; !ok || want != (position{ev.Partition, ev.Offset}) {
				return "", false, fmt.Errorf("consumer: value %s at %d/%d, producer acked it at %v (found %v)", ev.Value,
					ev.Partition, ev.Offset, want, ok)
			}
		case "offsets_committed":
			if !ev.Success {
				return "", false, fmt.Errorf("consumer: commit failed: %+v", ev)
			}
			committed = map[int]int64{}
			for _, o := range ev.Offsets {
				committed[o.Partition] = o.Offset
			}
		}
	}
	status = fmt.Sprintf("%d of %d messages consumed, last commit %v, log end offsets %v", len(seen), len(acked),
		committed, end)
	return status, len(seen) == len(acked) && fmt.Sprint(committed) == fmt.Sprint(end), nil
}
