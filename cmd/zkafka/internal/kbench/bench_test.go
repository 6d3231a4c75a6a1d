package kbench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/cmd/zkafka/internal/zkbench"
)

func TestConfigCheck(t *testing.T) {
	good := Config{Brokers: []string{"127.0.0.1:9092"}, Topic: "t", Op: OpProduce, Acks: "all", Size: 100,
		Partitions: 1, Duration: time.Second, Buffered: 10}
	if err := good.check(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"no brokers":  func(c *Config) { c.Brokers = nil },
		"no topic":    func(c *Config) { c.Topic = "" },
		"bad acks":    func(c *Config) { c.Acks = "2" },
		"bad op":      func(c *Config) { c.Op = "fetch" },
		"partitions":  func(c *Config) { c.Partitions = 0 },
		"no stop":     func(c *Config) { c.Duration = 0 },
		"no buffered": func(c *Config) { c.Buffered = 0 },
	} {
		c := good
		mod(&c)
		if err := c.check(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	c := good
	c.MaxVersion = "0.9.0"
	if _, pin, err := c.clientOpts(); err != nil || len(pin) != 1 {
		t.Fatalf("0.9.0: %v %v", pin, err)
	}
	c.MaxVersion = "9.9.9.9"
	if _, _, err := c.clientOpts(); err == nil {
		t.Fatal("unknown version accepted")
	}
}

func TestResult(t *testing.T) {
	lat := zkbench.NewHistogram()
	for i := 1; i <= 100; i++ {
		lat.Record(time.Duration(i) * time.Millisecond)
	}
	errs := &errorLog{}
	cfg := Config{Topic: "t", Op: OpProduce, Acks: "1", Size: 100, Partitions: 8}
	r := newResult(cfg, 2*time.Second, 100, 10000, lat, errs)
	if r.RecordsPerSec != 50 || r.MBPerSec != 0.005 || r.P99Micros < 98000 || r.P99Micros > 100000 || r.Acks != "1" {
		t.Fatalf("%+v", r)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Records != 100 || back.Partitions != 8 {
		t.Fatalf("%v %+v", err, back)
	}
	buf.Reset()
	if err := r.WriteText(&buf); err != nil || !strings.Contains(buf.String(), "50.0 records/s") {
		t.Fatalf("%v %q", err, buf.String())
	}
}
