package zkmeta

import (
	"fmt"
	"reflect"
	"testing"
)

// zkJSONSeeds are znode data as Kafka 2.8 writes them, one per decoder (the kind byte picks it).
var zkJSONSeeds = []string{
	`{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","REPLICATION":"SSL"},"endpoints":["PLAINTEXT://localhost:9092","REPLICATION://10.0.0.5:9093"],"rack":"us-east-1a","jmx_port":9999,"port":9092,"host":"localhost","version":5,"timestamp":"1"}`,
	`{"partitions":{"0":[1,2,4]},"topic_id":"fx4xV8cTTTGvZ3B0T2L4Hw","adding_replicas":{"0":[4]},"removing_replicas":{"0":[1]},"version":3}`,
	`{"controller_epoch":7,"leader":2,"version":1,"leader_epoch":14,"isr":[2,3,1],"leader_recovery_state":1}`,
	`{"version":1,"brokerid":2,"timestamp":"1620000000000"}`,
	`{"version":1,"config":{"cleanup.policy":"compact","retention.ms":"86400000"}}`,
	`{"version":2,"entity_path":"users/alice/clients/app"}`,
	`{"version":1,"partitions":[{"topic":"t","partition":0},{"topic":"u","partition":3}]}`,
	`{"version":1,"partitions":[{"topic":"t","partition":1,"replicas":[1,2],"log_dirs":["any","any"]}]}`,
	`{"version":1,"broker":3,"event":1}`,
	`{"version":1,"broker":2,"block_start":"1000","block_end":"1999"}`,
	`{"features":{"metadata.version":{"min_version":1,"max_version":7}},"version":2,"status":1}`,
	`{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}`,
	`{"version":1,"resourceType":"TOPIC","name":"t","patternType":"PREFIXED"}`,
	`{"version":"1","id":"fx4xV8cTTTGvZ3B0T2L4Hw"}`,
	`12`,
}

// FuzzZNodeJSON (make fuzz) decodes znode data the broker and controller read (/brokers/ids, topics and their
// partition states, /controller, /config and its change notifications, /admin/reassign_partitions and the other
// admin znodes, /latest_producer_id_block, /feature, ACLs, /cluster/id): a Kafka or a hand-written znode of any
// bytes is an error, never a panic. What decodes re-encodes to data that decodes the same.
func FuzzZNodeJSON(f *testing.F) {
	for i, s := range zkJSONSeeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Add(uint8(0), []byte(`{"version":4,"endpoints":["X://h:1"],"listener_security_protocol_map":{"X":"NOPE"}}`))
	f.Add(uint8(1), []byte(`{"version":3,"partitions":{"x":[1]}}`))
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		switch kind % 15 {
		case 0:
			v, err := DecodeBrokerInfo(1, b)
			if err == nil {
				want := v
				if want.Version < 3 {
					want.Rack = "" // read at any version, as Kafka does; written from version 3, as Kafka does
				}
				roundTrip(t, want, func() (any, error) { return DecodeBrokerInfo(1, v.Encode()) })
			}
		case 1:
			v, err := DecodeTopicAssignment("t", b)
			if err == nil {
				want := v
				want.Version = 3 // Encode writes version 3, as a 2.8 controller does
				roundTrip(t, want, func() (any, error) { return DecodeTopicAssignment("t", v.Encode()) })
			}
		case 2:
			v, err := DecodePartitionState(b, 3)
			if err == nil {
				roundTrip(t, v, func() (any, error) { return DecodePartitionState(v.Encode(), 3) })
			}
		case 3:
			v, err := DecodeControllerInfo(b)
			if err == nil {
				roundTrip(t, v, func() (any, error) { return DecodeControllerInfo(v.Encode()) })
			}
		case 4:
			v, err := DecodeEntityConfig(b)
			if err == nil {
				roundTrip(t, v, func() (any, error) { return DecodeEntityConfig(EncodeEntityConfig(v)) })
			}
		case 5:
			_, _ = DecodeConfigChange(b)
		case 6:
			v, err := DecodePreferredReplicaElection(b)
			if err == nil {
				roundTrip(t, v, func() (any, error) { return DecodePreferredReplicaElection(EncodePreferredReplicaElection(v)) })
			}
			_, _ = DecodeIsrChangeNotification(b)
		case 7:
			v, err := DecodeReassignPartitions(b)
			if err == nil {
				roundTrip(t, v, func() (any, error) { return DecodeReassignPartitions(EncodeReassignPartitions(v)) })
			}
		case 8:
			_, _ = DecodeLogDirEvent(b)
		case 9:
			v, err := DecodeProducerIDBlock(b)
			if err == nil {
				roundTrip(t, v, func() (any, error) { return DecodeProducerIDBlock(v.Encode()) })
			}
		case 10:
			v, err := DecodeFeatureZNode(b)
			if err == nil {
				v1 := v
				v1.Version = 1 // Encode writes version 1, as a 2.8 controller does
				roundTrip(t, v1, func() (any, error) { return DecodeFeatureZNode(v.Encode()) })
			}
		case 11:
			v, err := DecodeACLs(b)
			if err == nil {
				roundTrip(t, v, func() (any, error) { return DecodeACLs(EncodeACLs(v)) })
			}
		case 12:
			v, err := DecodeExtendedACLChange(b)
			if err == nil {
				roundTrip(t, v, func() (any, error) { return DecodeExtendedACLChange(EncodeExtendedACLChange(v)) })
			}
			_, _, _ = DecodeLiteralACLChange(b)
		case 13:
			_, _ = DecodeClusterID(b)
		default:
			_, _ = DecodeControllerEpoch(b)
			_, _ = DecodeConsumerOffset(b)
		}
	})
}

// roundTrip: v re-encoded decodes to v.
func roundTrip[T any](t *testing.T, v T, again func() (any, error)) {
	t.Helper()
	got, err := again()
	if err != nil {
		t.Fatalf("%+v re-encoded: %v", v, err)
	}
	// A nil and an empty list or map are the same znode content.
	if !reflect.DeepEqual(got, any(v)) && fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", v) {
		t.Fatalf("%+v re-encoded reads %+v", v, got)
	}
}
