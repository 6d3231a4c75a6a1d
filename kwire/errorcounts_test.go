package kwire

import (
	"errors"
	"maps"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Error codes the cases use, as Kafka 2.8's Errors numbers them.
const (
	ecNone                  = 0
	ecOffsetOutOfRange      = 1
	ecUnknownTopic          = 3
	ecLeaderNotAvailable    = 5
	ecNotLeader             = 6
	ecStaleControllerEpoch  = 11
	ecCoordinatorLoading    = 14
	ecNotCoordinator        = 16
	ecUnknownMember         = 25
	ecTopicAuthFailed       = 29
	ecGroupAuthFailed       = 30
	ecClusterAuthFailed     = 31
	ecUnsupportedSASLMech   = 33
	ecUnsupportedVersion    = 35
	ecTopicAlreadyExists    = 36
	ecInvalidConfig         = 40
	ecNotController         = 41
	ecInvalidRequest        = 42
	ecKafkaStorageError     = 56
	ecLogDirNotFound        = 57
	ecSASLAuthFailed        = 58
	ecInvalidFetchSession   = 71
	ecFencedLeaderEpoch     = 74
	ecStaleBrokerEpoch      = 77
	ecMemberIDRequired      = 79
	ecElectionNotNeeded     = 84
	ecResourceNotFound      = 91
	ecInconsistentVoterSet  = 94
	ecFeatureUpdateFailed   = 96
	ecSnapshotNotFound      = 98
	ecBrokerIDNotRegistered = 102
	ecUnknownServerError    = -1
)

func TestErrorCounts(t *testing.T) {
	tid := func(b byte) (id [16]byte) { id[0] = b; return id }
	cases := []struct {
		name string
		resp kmsg.Response
		want map[int16]int // nil: ErrorCounts must return nil
	}{
		// Produce: partitions only.
		{"produce", &kmsg.ProduceResponse{Version: 8, Topics: []kmsg.ProduceResponseTopic{
			{Topic: "a", Partitions: []kmsg.ProduceResponseTopicPartition{{Partition: 0}, {Partition: 1, ErrorCode: ecNotLeader}}},
			{Topic: "b", Partitions: []kmsg.ProduceResponseTopicPartition{{Partition: 0}}},
		}}, map[int16]int{ecNone: 2, ecNotLeader: 1}},
		{"produce empty", &kmsg.ProduceResponse{Version: 8}, map[int16]int{}},

		// Fetch: top level (also before v7, where it is not on the wire), then one per topic-partition, the
		// last entry of a repeated partition winning.
		{"fetch v4 repeated partition", &kmsg.FetchResponse{Version: 4, Topics: []kmsg.FetchResponseTopic{
			{Topic: "a", Partitions: []kmsg.FetchResponseTopicPartition{{Partition: 0, ErrorCode: ecOffsetOutOfRange}, {Partition: 1}}},
			{Topic: "a", Partitions: []kmsg.FetchResponseTopicPartition{{Partition: 0}}},
			{Topic: "b", Partitions: []kmsg.FetchResponseTopicPartition{{Partition: 0, ErrorCode: ecNotLeader}}},
		}}, map[int16]int{ecNone: 3, ecNotLeader: 1}},
		{"fetch session error", &kmsg.FetchResponse{Version: 11, ErrorCode: ecInvalidFetchSession},
			map[int16]int{ecInvalidFetchSession: 1}},
		{"fetch error response", &kmsg.FetchResponse{Version: 6, ErrorCode: ecClusterAuthFailed, Topics: []kmsg.FetchResponseTopic{
			{Topic: "a", Partitions: []kmsg.FetchResponseTopicPartition{{Partition: 0, ErrorCode: ecClusterAuthFailed}, {Partition: 1, ErrorCode: ecClusterAuthFailed}}},
		}}, map[int16]int{ecClusterAuthFailed: 3}},
		{"fetch v13 by topic id", &kmsg.FetchResponse{Version: 13, Topics: []kmsg.FetchResponseTopic{
			{TopicID: tid(1), Partitions: []kmsg.FetchResponseTopicPartition{{Partition: 0}}},
			{TopicID: tid(2), Partitions: []kmsg.FetchResponseTopicPartition{{Partition: 0}}},
		}}, map[int16]int{ecNone: 3}},

		// ListOffsets: partitions only.
		{"list offsets", &kmsg.ListOffsetsResponse{Version: 5, Topics: []kmsg.ListOffsetsResponseTopic{
			{Topic: "a", Partitions: []kmsg.ListOffsetsResponseTopicPartition{{Partition: 0}, {Partition: 0, ErrorCode: ecFencedLeaderEpoch}}},
		}}, map[int16]int{ecNone: 1, ecFencedLeaderEpoch: 1}},

		// Metadata: each partition and each topic, never a top-level error.
		{"metadata", &kmsg.MetadataResponse{Version: 9, ErrorCode: ecClusterAuthFailed, Topics: []kmsg.MetadataResponseTopic{
			{Topic: kmsg.StringPtr("gone"), ErrorCode: ecUnknownTopic},
			{Topic: kmsg.StringPtr("b"), Partitions: []kmsg.MetadataResponseTopicPartition{{Partition: 0}, {Partition: 1, ErrorCode: ecLeaderNotAvailable}}},
		}}, map[int16]int{ecUnknownTopic: 1, ecNone: 2, ecLeaderNotAvailable: 1}},

		// LeaderAndIsr: a top-level error counts for itself and every partition; the partition list is
		// chosen by version.
		{"leader and isr v4 error", &kmsg.LeaderAndISRResponse{Version: 4, ErrorCode: ecStaleControllerEpoch,
			Partitions: []kmsg.LeaderAndISRResponseTopicPartition{{Topic: "a"}, {Topic: "a", Partition: 1}, {Topic: "b", ErrorCode: ecKafkaStorageError}}},
			map[int16]int{ecStaleControllerEpoch: 4}},
		{"leader and isr v4", &kmsg.LeaderAndISRResponse{Version: 4,
			Partitions: []kmsg.LeaderAndISRResponseTopicPartition{{Topic: "a"}, {Topic: "b", ErrorCode: ecKafkaStorageError}},
			Topics:     []kmsg.LeaderAndISRResponseTopic{{Partitions: make([]kmsg.LeaderAndISRResponseTopicPartition, 5)}}},
			map[int16]int{ecNone: 2, ecKafkaStorageError: 1}},
		{"leader and isr v5 error", &kmsg.LeaderAndISRResponse{Version: 5, ErrorCode: ecStaleBrokerEpoch,
			Partitions: make([]kmsg.LeaderAndISRResponseTopicPartition, 7),
			Topics: []kmsg.LeaderAndISRResponseTopic{
				{TopicID: tid(1), Partitions: make([]kmsg.LeaderAndISRResponseTopicPartition, 2)},
				{TopicID: tid(2), Partitions: make([]kmsg.LeaderAndISRResponseTopicPartition, 1)},
			}}, map[int16]int{ecStaleBrokerEpoch: 4}},
		{"leader and isr v5", &kmsg.LeaderAndISRResponse{Version: 5,
			Partitions: make([]kmsg.LeaderAndISRResponseTopicPartition, 7),
			Topics: []kmsg.LeaderAndISRResponseTopic{
				{TopicID: tid(1), Partitions: []kmsg.LeaderAndISRResponseTopicPartition{{}, {Partition: 1, ErrorCode: ecFencedLeaderEpoch}}},
			}}, map[int16]int{ecNone: 2, ecFencedLeaderEpoch: 1}},
		{"leader and isr unknown top-level code", &kmsg.LeaderAndISRResponse{Version: 1, ErrorCode: 500,
			Partitions: make([]kmsg.LeaderAndISRResponseTopicPartition, 2)}, map[int16]int{ecUnknownServerError: 3}},

		// StopReplica: the same shape at every version.
		{"stop replica error", &kmsg.StopReplicaResponse{Version: 3, ErrorCode: ecStaleBrokerEpoch,
			Partitions: []kmsg.StopReplicaResponsePartition{{Topic: "a"}, {Topic: "a", Partition: 1, ErrorCode: ecKafkaStorageError}}},
			map[int16]int{ecStaleBrokerEpoch: 3}},
		{"stop replica", &kmsg.StopReplicaResponse{Version: 0,
			Partitions: []kmsg.StopReplicaResponsePartition{{Topic: "a"}, {Topic: "a", Partition: 1, ErrorCode: ecKafkaStorageError}}},
			map[int16]int{ecNone: 2, ecKafkaStorageError: 1}},

		{"update metadata", &kmsg.UpdateMetadataResponse{Version: 6, ErrorCode: ecStaleBrokerEpoch}, map[int16]int{ecStaleBrokerEpoch: 1}},
		{"controlled shutdown", &kmsg.ControlledShutdownResponse{Version: 3,
			PartitionsRemaining: make([]kmsg.ControlledShutdownResponsePartitionsRemaining, 3)}, map[int16]int{ecNone: 1}},

		// OffsetCommit and TxnOffsetCommit: partitions only, repeats included.
		{"offset commit", &kmsg.OffsetCommitResponse{Version: 8, Topics: []kmsg.OffsetCommitResponseTopic{
			{Topic: "a", Partitions: []kmsg.OffsetCommitResponseTopicPartition{{ErrorCode: ecUnknownMember}, {ErrorCode: ecUnknownMember}}},
		}}, map[int16]int{ecUnknownMember: 2}},
		{"offset commit empty", &kmsg.OffsetCommitResponse{Version: 2}, map[int16]int{}},
		{"txn offset commit", &kmsg.TxnOffsetCommitResponse{Version: 3, Topics: []kmsg.TxnOffsetCommitResponseTopic{
			{Topic: "a", Partitions: []kmsg.TxnOffsetCommitResponseTopicPartition{{}, {}}},
			{Topic: "a", Partitions: []kmsg.TxnOffsetCommitResponseTopicPartition{{ErrorCode: ecTopicAuthFailed}}},
		}}, map[int16]int{ecNone: 2, ecTopicAuthFailed: 1}},

		// OffsetFetch: the top-level error at every version below 8 (v0/v1 included), and each partition;
		// v8+ one per group ID and the groups' partitions.
		{"offset fetch v1 refused", &kmsg.OffsetFetchResponse{Version: 1, ErrorCode: ecNotCoordinator, Topics: []kmsg.OffsetFetchResponseTopic{
			{Topic: "a", Partitions: []kmsg.OffsetFetchResponseTopicPartition{{ErrorCode: ecNotCoordinator}, {Partition: 1, ErrorCode: ecNotCoordinator}}},
		}}, map[int16]int{ecNotCoordinator: 3}},
		{"offset fetch v0 zk failure", &kmsg.OffsetFetchResponse{Version: 0, Topics: []kmsg.OffsetFetchResponseTopic{
			{Topic: "a", Partitions: []kmsg.OffsetFetchResponseTopicPartition{{ErrorCode: ecUnknownServerError}, {Partition: 1, ErrorCode: ecUnknownTopic}}},
		}}, map[int16]int{ecNone: 1, ecUnknownServerError: 1, ecUnknownTopic: 1}},
		{"offset fetch v7", &kmsg.OffsetFetchResponse{Version: 7, Topics: []kmsg.OffsetFetchResponseTopic{
			{Topic: "a", Partitions: []kmsg.OffsetFetchResponseTopicPartition{{}, {Partition: 1, ErrorCode: ecTopicAuthFailed}}},
		}}, map[int16]int{ecNone: 2, ecTopicAuthFailed: 1}},
		{"offset fetch v7 group error", &kmsg.OffsetFetchResponse{Version: 7, ErrorCode: ecCoordinatorLoading},
			map[int16]int{ecCoordinatorLoading: 1}},
		{"offset fetch v8 groups", &kmsg.OffsetFetchResponse{Version: 8, ErrorCode: ecNotController, Groups: []kmsg.OffsetFetchResponseGroup{
			{Group: "g1", Topics: []kmsg.OffsetFetchResponseGroupTopic{{Topic: "a", Partitions: []kmsg.OffsetFetchResponseGroupTopicPartition{{}, {Partition: 1, ErrorCode: ecUnknownTopic}}}}},
			{Group: "g2", ErrorCode: ecGroupAuthFailed},
			{Group: "g1", ErrorCode: ecCoordinatorLoading, Topics: []kmsg.OffsetFetchResponseGroupTopic{{Topic: "b", Partitions: []kmsg.OffsetFetchResponseGroupTopicPartition{{}}}}},
		}}, map[int16]int{ecCoordinatorLoading: 1, ecGroupAuthFailed: 1, ecNone: 2, ecUnknownTopic: 1}},

		// FindCoordinator: the top level, or from v4 each coordinator.
		{"find coordinator v3", &kmsg.FindCoordinatorResponse{Version: 3, ErrorCode: ecCoordinatorLoading}, map[int16]int{ecCoordinatorLoading: 1}},
		{"find coordinator v4", &kmsg.FindCoordinatorResponse{Version: 4, ErrorCode: ecInvalidRequest, Coordinators: []kmsg.FindCoordinatorResponseCoordinator{
			{Key: "g1"}, {Key: "g2", ErrorCode: ecCoordinatorLoading}, {Key: "g3"},
		}}, map[int16]int{ecNone: 2, ecCoordinatorLoading: 1}},
		{"find coordinator v4 no coordinators", &kmsg.FindCoordinatorResponse{Version: 4, ErrorCode: ecInvalidRequest},
			map[int16]int{ecInvalidRequest: 1}},

		{"join group", &kmsg.JoinGroupResponse{Version: 4, ErrorCode: ecMemberIDRequired,
			Members: make([]kmsg.JoinGroupResponseMember, 3)}, map[int16]int{ecMemberIDRequired: 1}},
		{"heartbeat", &kmsg.HeartbeatResponse{Version: 2}, map[int16]int{ecNone: 1}},
		{"leave group v3", &kmsg.LeaveGroupResponse{Version: 3, Members: []kmsg.LeaveGroupResponseMember{
			{MemberID: "m1"}, {MemberID: "m2", ErrorCode: ecUnknownMember},
		}}, map[int16]int{ecNone: 2, ecUnknownMember: 1}},
		// LeaveGroup before v3: one error, the top level's or else the first failed member's.
		{"leave group v0", &kmsg.LeaveGroupResponse{Version: 0, ErrorCode: ecUnknownMember}, map[int16]int{ecUnknownMember: 1}},
		{"leave group v2 member error folded", &kmsg.LeaveGroupResponse{Version: 2, Members: []kmsg.LeaveGroupResponseMember{
			{MemberID: "m1"}, {MemberID: "m2", ErrorCode: ecUnknownMember}, {MemberID: "m3", ErrorCode: 82},
		}}, map[int16]int{ecUnknownMember: 1}},
		{"leave group v2 top-level error wins", &kmsg.LeaveGroupResponse{Version: 2, ErrorCode: ecCoordinatorLoading,
			Members: []kmsg.LeaveGroupResponseMember{{MemberID: "m1", ErrorCode: ecUnknownMember}}}, map[int16]int{ecCoordinatorLoading: 1}},
		{"leave group v1 members fine", &kmsg.LeaveGroupResponse{Version: 1, Members: make([]kmsg.LeaveGroupResponseMember, 3)},
			map[int16]int{ecNone: 1}},
		{"sync group", &kmsg.SyncGroupResponse{Version: 3, ErrorCode: ecUnknownMember}, map[int16]int{ecUnknownMember: 1}},
		{"describe groups", &kmsg.DescribeGroupsResponse{Version: 4, Groups: []kmsg.DescribeGroupsResponseGroup{
			{Group: "a"}, {Group: "b", ErrorCode: ecGroupAuthFailed}, {Group: "a"},
		}}, map[int16]int{ecNone: 2, ecGroupAuthFailed: 1}},
		{"list groups", &kmsg.ListGroupsResponse{Version: 3, Groups: make([]kmsg.ListGroupsResponseGroup, 2)}, map[int16]int{ecNone: 1}},

		{"sasl handshake", &kmsg.SASLHandshakeResponse{Version: 1, ErrorCode: ecUnsupportedSASLMech}, map[int16]int{ecUnsupportedSASLMech: 1}},
		{"sasl authenticate", &kmsg.SASLAuthenticateResponse{Version: 1, ErrorCode: ecSASLAuthFailed}, map[int16]int{ecSASLAuthFailed: 1}},
		{"api versions unsupported", &kmsg.ApiVersionsResponse{Version: 0, ErrorCode: ecUnsupportedVersion,
			ApiKeys: make([]kmsg.ApiVersionsResponseApiKey, 1)}, map[int16]int{ecUnsupportedVersion: 1}},

		// CreateTopics counts ErrorCode only, not ConfigErrorCode.
		{"create topics", &kmsg.CreateTopicsResponse{Version: 5, Topics: []kmsg.CreateTopicsResponseTopic{
			{Topic: "a", ConfigErrorCode: ecTopicAuthFailed}, {Topic: "b", ErrorCode: ecTopicAlreadyExists},
		}}, map[int16]int{ecNone: 1, ecTopicAlreadyExists: 1}},
		{"delete topics", &kmsg.DeleteTopicsResponse{Version: 4, Topics: []kmsg.DeleteTopicsResponseTopic{
			{Topic: kmsg.StringPtr("a"), ErrorCode: ecNotController}, {Topic: kmsg.StringPtr("b"), ErrorCode: ecNotController},
		}}, map[int16]int{ecNotController: 2}},
		{"delete records", &kmsg.DeleteRecordsResponse{Version: 1, Topics: []kmsg.DeleteRecordsResponseTopic{
			{Topic: "a", Partitions: []kmsg.DeleteRecordsResponseTopicPartition{{}, {Partition: 1, ErrorCode: ecOffsetOutOfRange}}},
		}}, map[int16]int{ecNone: 1, ecOffsetOutOfRange: 1}},
		{"init producer id", &kmsg.InitProducerIDResponse{Version: 2}, map[int16]int{ecNone: 1}},
		{"offset for leader epoch", &kmsg.OffsetForLeaderEpochResponse{Version: 3, Topics: []kmsg.OffsetForLeaderEpochResponseTopic{
			{Topic: "a", Partitions: []kmsg.OffsetForLeaderEpochResponseTopicPartition{{ErrorCode: ecFencedLeaderEpoch}, {Partition: 1}}},
		}}, map[int16]int{ecNone: 1, ecFencedLeaderEpoch: 1}},

		// AddPartitionsToTxn: a map by topic-partition (the last entry wins); the v4+ fields are not read.
		{"add partitions to txn", &kmsg.AddPartitionsToTxnResponse{Version: 2, ErrorCode: ecClusterAuthFailed,
			Topics: []kmsg.AddPartitionsToTxnResponseTopic{
				{Topic: "a", Partitions: []kmsg.AddPartitionsToTxnResponseTopicPartition{{ErrorCode: ecTopicAuthFailed}, {Partition: 1}}},
				{Topic: "a", Partitions: []kmsg.AddPartitionsToTxnResponseTopicPartition{{}}},
				{Topic: "b", Partitions: []kmsg.AddPartitionsToTxnResponseTopicPartition{{}}},
			},
			Transactions: make([]kmsg.AddPartitionsToTxnResponseTransaction, 2)},
			map[int16]int{ecNone: 3}},
		{"add offsets to txn", &kmsg.AddOffsetsToTxnResponse{Version: 1, ErrorCode: ecGroupAuthFailed}, map[int16]int{ecGroupAuthFailed: 1}},
		{"end txn", &kmsg.EndTxnResponse{Version: 1}, map[int16]int{ecNone: 1}},
		{"write txn markers", &kmsg.WriteTxnMarkersResponse{Version: 0, Markers: []kmsg.WriteTxnMarkersResponseMarker{
			{ProducerID: 1, Topics: []kmsg.WriteTxnMarkersResponseMarkerTopic{{Topic: "a", Partitions: []kmsg.WriteTxnMarkersResponseMarkerTopicPartition{{}, {Partition: 1}}}}},
			{ProducerID: 2, Topics: []kmsg.WriteTxnMarkersResponseMarkerTopic{{Topic: "a", Partitions: []kmsg.WriteTxnMarkersResponseMarkerTopicPartition{{ErrorCode: ecNotLeader}}}}},
		}}, map[int16]int{ecNone: 2, ecNotLeader: 1}},

		// ACLs: DescribeAcls top level; CreateAcls per creation; DeleteAcls per filter, not per matching ACL.
		{"describe acls", &kmsg.DescribeACLsResponse{Version: 1, ErrorCode: ecClusterAuthFailed,
			Resources: make([]kmsg.DescribeACLsResponseResource, 2)}, map[int16]int{ecClusterAuthFailed: 1}},
		{"create acls", &kmsg.CreateACLsResponse{Version: 1, Results: []kmsg.CreateACLsResponseResult{{}, {ErrorCode: ecInvalidRequest}}},
			map[int16]int{ecNone: 1, ecInvalidRequest: 1}},
		{"delete acls", &kmsg.DeleteACLsResponse{Version: 1, Results: []kmsg.DeleteACLsResponseResult{
			{MatchingACLs: []kmsg.DeleteACLsResponseResultMatchingACL{{ErrorCode: ecClusterAuthFailed}, {ErrorCode: ecClusterAuthFailed}}},
			{ErrorCode: ecInvalidRequest},
		}}, map[int16]int{ecNone: 1, ecInvalidRequest: 1}},

		// Configs: DescribeConfigs and IncrementalAlterConfigs per resource, repeats included; AlterConfigs
		// per distinct resource (unknown type ids all standing for UNKNOWN).
		{"describe configs", &kmsg.DescribeConfigsResponse{Version: 3, Resources: []kmsg.DescribeConfigsResponseResource{
			{ResourceName: "a"}, {ResourceName: "a"}, {ResourceName: "b", ErrorCode: ecTopicAuthFailed},
		}}, map[int16]int{ecNone: 2, ecTopicAuthFailed: 1}},
		{"alter configs", &kmsg.AlterConfigsResponse{Version: 1, Resources: []kmsg.AlterConfigsResponseResource{
			{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "t", ErrorCode: ecInvalidConfig},
			{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "t"},
			{ResourceType: kmsg.ConfigResourceTypeBroker, ResourceName: "t", ErrorCode: ecClusterAuthFailed},
			{ResourceType: 7, ResourceName: "x", ErrorCode: ecInvalidRequest},
			{ResourceType: 99, ResourceName: "x", ErrorCode: ecInvalidRequest},
			{ResourceType: kmsg.ConfigResourceTypeUnknown, ResourceName: "y", ErrorCode: ecInvalidRequest},
		}}, map[int16]int{ecNone: 1, ecClusterAuthFailed: 1, ecInvalidRequest: 2}},
		{"incremental alter configs", &kmsg.IncrementalAlterConfigsResponse{Version: 1, Resources: []kmsg.IncrementalAlterConfigsResponseResource{
			{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "t", ErrorCode: ecInvalidConfig},
			{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "t"},
		}}, map[int16]int{ecNone: 1, ecInvalidConfig: 1}},

		{"alter replica log dirs", &kmsg.AlterReplicaLogDirsResponse{Version: 1, Topics: []kmsg.AlterReplicaLogDirsResponseTopic{
			{Topic: "a", Partitions: []kmsg.AlterReplicaLogDirsResponseTopicPartition{{ErrorCode: ecLogDirNotFound}, {Partition: 1}}},
		}}, map[int16]int{ecNone: 1, ecLogDirNotFound: 1}},
		// DescribeLogDirs: per dir; the v3+ top-level error is not read.
		{"describe log dirs", &kmsg.DescribeLogDirsResponse{Version: 3, ErrorCode: ecClusterAuthFailed, Dirs: []kmsg.DescribeLogDirsResponseDir{
			{Dir: "/a", Topics: make([]kmsg.DescribeLogDirsResponseDirTopic, 3)}, {Dir: "/b", ErrorCode: ecKafkaStorageError},
		}}, map[int16]int{ecNone: 1, ecKafkaStorageError: 1}},
		{"describe log dirs unauthorized", &kmsg.DescribeLogDirsResponse{Version: 2}, map[int16]int{}},
		{"create partitions", &kmsg.CreatePartitionsResponse{Version: 2, Topics: []kmsg.CreatePartitionsResponseTopic{
			{Topic: "a"}, {Topic: "b", ErrorCode: ecUnknownTopic},
		}}, map[int16]int{ecNone: 1, ecUnknownTopic: 1}},

		{"create delegation token", &kmsg.CreateDelegationTokenResponse{Version: 1, ErrorCode: 61}, map[int16]int{61: 1}},
		{"renew delegation token", &kmsg.RenewDelegationTokenResponse{Version: 1, ErrorCode: 62}, map[int16]int{62: 1}},
		{"expire delegation token", &kmsg.ExpireDelegationTokenResponse{Version: 1, ErrorCode: 66}, map[int16]int{66: 1}},
		{"describe delegation token", &kmsg.DescribeDelegationTokenResponse{Version: 1,
			TokenDetails: make([]kmsg.DescribeDelegationTokenResponseTokenDetail, 2)}, map[int16]int{ecNone: 1}},
		{"delete groups", &kmsg.DeleteGroupsResponse{Version: 1, Groups: []kmsg.DeleteGroupsResponseGroup{
			{Group: "a", ErrorCode: 68}, {Group: "b", ErrorCode: 69}, {Group: "c", ErrorCode: 68},
		}}, map[int16]int{68: 2, 69: 1}},

		// ElectLeaders: the top level and each partition; v0's top level is always NONE.
		{"elect leaders v0", &kmsg.ElectLeadersResponse{Version: 0, Topics: []kmsg.ElectLeadersResponseTopic{
			{Topic: "a", Partitions: []kmsg.ElectLeadersResponseTopicPartition{{ErrorCode: ecElectionNotNeeded}, {Partition: 1}}},
		}}, map[int16]int{ecNone: 2, ecElectionNotNeeded: 1}},
		{"elect leaders v0 refused", &kmsg.ElectLeadersResponse{Version: 0, ErrorCode: ecClusterAuthFailed, Topics: []kmsg.ElectLeadersResponseTopic{
			{Topic: "a", Partitions: []kmsg.ElectLeadersResponseTopicPartition{{ErrorCode: ecClusterAuthFailed}}},
		}}, map[int16]int{ecNone: 1, ecClusterAuthFailed: 1}},
		{"elect leaders refused", &kmsg.ElectLeadersResponse{Version: 1, ErrorCode: ecClusterAuthFailed}, map[int16]int{ecClusterAuthFailed: 1}},

		{"alter partition reassignments", &kmsg.AlterPartitionAssignmentsResponse{Version: 0, Topics: []kmsg.AlterPartitionAssignmentsResponseTopic{
			{Topic: "a", Partitions: []kmsg.AlterPartitionAssignmentsResponseTopicPartition{{ErrorCode: 85}, {Partition: 1}}},
		}}, map[int16]int{ecNone: 2, 85: 1}},
		{"list partition reassignments", &kmsg.ListPartitionReassignmentsResponse{Version: 0,
			Topics: make([]kmsg.ListPartitionReassignmentsResponseTopic, 2)}, map[int16]int{ecNone: 1}},
		{"offset delete", &kmsg.OffsetDeleteResponse{Version: 0, Topics: []kmsg.OffsetDeleteResponseTopic{
			{Topic: "a", Partitions: []kmsg.OffsetDeleteResponseTopicPartition{{ErrorCode: 86}, {Partition: 1}}},
		}}, map[int16]int{ecNone: 2, 86: 1}},
		{"describe client quotas", &kmsg.DescribeClientQuotasResponse{Version: 0, ErrorCode: ecInvalidRequest,
			Entries: make([]kmsg.DescribeClientQuotasResponseEntry, 1)}, map[int16]int{ecInvalidRequest: 1}},
		{"alter client quotas", &kmsg.AlterClientQuotasResponse{Version: 0, Entries: []kmsg.AlterClientQuotasResponseEntry{
			{}, {ErrorCode: ecInvalidRequest}, {},
		}}, map[int16]int{ecNone: 2, ecInvalidRequest: 1}},

		// DescribeUserScramCredentials: per user; the top-level error is not counted.
		{"describe user scram credentials", &kmsg.DescribeUserSCRAMCredentialsResponse{Version: 0, ErrorCode: ecClusterAuthFailed,
			Results: []kmsg.DescribeUserSCRAMCredentialsResponseResult{{User: "a"}, {User: "b", ErrorCode: ecResourceNotFound}}},
			map[int16]int{ecNone: 1, ecResourceNotFound: 1}},
		{"describe user scram credentials refused", &kmsg.DescribeUserSCRAMCredentialsResponse{Version: 0, ErrorCode: ecClusterAuthFailed},
			map[int16]int{}},
		{"alter user scram credentials", &kmsg.AlterUserSCRAMCredentialsResponse{Version: 0,
			Results: []kmsg.AlterUserSCRAMCredentialsResponseResult{{User: "a", ErrorCode: 93}, {User: "b", ErrorCode: 93}}},
			map[int16]int{93: 2}},

		// The quorum responses: top level and each partition.
		{"vote", &kmsg.VoteResponse{Version: 0, ErrorCode: ecInconsistentVoterSet, Topics: []kmsg.VoteResponseTopic{
			{Topic: "__cluster_metadata", Partitions: []kmsg.VoteResponseTopicPartition{{}, {Partition: 1, ErrorCode: ecInconsistentVoterSet}}},
		}}, map[int16]int{ecInconsistentVoterSet: 2, ecNone: 1}},
		{"begin quorum epoch", &kmsg.BeginQuorumEpochResponse{Version: 0, Topics: []kmsg.BeginQuorumEpochResponseTopic{
			{Partitions: []kmsg.BeginQuorumEpochResponseTopicPartition{{ErrorCode: ecFencedLeaderEpoch}}},
		}}, map[int16]int{ecNone: 1, ecFencedLeaderEpoch: 1}},
		{"end quorum epoch", &kmsg.EndQuorumEpochResponse{Version: 0, ErrorCode: ecClusterAuthFailed}, map[int16]int{ecClusterAuthFailed: 1}},
		{"describe quorum", &kmsg.DescribeQuorumResponse{Version: 0, Topics: []kmsg.DescribeQuorumResponseTopic{
			{Partitions: []kmsg.DescribeQuorumResponseTopicPartition{{}, {Partition: 1}}},
		}}, map[int16]int{ecNone: 3}},
		{"alter isr", &kmsg.AlterPartitionResponse{Version: 0, Topics: []kmsg.AlterPartitionResponseTopic{
			{Topic: "a", Partitions: []kmsg.AlterPartitionResponseTopicPartition{{}, {Partition: 1, ErrorCode: ecStaleBrokerEpoch}}},
		}}, map[int16]int{ecNone: 2, ecStaleBrokerEpoch: 1}},
		{"alter isr refused", &kmsg.AlterPartitionResponse{Version: 0, ErrorCode: ecNotController}, map[int16]int{ecNotController: 1}},
		{"update features", &kmsg.UpdateFeaturesResponse{Version: 0, Results: []kmsg.UpdateFeaturesResponseResult{
			{Feature: "f", ErrorCode: ecFeatureUpdateFailed},
		}}, map[int16]int{ecNone: 1, ecFeatureUpdateFailed: 1}},
		{"envelope", &kmsg.EnvelopeResponse{Version: 0, ErrorCode: ecClusterAuthFailed}, map[int16]int{ecClusterAuthFailed: 1}},

		// FetchSnapshot: a NONE top level is left out.
		{"fetch snapshot", &kmsg.FetchSnapshotResponse{Version: 0, Topics: []kmsg.FetchSnapshotResponseTopic{
			{Topic: "a", Partitions: []kmsg.FetchSnapshotResponseTopicPartition{{ErrorCode: ecSnapshotNotFound}, {Partition: 1}}},
		}}, map[int16]int{ecSnapshotNotFound: 1, ecNone: 1}},
		{"fetch snapshot error", &kmsg.FetchSnapshotResponse{Version: 0, ErrorCode: ecClusterAuthFailed}, map[int16]int{ecClusterAuthFailed: 1}},
		{"fetch snapshot empty", &kmsg.FetchSnapshotResponse{Version: 0}, map[int16]int{}},

		{"describe cluster", &kmsg.DescribeClusterResponse{Version: 0, Brokers: make([]kmsg.DescribeClusterResponseBroker, 3)}, map[int16]int{ecNone: 1}},
		{"describe producers", &kmsg.DescribeProducersResponse{Version: 0, Topics: []kmsg.DescribeProducersResponseTopic{
			{Topic: "a", Partitions: []kmsg.DescribeProducersResponseTopicPartition{{ErrorCode: ecNotLeader}, {Partition: 1}}},
		}}, map[int16]int{ecNone: 1, ecNotLeader: 1}},
		{"broker registration", &kmsg.BrokerRegistrationResponse{Version: 0, ErrorCode: 101}, map[int16]int{101: 1}},
		{"broker heartbeat", &kmsg.BrokerHeartbeatResponse{Version: 0}, map[int16]int{ecNone: 1}},

		// UnregisterBroker: nothing for NONE.
		{"unregister broker", &kmsg.UnregisterBrokerResponse{Version: 0}, map[int16]int{}},
		{"unregister broker error", &kmsg.UnregisterBrokerResponse{Version: 0, ErrorCode: ecBrokerIDNotRegistered}, map[int16]int{ecBrokerIDNotRegistered: 1}},

		// Codes Kafka 2.8 does not know are UNKNOWN_SERVER_ERROR.
		{"unknown codes", &kmsg.ProduceResponse{Version: 8, Topics: []kmsg.ProduceResponseTopic{
			{Topic: "a", Partitions: []kmsg.ProduceResponseTopicPartition{{ErrorCode: 105}, {ErrorCode: -2}, {ErrorCode: math.MaxInt16}, {ErrorCode: -1}, {ErrorCode: 104}}},
		}}, map[int16]int{ecUnknownServerError: 4, 104: 1}},
		{"stop replica unknown top-level code", &kmsg.StopReplicaResponse{Version: 1, ErrorCode: math.MinInt16,
			Partitions: make([]kmsg.StopReplicaResponsePartition, 1)}, map[int16]int{ecUnknownServerError: 2}},

		// Types Kafka 2.8 does not have.
		{"describe transactions", &kmsg.DescribeTransactionsResponse{}, nil},
		{"consumer group heartbeat", &kmsg.ConsumerGroupHeartbeatResponse{ErrorCode: ecUnknownMember}, nil},
		{"nil", nil, nil},
	}
	for _, c := range cases {
		got := ErrorCounts(c.resp)
		if (got == nil) != (c.want == nil) || !maps.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// kafka28Keys are the API keys Kafka 2.8.2 has a response class for (ApiKeys.java: PRODUCE through
// UNREGISTER_BROKER), with the count ErrorCounts gives for kmsg's default response at version 0: true where a
// top-level error is counted (NONE once), false where only nested levels are (no entries).
var kafka28Keys = map[int16]bool{
	0: false, 1: true, 2: false, 3: false, 4: true, 5: true, 6: true, 7: true, 8: false, 9: true,
	10: true, 11: true, 12: true, 13: true, 14: true, 15: false, 16: true, 17: true, 18: true, 19: false,
	20: false, 21: false, 22: true, 23: false, 24: false, 25: true, 26: true, 27: false, 28: false, 29: true,
	30: false, 31: false, 32: false, 33: false, 34: false, 35: false, 36: true, 37: false, 38: true, 39: true,
	40: true, 41: true, 42: false, 43: true, 44: false, 45: true, 46: true, 47: true, 48: true, 49: false,
	50: false, 51: false, 52: true, 53: true, 54: true, 55: true, 56: true, 57: true, 58: true, 59: false,
	60: true, 61: false, 62: true, 63: true, 64: false,
}

// TestErrorCountsCoversKafka28 walks every response type kmsg has: each key Kafka 2.8 has must have a rule
// (a non-nil map, at every version kmsg knows), every other key must give nil.
func TestErrorCountsCoversKafka28(t *testing.T) {
	seen := map[int16]bool{}
	for key := int16(0); key < 1000; key++ {
		r := kmsg.ResponseForKey(key)
		if r == nil {
			continue
		}
		seen[key] = true
		topLevel, in28 := kafka28Keys[key]
		if !in28 {
			if got := ErrorCounts(r); got != nil {
				t.Errorf("key %d (%T): Kafka 2.8 has no such response, got %v, want nil", key, r, got)
			}
			continue
		}
		got := ErrorCounts(r)
		want := map[int16]int{}
		if topLevel {
			want[ecNone] = 1
		}
		if got == nil || !maps.Equal(got, want) {
			t.Errorf("key %d (%T) default: got %v, want %v", key, r, got, want)
		}
		for v := r.GetVersion(); v <= r.MaxVersion(); v++ {
			r := kmsg.ResponseForKey(key)
			r.SetVersion(v)
			if ErrorCounts(r) == nil {
				t.Errorf("key %d (%T) v%d: no rule", key, r, v)
			}
		}
	}
	for key := range kafka28Keys {
		if !seen[key] {
			t.Errorf("key %d: kmsg has no response type", key)
		}
	}
}

func TestErrorName(t *testing.T) {
	// Spot checks against Errors.java (2.8.2).
	for code, want := range map[int16]string{
		-1: "UNKNOWN_SERVER_ERROR", 0: "NONE", 1: "OFFSET_OUT_OF_RANGE", 3: "UNKNOWN_TOPIC_OR_PARTITION",
		6: "NOT_LEADER_OR_FOLLOWER", 16: "NOT_COORDINATOR", 17: "INVALID_TOPIC_EXCEPTION", 41: "NOT_CONTROLLER",
		58: "SASL_AUTHENTICATION_FAILED", 74: "FENCED_LEADER_EPOCH", 89: "THROTTLING_QUOTA_EXCEEDED",
		90: "PRODUCER_FENCED", 99: "POSITION_OUT_OF_RANGE", 100: "UNKNOWN_TOPIC_ID", 104: "INCONSISTENT_CLUSTER_ID",
		// Not known to 2.8.
		105: "UNKNOWN_SERVER_ERROR", 106: "UNKNOWN_SERVER_ERROR", 200: "UNKNOWN_SERVER_ERROR", -2: "UNKNOWN_SERVER_ERROR",
		math.MaxInt16: "UNKNOWN_SERVER_ERROR", math.MinInt16: "UNKNOWN_SERVER_ERROR",
	} {
		if got := ErrorName(code); got != want {
			t.Errorf("ErrorName(%d) = %s, want %s", code, got, want)
		}
	}
	if n := len(kafkaErrorNames); n != 106 {
		t.Fatalf("%d names, Kafka 2.8 has 106 (-1 to 104)", n)
	}
	// kerr agrees for every code 2.8 knows except the two it spells otherwise.
	differ := map[int16]string{0: "", 6: "NOT_LEADER_FOR_PARTITION"}
	names := map[string]int16{}
	for code := int16(-1); code <= 104; code++ {
		name := ErrorName(code)
		if prev, dup := names[name]; dup {
			t.Errorf("codes %d and %d both named %s", prev, code, name)
		}
		names[name] = code
		var kname string
		if ke, ok := errors.AsType[*kerr.Error](kerr.ErrorForCode(code)); ok && ke.Code == code {
			kname = ke.Message
		}
		want, special := differ[code]
		if !special {
			want = name
		}
		if kname != want {
			t.Errorf("code %d: kerr %q, Kafka 2.8 %q", code, kname, name)
		}
	}
}
