package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/assign"
	"github.com/zkafka/zkafka/kafkaserver/tlsconf"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// zkTimeout is the session and connection timeout TopicCommand gives KafkaZkClient.
const zkTimeout = 30 * time.Second

// zkService is TopicCommand.ZookeeperTopicService: it reads and writes znodes as AdminZkClient does and never
// talks to a broker.
type zkService struct {
	c       *zkmeta.Client
	o       *options
	out     io.Writer
	rnd     *rand.Rand
	connect string
}

func newZkService(connect string, o *options, jvm map[string]string, stdout, stderr io.Writer) (*zkService, error) {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts, err := zkClientSecurity(connect, jvm)
	if err != nil {
		return nil, err
	}
	c, err := zkmeta.Connect(connect, zkTimeout, logger, opts...)
	if errors.Is(err, zkmeta.ErrSASLAuthFailed) {
		return nil, &uncaughtError{class: "kafka.zookeeper.ZooKeeperClientAuthFailedException",
			msg: "Auth failed either before or while waiting for connection"}
	}
	if err != nil {
		return nil, &uncaughtError{class: "kafka.zookeeper.ZooKeeperClientTimeoutException",
			msg: fmt.Sprintf("Timed out waiting for connection while in state: CONNECTING (%v)", err)}
	}
	now := uint64(time.Now().UnixNano())
	return &zkService{c: c, o: o, out: stdout, rnd: rand.New(rand.NewPCG(now, now^0x9e3779b97f4a7c15)), connect: connect}, nil
}

func (s *zkService) close() { s.c.Close() }

// zkClientSecurity is what TopicCommand's ZooKeeper client takes from the JVM's system properties (KAFKA_OPTS):
// TLS from zookeeper.client.secure, zookeeper.clientCnxnSocket and zookeeper.ssl.*, as ZKClientConfig reads them;
// with a JAAS Client section, a SASL login (DIGEST-MD5 or Kerberos) and znodes created with Kafka's secure ACLs, as
// TopicCommand makes its KafkaZkClient with isSecure = JaasUtils.isZkSaslEnabled().
func zkClientSecurity(connect string, jvm map[string]string) ([]zkmeta.Option, error) {
	login, err := serverprops.ZkSaslLogin(jvm)
	if err != nil {
		return nil, &uncaughtError{class: "org.apache.kafka.common.KafkaException", msg: err.Error()}
	}
	var opts []zkmeta.Option
	if login != nil {
		o, err := zkmeta.SASLOption(login, jvm)
		if err != nil {
			return nil, &uncaughtError{class: "javax.security.auth.login.LoginException", msg: err.Error()}
		}
		opts = append(opts, o, zkmeta.WithSecureACLs())
	}
	// No key of server.properties: each setting comes from its system property or Kafka's default.
	cfg, err := serverprops.FromMap(map[string]string{"zookeeper.connect": connect}, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("zookeeper client settings: %w", err)
	}
	z := cfg.ZkClientTLS(jvm)
	if !z.Enabled {
		return opts, nil
	}
	tc, err := tlsconf.ZooKeeper(z)
	if err != nil {
		return nil, &uncaughtError{class: "org.apache.zookeeper.common.X509Exception$SSLContextException", msg: err.Error()}
	}
	return append(opts, zkmeta.WithTLS(tc)), nil
}

func (s *zkService) getTopics() ([]string, error) {
	all, err := s.c.GetTopics()
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	return doGetTopics(all, s.o)
}

