package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/javahash"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

var (
	zkBuildOnce sync.Once
	zkBin       string
	zkBuildErr  error
)

// startZkServer builds ./cmd/zkserver once and runs it on a free 127.0.0.1 port with a temporary zoo.cfg.
func startZkServer(t *testing.T, extra ...string) string {
	t.Helper()
	zkBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kafka-topics-zkserver")
		if err != nil {
			zkBuildErr = err
			return
		}
		zkBin = filepath.Join(dir, "zkserver")
		if out, err := exec.Command("go", "build", "-o", zkBin, "../zkserver").CombinedOutput(); err != nil {
			zkBuildErr = fmt.Errorf("go build zkserver: %v\n%s", err, out)
		}
	})
	if zkBuildErr != nil {
		t.Fatal(zkBuildErr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	lines := []string{"tickTime=500", "initLimit=10", "syncLimit=5", "dataDir=" + filepath.Join(dir, "data"),
		fmt.Sprintf("clientPort=%d", port), "clientPortAddress=127.0.0.1", "admin.enableServer=false",
		"4lw.commands.whitelist=*", "maxClientCnxns=0"}
	lines = append(lines, extra...)
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "zk.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(zkBin, "start-foreground", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		logf.Close()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			_, _ = c.Write([]byte("ruok"))
			b := make([]byte, 4)
			_, err = c.Read(b)
			c.Close()
			if err == nil && string(b) == "imok" {
				return addr
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("zkserver not ready at %s\n%s", addr, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// connectChroot opens a zkmeta client on addr+chroot (creating the chroot) and registers brokers whose JSON both
// 2.8 and 0.9 tools read (version 4, one PLAINTEXT endpoint).
func connectChroot(t *testing.T, addr, chroot string, brokers map[int32]string) *zkmeta.Client {
	t.Helper()
	c, err := zkmeta.Connect(addr+chroot, 10*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.CreateTopLevelPaths(); err != nil {
		t.Fatal(err)
	}
	for id, rack := range brokers {
		r := "null"
		if rack != "" {
			r = `"` + rack + `"`
		}
		data := fmt.Sprintf(`{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://localhost:%d"],"rack":%s,"jmx_port":-1,"host":"localhost","timestamp":"1","port":%d,"version":4}`,
			9000+id, r, 9000+id)
		if _, err := c.Create(zkmeta.BrokerIDPath(id), []byte(data), 0); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

type result struct {
	code           int
	stdout, stderr string
}

func kt(t *testing.T, zk string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--zookeeper", zk}, args...), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func expect(t *testing.T, r result, code int, stdout string) {
	t.Helper()
	if r.code != code || r.stdout != stdout {
		t.Fatalf("exit %d, stdout %q (stderr %q); want exit %d, stdout %q", r.code, r.stdout, r.stderr, code, stdout)
	}
}

func assignmentOf(t *testing.T, c *zkmeta.Client, topic string) map[int32][]int32 {
	t.Helper()
	ta, ok, err := c.GetTopicAssignment(topic)
	if err != nil || !ok {
		t.Fatalf("topic %s: ok=%v err=%v", topic, ok, err)
	}
	return replicasOf(ta)
}

const keyWarning = "WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected\n"

func TestZookeeperMode(t *testing.T) {
	addr := startZkServer(t)
	zk := addr + "/ours"
	c := connectChroot(t, addr, "/ours", map[int32]string{1: "", 2: "", 3: ""})

	// create with generated assignment and a config override
	expect(t, kt(t, zk, "--create", "--topic", "a", "--partitions", "3", "--replication-factor", "2", "--config", "cleanup.policy = compact"),
		0, "Created topic a.\n")
	as := assignmentOf(t, c, "a")
	if len(as) != 3 {
		t.Fatalf("assignment %v", as)
	}
	for p, reps := range as {
		if len(reps) != 2 || reps[0] == reps[1] || reps[0] < 1 || reps[0] > 3 || reps[1] < 1 || reps[1] > 3 {
			t.Fatalf("partition %d: %v", p, reps)
		}
	}
	raw, _, err := c.Get(zkmeta.TopicPath("a"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), `{"version":3,`) && !strings.Contains(string(raw), `"version":3`) || strings.Contains(string(raw), "topic_id") {
		t.Fatalf("topic znode %s", raw)
	}
	cfgRaw, _, err := c.Get(zkmeta.TopicConfigPath("a"))
	if err != nil || string(cfgRaw) != `{"version":1,"config":{"cleanup.policy":"compact"}}` {
		t.Fatalf("config znode %s %v", cfgRaw, err)
	}

	// existing topic, --if-not-exists, bad args
	expect(t, kt(t, zk, "--create", "--topic", "a", "--partitions", "1", "--replication-factor", "1"),
		1, "Error while executing topic command : Topic 'a' already exists.\n")
	expect(t, kt(t, zk, "--create", "--topic", "a", "--partitions", "1", "--replication-factor", "1", "--if-not-exists"), 0, "")
	expect(t, kt(t, zk, "--create", "--topic", "x", "--partitions", "1", "--replication-factor", "4"),
		1, "Error while executing topic command : Replication factor: 4 larger than available brokers: 3.\n")
	expect(t, kt(t, zk, "--create", "--topic", "x", "--partitions", "0", "--replication-factor", "1"),
		1, "Error while executing topic command : Number of partitions must be larger than 0.\n")
	expect(t, kt(t, zk, "--create", "--topic", "x", "--partitions", "1", "--replication-factor", "1", "--config", "retention.ms"),
		1, "Error while executing topic command : requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\".\n")
	expect(t, kt(t, zk, "--create", "--topic", "x", "--partitions", "1", "--replication-factor", "1", "--config", "nope=1"),
		1, "Error while executing topic command : Unknown topic config name: nope\n")
	r := kt(t, zk, "--create", "--topic", "x", "--partitions", "1")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Missing required argument \"[replication-factor]\"\n") {
		t.Fatalf("%+v", r)
	}
	r = kt(t, zk, "--describe", "--under-min-isr-partitions")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Option \"[under-min-isr-partitions]\" can't be used with option \"[zookeeper]\"\n") {
		t.Fatalf("%+v", r)
	}
	if c, ok, _ := c.GetTopicAssignment("x"); ok {
		t.Fatalf("x was created: %v", c)
	}

	// manual assignment, names with collision chars
	expect(t, kt(t, zk, "--create", "--topic", "b", "--replica-assignment", "2:3"), 0, "Created topic b.\n")
	if got := assignmentOf(t, c, "b"); !reflect.DeepEqual(got, map[int32][]int32{0: {2, 3}}) {
		t.Fatalf("b: %v", got)
	}
	warn := "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.\n"
	expect(t, kt(t, zk, "--create", "--topic", "c.d", "--replica-assignment", "1"), 0, warn+"Created topic c.d.\n")
	expect(t, kt(t, zk, "--create", "--topic", "c_d", "--replica-assignment", "1"), 1,
		warn+"Error while executing topic command : Topic 'c_d' collides with existing topics: c.d\n")

	expect(t, kt(t, zk, "--list"), 0, "a\nb\nc.d\n")
	expect(t, kt(t, zk, "--list", "--topic", "a|c.*"), 0, "a\nc.d\n")
	expect(t, kt(t, zk, "--list", "--topic", "b,c.d"), 0, "b\nc.d\n")

	// describe with and without state znodes
	if _, err := c.CreatePartitionState(zkmeta.TopicPartition{Topic: "b", Partition: 0},
		zkmeta.PartitionState{Leader: 2, LeaderEpoch: 0, ISR: []int32{2, 3}, ControllerEpoch: 1}, zkmeta.MatchAnyVersion); err != nil {
		t.Fatal(err)
	}
	expect(t, kt(t, zk, "--describe", "--topic", "b"), 0,
		"Topic: b\tPartitionCount: 1\tReplicationFactor: 2\tConfigs: \n\tTopic: b\tPartition: 0\tLeader: 2\tReplicas: 2,3\tIsr: 2,3\n")

	// alter --partitions: start index = position of the first broker id >= partition 0's leader (2) = 1, start
	// partition 1, RF 2 over [1 2 3]: p1 [3 2], p2 [1 3], p3 (shift bumps) [2 3] (see assign's golden tests).
	expect(t, kt(t, zk, "--alter", "--topic", "b", "--partitions", "4"), 0, keyWarning+"Adding partitions succeeded!\n")
	if got := assignmentOf(t, c, "b"); !reflect.DeepEqual(got, map[int32][]int32{0: {2, 3}, 1: {3, 2}, 2: {1, 3}, 3: {2, 3}}) {
		t.Fatalf("b after alter: %v", got)
	}
	expect(t, kt(t, zk, "--alter", "--topic", "b", "--partitions", "2"), 1, keyWarning+
		"Error while executing topic command : The number of partitions for a topic can only be increased. Topic b currently has 4 partitions, 2 would not be an increase.\n")
	expect(t, kt(t, zk, "--alter", "--topic", "b", "--partitions", "6", "--replica-assignment", "2:3,3:2,1:3,2:3,1:2,1:9"), 1, keyWarning+
		"Error while executing topic command : Some brokers specified for partition id 5 are not available. Specified brokers: 1, 9, available brokers: 1, 2, 3.\n")
	expect(t, kt(t, zk, "--alter", "--topic", "b", "--partitions", "5", "--replica-assignment", "2:3,3:2,1:3,2:3,3:1"), 0, keyWarning+"Adding partitions succeeded!\n")
	if got := assignmentOf(t, c, "b")[4]; !reflect.DeepEqual(got, []int32{3, 1}) {
		t.Fatalf("b partition 4: %v", got)
	}
	expect(t, kt(t, zk, "--alter", "--topic", "nope", "--partitions", "5"), 1,
		"Error while executing topic command : Topic 'nope' does not exist as expected\n")
	expect(t, kt(t, zk, "--alter", "--topic", "nope", "--partitions", "5", "--if-exists"), 0, "")

	// topic id (as the controller adds it) shows up; partitions without state have no leader
	ta, _, _ := c.GetTopicAssignment("b")
	id, _ := zkmeta.NewUuid()
	ta.TopicID = id
	if err := c.SetTopicAssignment("b", ta, zkmeta.MatchAnyVersion); err != nil {
		t.Fatal(err)
	}
	full := "Topic: b\tTopicId: " + id.String() + "\tPartitionCount: 5\tReplicationFactor: 2\tConfigs: \n" +
		"\tTopic: b\tPartition: 0\tLeader: 2\tReplicas: 2,3\tIsr: 2,3\n" +
		"\tTopic: b\tPartition: 1\tLeader: none\tReplicas: 3,2\tIsr: \n" +
		"\tTopic: b\tPartition: 2\tLeader: none\tReplicas: 1,3\tIsr: \n" +
		"\tTopic: b\tPartition: 3\tLeader: none\tReplicas: 2,3\tIsr: \n" +
		"\tTopic: b\tPartition: 4\tLeader: none\tReplicas: 3,1\tIsr: \n"
	expect(t, kt(t, zk, "--describe", "--topic", "b"), 0, full)
	unavailable := strings.Join(strings.SplitAfter(full, "\n")[2:], "")
	expect(t, kt(t, zk, "--describe", "--topic", "b", "--unavailable-partitions"), 0, unavailable)
	expect(t, kt(t, zk, "--describe", "--topic", "b", "--under-replicated-partitions"), 0, unavailable)

	// config alteration (deprecated path) writes the config and a change notification
	expect(t, kt(t, zk, "--alter", "--topic", "b", "--config", "retention.ms=1000", "--config", "cleanup.policy=compact"), 0,
		"WARNING: Altering topic configuration from this script has been deprecated and may be removed in future releases.\n"+
			"         Going forward, please use kafka-configs.sh for this functionality\nUpdated config for topic b.\n")
	cfg, _ := c.GetEntityConfigs(zkmeta.ConfigTypeTopic, "b")
	if !reflect.DeepEqual(cfg, map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}) {
		t.Fatalf("config %v", cfg)
	}
	changes, _ := c.GetChildren(zkmeta.ConfigChangesPath)
	if len(changes) != 1 {
		t.Fatalf("changes %v", changes)
	}
	expect(t, kt(t, zk, "--alter", "--topic", "b", "--delete-config", "retention.ms"), 0,
		"WARNING: Altering topic configuration from this script has been deprecated and may be removed in future releases.\n"+
			"         Going forward, please use kafka-configs.sh for this functionality\nUpdated config for topic b.\n")
	expect(t, kt(t, zk, "--describe", "--topics-with-overrides"), 0,
		"Topic: a\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: cleanup.policy=compact\n"+
			"Topic: b\tTopicId: "+id.String()+"\tPartitionCount: 5\tReplicationFactor: 2\tConfigs: cleanup.policy=compact\n")

	// partition counts no topic znode can hold are refused before an assignment is built
	expect(t, kt(t, zk, "--create", "--topic", "huge", "--partitions", "2000000000", "--replication-factor", "1"), 1,
		"Error while executing topic command : 2000000000 partitions with 1 replicas each need at least 32888888889 bytes "+
			"in the topic's znode, more than ZooKeeper's 1048575.\n")
	expect(t, kt(t, zk, "--alter", "--topic", "b", "--partitions", "2000000000"), 1,
		"WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected\n"+
			"Error while executing topic command : 2000000000 partitions with 2 replicas each need at least 36888888889 bytes "+
			"in the topic's znode, more than ZooKeeper's 1048575.\n")

	// delete
	expect(t, kt(t, zk, "--delete", "--topic", "a"), 0,
		"Topic a is marked for deletion.\nNote: This will have no impact if delete.topic.enable is not set to true.\n")
	expect(t, kt(t, zk, "--delete", "--topic", "a"), 0, "Topic a is already marked for deletion.\n")
	expect(t, kt(t, zk, "--delete", "--topic", "zz"), 1, "Error while executing topic command : Topic 'zz' does not exist as expected\n")
	expect(t, kt(t, zk, "--delete", "--topic", "zz", "--if-exists"), 0, "")
	expect(t, kt(t, zk, "--list"), 0, "a - marked for deletion\nb\nc.d\n")
	r = kt(t, zk, "--describe", "--topic", "a")
	if r.code != 0 || !strings.HasSuffix(strings.SplitN(r.stdout, "\n", 2)[0], "\tMarkedForDeletion: true") {
		t.Fatalf("%+v", r)
	}

	// internal topics
	if err := c.CreateTopic("__consumer_offsets", map[int32][]int32{0: {1}}, map[string]string{}, zkmeta.ZeroUuid); err != nil {
		t.Fatal(err)
	}
	expect(t, kt(t, zk, "--list", "--exclude-internal"), 0, "a - marked for deletion\nb\nc.d\n")
	expect(t, kt(t, zk, "--list", "--topic", "__.*"), 0, "__consumer_offsets\n")
	expect(t, kt(t, zk, "--delete", "--topic", "__consumer_offsets"), 1,
		"Error while executing topic command : Topic __consumer_offsets is a kafka internal topic and is not allowed to be marked for deletion.\n")
	expect(t, kt(t, zk, "--alter", "--topic", "__consumer_offsets", "--partitions", "3"), 1,
		"Error while executing topic command : The number of partitions for the internal topic __consumer_offsets cannot be changed.\n")
}

func TestRackAwareCreate(t *testing.T) {
	addr := startZkServer(t)
	zk := addr + "/racks"
	c := connectChroot(t, addr, "/racks", map[int32]string{1: "r1", 2: "r1", 3: "r2", 4: "r2"})
	expect(t, kt(t, zk, "--create", "--topic", "t", "--partitions", "8", "--replication-factor", "2"), 0, "Created topic t.\n")
	rack := map[int32]string{1: "r1", 2: "r1", 3: "r2", 4: "r2"}
	for p, reps := range assignmentOf(t, c, "t") {
		if rack[reps[0]] == rack[reps[1]] {
			t.Fatalf("partition %d on one rack: %v", p, reps)
		}
	}
	// One broker without a rack: Kafka refuses unless rack awareness is disabled.
	c2 := connectChroot(t, addr, "/mixed", map[int32]string{1: "r1", 2: ""})
	expect(t, kt(t, addr+"/mixed", "--create", "--topic", "t", "--partitions", "1", "--replication-factor", "1"), 1,
		"Error while executing topic command : Not all brokers have rack information. Add --disable-rack-aware in command line to make replica assignment without rack information.\n")
	expect(t, kt(t, addr+"/mixed", "--create", "--topic", "t", "--partitions", "2", "--replication-factor", "2", "--disable-rack-aware"), 0, "Created topic t.\n")
	if got := assignmentOf(t, c2, "t"); len(got) != 2 {
		t.Fatalf("%v", got)
	}
}

func TestArgumentErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), nil, &out, &errb); code != 1 || !strings.HasPrefix(errb.String(), "Create, delete, describe, or change a topic.\n") {
		t.Fatalf("%d %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"--list", "--describe", "--zookeeper", "x"}, &out, &errb); code != 1 ||
		!strings.HasPrefix(errb.String(), "Command must include exactly one action: --list, --describe, --create, --alter or --delete\n") {
		t.Fatalf("%d %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"--list"}, &out, &errb); code != 1 ||
		errb.String() != "Exception in thread \"main\" java.lang.IllegalArgumentException: Only one of --bootstrap-server or --zookeeper must be specified\n" {
		t.Fatalf("%d %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"--list", "--zookeeper", "x", "--bogus"}, &out, &errb); code != 1 ||
		errb.String() != "Exception in thread \"main\" joptsimple.UnrecognizedOptionException: bogus is not a recognized option\n" {
		t.Fatalf("%d %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"--alter", "--bootstrap-server", "x", "--topic", "t", "--config", "a=b"}, &out, &errb); code != 1 ||
		!strings.HasPrefix(errb.String(), "Option combination \"[bootstrap-server],[config]\" can't be used with option \"[alter]\" (the kafka-configs CLI") {
		t.Fatalf("%d %q", code, errb.String())
	}
	errb.Reset()
	// jopt-simple accepts unique abbreviations.
	o, err := parseArgs([]string{"--zookeeper=h:1", "--descr", "--topic", "x", "--part", "3"})
	if err != nil || !o.has("describe") || o.values["topic"][0] != "x" || o.values["zookeeper"][0] != "h:1" || o.ints["partitions"] != 3 {
		t.Fatalf("%v %v", o, err)
	}
	// ...but not ambiguous ones (topic, topics-with-overrides).
	if _, err := parseArgs([]string{"--top", "x"}); err == nil || err.Error() != "top is not a recognized option" {
		t.Fatalf("%v", err)
	}
}

func TestHashMapConfigOrder(t *testing.T) {
	// Java: new HashMap<>() with these keys iterates by (h ^ h>>>16) & 15. "retention.ms" and "cleanup.policy"
	// land in bins computed from String.hashCode; the order must follow the bins, not insertion.
	keys := []string{"retention.ms", "cleanup.policy", "segment.bytes"}
	got := javahash.HashMapOrder(keys)
	bins := make([]int, len(got))
	for i, k := range got {
		h := uint32(javahash.String(k))
		bins[i] = int((h ^ h>>16) & 15)
	}
	if !sort.IntsAreSorted(bins) {
		t.Fatalf("order %v bins %v", got, bins)
	}
	if javahash.String("abc") != 96354 {
		t.Fatal("String.hashCode")
	}
}
