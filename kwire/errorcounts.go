package kwire

import "github.com/twmb/franz-go/pkg/kmsg"

// kafkaErrorNames are the constants of Kafka 2.8's Errors enum, indexed by code+1 (UNKNOWN_SERVER_ERROR is -1).
// 2.8 knows every code from -1 to 104 and none above. kerr spells two of them differently: it has no NONE, and
// calls 6 NOT_LEADER_FOR_PARTITION, its pre-2.6 name.
var kafkaErrorNames = [...]string{
	"UNKNOWN_SERVER_ERROR", // -1
	"NONE",
	"OFFSET_OUT_OF_RANGE",
	"CORRUPT_MESSAGE",
	"UNKNOWN_TOPIC_OR_PARTITION",
	"INVALID_FETCH_SIZE",
	"LEADER_NOT_AVAILABLE",
	"NOT_LEADER_OR_FOLLOWER",
	"REQUEST_TIMED_OUT",
	"BROKER_NOT_AVAILABLE",
	"REPLICA_NOT_AVAILABLE", // 9
	"MESSAGE_TOO_LARGE",
	"STALE_CONTROLLER_EPOCH",
	"OFFSET_METADATA_TOO_LARGE",
	"NETWORK_EXCEPTION",
	"COORDINATOR_LOAD_IN_PROGRESS",
	"COORDINATOR_NOT_AVAILABLE",
	"NOT_COORDINATOR",
	"INVALID_TOPIC_EXCEPTION",
	"RECORD_LIST_TOO_LARGE",
	"NOT_ENOUGH_REPLICAS", // 19
	"NOT_ENOUGH_REPLICAS_AFTER_APPEND",
	"INVALID_REQUIRED_ACKS",
	"ILLEGAL_GENERATION",
	"INCONSISTENT_GROUP_PROTOCOL",
	"INVALID_GROUP_ID",
	"UNKNOWN_MEMBER_ID",
	"INVALID_SESSION_TIMEOUT",
	"REBALANCE_IN_PROGRESS",
	"INVALID_COMMIT_OFFSET_SIZE",
	"TOPIC_AUTHORIZATION_FAILED", // 29
	"GROUP_AUTHORIZATION_FAILED",
	"CLUSTER_AUTHORIZATION_FAILED",
	"INVALID_TIMESTAMP",
	"UNSUPPORTED_SASL_MECHANISM",
	"ILLEGAL_SASL_STATE",
	"UNSUPPORTED_VERSION",
	"TOPIC_ALREADY_EXISTS",
	"INVALID_PARTITIONS",
	"INVALID_REPLICATION_FACTOR",
	"INVALID_REPLICA_ASSIGNMENT", // 39
	"INVALID_CONFIG",
	"NOT_CONTROLLER",
	"INVALID_REQUEST",
	"UNSUPPORTED_FOR_MESSAGE_FORMAT",
	"POLICY_VIOLATION",
	"OUT_OF_ORDER_SEQUENCE_NUMBER",
	"DUPLICATE_SEQUENCE_NUMBER",
	"INVALID_PRODUCER_EPOCH",
	"INVALID_TXN_STATE",
	"INVALID_PRODUCER_ID_MAPPING", // 49
	"INVALID_TRANSACTION_TIMEOUT",
	"CONCURRENT_TRANSACTIONS",
	"TRANSACTION_COORDINATOR_FENCED",
	"TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
	"SECURITY_DISABLED",
	"OPERATION_NOT_ATTEMPTED",
	"KAFKA_STORAGE_ERROR",
	"LOG_DIR_NOT_FOUND",
	"SASL_AUTHENTICATION_FAILED",
	"UNKNOWN_PRODUCER_ID", // 59
	"REASSIGNMENT_IN_PROGRESS",
	"DELEGATION_TOKEN_AUTH_DISABLED",
	"DELEGATION_TOKEN_NOT_FOUND",
	"DELEGATION_TOKEN_OWNER_MISMATCH",
	"DELEGATION_TOKEN_REQUEST_NOT_ALLOWED",
	"DELEGATION_TOKEN_AUTHORIZATION_FAILED",
	"DELEGATION_TOKEN_EXPIRED",
	"INVALID_PRINCIPAL_TYPE",
	"NON_EMPTY_GROUP",
	"GROUP_ID_NOT_FOUND", // 69
	"FETCH_SESSION_ID_NOT_FOUND",
	"INVALID_FETCH_SESSION_EPOCH",
	"LISTENER_NOT_FOUND",
	"TOPIC_DELETION_DISABLED",
	"FENCED_LEADER_EPOCH",
	"UNKNOWN_LEADER_EPOCH",
	"UNSUPPORTED_COMPRESSION_TYPE",
	"STALE_BROKER_EPOCH",
	"OFFSET_NOT_AVAILABLE",
	"MEMBER_ID_REQUIRED", // 79
	"PREFERRED_LEADER_NOT_AVAILABLE",
	"GROUP_MAX_SIZE_REACHED",
	"FENCED_INSTANCE_ID",
	"ELIGIBLE_LEADERS_NOT_AVAILABLE",
	"ELECTION_NOT_NEEDED",
	"NO_REASSIGNMENT_IN_PROGRESS",
	"GROUP_SUBSCRIBED_TO_TOPIC",
	"INVALID_RECORD",
	"UNSTABLE_OFFSET_COMMIT",
	"THROTTLING_QUOTA_EXCEEDED", // 89
	"PRODUCER_FENCED",
	"RESOURCE_NOT_FOUND",
	"DUPLICATE_RESOURCE",
	"UNACCEPTABLE_CREDENTIAL",
	"INCONSISTENT_VOTER_SET",
	"INVALID_UPDATE_VERSION",
	"FEATURE_UPDATE_FAILED",
	"PRINCIPAL_DESERIALIZATION_FAILURE",
	"SNAPSHOT_NOT_FOUND",
	"POSITION_OUT_OF_RANGE", // 99
	"UNKNOWN_TOPIC_ID",
	"DUPLICATE_BROKER_REGISTRATION",
	"BROKER_ID_NOT_REGISTERED",
	"INCONSISTENT_TOPIC_ID",
	"INCONSISTENT_CLUSTER_ID", // 104
}