// brokerMetadatas is AdminZkClient.getBrokerMetadatas: registered brokers sorted by id, racks dropped when rack
// awareness is disabled, and an error when only some brokers have a rack.
func (s *zkService) brokerMetadatas(disableRackAware bool) ([]assign.BrokerMetadata, error) {
	brokers, err := s.c.GetAllBrokers()
	if err != nil {
		return nil, fmt.Errorf("read brokers: %w", err)
	}
	withRack := 0
	for _, b := range brokers {
		if b.Rack != "" {
			withRack++
		}
	}
	if !disableRackAware && withRack > 0 && withRack < len(brokers) {
		return nil, cmdErr("Not all brokers have rack information. Add --disable-rack-aware in command line to make replica assignment without rack information.")
	}
	out := make([]assign.BrokerMetadata, len(brokers))
	for i, b := range brokers {
		out[i] = assign.BrokerMetadata{ID: b.ID}
		if !disableRackAware && b.Rack != "" {
			r := b.Rack
			out[i].Rack = &r
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *zkService) createTopic(_ context.Context, tp *commandTopicPartition) error {
	assignment := tp.replicaAssignment
	if assignment == nil {
		brokers, err := s.brokerMetadatas(tp.disableRackAware)
		if err != nil {
			return err
		}
		np, rf := *tp.partitions, *tp.replicationFactor
		if np > 0 && rf > math.MaxInt16 {
			return cmdErr("Replication factor: %d larger than available brokers: %d.", rf, len(brokers))
		}
		if assignment, err = assign.ReplicasToBrokers(brokers, int32(np), int16(max(rf, -1)), -1, -1, s.rnd); err != nil {
			return err
		}
	}
	err := s.validateTopicCreate(tp.name, assignment)
	if err == nil {
		err = s.c.CreateTopic(tp.name, assignment, tp.configsToAdd, zkmeta.ZeroUuid)
		if errors.Is(err, zkmeta.ErrTopicExists) {
			err = &topicExistsError{fmt.Sprintf("Topic '%s' already exists.", tp.name)}
		}
	}
	var te *topicExistsError
	if errors.As(err, &te) && tp.ifNotExists {
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "Created topic %s.\n", tp.name)
	return nil
}

// topicExistsError is TopicExistsException.
type topicExistsError struct{ msg string }

func (e *topicExistsError) Error() string { return e.msg }

// validateTopicCreate is AdminZkClient.validateTopicCreate with Kafka's messages (LogConfig.validate already ran
// while parsing --config).
func (s *zkService) validateTopicCreate(topic string, assignment map[int32][]int32) error {
	if err := zkmeta.ValidateTopicName(topic); err != nil {
		return cmdErr("%s", strings.TrimPrefix(err.Error(), zkmeta.ErrInvalidTopic.Error()+": "))
	}
	exists, err := s.c.TopicExists(topic)
	if err != nil {
		return err
	}
	if exists {
		return &topicExistsError{fmt.Sprintf("Topic '%s' already exists.", topic)}
	}
	if strings.ContainsAny(topic, "._") {
		all, err := s.c.GetTopics()
		if err != nil {
			return err
		}
		var coll []string
		norm := func(t string) string { return strings.ReplaceAll(t, ".", "_") }
		for _, t := range all {
			if t == topic {
				return &topicExistsError{fmt.Sprintf("Topic '%s' already exists.", topic)}
			}
			if norm(t) == norm(topic) {
				coll = append(coll, t)
			}
		}
		if len(coll) > 0 {
			return cmdErr("Topic '%s' collides with existing topics: %s", topic, strings.Join(coll, ", "))
		}
	}
	sizes := map[int]bool{}
	for _, reps := range assignment {
		sizes[len(reps)] = true
	}
	if len(sizes) != 1 {
		return cmdErr("All partitions should have the same number of replicas")
	}
	for _, reps := range assignment {
		seen := map[int32]bool{}
		for _, r := range reps {
			if seen[r] {
				return cmdErr("Duplicate replica assignment found: %s", scalaMapString(assignment))
			}
			seen[r] = true
		}
	}
	var sum int64
	for p := range assignment {
		if p >= 0 {
			sum += int64(p)
		}
	}
	n := int64(len(assignment))
	if sum != n*(n-1)/2 {
		return cmdErr("partitions should be a consecutive 0-based integer sequence")
	}
	return nil
}

// scalaMapString renders a Map[Int, Seq[Int]] roughly as Scala's toString (keys sorted here).
func scalaMapString(m map[int32][]int32) string {
	keys := make([]int32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d -> List(%s)", k, assign.JoinIDs(m[k], ", "))
	}
	return "Map(" + strings.Join(parts, ", ") + ")"
}

func (s *zkService) listTopics(context.Context) error {
	topics, err := s.getTopics()
	if err != nil {
		return err
	}
	for _, t := range topics {
		marked, err := s.c.IsTopicMarkedForDeletion(t)
		if err != nil {
			return err
		}
		if marked {
			fmt.Fprintf(s.out, "%s - marked for deletion\n", t)
		} else {
			fmt.Fprintln(s.out, t)
		}
	}
	return nil
}

func (s *zkService) alterTopic(context.Context) error {
	topics, err := s.getTopics()
	if err != nil {
		return err
	}
	tp, err := newCommandTopicPartition(s.o, s.out)
	if err != nil {
		return err
	}
	if err := ensureTopicExists(topics, s.o); err != nil {
		return err
	}
	for _, topic := range topics {
		configs, err := s.c.GetEntityConfigs(zkmeta.ConfigTypeTopic, topic)
		if err != nil {
			return err
		}
		if s.o.has("config") || s.o.has("delete-config") {
			fmt.Fprintln(s.out, "WARNING: Altering topic configuration from this script has been deprecated and may be removed in future releases.")
			fmt.Fprintln(s.out, "         Going forward, please use kafka-configs.sh for this functionality")
			for k, v := range tp.configsToAdd {
				configs[k] = v
			}
			for _, k := range tp.configsToDelete {
				delete(configs, k)
			}
			if err := s.changeTopicConfig(topic, configs); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "Updated config for topic %s.\n", topic)
		}
		if tp.partitions != nil {
			if isInternal(topic) {
				return cmdErr("The number of partitions for the internal topic %s cannot be changed.", topic)
			}
			fmt.Fprintln(s.out, "WARNING: If partitions are increased for a topic that has a key, the partition "+
				"logic or ordering of the messages will be affected")
			if err := s.addPartitions(topic, tp); err != nil {
				return err
			}
			fmt.Fprintln(s.out, "Adding partitions succeeded!")
		}
	}
	return nil
}

// changeTopicConfig is AdminZkClient.changeTopicConfig: validate, write /config/topics/<t>, then notify.
func (s *zkService) changeTopicConfig(topic string, configs map[string]string) error {
	if err := zkmeta.ValidateTopicName(topic); err != nil {
		return cmdErr("%s", strings.TrimPrefix(err.Error(), zkmeta.ErrInvalidTopic.Error()+": "))
	}
	exists, err := s.c.TopicExists(topic)
	if err != nil {
		return err
	}
	if !exists {
		return cmdErr("Topic '%s' does not exist.", topic)
	}
	if err := serverprops.ValidateTopicConfig(configs); err != nil {
		return cmdErr("%s", err.Error())
	}
	if err := s.c.SetOrCreateEntityConfigs(zkmeta.ConfigTypeTopic, topic, configs); err != nil {
		return fmt.Errorf("write config of %s: %w", topic, err)
	}
	if _, err := s.c.CreateConfigChangeNotification(zkmeta.ConfigTypeTopic + "/" + topic); err != nil {
		return fmt.Errorf("config change notification for %s: %w", topic, err)
	}
	return nil
}

// addPartitions is the ZooKeeper branch of TopicCommand's --alter --partitions: AdminZkClient.addPartitions with
// createNewPartitionsAssignment, then setData of the topic znode keeping its topic id and reassignment state.
func (s *zkService) addPartitions(topic string, tp *commandTopicPartition) error {
	ta, ok, err := s.c.GetTopicAssignment(topic)
	if err != nil {
		return err
	}
	if !ok || len(ta.Partitions) == 0 {
		return cmdErr("The topic %s does not exist", topic)
	}
	existing := len(ta.Partitions)
	var manual map[int32][]int32
	if tp.replicaAssignment != nil {
		// LinkedHashMap.drop(existing): the entries past the existing count, keyed by their position.
		for p, reps := range tp.replicaAssignment {
			if int(p) >= existing {
				if manual == nil {
					manual = map[int32][]int32{}
				}
				manual[p] = reps
			}
		}
	}
	brokers, err := s.brokerMetadatas(false)
	if err != nil {
		return err
	}
	p0, ok := ta.Partitions[0]
	if !ok {
		return cmdErr("Unexpected existing replica assignment for topic '%s', partition id 0 is missing. Assignment: %s", topic, scalaMapString(replicasOf(ta)))
	}
	numPartitions := *tp.partitions
	if numPartitions-int64(existing) <= 0 {
		return cmdErr("The number of partitions for a topic can only be increased. Topic %s currently has %d partitions, %d would not be an increase.",
			topic, existing, numPartitions)
	}
	rf := len(p0.Replicas)
	if manual != nil {
		if err := validateReplicaAssignment(manual, rf, brokers); err != nil {
			return err
		}
	} else {
		start := 0
		if len(p0.Replicas) > 0 {
			for i, b := range brokers {
				if b.ID >= p0.Replicas[0] {
					start = i
					break
				}
			}
		}
		manual, err = assign.ReplicasToBrokers(brokers, int32(numPartitions-int64(existing)), int16(rf), int32(start), int32(existing), nil)
		if err != nil {
			return err
		}
	}
	for p, reps := range manual {
		ta.Partitions[p] = zkmeta.ReplicaAssignment{Replicas: reps}
	}
	if err := s.c.SetTopicAssignment(topic, ta, zkmeta.MatchAnyVersion); err != nil {
		return fmt.Errorf("write assignment of %s: %w", topic, err)
	}
	return nil
}

func replicasOf(ta zkmeta.TopicAssignment) map[int32][]int32 {
	m := map[int32][]int32{}
	for p, r := range ta.Partitions {
		m[p] = r.Replicas
	}
	return m
}

// validateReplicaAssignment is AdminZkClient.validateReplicaAssignment.
func validateReplicaAssignment(ra map[int32][]int32, rf int, brokers []assign.BrokerMetadata) error {
	avail := map[int32]bool{}
	var ids []string
	for _, b := range brokers {
		avail[b.ID] = true
		ids = append(ids, fmt.Sprint(b.ID))
	}
	parts := make([]int32, 0, len(ra))
	for p := range ra {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	for _, p := range parts {
		reps := ra[p]
		if len(reps) == 0 {
			return cmdErr("Cannot have replication factor of 0 for partition id %d.", p)
		}
		seen := map[int32]bool{}
		for _, r := range reps {
			if seen[r] {
				return cmdErr("Duplicate brokers not allowed in replica assignment: %s for partition id %d.", assign.JoinIDs(reps, ", "), p)
			}
			seen[r] = true
		}
		for _, r := range reps {
			if !avail[r] {
				return cmdErr("Some brokers specified for partition id %d are not available. Specified brokers: %s, available brokers: %s.",
					p, assign.JoinIDs(reps, ", "), strings.Join(ids, ", "))
			}
		}
	}
	var bad, rfs []string
	for _, p := range parts {
		if len(ra[p]) != rf {
			bad = append(bad, fmt.Sprint(p))
			rfs = append(rfs, fmt.Sprint(len(ra[p])))
		}
	}
	if len(bad) > 0 {
		return cmdErr("Inconsistent replication factor between partitions, partition 0 has %d while partitions [%s] have replication factors [%s], respectively.",
			rf, strings.Join(bad, ", "), strings.Join(rfs, ", "))
	}
	return nil
}

func (s *zkService) describeTopic(context.Context) error {
	topics, err := s.getTopics()
	if err != nil {
		return err
	}
	if err := ensureTopicExists(topics, s.o); err != nil {
		return err
	}
	brokers, err := s.c.GetSortedBrokerList()
	if err != nil {
		return err
	}
	live := map[int32]bool{}
	for _, b := range brokers {
		live[b] = true
	}
	d := newDescribeOptions(s.o, live)
	for _, topic := range topics {
		ta, ok, err := s.c.GetTopicAssignment(topic)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintf(s.out, "Topic %s doesn't exist!\n", topic)
			continue
		}
		marked, err := s.c.IsTopicMarkedForDeletion(topic)
		if err != nil {
			return err
		}
		parts := make([]int32, 0, len(ta.Partitions))
		for p := range ta.Partitions {
			parts = append(parts, p)
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
		if d.describeConfigs {
			configs, err := s.c.GetEntityConfigs(zkmeta.ConfigTypeTopic, topic)
			if err != nil {
				return err
			}
			if !s.o.has("topics-with-overrides") || len(configs) > 0 {
				keys := make([]string, 0, len(configs))
				for k := range configs {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				rf := 0
				if len(parts) > 0 {
					// Kafka takes the first entry of its decoded map; every partition normally has the same count.
					rf = len(ta.Partitions[parts[0]].Replicas)
				}
				topicDescription{topic: topic, id: ta.TopicID, numPartitions: len(parts), replicationFactor: rf,
					configs: configString(keys, configs), markedForDeletion: marked}.print(s.out)
			}
		}
		if d.describePartitions {
			for _, p := range parts {
				reps := ta.Partitions[p].Replicas
				pd := partitionDescription{topic: topic, partition: p, leader: -1, replicas: reps, isr: []int32{},
					markedForDeletion: marked, replicationFactor: len(reps)}
				st, ok, err := s.c.GetPartitionState(zkmeta.TopicPartition{Topic: topic, Partition: p})
				if err != nil {
					return err
				}
				if ok {
					pd.leader, pd.isr = st.Leader, st.ISR
				}
				d.maybePrint(s.out, pd)
			}
		}
	}
	return nil
}

func (s *zkService) deleteTopic(context.Context) error {
	topics, err := s.getTopics()
	if err != nil {
		return err
	}
	if err := ensureTopicExists(topics, s.o); err != nil {
		return err
	}
	for _, topic := range topics {
		if isInternal(topic) {
			return cmdErr("Topic %s is a kafka internal topic and is not allowed to be marked for deletion.", topic)
		}
		err := s.c.CreateDeleteTopicPath(topic)
		switch {
		case err == nil:
			fmt.Fprintf(s.out, "Topic %s is marked for deletion.\n", topic)
			fmt.Fprintln(s.out, "Note: This will have no impact if delete.topic.enable is not set to true.")
		case errors.Is(err, zk.ErrNodeExists):
			fmt.Fprintf(s.out, "Topic %s is already marked for deletion.\n", topic)
		default:
			return cmdErr("Error while deleting topic %s", topic)
		}
	}
	return nil
}
