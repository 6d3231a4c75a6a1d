package kafkaclients

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKafkaPythonConfigs runs testdata/kafka_python_configs.py: kafka-python's KafkaAdminClient alter_configs and
// describe_configs on topic and broker resources.
func TestKafkaPythonConfigs(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		lookPathOrSkip(t, debianPython, "python3")
	}
	requireKafkaPython(t)
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
