package kafkaclients

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKafkaPythonConfigs runs testdata/kafka_python_configs.py: kafka-python's KafkaAdminClient alter_configs and
// describe_configs on topic and broker resources.
func TestKafkaPythonConfigs(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		lookPathOrSkip(t, debianPython, "python3")
	}
	if out, err := exec.Command(debianPython, "-c", "import kafka").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kafka-python missing (%v): CI must install Debian package python3-kafka\n%s", err, out)
		}
		t.Skipf("kafka-python missing: install Debian package python3-kafka (%s)", strings.TrimSpace(string(out)))
	}
	c := startCluster(t)
	script, err := filepath.Abs(filepath.Join("testdata", "kafka_python_configs.py"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, 90*time.Second, nil, debianPython, script, c.addr)
	t.Logf("kafka-python:\n%s", out)
	if err != nil {
		t.Fatalf("kafka-python configs scenario: %v", err)
	}
}
