package zkmeta

import (
	"reflect"
	"strings"
	"testing"
)

// Golden strings: Kafka 2.8.2 (Scala 2.13) encodings. Orders of hash-map-backed objects follow from ZkData.scala's
// map types (see order.go); the entity config strings were produced by Jackson serializing java.util.Properties on
// a JDK 17 (inserting keys in sorted order, as EncodeEntityConfig does).
func TestGoldenEncodings(t *testing.T) {
	tid, err := ParseUuid("fx4xV8cTTTGvZ3B0T2L4Hw")
	if err != nil {
		t.Fatal(err)
	}
	plain := EndPoint{Listener: "PLAINTEXT", Host: "localhost", Port: 9092, SecurityProtocol: "PLAINTEXT"}
	repl := EndPoint{Listener: "REPLICATION", Host: "10.0.0.5", Port: 9093, SecurityProtocol: "SSL"}
	bigCfg := map[string]string{}
	for _, k := range strings.Split("cleanup.policy,compression.type,delete.retention.ms,file.delete.delay.ms,flush.messages,flush.ms,follower.replication.throttled.replicas,index.interval.bytes,leader.replication.throttled.replicas,max.compaction.lag.ms,max.message.bytes,message.downconversion.enable,message.format.version,message.timestamp.difference.max.ms,message.timestamp.type,min.cleanable.dirty.ratio,min.compaction.lag.ms,min.insync.replicas,preallocate,retention.bytes,retention.ms,segment.bytes,segment.index.bytes,segment.jitter.ms,segment.ms,unclean.leader.election.enable", ",") {
		bigCfg[k] = "1"
	}
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"controller", ControllerInfo{BrokerID: 2, Timestamp: 1620000000000}.Encode(),
			`{"version":1,"brokerid":2,"timestamp":"1620000000000"}`},
		{"controller_epoch", EncodeControllerEpoch(5), `5`},
		{"cluster id", EncodeClusterID("fx4xV8cTTTGvZ3B0T2L4Hw"), `{"version":"1","id":"fx4xV8cTTTGvZ3B0T2L4Hw"}`},
		{"broker v5", BrokerInfo{ID: 0, Version: 5, JMXPort: -1, Timestamp: 1620000000000, Endpoints: []EndPoint{plain}}.Encode(),
			`{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://localhost:9092"],"jmx_port":-1,"port":9092,"host":"localhost","version":5,"timestamp":"1620000000000"}`},
		{"broker v5 rack two listeners", BrokerInfo{ID: 1, Version: 5, JMXPort: 9999, Timestamp: 1, Rack: "us-east-1a", Endpoints: []EndPoint{plain, repl}}.Encode(),
			`{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","REPLICATION":"SSL"},"endpoints":["PLAINTEXT://localhost:9092","REPLICATION://10.0.0.5:9093"],"rack":"us-east-1a","jmx_port":9999,"port":9092,"host":"localhost","version":5,"timestamp":"1"}`},
		{"broker v4 no plaintext", BrokerInfo{ID: 1, Version: 4, JMXPort: -1, Timestamp: 7, Endpoints: []EndPoint{repl}}.Encode(),
			`{"listener_security_protocol_map":{"REPLICATION":"SSL"},"endpoints":["REPLICATION://10.0.0.5:9093"],"jmx_port":-1,"port":-1,"host":null,"version":4,"timestamp":"7"}`},
		{"broker ipv6", BrokerInfo{Version: 5, JMXPort: -1, Timestamp: 1, Endpoints: []EndPoint{{Listener: "PLAINTEXT", Host: "::1", Port: 9092, SecurityProtocol: "PLAINTEXT"}}}.Encode(),
			`{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://[::1]:9092"],"jmx_port":-1,"port":9092,"host":"::1","version":5,"timestamp":"1"}`},
		{"topic v3 with id", TopicAssignment{TopicID: tid, Partitions: map[int32]ReplicaAssignment{0: {Replicas: []int32{1, 2}}, 1: {Replicas: []int32{2, 3}}, 2: {Replicas: []int32{3, 1}}}}.Encode(),
			`{"partitions":{"0":[1,2],"1":[2,3],"2":[3,1]},"topic_id":"fx4xV8cTTTGvZ3B0T2L4Hw","adding_replicas":{},"removing_replicas":{},"version":3}`},
		{"topic v3 no id reassigning", TopicAssignment{Partitions: map[int32]ReplicaAssignment{0: {Replicas: []int32{1, 2, 4}, Adding: []int32{4}, Removing: []int32{1}}}}.Encode(),
			`{"partitions":{"0":[1,2,4]},"adding_replicas":{"0":[4]},"removing_replicas":{"0":[1]},"version":3}`},
		{"partition state", PartitionState{Leader: 2, LeaderEpoch: 14, ISR: []int32{2, 3, 1}, ControllerEpoch: 7}.Encode(),
			`{"controller_epoch":7,"leader":2,"version":1,"leader_epoch":14,"isr":[2,3,1]}`},
		{"entity config empty", EncodeEntityConfig(nil), `{"version":1,"config":{}}`},
		{"entity config", EncodeEntityConfig(map[string]string{"segment.bytes": "1", "retention.ms": "1", "cleanup.policy": "1"}),
			`{"version":1,"config":{"cleanup.policy":"1","retention.ms":"1","segment.bytes":"1"}}`},
		{"entity config resized", EncodeEntityConfig(bigCfg),
			`{"version":1,"config":{"compression.type":"1","leader.replication.throttled.replicas":"1","message.downconversion.enable":"1","min.insync.replicas":"1","segment.jitter.ms":"1","cleanup.policy":"1","flush.ms":"1","follower.replication.throttled.replicas":"1","retention.ms":"1","segment.bytes":"1","flush.messages":"1","message.format.version":"1","file.delete.delay.ms":"1","max.compaction.lag.ms":"1","max.message.bytes":"1","min.compaction.lag.ms":"1","message.timestamp.type":"1","preallocate":"1","index.interval.bytes":"1","min.cleanable.dirty.ratio":"1","unclean.leader.election.enable":"1","delete.retention.ms":"1","retention.bytes":"1","segment.ms":"1","message.timestamp.difference.max.ms":"1","segment.index.bytes":"1"}}`},
		{"config change", EncodeConfigChange("topics/foo"), `{"version":2,"entity_path":"topics/foo"}`},
		{"reassign", EncodeReassignPartitions([]PartitionReassignment{{"t", 0, []int32{1, 2, 3}}}),
			`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}`},
		{"preferred", EncodePreferredReplicaElection([]TopicPartition{{"t", 0}}), `{"version":1,"partitions":[{"topic":"t","partition":0}]}`},
		{"isr change", EncodeIsrChangeNotification([]TopicPartition{{"t", 0}, {"u", 3}}),
			`{"version":1,"partitions":[{"topic":"t","partition":0},{"topic":"u","partition":3}]}`},
		{"log dir event", EncodeLogDirEvent(3), `{"version":1,"broker":3,"event":1}`},
		{"producer id block", ProducerIDBlock{BrokerID: 1, BlockStart: 0, BlockEnd: 999}.Encode(),
			`{"version":1,"broker":1,"block_start":"0","block_end":"999"}`},
		{"consumer offset", EncodeConsumerOffset(12345), `12345`},
		{"feature", FeatureZNode{Status: FeatureEnabled}.Encode(), `{"features":{},"version":1,"status":1}`},
		{"jackson escapes", EncodeConfigChange("a\"b\\c/d\x01\b\t\n\f\r\x7fé\u2028<>&"),
			"{\"version\":2,\"entity_path\":\"a\\\"b\\\\c/d\\u0001\\b\\t\\n\\f\\r\x7fé\u2028<>&\"}"},
	}
	for _, c := range cases {
		if string(c.got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, c.got, c.want)
		}
	}
}