// ErrorName is Kafka's Errors enum name for code (NONE, UNKNOWN_TOPIC_OR_PARTITION, ...), as the ErrorsPerSec
// meters' error tag carries it; UNKNOWN_SERVER_ERROR for a code Kafka 2.8 does not know.
func ErrorName(code int16) string {
	return kafkaErrorNames[errorCountKey(code)+1]
}

// errorCountKey is the code of Errors.forCode(code): a code Kafka 2.8 does not know becomes
// UNKNOWN_SERVER_ERROR (-1), so it is metered, and keyed, as that.
func errorCountKey(code int16) int16 {
	if code < -1 || int(code) >= len(kafkaErrorNames)-1 {
		return -1
	}
	return code
}

// errorTally is the map errorCounts builds, as an array by code+1 so that counting allocates nothing; add is
// updateErrorCounts.
type errorTally struct{ n [len(kafkaErrorNames)]int }

func (t *errorTally) add(code int16)        { t.n[errorCountKey(code)+1]++ }
func (t *errorTally) set(code int16, n int) { t.n[errorCountKey(code)+1] = n }

// ErrorCounts is Kafka 2.8's AbstractResponse.errorCounts for resp: how many times each error code appears
// in the response, as the broker's ErrorsPerSec meters count them.
//
// Every response type of Kafka 2.8 (API keys 0 to 64) has a rule; for a type Kafka 2.8 does not have the
// result is nil. NONE (0) is counted like any other code, and each level is counted only where Kafka counts
// it. Fields are read whatever resp.Version is, as Kafka reads the object its broker built: a top-level error
// the version cannot carry on the wire (Fetch before v7, OffsetFetch before v2) still counts, except where
// the broker builds an older version's response differently (LeaveGroup before v3, ElectLeaders v0).
// Versions newer than 2.8 knows get 2.8's rule, except where a later Kafka moved the errors into a batched
// shape (OffsetFetch v8+, FindCoordinator v4+), which are counted as that Kafka does.
func ErrorCounts(resp kmsg.Response) map[int16]int {
	var t errorTally
	if !t.count(resp) {
		return nil
	}
	m := map[int16]int{}
	for i, n := range t.n {
		if n > 0 {
			m[int16(i-1)] = n
		}
	}
	return m
}

