package broker

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// lockedBuffer collects a broker's log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBrokerLoggers: the BROKER_LOGGER resource lists the broker's loggers with the levels they log at and changes
// them live through IncrementalAlterConfigs, with Kafka 2.8's checks, errors and messages (ConfigHelper,
// ZkAdminManager.validateLogLevelConfigs); a level set is the level the broker then logs at.
func TestBrokerLoggers(t *testing.T) {
	logs := &lockedBuffer{}
	c := newCluster(t)
	c.logOut = logs
	c.start() // the tests' base handler takes WARN and above: the root starts at WARN
	cl := c.client()
	ctx := ctxT(t)
	id := strconv.Itoa(int(c.b.ID()))

	describe := func(name string, keys ...string) kmsg.DescribeConfigsResponseResource {
		t.Helper()
		req := kmsg.NewPtrDescribeConfigsRequest()
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType, res.ResourceName, res.ConfigNames = kmsg.ConfigResourceTypeBrokerLogger, name, keys
		req.Resources = append(req.Resources, res)
		r, err := cl.Broker(int(c.b.ID())).Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return r.(*kmsg.DescribeConfigsResponse).Resources[0]
	}
	levels := func() map[string]string {
		t.Helper()
		rr := describe(id)
		if rr.ErrorCode != 0 {
			t.Fatalf("describe: %v %v", kerr.ErrorForCode(rr.ErrorCode), rr.ErrorMessage)
		}
		m := map[string]string{}
		for _, cfg := range rr.Configs {
			if cfg.Source != kmsg.ConfigSourceDynamicBrokerLoggerConfig || cfg.ReadOnly || cfg.IsSensitive ||
				cfg.Value == nil || len(cfg.ConfigSynonyms) != 0 {
				t.Fatalf("entry %+v", cfg)
			}
			m[cfg.Name] = *cfg.Value
		}
		return m
	}
	want := func(m map[string]string, kv ...string) {
		t.Helper()
		for i := 0; i < len(kv); i += 2 {
			if m[kv[i]] != kv[i+1] {
				t.Fatalf("%s = %q, want %q (all: %v)", kv[i], m[kv[i]], kv[i+1], m)
			}
		}
	}
	type op struct {
		name string
		op   kmsg.IncrementalAlterConfigOp
		val  *string
	}
	alter := func(name string, validateOnly bool, ops ...op) (int16, string) {
		t.Helper()
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.ValidateOnly = validateOnly
		res := kmsg.NewIncrementalAlterConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBrokerLogger, name
		for _, o := range ops {
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Op, c.Value = o.name, o.op, o.val
			res.Configs = append(res.Configs, c)
		}
		req.Resources = append(req.Resources, res)
		r, err := cl.Broker(int(c.b.ID())).Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		rr := r.(*kmsg.IncrementalAlterConfigsResponse).Resources[0]
		msg := ""
		if rr.ErrorMessage != nil {
			msg = *rr.ErrorMessage
		}
		return rr.ErrorCode, msg
	}
	set := func(name, level string) op { return op{name, kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(level)} }
	del := func(name string) op { return op{name, kmsg.IncrementalAlterConfigOpDelete, nil} }

	m := levels()
	want(m, "root", "WARN", "kafka", "WARN", "kafka.network.SocketServer", "WARN", "kafka.log.LogCleaner", "WARN",
		"kafka.controller.KafkaController", "WARN", "kafka.server.KafkaServer", "WARN")
	if rr := describe(id, "root"); len(rr.Configs) != 1 || rr.Configs[0].Name != "root" {
		t.Fatalf("describe one: %+v", rr.Configs)
	}

	// Describe's errors: an empty name, a name that is not a number, another broker.
	for name, msg := range map[string]string{
		"":   "Broker id must not be empty",
		"x":  "Broker id must be an integer, but it is: x",
		"17": "Unexpected broker id, expected " + id + " but received 17",
	} {
		rr := describe(name)
		if rr.ErrorCode != kerr.InvalidRequest.Code || rr.ErrorMessage == nil || *rr.ErrorMessage != msg ||
			len(rr.Configs) != 0 {
			t.Fatalf("describe %q: %+v", name, rr)
		}
	}

	// Alteration errors; nothing of a refused request applies, nor of a validate-only one.
	resource := "ConfigResource(type=BROKER_LOGGER, name='" + id + "')"
	for _, tc := range []struct {
		name string
		ops  []op
		code int16
		msg  string
	}{
		{id, []op{set("kafka", "DEBUG"), set("kafka.nope", "DEBUG")}, kerr.InvalidRequest.Code,
			"Invalid config value for resource " + resource + ": Logger kafka.nope does not exist!"},
		{id, []op{set("kafka", "debug")}, kerr.InvalidRequest.Code, "Invalid config value for resource " + resource +
			": Cannot set the log level of kafka to debug as it is not a supported log level. " +
			"Valid log levels are TRACE, ERROR, INFO, FATAL, DEBUG, WARN"},
		{id, []op{set("kafka", "DEBUG"), del("root")}, kerr.InvalidRequest.Code,
			"Removing the log level of the root logger is not allowed"},
		{id, []op{del("kafka.nope")}, kerr.InvalidRequest.Code,
			"Invalid config value for resource " + resource + ": Logger kafka.nope does not exist!"},
		{id, []op{{"kafka", kmsg.IncrementalAlterConfigOpAppend, kmsg.StringPtr("DEBUG")}}, kerr.InvalidRequest.Code,
			"APPEND operation is not allowed for the BROKER_LOGGER resource"},
		{id, []op{{"kafka", kmsg.IncrementalAlterConfigOpSubtract, kmsg.StringPtr("DEBUG")}}, kerr.InvalidRequest.Code,
			"SUBTRACT operation is not allowed for the BROKER_LOGGER resource"},
		{id, []op{set("kafka", "DEBUG"), set("kafka", "INFO")}, kerr.InvalidRequest.Code,
			"Error due to duplicate config keys : kafka"},
		{id, []op{{"kafka", kmsg.IncrementalAlterConfigOpSet, nil}}, kerr.InvalidRequest.Code,
			"Null value not supported for : SET:kafka"},
		{"17", []op{set("kafka", "DEBUG")}, kerr.InvalidRequest.Code, "Unexpected broker id, expected " + id +
			", but received 17"},
	} {
		if code, msg := alter(tc.name, false, tc.ops...); code != tc.code || msg != tc.msg {
			t.Errorf("%v: %v %q, want %v %q", tc.ops, kerr.ErrorForCode(code), msg, kerr.ErrorForCode(tc.code), tc.msg)
		}
	}
	if code, msg := alter(id, true, set("kafka", "DEBUG")); code != 0 {
		t.Fatalf("validate only: %v %s", kerr.ErrorForCode(code), msg)
	}
	want(levels(), "kafka", "WARN", "root", "WARN")
	// AlterConfigs (not incremental) does not take loggers, as in Kafka.
	areq := kmsg.NewPtrAlterConfigsRequest()
	ares := kmsg.NewAlterConfigsRequestResource()
	ares.ResourceType, ares.ResourceName = kmsg.ConfigResourceTypeBrokerLogger, id
	areq.Resources = append(areq.Resources, ares)
	ar, err := cl.Broker(int(c.b.ID())).Request(ctx, areq)
	if err != nil {
		t.Fatal(err)
	}
	if r := ar.(*kmsg.AlterConfigsResponse).Resources[0]; r.ErrorCode != kerr.InvalidRequest.Code || r.ErrorMessage == nil ||
		*r.ErrorMessage != "AlterConfigs is only supported for topics and brokers, but resource type is BROKER_LOGGER" {
		t.Fatalf("AlterConfigs: %+v", r)
	}

	// A level set on a parent reaches its descendants; one set on a logger holds against the parent's; unset, the
	// logger follows its ancestors again. An empty resource name is this broker when altering.
	if code, msg := alter("", false, set("kafka", "INFO"), set("kafka.network.SocketServer", "DEBUG")); code != 0 {
		t.Fatalf("set: %v %s", kerr.ErrorForCode(code), msg)
	}
	want(levels(), "root", "WARN", "kafka", "INFO", "kafka.log.LogCleaner", "INFO", "kafka.network.SocketServer", "DEBUG",
		"org.apache.kafka", "WARN")
	// The connection logger now logs a closed connection at DEBUG.
	conn, err := net.Dial("tcp", c.addr())
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	c.waitFor("a DEBUG line of kafka.network.SocketServer", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "level=DEBUG") && strings.Contains(line, "logger=kafka.network.SocketServer") {
				return true
			}
		}
		return false
	})
	if code, msg := alter(id, false, del("kafka.network.SocketServer"), set("root", "ERROR"), del("kafka")); code != 0 {
		t.Fatalf("unset: %v %s", kerr.ErrorForCode(code), msg)
	}
	want(levels(), "root", "ERROR", "kafka", "ERROR", "kafka.network.SocketServer", "ERROR")
	before := len(logs.String())
	conn, err = net.Dial("tcp", c.addr())
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	// The broker still serves, and logged nothing for the connection at ERROR.
	if err := kgoPing(ctx, cl); err != nil {
		t.Fatal(err)
	}
	if tail := logs.String()[before:]; strings.Contains(tail, "kafka.network.SocketServer") {
		t.Fatalf("logged at ERROR: %s", tail)
	}
}

func kgoPing(ctx context.Context, cl *kgo.Client) error {
	_, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	return err
}