func TestDecodeTopicVersions(t *testing.T) {
	cases := []struct {
		name, json string
		want       TopicAssignment
	}{
		{"v1 (0.9-era tools)", `{"version":1,"partitions":{"0":[1,2],"1":[2,1]}}`,
			TopicAssignment{Version: 1, Partitions: map[int32]ReplicaAssignment{0: {Replicas: []int32{1, 2}}, 1: {Replicas: []int32{2, 1}}}}},
		{"v2", `{"version":2,"partitions":{"0":[1,2,4]},"adding_replicas":{"0":[4]},"removing_replicas":{"0":[1]}}`,
			TopicAssignment{Version: 2, Partitions: map[int32]ReplicaAssignment{0: {Replicas: []int32{1, 2, 4}, Adding: []int32{4}, Removing: []int32{1}}}}},
		{"v3 any order", `{"removing_replicas":{},"topic_id":"fx4xV8cTTTGvZ3B0T2L4Hw","partitions":{"0":[3]},"version":3,"adding_replicas":{}}`,
			TopicAssignment{Version: 3, Partitions: map[int32]ReplicaAssignment{0: {Replicas: []int32{3}}}}},
		{"no partitions", `{"version":1}`, TopicAssignment{Version: 1, Partitions: map[int32]ReplicaAssignment{}}},
	}
	for _, c := range cases {
		got, err := DecodeTopicAssignment("t", []byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.name == "v3 any order" {
			c.want.TopicID, _ = ParseUuid("fx4xV8cTTTGvZ3B0T2L4Hw")
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v want %+v", c.name, got, c.want)
		}
		// Re-encoding always yields version 3, and decodes back to the same partitions.
		again, err := DecodeTopicAssignment("t", got.Encode())
		if err != nil || !reflect.DeepEqual(again.Partitions, got.Partitions) || again.TopicID != got.TopicID || again.Version != 3 {
			t.Errorf("%s: round trip %+v, %v", c.name, again, err)
		}
	}
}

func TestDecodeBrokerVersions(t *testing.T) {
	cases := []struct {
		name, json string
		want       BrokerInfo
	}{
		{"v1", `{"version":1,"host":"h1","port":9092,"jmx_port":9999,"timestamp":"2233345666"}`,
			BrokerInfo{ID: 3, Version: 1, JMXPort: 9999, Timestamp: 2233345666, Endpoints: []EndPoint{{"PLAINTEXT", "h1", 9092, "PLAINTEXT"}}}},
		{"v2 protocol names", `{"version":2,"host":"h1","port":9092,"jmx_port":-1,"timestamp":"1","endpoints":["PLAINTEXT://h1:9092","SSL://h1:9093"]}`,
			BrokerInfo{ID: 3, Version: 2, JMXPort: -1, Timestamp: 1, Endpoints: []EndPoint{{"PLAINTEXT", "h1", 9092, "PLAINTEXT"}, {"SSL", "h1", 9093, "SSL"}}}},
		{"v4 rack", `{"listener_security_protocol_map":{"CLIENT":"SASL_SSL","REPLICATION":"PLAINTEXT"},"endpoints":["CLIENT://h1:9092","REPLICATION://[::1]:9093"],"rack":"dc1","jmx_port":-1,"host":"::1","timestamp":"5","port":9093,"version":4}`,
			BrokerInfo{ID: 3, Version: 4, JMXPort: -1, Timestamp: 5, Rack: "dc1", Endpoints: []EndPoint{{"CLIENT", "h1", 9092, "SASL_SSL"}, {"REPLICATION", "::1", 9093, "PLAINTEXT"}}}},
		{"v5 features (3.x)", `{"features":{"metadata.version":{"min_version":1,"max_version":7}},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://h:1"],"jmx_port":-1,"port":1,"host":"h","version":5,"timestamp":"9"}`,
			BrokerInfo{ID: 3, Version: 5, JMXPort: -1, Timestamp: 9, Endpoints: []EndPoint{{"PLAINTEXT", "h", 1, "PLAINTEXT"}}, Features: map[string]VersionRange{"metadata.version": {1, 7}}}},
	}
	for _, c := range cases {
		got, err := DecodeBrokerInfo(3, []byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
	if _, err := DecodeBrokerInfo(1, []byte(`{"version":0,"jmx_port":1}`)); err == nil {
		t.Error("version 0 accepted")
	}
	if _, err := DecodeBrokerInfo(1, []byte(`{"version":4,"jmx_port":1,"endpoints":["X://h:1"],"listener_security_protocol_map":{}}`)); err == nil {
		t.Error("listener missing from the protocol map accepted")
	}
}

func TestDecodeOthers(t *testing.T) {
	ci, err := DecodeControllerInfo([]byte(`{"kraftControllerEpoch":4,"timestamp":"10","brokerid":3000,"version":2}`))
	if err != nil || ci != (ControllerInfo{Version: 2, BrokerID: 3000, Timestamp: 10, KRaftControllerEpoch: 4}) {
		t.Errorf("controller v2: %+v %v", ci, err)
	}
	ci, err = DecodeControllerInfo(ControllerInfo{BrokerID: 7, Timestamp: 3}.Encode())
	if err != nil || ci != (ControllerInfo{Version: 1, BrokerID: 7, Timestamp: 3, KRaftControllerEpoch: -1}) {
		t.Errorf("controller v1: %+v %v", ci, err)
	}
	ps, err := DecodePartitionState([]byte(`{"isr":[1],"leader_epoch":2,"version":1,"leader":1,"controller_epoch":3,"leader_recovery_state":1}`), 9)
	if err != nil || !reflect.DeepEqual(ps, PartitionState{Leader: 1, LeaderEpoch: 2, ISR: []int32{1}, ControllerEpoch: 3, LeaderRecoveryState: 1, ZkVersion: 9}) {
		t.Errorf("partition state: %+v %v", ps, err)
	}
	if _, err := DecodePartitionState([]byte(`{"leader":1}`), 0); err == nil {
		t.Error("partial partition state accepted")
	}
	for in, want := range map[string]string{
		`{"version":2,"entity_path":"users/alice/clients/app"}`:    "users/alice/clients/app",
		`{"entity_name":"foo","entity_type":"topics","version":1}`: "topics/foo",
	} {
		got, err := DecodeConfigChange([]byte(in))
		if err != nil || got != want {
			t.Errorf("config change %s: %q %v", in, got, err)
		}
	}
	cfg, err := DecodeEntityConfig([]byte(`{"config":{"retention.ms":"86400000"},"version":1}`))
	if err != nil || !reflect.DeepEqual(cfg, map[string]string{"retention.ms": "86400000"}) {
		t.Errorf("entity config: %v %v", cfg, err)
	}
	rs, err := DecodeReassignPartitions([]byte(`{"version":1,"partitions":[{"topic":"t","partition":1,"replicas":[1,2],"log_dirs":["any","any"]}]}`))
	if err != nil || !reflect.DeepEqual(rs, []PartitionReassignment{{"t", 1, []int32{1, 2}}}) {
		t.Errorf("reassign: %v %v", rs, err)
	}
	pb, err := DecodeProducerIDBlock([]byte(`{"block_end":"1999","broker":2,"version":1,"block_start":"1000"}`))
	if err != nil || pb != (ProducerIDBlock{2, 1000, 1999}) {
		t.Errorf("producer id block: %+v %v", pb, err)
	}
	id, err := DecodeClusterID(EncodeClusterID("abc"))
	if err != nil || id != "abc" {
		t.Errorf("cluster id: %q %v", id, err)
	}
	f, err := DecodeFeatureZNode([]byte(`{"features":{"metadata.version":{"max_version_level":7}},"version":2,"status":1}`))
	if err != nil || f.Features["metadata.version"].MaxLevel != 7 || f.Version != 2 {
		t.Errorf("feature v2: %+v %v", f, err)
	}
	if _, err := DecodeFeatureZNode([]byte(`{"version":1,"status":1}`)); err == nil {
		t.Error("feature without features accepted")
	}
}

func TestUuid(t *testing.T) {
	for i := 0; i < 100; i++ {
		u, err := NewUuid()
		if err != nil {
			t.Fatal(err)
		}
		s := u.String()
		if len(s) != 22 || s[0] == '-' {
			t.Fatalf("bad id %q", s)
		}
		back, err := ParseUuid(s)
		if err != nil || back != u {
			t.Fatalf("round trip %q: %v", s, err)
		}
	}
}

func TestPaths(t *testing.T) {
	for got, want := range map[string]string{
		BrokerIDPath(3):                 "/brokers/ids/3",
		TopicPath("foo"):                "/brokers/topics/foo",
		PartitionStatePath("foo", 2):    "/brokers/topics/foo/partitions/2/state",
		TopicConfigPath("foo"):          "/config/topics/foo",
		BrokerConfigPath(1):             "/config/brokers/1",
		ConfigChangeCreatePath():        "/config/changes/config_change_",
		DeleteTopicPath("foo"):          "/admin/delete_topics/foo",
		IsrChangePath("0000000001"):     "/isr_change_notification/isr_change_0000000001",
		LogDirEventPath("0000000002"):   "/log_dir_event_notification/log_dir_event_0000000002",
		ConsumerOffsetPath("g", "t", 4): "/consumers/g/offsets/t/4",
		SequenceNumber("config_change_0000000042", ConfigChangeSeqPrefix): "0000000042",
	} {
		if got != want {
			t.Errorf("got %s want %s", got, want)
		}
	}
	want := []string{"/consumers", "/brokers/ids", "/brokers/topics", "/config/changes", "/admin/delete_topics", "/brokers/seqid",
		"/isr_change_notification", "/latest_producer_id_block", "/log_dir_event_notification",
		"/config/topics", "/config/clients", "/config/users", "/config/brokers", "/config/ips"}
	if got := PersistentPaths(); !reflect.DeepEqual(got, want) {
		t.Errorf("persistent paths %v", got)
	}
	servers, chroot, err := ParseConnect("h1:2181,h2:2181/kafka/prod")
	if err != nil || !reflect.DeepEqual(servers, []string{"h1:2181", "h2:2181"}) || chroot != "/kafka/prod" {
		t.Errorf("parse connect: %v %q %v", servers, chroot, err)
	}
	if _, chroot, _ := ParseConnect("h1:2181/"); chroot != "" {
		t.Errorf("root chroot %q", chroot)
	}
}
