package kafkaclients

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfluentKafkaTransactions runs testdata/confluent_txn.py: librdkafka's transactional producer through
// confluent-kafka-python (Debian's python3-confluent-kafka): commit, abort, read_committed consumers,
// send_offsets_to_transaction and fencing.
func TestConfluentKafkaTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a peer client")
	}
	if _, err := os.Stat(debianPython); err != nil {
		lookPathOrSkip(t, debianPython, "python3")
	}
	if out, err := exec.Command(debianPython, "-c", "import confluent_kafka").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("confluent-kafka missing (%v): CI must install Debian package python3-confluent-kafka\n%s", err, out)
		}
		t.Skipf("confluent-kafka missing: install Debian package python3-confluent-kafka (%s)", strings.TrimSpace(string(out)))
	}
	c := startCluster(t)
	script, err := filepath.Abs(filepath.Join("testdata", "confluent_txn.py"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, 3*time.Minute, nil, debianPython, script, c.addr)
	t.Logf("confluent-kafka:\n%s", out)
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("confluent-kafka transactions: %v", err)
	}
}
