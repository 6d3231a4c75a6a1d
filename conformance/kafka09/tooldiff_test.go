package kafka09

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
)

// toolStep runs one of Kafka 0.9's tools against one broker and returns its output, normalized: what differs
// between any two runs (times, rates, ports, client ids) is blanked, so that Apache's broker and ours can be compared.
type toolStep struct {
	name string
	run  func(e *env) (string, error)
}

var (
	rateFields  = regexp.MustCompile(`[0-9.]+ (records/sec|MB/sec|ms avg latency|ms max latency|max latency|ms 50th|ms 95th|ms 99th|ms 99.9th)`)
	dateTime    = regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:,.]+`)
	hostPort    = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
	clientOwner = regexp.MustCompile(`consumer-[0-9]+_/127\.0\.0\.1`)
)

// stdoutLines is a tool's standard output with each line trimmed; sorted when the tool prints in hash order.
func stdoutLines(out string, sorted bool) string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			ls = append(ls, l)
		}
	}
	if sorted {
		sort.Strings(ls)
	}
	return strings.Join(ls, "\n")
}

// perfFields keeps the counts of a consumer perf test's CSV line (MB consumed, messages consumed), not its rates.
func perfFields(out string) (string, error) {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, ", ")
		if len(f) == 6 && !strings.HasPrefix(l, "start.time") {
			return "MB " + f[2] + ", messages " + f[4], nil
		}
	}
	return "", fmt.Errorf("no result line in %q", out)
}

// toolSteps are the 0.9 tools not covered by TestKafka09Tools, each as its users run it: the perf tests, the simple
// consumer shell, the offset checker, the consumer groups command (ZooKeeper and broker groups) and the replica
// verification tool. Each step works on topic tp (one partition, 2000 records of 100 bytes).
func toolSteps() []toolStep {
	return []toolStep{
		{"producer-perf", func(e *env) (string, error) {
			if err := e.createTopic("tp", 1); err != nil {
				return "", err
			}
			out, p, err := e.run(90*time.Second, "", "kafka-producer-perf-test.sh", "--topic", "tp", "--num-records",
				"2000", "--record-size", "100", "--throughput", "-1", "--producer-props", "bootstrap.servers="+e.broker, "acks=1")
			if err != nil {
				return "", err
			}
			if strings.Contains(p.stderr.String(), "ERROR") {
				return "", fmt.Errorf("producer perf test logged errors\n%s", p.diag())
			}
			end, err := e.endOffsets("tp")
			if err != nil {
				return "", err
			}
			last := stdoutLines(out, false)
			last = last[strings.LastIndex(last, "\n")+1:]
			return fmt.Sprintf("%s\nend offsets %v", rateFields.ReplaceAllString(last, "* $1"), end), nil
		}},
		{"consumer-perf-old", func(e *env) (string, error) {
			out, _, err := e.run(90*time.Second, "", "kafka-consumer-perf-test.sh", "--zookeeper", e.zkConnect,
				"--topic", "tp", "--messages", "2000", "--group", "perf-old")
			if err != nil {
				return "", err
			}
			return perfFields(out)
		}},
		{"consumer-perf-new", func(e *env) (string, error) {
			out, _, err := e.run(90*time.Second, "", "kafka-consumer-perf-test.sh", "--new-consumer", "--broker-list",
				e.broker, "--topic", "tp", "--messages", "2000", "--group", "perf-new")
			if err != nil {
				return "", err
			}
			return perfFields(out)
		}},
		{"simple-consumer-shell", func(e *env) (string, error) {
			out, _, err := e.run(60*time.Second, "", "kafka-simple-consumer-shell.sh", "--broker-list", e.broker,
				"--topic", "tp", "--partition", "0", "--offset", "1997", "--max-messages", "5", "--print-offsets",
				"--no-wait-at-logend")
			return stdoutLines(out, false), err
		}},
		{"simple-consumer-shell-earliest", func(e *env) (string, error) {
			out, _, err := e.run(60*time.Second, "", "kafka-simple-consumer-shell.sh", "--broker-list", e.broker,
				"--topic", "tp", "--partition", "0", "--offset", "-2", "--max-messages", "2", "--print-offsets")
			return stdoutLines(out, false), err
		}},
		{"old-consumer-commits", func(e *env) (string, error) {
			cfg := e.writeProps("oc.properties", "group.id=oc")
			out, _, err := e.run(60*time.Second, "", "kafka-console-consumer.sh", "--zookeeper", e.zkConnect, "--topic",
				"tp", "--from-beginning", "--max-messages", "10", "--consumer.config", cfg)
			return fmt.Sprintf("%d lines", strings.Count(out, "\n")), err
		}},
		{"offset-checker", func(e *env) (string, error) {
			out, _, err := e.run(60*time.Second, "", "kafka-consumer-offset-checker.sh", "--zookeeper", e.zkConnect,
				"--group", "oc", "--topic", "tp")
			return stdoutLines(out, false), err
		}},
		{"consumer-groups-zk-list", func(e *env) (string, error) {
			out, _, err := e.run(60*time.Second, "", "kafka-consumer-groups.sh", "--zookeeper", e.zkConnect, "--list")
			return stdoutLines(out, true), err
		}},
		{"consumer-groups-zk-describe", func(e *env) (string, error) {
			out, _, err := e.run(60*time.Second, "", "kafka-consumer-groups.sh", "--zookeeper", e.zkConnect,
				"--describe", "--group", "oc")
			return stdoutLines(out, false), err
		}},
		{"consumer-groups-live-group", func(e *env) (string, error) {
			// No commits: when an auto-commit lands would depend on each broker's timing.
			cfg := e.writeProps("live.properties", "group.id=live", "enable.auto.commit=false")
			c := e.start(90*time.Second, "", "kafka-console-consumer.sh", "--new-consumer", "--bootstrap-server", e.broker,
				"--topic", "tp", "--from-beginning", "--consumer.config", cfg)
			defer func() { _ = c.terminate(); <-c.done }()
			// Consuming means joined: the group has a member that owns tp-0.
			if err := waitFor("the live consumer to print tp's records", 60*time.Second, c.done, func() bool {
				return strings.Count(c.stdout.String(), "\n") >= 2000
			}); err != nil {
				return "", fmt.Errorf("%w\n%s", err, c.diag())
			}
			list, _, err := e.run(60*time.Second, "", "kafka-consumer-groups.sh", "--new-consumer", "--bootstrap-server",
				e.broker, "--list")
			if err != nil {
				return "", err
			}
			desc, _, err := e.run(60*time.Second, "", "kafka-consumer-groups.sh", "--new-consumer", "--bootstrap-server",
				e.broker, "--describe", "--group", "live")
			if err != nil {
				return "", err
			}
			// Only this step's group: whether 0.9 still lists the perf test's depends on a race in 0.9 (its
			// selector drops a LeaveGroup read together with the connection's close; 2.8 handles it).
			listed := "live not listed"
			for _, l := range strings.Split(list, "\n") {
				if strings.TrimSpace(l) == "live" {
					listed = "live listed"
				}
			}
			return listed + "\ndescribe:\n" + stdoutLines(desc, false), nil
		}},
		{"consumer-groups-unknown-group", func(e *env) (string, error) {
			out, _, err := e.run(60*time.Second, "", "kafka-consumer-groups.sh", "--new-consumer", "--bootstrap-server",
				e.broker, "--describe", "--group", "nosuch")
			return stdoutLines(out, false), err
		}},
		{"replica-verification", func(e *env) (string, error) {
			p := e.start(60*time.Second, "", "kafka-replica-verification.sh", "--broker-list", e.broker,
				"--topic-white-list", "tp", "--report-interval-ms", "500")
			defer func() { _ = p.terminate(); <-p.done }()
			var line string
			err := waitFor("a replica verification report", 40*time.Second, p.done, func() bool {
				for _, l := range strings.Split(p.stdout.String(), "\n") {
					if strings.Contains(l, "max lag is") {
						line = l
						return true
					}
				}
				return false
			})
			if err != nil {
				return "", fmt.Errorf("%w\n%s", err, p.diag())
			}
			return line, nil
		}},
	}
}

// mirror runs Kafka 0.9's MirrorMaker from one broker's tp to another's until the target's tp-0 ends at want, then
// stops it (it never exits by itself). consumerProps select the old (ZooKeeper) or the new consumer.
func mirror(from, to *env, want int64, newConsumer bool, consumerProps ...string) error {
	cfg := to.writeProps(fmt.Sprintf("mirror-from-%d.properties", len(consumerProps)), consumerProps...)
	prod := to.writeProps("mirror-producer.properties", "bootstrap.servers="+to.broker, "acks=all")
	args := []string{"--consumer.config", cfg, "--producer.config", prod, "--whitelist", "tp"}
	if newConsumer {
		args = append(args, "--new.consumer")
	}
	p := from.start(120*time.Second, "", "kafka-mirror-maker.sh", args...)
	defer func() { _ = p.terminate(); <-p.done }()
	var end map[int]int64
	err := waitFor(fmt.Sprintf("tp-0 to end at %d", want), 90*time.Second, p.done, func() bool {
		var err error
		end, err = to.endOffsets("tp")
		return err == nil && end[0] >= want
	})
	if err != nil {
		return fmt.Errorf("%w (end offsets %v)\n%s", err, end, p.diag())
	}
	if end[0] != want {
		return fmt.Errorf("tp-0 ends at %d after mirroring, want %d", end[0], want)
	}
	return nil
}

// TestToolsAgainstKafka09 runs Kafka 0.9.0.1's tools against Apache Kafka 0.9.0.1's broker and against ours (both
// message formats), all on one zkserver, and compares what the tools print. Where Kafka 2.8 behaves otherwise than
// 0.9 by design, testdata/tool-differences.txt names the step and the reason; any other difference fails.
func TestToolsAgainstKafka09(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Apache Kafka 0.9.0.1's broker and a JVM per tool run")
	}
	home := harness.Kafka09Home(t)
	known, err := harness.KnownMismatches(filepath.Join("testdata", "tool-differences.txt"))
	if err != nil {
		t.Fatal(err)
	}
	targets, _, zkAddr := startWireTargets(t, home)
	envs := make([]*env, len(targets))
	for i, tg := range targets {
		dir := filepath.Join(t.TempDir(), tg.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		envs[i] = &env{t: t, home: home, dir: dir, zkAddr: zkAddr, zkConnect: zkAddr + tg.chroot, broker: tg.conn.addr,
			brokerLog: tg.log}
	}
	for _, st := range toolSteps() {
		outs := make([]string, len(targets))
		errs := make([]error, len(targets))
		var wg sync.WaitGroup
		for i := range targets {
			wg.Go(func() { outs[i], errs[i] = st.run(envs[i]) })
		}
		wg.Wait()
		for i, tg := range targets {
			if errs[i] != nil {
				t.Fatalf("%s on %s: %v\nbroker log:\n%s", st.name, tg.name, errs[i], logProblems(tg.log))
			}
			got := clientOwner.ReplaceAllString(hostPort.ReplaceAllString(dateTime.ReplaceAllString(outs[i], "<time>"),
				"127.0.0.1:<port>"), "consumer-N_/127.0.0.1")
			outs[i] = got
			if show := os.Getenv("WIREDIFF_SHOW"); show != "" && strings.Contains(st.name, show) {
				t.Logf("%s on %s:\n%s", st.name, tg.name, got)
			}
			if i == 0 {
				continue
			}
			key := st.name + "@" + tg.name
			same := got == outs[0]
			switch {
			case same && known.Has(key):
				t.Errorf("%s: now prints as against Apache: remove it from testdata/tool-differences.txt", key)
			case same:
			case known.Has(key):
				t.Logf("%s: known difference\napache:\n%s\nours:\n%s", key, outs[0], got)
			default:
				t.Errorf("%s: prints differently\napache:\n%s\nours:\n%s", key, outs[0], got)
			}
		}
	}

	// A migration's first step: MirrorMaker copies Apache's topic into ours with the old consumer (ZooKeeper
	// offsets, Fetch v0 from Apache) and our topic back into Apache's with the new consumer (a group on our broker,
	// Fetch v1 from ours), producing with acks=all. Each tp holds 2000 records before.
	apache, ours := envs[0], envs[1]
	if err := mirror(apache, ours, 4000, false, "zookeeper.connect="+apache.zkConnect, "group.id=mm-old",
		"auto.offset.reset=smallest"); err != nil {
		t.Errorf("mirror Apache's tp into ours: %v", err)
	}
	if err := mirror(ours, apache, 6000, true, "bootstrap.servers="+ours.broker, "group.id=mm-new",
		"auto.offset.reset=earliest"); err != nil {
		t.Errorf("mirror our tp into Apache's: %v", err)
	}

	var wg sync.WaitGroup
	for i, tg := range targets {
		port := freePort(t)
		wg.Go(func() {
			if err := connectFileRoundTrip(envs[i], port); err != nil {
				t.Errorf("Kafka Connect on %s: %v\nbroker log:\n%s", tg.name, err, logProblems(tg.log))
			}
		})
	}
	wg.Wait()
}

// connectFileRoundTrip runs a Kafka Connect 0.9 distributed worker (a group of protocol type "connect" on the
// broker, its configs and offsets in compacted topics) with a file source and a file sink connector submitted
// through its REST API, and waits until every line of the source file is in the sink file, in order.
func connectFileRoundTrip(e *env, restPort int) error {
	// The data topic too: a 0.9 consumer subscribed to a topic that does not exist yet looks again only after
	// metadata.max.age.ms (5 minutes).
	for _, topic := range []string{"connect-configs", "connect-offsets", "connect-data"} {
		args := []string{"--create", "--topic", topic, "--partitions", "1", "--replication-factor", "1"}
		if topic != "connect-data" {
			args = append(args, "--config", "cleanup.policy=compact")
		}
		if _, err := e.topics(args...); err != nil {
			return err
		}
	}
	in, out := filepath.Join(e.dir, "connect-in.txt"), filepath.Join(e.dir, "connect-out.txt")
	want := lines("connect", 50)
	writeFile(e.t, in, want...)
	worker := e.writeProps("connect-worker.properties",
		"bootstrap.servers="+e.broker,
		"group.id=connect-wd",
		"key.converter=org.apache.kafka.connect.storage.StringConverter",
		"value.converter=org.apache.kafka.connect.storage.StringConverter",
		"internal.key.converter=org.apache.kafka.connect.json.JsonConverter",
		"internal.value.converter=org.apache.kafka.connect.json.JsonConverter",
		"internal.key.converter.schemas.enable=false",
		"internal.value.converter.schemas.enable=false",
		"offset.storage.topic=connect-offsets",
		"config.storage.topic=connect-configs",
		"offset.flush.interval.ms=1000",
		"rest.host.name=127.0.0.1",
		fmt.Sprintf("rest.port=%d", restPort),
	)
	p := e.start(150*time.Second, "", "connect-distributed.sh", worker)
	defer func() { _ = p.terminate(); <-p.done }()
	rest := fmt.Sprintf("http://127.0.0.1:%d/connectors", restPort)
	submit := func(name, class string, cfg map[string]string) error {
		cfg["connector.class"], cfg["tasks.max"] = class, "1"
		body, _ := json.Marshal(map[string]any{"name": name, "config": cfg})
		var last string
		// The worker answers once it has joined its group and read its config topic.
		err := waitFor("the worker to take connector "+name, 60*time.Second, p.done, func() bool {
			resp, err := http.Post(rest, "application/json", bytes.NewReader(body))
			if err != nil {
				last = err.Error()
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
			return resp.StatusCode == http.StatusCreated
		})
		if err != nil {
			return fmt.Errorf("%w (last answer: %s)\n%s", err, last, p.diag())
		}
		return nil
	}
	if err := submit("wd-source", "org.apache.kafka.connect.file.FileStreamSourceConnector",
		map[string]string{"file": in, "topic": "connect-data"}); err != nil {
		return err
	}
	if err := submit("wd-sink", "org.apache.kafka.connect.file.FileStreamSinkConnector",
		map[string]string{"file": out, "topics": "connect-data"}); err != nil {
		return err
	}
	var got string
	err := waitFor("the sink file to hold every line", 60*time.Second, p.done, func() bool {
		b, _ := os.ReadFile(out)
		got = string(b)
		return strings.Count(got, "\n") >= len(want)
	})
	if err != nil {
		return fmt.Errorf("%w (sink file: %q)\nworker log:\n%s", err, got, logTail(p.stdout.String(), 40))
	}
	if got != strings.Join(want, "\n")+"\n" {
		return fmt.Errorf("sink file %q, want the source's %d lines in order", got, len(want))
	}
	return nil
}

// logTail is the last n lines of a worker's log that are not its config dumps.
func logTail(s string, n int) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" && !strings.HasPrefix(l, "\t") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep[max(0, len(keep)-n):], "\n")
}