// count adds resp's error codes to t as ErrorCounts describes; false for a type Kafka 2.8 does not have.
func (t *errorTally) count(resp kmsg.Response) bool {
	switch r := resp.(type) {
	case *kmsg.ProduceResponse: // 0: partitions only
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.FetchResponse: // 1
		// Kafka counts the top-level error (NONE when there is none) and then the values of a map keyed
		// by topic-partition: a partition listed twice counts once, with its last entry's error.
		t.add(r.ErrorCode)
		type key struct {
			topic string
			id    [16]byte
			part  int32
		}
		last := map[key]int16{}
		for _, tp := range r.Topics {
			k := key{topic: tp.Topic}
			if r.Version >= 13 { // topics named by ID (Kafka 3.1+)
				k = key{id: tp.TopicID}
			}
			for _, p := range tp.Partitions {
				k.part = p.Partition
				last[k] = p.ErrorCode
			}
		}
		for _, code := range last {
			t.add(code)
		}
	case *kmsg.ListOffsetsResponse: // 2: partitions only
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.MetadataResponse: // 3: each partition and each topic; no top-level error (v13's is not counted)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
			t.add(tp.ErrorCode)
		}
	case *kmsg.LeaderAndISRResponse: // 4
		// A top-level error stands for every partition: it alone is counted, once more than there are
		// partitions, and the partitions' own codes are ignored. Otherwise each partition, plus one NONE.
		// The partitions are the flat list before v5 and the per-topic lists from v5.
		n := len(r.Partitions)
		if r.Version >= 5 {
			n = 0
			for _, tp := range r.Topics {
				n += len(tp.Partitions)
			}
		}
		if r.ErrorCode != 0 {
			t.set(r.ErrorCode, n+1)
			break
		}
		if r.Version < 5 {
			for _, p := range r.Partitions {
				t.add(p.ErrorCode)
			}
		} else {
			for _, tp := range r.Topics {
				for _, p := range tp.Partitions {
					t.add(p.ErrorCode)
				}
			}
		}
		t.add(0)
	case *kmsg.StopReplicaResponse: // 5: as LeaderAndIsr, at every version
		if r.ErrorCode != 0 {
			t.set(r.ErrorCode, len(r.Partitions)+1)
			break
		}
		for _, p := range r.Partitions {
			t.add(p.ErrorCode)
		}
		t.add(0)
	case *kmsg.UpdateMetadataResponse: // 6
		t.add(r.ErrorCode)
	case *kmsg.ControlledShutdownResponse: // 7: top level only, not PartitionsRemaining
		t.add(r.ErrorCode)
	case *kmsg.OffsetCommitResponse: // 8: partitions only (there is no top-level error)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.OffsetFetchResponse: // 9
		if r.Version >= 8 {
			// Kafka 3.x: each group's error once per group ID (a map by ID; the last entry wins), then
			// the partitions of every group entry.
			groups := map[string]int16{}
			for _, g := range r.Groups {
				groups[g.Group] = g.ErrorCode
			}
			for _, code := range groups {
				t.add(code)
			}
			for _, g := range r.Groups {
				for _, tp := range g.Topics {
					for _, p := range tp.Partitions {
						t.add(p.ErrorCode)
					}
				}
			}
			break
		}
		// The top-level error and every partition. Before v2 the error has no field on the wire, but the
		// broker builds the response around it (getErrorResponse also copies it into each partition), so
		// a refused v0/v1 fetch counts the error once per partition plus once more.
		t.add(r.ErrorCode)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.FindCoordinatorResponse: // 10
		if r.Version >= 4 && len(r.Coordinators) > 0 { // Kafka 3.x's batched form: one per coordinator
			for _, c := range r.Coordinators {
				t.add(c.ErrorCode)
			}
			break
		}
		t.add(r.ErrorCode)
	case *kmsg.JoinGroupResponse: // 11
		t.add(r.ErrorCode)
	case *kmsg.HeartbeatResponse: // 12
		t.add(r.ErrorCode)
	case *kmsg.LeaveGroupResponse: // 13
		if r.Version <= 2 {
			// The broker builds a v0-v2 response without members, folding their errors into the top
			// level: the top-level error if any, else the first member's error, else NONE, counted once.
			code := r.ErrorCode
			for _, m := range r.Members {
				if code != 0 {
					break
				}
				code = m.ErrorCode
			}
			t.add(code)
			break
		}
		t.add(r.ErrorCode)
		for _, m := range r.Members {
			t.add(m.ErrorCode)
		}
	case *kmsg.SyncGroupResponse: // 14
		t.add(r.ErrorCode)
	case *kmsg.DescribeGroupsResponse: // 15: per group
		for _, g := range r.Groups {
			t.add(g.ErrorCode)
		}
	case *kmsg.ListGroupsResponse: // 16
		t.add(r.ErrorCode)
	case *kmsg.SASLHandshakeResponse: // 17
		t.add(r.ErrorCode)
	case *kmsg.ApiVersionsResponse: // 18
		t.add(r.ErrorCode)
	case *kmsg.CreateTopicsResponse: // 19: per topic (not the per-topic ConfigErrorCode)
		for _, tp := range r.Topics {
			t.add(tp.ErrorCode)
		}
	case *kmsg.DeleteTopicsResponse: // 20: per topic
		for _, tp := range r.Topics {
			t.add(tp.ErrorCode)
		}
	case *kmsg.DeleteRecordsResponse: // 21: per partition
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.InitProducerIDResponse: // 22
		t.add(r.ErrorCode)
	case *kmsg.OffsetForLeaderEpochResponse: // 23: per partition
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.AddPartitionsToTxnResponse: // 24
		// Kafka counts the values of a map keyed by topic-partition: a partition listed twice counts
		// once, with its last entry's error. (v4+'s per-transaction results and top-level error are
		// Kafka 3.6's and not counted.)
		type key struct {
			topic string
			part  int32
		}
		last := map[key]int16{}
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				last[key{tp.Topic, p.Partition}] = p.ErrorCode
			}
		}
		for _, code := range last {
			t.add(code)
		}
	case *kmsg.AddOffsetsToTxnResponse: // 25
		t.add(r.ErrorCode)
	case *kmsg.EndTxnResponse: // 26
		t.add(r.ErrorCode)
	case *kmsg.WriteTxnMarkersResponse: // 27: every partition of every marker
		for _, m := range r.Markers {
			for _, tp := range m.Topics {
				for _, p := range tp.Partitions {
					t.add(p.ErrorCode)
				}
			}
		}
	case *kmsg.TxnOffsetCommitResponse: // 28: per partition
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.DescribeACLsResponse: // 29
		t.add(r.ErrorCode)
	case *kmsg.CreateACLsResponse: // 30: per creation
		for _, c := range r.Results {
			t.add(c.ErrorCode)
		}
	case *kmsg.DeleteACLsResponse: // 31: per filter; the matching ACLs' own codes are not counted
		for _, f := range r.Results {
			t.add(f.ErrorCode)
		}
	case *kmsg.DescribeConfigsResponse: // 32: per resource
		for _, res := range r.Resources {
			t.add(res.ErrorCode)
		}
	case *kmsg.AlterConfigsResponse: // 33
		// Kafka counts a map keyed by resource (type, name), an unknown type id standing as UNKNOWN (0).
		// It builds the map with Collectors.toMap, which throws on a repeated resource, so Kafka meters
		// nothing then (and never answers); here a repeated resource counts once, its last entry's error.
		type key struct {
			typ  kmsg.ConfigResourceType
			name string
		}
		last := map[key]int16{}
		for _, res := range r.Resources {
			typ := res.ResourceType
			switch typ {
			case kmsg.ConfigResourceTypeTopic, kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger:
			default:
				typ = kmsg.ConfigResourceTypeUnknown
			}
			last[key{typ, res.ResourceName}] = res.ErrorCode
		}
		for _, code := range last {
			t.add(code)
		}
	case *kmsg.AlterReplicaLogDirsResponse: // 34: per partition
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.DescribeLogDirsResponse: // 35: per log dir; v3's top-level error is Kafka 3.x's, not counted
		for _, d := range r.Dirs {
			t.add(d.ErrorCode)
		}
	case *kmsg.SASLAuthenticateResponse: // 36
		t.add(r.ErrorCode)
	case *kmsg.CreatePartitionsResponse: // 37: per topic
		for _, tp := range r.Topics {
			t.add(tp.ErrorCode)
		}
	case *kmsg.CreateDelegationTokenResponse: // 38
		t.add(r.ErrorCode)
	case *kmsg.RenewDelegationTokenResponse: // 39
		t.add(r.ErrorCode)
	case *kmsg.ExpireDelegationTokenResponse: // 40
		t.add(r.ErrorCode)
	case *kmsg.DescribeDelegationTokenResponse: // 41
		t.add(r.ErrorCode)
	case *kmsg.DeleteGroupsResponse: // 42: per group
		for _, g := range r.Groups {
			t.add(g.ErrorCode)
		}
	case *kmsg.ElectLeadersResponse: // 43: the top-level error and each partition
		if r.Version >= 1 {
			t.add(r.ErrorCode)
		} else {
			// The broker's v0 response never sets the top-level error (v0 has no such field) but
			// errorCounts still counts it: NONE, even for a refused request.
			t.add(0)
		}
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.IncrementalAlterConfigsResponse: // 44: per resource, repeats included (no map, unlike AlterConfigs)
		for _, res := range r.Resources {
			t.add(res.ErrorCode)
		}
	case *kmsg.AlterPartitionAssignmentsResponse: // 45: the top-level error and each partition
		t.add(r.ErrorCode)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.ListPartitionReassignmentsResponse: // 46
		t.add(r.ErrorCode)
	case *kmsg.OffsetDeleteResponse: // 47: the top-level error and each partition
		t.add(r.ErrorCode)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.DescribeClientQuotasResponse: // 48
		t.add(r.ErrorCode)
	case *kmsg.AlterClientQuotasResponse: // 49: per entry
		for _, e := range r.Entries {
			t.add(e.ErrorCode)
		}
	case *kmsg.DescribeUserSCRAMCredentialsResponse: // 50: per user only; the top-level error is not counted
		for _, u := range r.Results {
			t.add(u.ErrorCode)
		}
	case *kmsg.AlterUserSCRAMCredentialsResponse: // 51: per user
		for _, u := range r.Results {
			t.add(u.ErrorCode)
		}
	case *kmsg.VoteResponse: // 52: the top-level error and each partition
		t.add(r.ErrorCode)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.BeginQuorumEpochResponse: // 53: the top-level error and each partition
		t.add(r.ErrorCode)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.EndQuorumEpochResponse: // 54: the top-level error and each partition
		t.add(r.ErrorCode)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.DescribeQuorumResponse: // 55: the top-level error and each partition
		t.add(r.ErrorCode)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.AlterPartitionResponse: // 56, AlterIsr in 2.8: the top-level error and each partition
		t.add(r.ErrorCode)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.UpdateFeaturesResponse: // 57: the top-level error and each feature
		t.add(r.ErrorCode)
		for _, f := range r.Results {
			t.add(f.ErrorCode)
		}
	case *kmsg.EnvelopeResponse: // 58
		t.add(r.ErrorCode)
	case *kmsg.FetchSnapshotResponse: // 59: unlike the other quorum responses, a NONE top level is not counted
		if r.ErrorCode != 0 {
			t.add(r.ErrorCode)
		}
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.DescribeClusterResponse: // 60
		t.add(r.ErrorCode)
	case *kmsg.DescribeProducersResponse: // 61: per partition
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				t.add(p.ErrorCode)
			}
		}
	case *kmsg.BrokerRegistrationResponse: // 62
		t.add(r.ErrorCode)
	case *kmsg.BrokerHeartbeatResponse: // 63
		t.add(r.ErrorCode)
	case *kmsg.UnregisterBrokerResponse: // 64: nothing at all for NONE
		if r.ErrorCode != 0 {
			t.add(r.ErrorCode)
		}
	default:
		return false
	}
	return true
}
