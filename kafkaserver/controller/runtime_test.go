package controller

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

var (
	zkOnce sync.Once
	zkAddr string
	zkErr  error
	zkCmd  *exec.Cmd
	zkDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if zkCmd != nil && zkCmd.Process != nil {
		syscall.Kill(-zkCmd.Process.Pid, syscall.SIGKILL)
		zkCmd.Wait()
	}
	if zkDir != "" {
		os.RemoveAll(zkDir)
	}
	os.Exit(code)
}

// zkServer builds ./cmd/zkserver and starts it once per test binary.
func zkServer(t *testing.T) string {
	t.Helper()
	zkOnce.Do(func() { zkAddr, zkErr = startZK() })
	if zkErr != nil {
		t.Fatal(zkErr)
	}
	return zkAddr
}

func startZK() (string, error) {
	dir, err := os.MkdirTemp("", "controller-zk")
	if err != nil {
		return "", err
	}
	zkDir = dir
	bin := filepath.Join(dir, "zkserver")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/zkafka/zkafka/cmd/zkserver").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build zkserver: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o755)
	cfg := strings.Join([]string{"tickTime=500", "initLimit=10", "syncLimit=5", "dataDir=" + data,
		fmt.Sprintf("clientPort=%d", port), "clientPortAddress=127.0.0.1", "admin.enableServer=false",
		"4lw.commands.whitelist=*", "maxClientCnxns=0"}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		return "", err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return "", err
	}
	defer logf.Close()
	zkCmd = exec.Command(bin, "start-foreground", filepath.Join(dir, "zoo.cfg"))
	zkCmd.Stdout, zkCmd.Stderr = logf, logf
	zkCmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := zkCmd.Start(); err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Write([]byte("srvr"))
			b, _ := io.ReadAll(c)
			c.Close()
			if strings.Contains(string(b), "Mode:") {
				return addr, nil
			}
		}
	}
	return "", fmt.Errorf("zkserver not ready at %s", addr)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func connect(t *testing.T, chroot string) *zkmeta.Client {
	t.Helper()
	c, err := zkmeta.Connect(zkServer(t)+chroot, 6*time.Second, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func chrootFor(t *testing.T) string {
	return fmt.Sprintf("/%s_%d", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond; the deadline only bounds a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// fakeBrokers records requests and answers them successfully.
type fakeBrokers struct {
	mu   sync.Mutex
	reqs []Request
}

func (f *fakeBrokers) record(b int32, m kmsg.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, Request{Broker: b, Msg: m})
	f.mu.Unlock()
}

func (f *fakeBrokers) LeaderAndIsr(_ context.Context, b int32, r *kmsg.LeaderAndISRRequest) (*kmsg.LeaderAndISRResponse, error) {
	f.record(b, r)
	return kmsg.NewPtrLeaderAndISRResponse(), nil
}

func (f *fakeBrokers) UpdateMetadata(_ context.Context, b int32, r *kmsg.UpdateMetadataRequest) (*kmsg.UpdateMetadataResponse, error) {
	f.record(b, r)
	return kmsg.NewPtrUpdateMetadataResponse(), nil
}

func (f *fakeBrokers) StopReplica(_ context.Context, b int32, r *kmsg.StopReplicaRequest) (*kmsg.StopReplicaResponse, error) {
	f.record(b, r)
	return kmsg.NewPtrStopReplicaResponse(), nil
}

// find reports whether some recorded request to broker matches.
func (f *fakeBrokers) find(broker int32, match func(kmsg.Request) bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.reqs {
		if r.Broker == broker && match(r.Msg) {
			return true
		}
	}
	return false
}

func laiFor(tp TopicPartition, leader, epoch int32, isNew bool) func(kmsg.Request) bool {
	return func(m kmsg.Request) bool {
		r, ok := m.(*kmsg.LeaderAndISRRequest)
		if !ok {
			return false
		}
		for _, ts := range r.TopicStates {
			for _, ps := range ts.PartitionStates {
				if ts.Topic == tp.Topic && ps.Partition == tp.Partition && ps.Leader == leader && ps.LeaderEpoch == epoch && ps.IsNew == isNew {
					return r.Version == 5 && ts.TopicID != [16]byte{}
				}
			}
		}
		return false
	}
}

func registerBroker(t *testing.T, c *zkmeta.Client, id int32) {
	t.Helper()
	_, err := c.RegisterBroker(zkmeta.BrokerInfo{ID: id, Version: 5, JMXPort: -1,
		Endpoints: []zkmeta.EndPoint{{Listener: "PLAINTEXT", Host: "127.0.0.1", Port: 9090 + id, SecurityProtocol: "PLAINTEXT"}}})
	must(t, err)
}

func startController(t *testing.T, c *zkmeta.Client, id int32, api BrokerAPI) (*Controller, context.CancelFunc) {
	ctl := New(c, Config{BrokerID: id, DeleteTopicEnable: true}, api, quiet())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ctl.Run(ctx); err != nil && ctx.Err() == nil {
			t.Logf("controller %d: %v", id, err)
		}
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return ctl, stop
}

func TestRuntimeTopicLifecycle(t *testing.T) {
	chroot := chrootFor(t)
	admin := connect(t, chroot)
	must(t, admin.CreateTopLevelPaths())
	b1 := connect(t, chroot)
	b2 := connect(t, chroot)
	b3 := connect(t, chroot)
	registerBroker(t, b1, 1)
	registerBroker(t, b2, 2)
	registerBroker(t, b3, 3)
	api := &fakeBrokers{}
	ctl, _ := startController(t, b1, 1, api)
	waitFor(t, "controller 1 active", func() bool { ok, _ := ctl.Active(); return ok })

	// As kafka-topics.sh --zookeeper does.
	must(t, admin.CreateTopic("foo", map[int32][]int32{0: {1, 2}, 1: {2, 3}}, map[string]string{"retention.ms": "1000"}, zkmeta.ZeroUuid))
	tp0, tp1 := TopicPartition{Topic: "foo", Partition: 0}, TopicPartition{Topic: "foo", Partition: 1}
	waitFor(t, "partition states", func() bool {
		_, ok0, _ := admin.GetPartitionState(tp0)
		_, ok1, _ := admin.GetPartitionState(tp1)
		return ok0 && ok1
	})
	_, epoch := ctl.Active()
	raw, _, err := admin.Get(zkmeta.PartitionStatePath("foo", 0))
	must(t, err)
	if want := fmt.Sprintf(`{"controller_epoch":%d,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2]}`, epoch); string(raw) != want {
		t.Errorf("state znode %s, want %s", raw, want)
	}
	ta, _, err := admin.GetTopicAssignment("foo")
	must(t, err)
	if ta.TopicID.IsZero() {
		t.Errorf("controller did not set a topic id")
	}
	waitFor(t, "LeaderAndIsr for foo-0 to 1 and 2", func() bool {
		return api.find(1, laiFor(tp0, 1, 0, true)) && api.find(2, laiFor(tp0, 1, 0, true)) && api.find(3, laiFor(tp1, 2, 0, true))
	})
	for _, b := range []int32{1, 2, 3} {
		waitFor(t, "UpdateMetadata with foo", func() bool {
			return api.find(b, func(m kmsg.Request) bool {
				r, ok := m.(*kmsg.UpdateMetadataRequest)
				return ok && r.Version == 7 && len(r.TopicStates) == 1 && r.TopicStates[0].Topic == "foo" && len(r.LiveBrokers) == 3
			})
		})
	}

	// Broker 3 dies: foo-1 (leader 2) loses 3 from its ISR with a new leader epoch.
	b3.Close()
	waitFor(t, "ISR shrink of foo-1", func() bool {
		s, _, _ := admin.GetPartitionState(tp1)
		return s.Leader == 2 && s.LeaderEpoch == 1 && len(s.ISR) == 1 && s.ISR[0] == 2
	})
	waitFor(t, "LeaderAndIsr for foo-1 epoch 1 to broker 2", func() bool { return api.find(2, laiFor(tp1, 2, 1, false)) })

	// Partition count increase, as kafka-topics.sh --alter does (rewrite the topic znode).
	ta, _, err = admin.GetTopicAssignment("foo")
	must(t, err)
	ta.Partitions[2] = zkmeta.ReplicaAssignment{Replicas: []int32{2, 1}}
	_, err = admin.Set(zkmeta.TopicPath("foo"), ta.Encode(), -1)
	must(t, err)
	tp2 := TopicPartition{Topic: "foo", Partition: 2}
	waitFor(t, "foo-2 state", func() bool {
		s, ok, _ := admin.GetPartitionState(tp2)
		return ok && s.Leader == 2 && len(s.ISR) == 2
	})

	// Deletion through /admin/delete_topics. Broker 3 is dead, so bring it back for the deletion to finish.
	b3 = connect(t, chroot)
	registerBroker(t, b3, 3)
	must(t, admin.CreateDeleteTopicPath("foo"))
	waitFor(t, "topic foo deleted", func() bool {
		a, _ := admin.PathExists(zkmeta.TopicPath("foo"))
		b, _ := admin.PathExists(zkmeta.DeleteTopicPath("foo"))
		c, _ := admin.PathExists(zkmeta.TopicConfigPath("foo"))
		return !a && !b && !c
	})
	for _, b := range []int32{1, 2, 3} {
		if !api.find(b, func(m kmsg.Request) bool {
			r, ok := m.(*kmsg.StopReplicaRequest)
			return ok && r.Version == 3 && len(r.Topics) == 1 && r.Topics[0].Topic == "foo" && r.Topics[0].PartitionStates[0].Delete
		}) {
			t.Errorf("no StopReplica(delete) to broker %d", b)
		}
	}
}

func TestRuntimeFailover(t *testing.T) {
	chroot := chrootFor(t)
	admin := connect(t, chroot)
	must(t, admin.CreateTopLevelPaths())
	c1 := connect(t, chroot)
	c2 := connect(t, chroot)
	registerBroker(t, c1, 1)
	registerBroker(t, c2, 2)
	api1, api2 := &fakeBrokers{}, &fakeBrokers{}
	ctl1, stop1 := startController(t, c1, 1, api1)
	waitFor(t, "controller 1 active", func() bool { ok, _ := ctl1.Active(); return ok })
	ctl2, _ := startController(t, c2, 2, api2)
	must(t, admin.CreateTopic("bar", map[int32][]int32{0: {1, 2}}, nil, zkmeta.ZeroUuid))
	tp := TopicPartition{Topic: "bar", Partition: 0}
	waitFor(t, "bar-0 led by 1", func() bool { s, ok, _ := admin.GetPartitionState(tp); return ok && s.Leader == 1 })
	_, e1 := ctl1.Active()
	if ok, _ := ctl2.Active(); ok {
		t.Fatal("two active controllers")
	}

	// Kill broker 1's session: broker 2 takes over with the next epoch and moves the leadership.
	stop1()
	c1.Close()
	waitFor(t, "controller 2 active", func() bool { ok, _ := ctl2.Active(); return ok })
	_, e2 := ctl2.Active()
	if e2 != e1+1 {
		t.Errorf("epoch %d after %d", e2, e1)
	}
	id, err := admin.GetControllerID()
	must(t, err)
	epoch, _, _, err := admin.GetControllerEpoch()
	must(t, err)
	if id != 2 || epoch != e2 {
		t.Errorf("/controller %d epoch %d", id, epoch)
	}
	waitFor(t, "bar-0 led by 2", func() bool {
		s, _, _ := admin.GetPartitionState(tp)
		return s.Leader == 2 && s.ControllerEpoch == e2 && s.LeaderEpoch == 1
	})
	waitFor(t, "LeaderAndIsr from the new controller", func() bool {
		return api2.find(2, func(m kmsg.Request) bool {
			r, ok := m.(*kmsg.LeaderAndISRRequest)
			return ok && r.ControllerEpoch == e2 && r.ControllerID == 2
		})
	})
}
