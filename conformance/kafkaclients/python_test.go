package kafkaclients

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// debianPython is Debian's interpreter: python3-kafka installs into its dist-packages, which a pyenv python3 on
// PATH does not see.
const debianPython = "/usr/bin/python3"

// TestKafkaPython runs testdata/kafka_python_scenario.py (kafka-python: admin client, producer, group consumer
// with commits, topic deletion).
func TestKafkaPython(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		lookPathOrSkip(t, debianPython, "python3")
	}
	requireKafkaPython(t)
	onBothZooKeepers(t, "kafka-python", func(t *testing.T, c *cluster) {
		script, err := filepath.Abs(filepath.Join("testdata", "kafka_python_scenario.py"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := run(t, 90*time.Second, nil, debianPython, script, c.addr)
		t.Logf("kafka-python:\n%s", out)
		if err != nil {
			t.Fatalf("kafka-python scenario: %v", err)
		}
	})
}

// requireKafkaPython skips t without kafka-python on Debian's python3, or fails it on CI, which must have it.
func requireKafkaPython(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(debianPython, "-c", "import kafka").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kafka-python missing (%v): CI must install Debian package python3-kafka\n%s", err, out)
		}
		t.Skipf("kafka-python missing: install Debian package python3-kafka (%s)", strings.TrimSpace(string(out)))
	}
}
