package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestParseArgs(t *testing.T) {
	path, ov, err := parseArgs([]string{"server.properties", "--override", "broker.id=3", "--override=log.dirs=/x"})
	if err != nil || path != "server.properties" || !reflect.DeepEqual(ov, []string{"broker.id=3", "log.dirs=/x"}) {
		t.Fatalf("got %q %q %v", path, ov, err)
	}
	for _, bad := range [][]string{{}, {"--override", "a=b"}, {"p", "--override"}, {"p", "--override", "nokv"}, {"p", "extra"}} {
		if _, _, err := parseArgs(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func build(t *testing.T, pkg, dir, name string, flags ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	if b, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
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

func startProc(t *testing.T, logf string, name string, args ...string) *exec.Cmd {
	t.Helper()
	f, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	})
	return cmd
}

// startWatched is startProc with a channel that closes once the process has exited (and been waited for).
func startWatched(t *testing.T, logf string, name string, args ...string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := startProc(t, logf, name, args...)
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	return cmd, exited
}

func waitDial(t *testing.T, addr, logf string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logf)
	t.Fatalf("%s not listening\n%s", addr, b)
}

// restartBroker starts the broker again on its log dir. As with Kafka, a
// broker restarted before ZooKeeper expires a killed one's session finds
// /brokers/ids/<id> still taken and exits: it is retried until that session
// (the test's zookeeper.session.timeout.ms) is gone. The broker is up once it
// has logged the end of its start-up: its listeners accept connections
// before it registers, so a connection alone does not say it will stay. The
// returned channel closes when the process exits (it has been waited for).
func restartBroker(t *testing.T, logf, bin, props, addr string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		cmd, exited := startWatched(t, logf, bin, props)
		if started(logf, exited) && listening(addr, exited) {
			return cmd, exited
		}
		if attempt == 20 {
			b, _ := os.ReadFile(logf)
			t.Fatalf("broker did not come back\n%s", b)
		}
		time.Sleep(time.Second)
	}
}

// started waits until the broker logging to logf has finished starting (registered in ZooKeeper, controller
// and listeners running) or the process exits.
func started(logf string, exited <-chan struct{}) bool {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return false
		default:
		}
		if b, err := os.ReadFile(logf); err == nil && bytes.Contains(b, []byte("msg=started logger=kafka.server.KafkaServer")) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// listening waits until addr accepts connections or the process exits.
func listening(addr string, exited <-chan struct{}) bool {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// waitSelfListed waits until the broker's metadata lists the broker itself. Its listeners accept connections before
// the controller's first UpdateMetadata reaches its cache, and auto-creation in that window fails with
// INVALID_REPLICATION_FACTOR ("available brokers: 0"), as in Kafka 2.8, whose ZkAdminManager reads the same cache.
func waitSelfListed(t *testing.T, ctx context.Context, cl *kgo.Client, id int32, logf string) {
	t.Helper()
	for {
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{} // none: brokers only
		if md, err := req.RequestWith(ctx, cl); err == nil {
			for _, b := range md.Brokers {
				if b.NodeID == id {
					return
				}
			}
		}
		if ctx.Err() != nil {
			b, _ := os.ReadFile(logf)
			t.Fatalf("broker %d never listed in its own metadata\n%s", id, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestProcess runs the binary as kafka-server-start.sh would, produces through it, and stops it with SIGTERM.
func TestProcess(t *testing.T) {
	dir := t.TempDir()
	zkBin := os.Getenv("ZKSERVER_BIN")
	if zkBin == "" {
		zkBin = filepath.Join(dir, "zkserver")
		if b, err := exec.Command("go", "build", "-o", zkBin, "github.com/zkafka/zkafka/cmd/zkserver").CombinedOutput(); err != nil {
			// The tree is shared with work in progress: fall back to the repository's bin/zkserver.
			pre, _ := filepath.Abs("../../bin/zkserver")
			if _, serr := os.Stat(pre); serr != nil {
				t.Fatalf("go build zkserver: %v\n%s", err, b)
			}
			zkBin = pre
		}
	}
	kBin := build(t, ".", dir, "kafkaserver")

	zkPort, kPort := freePort(t), freePort(t)
	zoo := filepath.Join(dir, "zoo.cfg")
	os.WriteFile(zoo, []byte(fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n",
		filepath.Join(dir, "zk"), zkPort)), 0o644)
	startProc(t, filepath.Join(dir, "zk.log"), zkBin, "start-foreground", zoo)
	waitDial(t, fmt.Sprintf("127.0.0.1:%d", zkPort), filepath.Join(dir, "zk.log"))

	logDir := filepath.Join(dir, "kafka-logs")
	props := filepath.Join(dir, "server.properties")
	os.WriteFile(props, []byte(strings.Join([]string{
		"broker.id=7",
		fmt.Sprintf("zookeeper.connect=127.0.0.1:%d/kafka", zkPort),
		"log.dirs=/nonexistent-overridden",
		"offsets.topic.replication.factor=1",
	}, "\n")+"\n"), 0o644)
	klog := filepath.Join(dir, "kafka.log")
	kcmd := startProc(t, klog, kBin, props, "--override", "log.dirs="+logDir,
		"--override", fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", kPort))
	addr := fmt.Sprintf("127.0.0.1:%d", kPort)
	waitDial(t, addr, klog)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DisableIdempotentWrite(), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	waitSelfListed(t, ctx, cl, 7, klog)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "proc", Value: []byte("v")}).FirstErr(); err != nil {
		b, _ := os.ReadFile(klog)
		t.Fatalf("produce: %v\n%s", err, b)
	}
	md, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil || len(md.Brokers) != 1 || md.Brokers[0].NodeID != 7 || md.ControllerID != 7 {
		t.Fatalf("metadata: %v %+v", err, md)
	}
	cl.Close()

	_ = syscall.Kill(kcmd.Process.Pid, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- kcmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b, _ := os.ReadFile(klog)
			t.Fatalf("exit: %v\n%s", err, b)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	for _, f := range []string{"meta.properties", "recovery-point-offset-checkpoint", "replication-offset-checkpoint",
		".kafka_cleanshutdown", "proc-0/00000000000000000000.log"} {
		if _, err := os.Stat(filepath.Join(logDir, f)); err != nil {
			t.Errorf("after shutdown: %v", err)
		}
	}
	hw, _ := os.ReadFile(filepath.Join(logDir, "replication-offset-checkpoint"))
	if !strings.Contains(string(hw), "proc 0 1") {
		t.Errorf("replication-offset-checkpoint:\n%s", hw)
	}
}
