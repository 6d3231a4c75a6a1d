// Package zkmeta is Kafka's ZooKeeper metadata layer as Kafka 2.8 writes and reads it: znode paths, the JSON of
// every znode (byte-identical to Kafka's encoders), KafkaZkClient's operations (controller election and fenced
// writes included), chroot handling and re-arming watches, over github.com/go-zookeeper/zk.
package zkmeta

import (
	"strconv"
	"strings"
)

// Znode paths (ZkData.scala). All are relative to the chroot.
const (
	ClusterPath                  = "/cluster"
	ClusterIDPath                = "/cluster/id"
	BrokersPath                  = "/brokers"
	BrokerIDsPath                = "/brokers/ids"
	BrokerSeqIDPath              = "/brokers/seqid"
	TopicsPath                   = "/brokers/topics"
	ControllerPath               = "/controller"
	ControllerEpochPath          = "/controller_epoch"
	ConfigPath                   = "/config"
	ConfigChangesPath            = "/config/changes"
	ConfigChangeSeqPrefix        = "config_change_"
	AdminPath                    = "/admin"
	DeleteTopicsPath             = "/admin/delete_topics"
	ReassignPartitionsPath       = "/admin/reassign_partitions"
	PreferredReplicaElectionPath = "/admin/preferred_replica_election"
	IsrChangeNotificationPath    = "/isr_change_notification"
	IsrChangeSeqPrefix           = "isr_change_"
	LogDirEventNotificationPath  = "/log_dir_event_notification"
	LogDirEventSeqPrefix         = "log_dir_event_"
	ProducerIDBlockPath          = "/latest_producer_id_block"
	ConsumersPath                = "/consumers"
	FeaturePath                  = "/feature"
)

// Config entity types (ConfigType.all).
const (
	ConfigTypeTopic  = "topics"
	ConfigTypeClient = "clients"
	ConfigTypeUser   = "users"
	ConfigTypeBroker = "brokers"
	ConfigTypeIP     = "ips"
)

// configTypes is ConfigType.all in Kafka's order.
var configTypes = [...]string{ConfigTypeTopic, ConfigTypeClient, ConfigTypeUser, ConfigTypeBroker, ConfigTypeIP}

// PersistentPaths are the paths every 2.8 broker makes sure exist at startup (ZkData.PersistentZkPaths).
func PersistentPaths() []string {
	ps := []string{ConsumersPath, BrokerIDsPath, TopicsPath, ConfigChangesPath, DeleteTopicsPath, BrokerSeqIDPath,
		IsrChangeNotificationPath, ProducerIDBlockPath, LogDirEventNotificationPath}
	for _, t := range configTypes {
		ps = append(ps, ConfigEntityTypePath(t))
	}
	return ps
}

func itoa32(i int32) string { return strconv.FormatInt(int64(i), 10) }

// BrokerIDPath is /brokers/ids/<id>.
func BrokerIDPath(id int32) string { return BrokerIDsPath + "/" + itoa32(id) }

// TopicPath is /brokers/topics/<t>.
func TopicPath(topic string) string { return TopicsPath + "/" + topic }

// TopicPartitionsPath is /brokers/topics/<t>/partitions.
func TopicPartitionsPath(topic string) string { return TopicPath(topic) + "/partitions" }

// TopicPartitionPath is /brokers/topics/<t>/partitions/<p>.
func TopicPartitionPath(topic string, partition int32) string {
	return TopicPartitionsPath(topic) + "/" + itoa32(partition)
}

// PartitionStatePath is /brokers/topics/<t>/partitions/<p>/state.
func PartitionStatePath(topic string, partition int32) string {
	return TopicPartitionPath(topic, partition) + "/state"
}

// ConfigEntityTypePath is /config/<type>.
func ConfigEntityTypePath(entityType string) string { return ConfigPath + "/" + entityType }

// ConfigEntityPath is /config/<type>/<name> (name already sanitized; "<default>" for defaults).
func ConfigEntityPath(entityType, name string) string {
	return ConfigEntityTypePath(entityType) + "/" + name
}

// TopicConfigPath is /config/topics/<t>.
func TopicConfigPath(topic string) string { return ConfigEntityPath(ConfigTypeTopic, topic) }

// BrokerConfigPath is /config/brokers/<id>.
func BrokerConfigPath(id int32) string { return ConfigEntityPath(ConfigTypeBroker, itoa32(id)) }

// ConfigChangeCreatePath is the prefix sequential notifications are created at.
func ConfigChangeCreatePath() string { return ConfigChangesPath + "/" + ConfigChangeSeqPrefix }

// DeleteTopicPath is /admin/delete_topics/<t>.
func DeleteTopicPath(topic string) string { return DeleteTopicsPath + "/" + topic }

// IsrChangeCreatePath is the prefix ISR change notifications are created at.
func IsrChangeCreatePath() string { return IsrChangeNotificationPath + "/" + IsrChangeSeqPrefix }

// IsrChangePath is /isr_change_notification/isr_change_<seq>.
func IsrChangePath(seq string) string { return IsrChangeCreatePath() + seq }

// LogDirEventCreatePath is the prefix log dir events are created at.
func LogDirEventCreatePath() string { return LogDirEventNotificationPath + "/" + LogDirEventSeqPrefix }

// LogDirEventPath is /log_dir_event_notification/log_dir_event_<seq>.
func LogDirEventPath(seq string) string { return LogDirEventCreatePath() + seq }

// ConsumerOffsetPath is /consumers/<group>/offsets/<topic>/<partition>.
func ConsumerOffsetPath(group, topic string, partition int32) string {
	return ConsumersPath + "/" + group + "/offsets/" + topic + "/" + itoa32(partition)
}

// SequenceNumber returns what follows prefix in a sequential znode name or path.
func SequenceNumber(name, prefix string) string {
	i := strings.LastIndex(name, prefix)
	if i < 0 {
		return name
	}
	return name[i+len(prefix):]
}
