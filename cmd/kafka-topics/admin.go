package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/javahash"
	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// apiTimeout is the Admin client's default.api.timeout.ms.
const apiTimeout = 60 * time.Second

// adminService is TopicCommand.AdminClientTopicService over franz-go's kadm (kmsg where kadm has no call for a
// manual replica assignment). --command-config gives client.id and the security settings (security.protocol, ssl.*,
// sasl.mechanism, sasl.jaas.config).
type adminService struct {
	cl  *kgo.Client
	adm *kadm.Client
	o   *options
	out io.Writer
}

func newAdminService(bootstrap string, o *options, jvm map[string]string, stdout io.Writer) (*adminService, error) {
	var seeds []string
	for _, s := range strings.Split(bootstrap, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...)}
	props := map[string]string{}
	if f, ok := o.value("command-config"); ok {
		var err error
		if props, err = loadProperties(f); err != nil {
			return nil, err
		}
		if id, ok := props["client.id"]; ok {
			opts = append(opts, kgo.ClientID(id))
		}
	}
	// KafkaAdminClient.createInternal wraps what fails in one exception.
	createFailed := func(err error) error {
		var cause *uncaughtError
		if !errors.As(err, &cause) {
			cause = &uncaughtError{class: "org.apache.kafka.common.KafkaException", msg: err.Error()}
		}
		return &uncaughtError{class: "org.apache.kafka.common.KafkaException", msg: "Failed to create new KafkaAdminClient",
			cause: cause}
	}
	sec, err := clientSecurity(props, jvm)
	if err != nil {
		return nil, createFailed(err)
	}
	cl, err := kgo.NewClient(append(opts, sec...)...)
	if err != nil {
		return nil, createFailed(err)
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(30 * time.Second / time.Millisecond))
	return &adminService{cl: cl, adm: adm, o: o, out: stdout}, nil
}

func (s *adminService) close() { s.adm.Close() }

// kafkaMessage is what ApiException.getMessage would be: the broker's message, else the error's default one.
func kafkaMessage(err error, msg string) error {
	if err == nil {
		return nil
	}
	if msg != "" {
		return &commandError{msg}
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		// Without a message the Java client uses the error's default one: kerr's description minus its name.
		_, msg, _ := strings.Cut(ke.Description, ": ")
		return &commandError{msg}
	}
	return err
}

func (s *adminService) getTopics(ctx context.Context) ([]string, error) {
	td, err := s.adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var names []string
	for name, d := range td {
		if s.o.has("exclude-internal") && d.IsInternal {
			continue // listTopics() without listInternal
		}
		names = append(names, name)
	}
	return doGetTopics(names, s.o)
}

func (s *adminService) createTopic(ctx context.Context, tp *commandTopicPartition) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if rf := tp.replicationFactor; rf != nil && (*rf > 32767 || *rf < 1) {
		return &commandError{"The replication factor must be between 1 and 32767 inclusive"}
	}
	if p := tp.partitions; p != nil && *p < 1 {
		return &commandError{"The partitions must be greater than 0"}
	}
	configs := map[string]*string{}
	for k, v := range tp.configsToAdd {
		configs[k] = kadm.StringPtr(v)
	}
	var err error
	if tp.replicaAssignment != nil {
		err = s.createWithAssignment(ctx, tp, configs)
	} else {
		np, rf := int32(-1), int16(-1)
		if tp.partitions != nil {
			np = int32(*tp.partitions)
		}
		if tp.replicationFactor != nil {
			rf = int16(*tp.replicationFactor)
		}
		// CreateTopics, not CreateTopic: the latter returns the bare error code and drops the broker's message.
		var rs kadm.CreateTopicResponses
		rs, err = s.adm.CreateTopics(ctx, np, rf, configs, tp.name)
		if err == nil {
			r, ok := rs[tp.name]
			if !ok {
				return fmt.Errorf("create topic %s: no result in the response", tp.name)
			}
			if errors.Is(r.Err, kerr.TopicAlreadyExists) && tp.ifNotExists {
				return nil
			}
			err = kafkaMessage(r.Err, r.ErrMessage)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "Created topic %s.\n", tp.name)
	return nil
}

func (s *adminService) createWithAssignment(ctx context.Context, tp *commandTopicPartition, configs map[string]*string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = tp.name, -1, -1
	for _, p := range sortedPartitions(tp.replicaAssignment) {
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition, ra.Replicas = p, tp.replicaAssignment[p]
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	}
	keys := make([]string, 0, len(configs))
	for k := range configs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, configs[k]
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, s.cl)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", tp.name, err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			if errors.Is(err, kerr.TopicAlreadyExists) && tp.ifNotExists {
				return nil
			}
			msg := ""
			if t.ErrorMessage != nil {
				msg = *t.ErrorMessage
			}
			return kafkaMessage(err, msg)
		}
	}
	return nil
}

func sortedPartitions(m map[int32][]int32) []int32 {
	ps := make([]int32, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

func (s *adminService) listTopics(ctx context.Context) error {
	topics, err := s.getTopics(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(s.out, strings.Join(topics, "\n"))
	return nil
}

func (s *adminService) alterTopic(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	tp, err := newCommandTopicPartition(s.o, s.out)
	if err != nil {
		return err
	}
	topics, err := s.existingTopics(ctx)
	if err != nil {
		return err
	}
	if len(topics) == 0 {
		return nil
	}
	details, err := s.adm.ListTopicsWithInternal(ctx, topics...)
	if err != nil {
		return fmt.Errorf("describe topics: %w", err)
	}
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = 30000
	for _, t := range topics {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = t, int32(*tp.partitions)
		if tp.replicaAssignment != nil {
			d := details[t]
			if d.Err != nil {
				return kafkaMessage(d.Err, "")
			}
			start := int32(len(d.Partitions))
			for _, p := range sortedPartitions(tp.replicaAssignment) {
				if p >= start {
					a := kmsg.NewCreatePartitionsRequestTopicAssignment()
					a.Replicas = tp.replicaAssignment[p]
					rt.Assignment = append(rt.Assignment, a)
				}
			}
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, s.cl)
	if err != nil {
		return fmt.Errorf("create partitions: %w", err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			msg := ""
			if t.ErrorMessage != nil {
				msg = *t.ErrorMessage
			}
			return kafkaMessage(err, msg)
		}
	}
	return nil
}

func (s *adminService) describeTopic(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	topics, err := s.existingTopics(ctx)
	if err != nil {
		return err
	}
	if len(topics) == 0 {
		return nil
	}
	rcs, err := s.adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return fmt.Errorf("describe configs: %w", err)
	}
	configsOf := map[string]kadm.ResourceConfig{}
	for _, rc := range rcs {
		configsOf[rc.Name] = rc
	}
	brokers, err := s.adm.ListBrokers(ctx)
	if err != nil {
		return fmt.Errorf("describe cluster: %w", err)
	}
	live := map[int32]bool{}
	for _, b := range brokers {
		live[b.NodeID] = true
	}
	details, err := s.adm.ListTopicsWithInternal(ctx, topics...)
	if err != nil {
		return fmt.Errorf("describe topics: %w", err)
	}
	for _, t := range topics {
		if d := details[t]; d.Err != nil {
			return kafkaMessage(d.Err, "")
		}
	}
	set := kadm.TopicsSet{}
	for _, t := range topics {
		set[t] = map[int32]struct{}{}
		for p := range details[t].Partitions {
			set[t][p] = struct{}{}
		}
	}
	reassign, err := s.adm.ListPartitionReassignments(ctx, set)
	if err != nil {
		// Older brokers or no cluster authorization: describe without reassignments, as Kafka does.
		// kgo reports a broker without the API (no ApiVersions entry) with an unexported error: match its text.
		if !errors.Is(err, kerr.UnsupportedVersion) && !errors.Is(err, kerr.ClusterAuthorizationFailed) &&
			!strings.Contains(err.Error(), "does not support") && !strings.Contains(err.Error(), "broker is too old") {
			return fmt.Errorf("list partition reassignments: %w", err)
		}
		reassign = nil
	}
	d := newDescribeOptions(s.o, live)
	// describeTopics(...).all() is a HashMap keyed by topic name, so topics come out in its order.
	for _, t := range javahash.HashMapOrder(topics) {
		td := details[t]
		rc := configsOf[t]
		if rc.Err != nil {
			return kafkaMessage(rc.Err, rc.ErrMessage)
		}
		var keys []string
		vals := map[string]string{}
		nonDefault := false
		var minIsr *int
		for _, c := range rc.Configs {
			v := ""
			if c.Value != nil {
				v = *c.Value
			}
			if c.Key == "min.insync.replicas" {
				if n, err := strconv.Atoi(v); err == nil {
					minIsr = &n
				}
			}
			if c.Source == kmsg.ConfigSourceDefaultConfig {
				continue
			}
			nonDefault = true
			if _, dup := vals[c.Key]; !dup {
				keys = append(keys, c.Key)
			}
			vals[c.Key] = v
		}
		parts := td.Partitions.Sorted()
		rfOf := func(p kadm.PartitionDetail) (int, *kadm.ListPartitionReassignmentsResponse) {
			if r, ok := reassign[t][p.Partition]; ok {
				changing := map[int32]bool{}
				for _, id := range append(append([]int32{}, r.AddingReplicas...), r.RemovingReplicas...) {
					changing[id] = true
				}
				for _, id := range p.Replicas {
					if changing[id] {
						n := 0
						adding := map[int32]bool{}
						for _, a := range r.AddingReplicas {
							adding[a] = true
						}
						for _, id := range r.Replicas {
							if !adding[id] {
								n++
							}
						}
						return n, &r
					}
				}
				return len(p.Replicas), &r
			}
			return len(p.Replicas), nil
		}
		if d.describeConfigs && (!s.o.has("topics-with-overrides") || nonDefault) && len(parts) > 0 {
			rf, _ := rfOf(parts[0])
			topicDescription{topic: t, id: zkmeta.Uuid(td.ID), numPartitions: len(parts), replicationFactor: rf,
				configs: configString(keys, vals)}.print(s.out)
		}
		if d.describePartitions {
			for _, p := range parts {
				rf, r := rfOf(p)
				pd := partitionDescription{topic: t, partition: p.Partition, leader: p.Leader, replicas: p.Replicas,
					isr: p.ISR, minIsr: minIsr, replicationFactor: rf}
				if p.Leader >= 0 && !live[p.Leader] {
					pd.leader = -1 // the metadata response names no such node: Kafka sees a null leader
				}
				if r != nil {
					pd.reassigning, pd.adding, pd.removing = true, r.AddingReplicas, r.RemovingReplicas
				}
				d.maybePrint(s.out, pd)
			}
		}
	}
	return nil
}

func (s *adminService) deleteTopic(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	topics, err := s.existingTopics(ctx)
	if err != nil {
		return err
	}
	if len(topics) == 0 {
		return nil
	}
	resps, err := s.adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	for _, r := range resps.Sorted() {
		if r.Err != nil {
			return kafkaMessage(r.Err, r.ErrMessage)
		}
	}
	return nil
}

// loadProperties reads a Java properties file as Utils.loadProps does; its errors are the exceptions that escape
// TopicCommand.
func loadProperties(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &uncaughtError{class: "java.nio.file.NoSuchFileException", msg: path}
	}
	defer f.Close()
	props, err := zoocfg.ParseProperties(f)
	if err != nil {
		return nil, &uncaughtError{class: "java.lang.IllegalArgumentException", msg: "Malformed \\uxxxx encoding."}
	}
	out := map[string]string{}
	for _, p := range props {
		out[p.Key] = p.Value
	}
	return out, nil
}

// existingTopics is getTopics for the commands that act on named topics: none found is an error unless
// --if-exists (ensureTopicExists).
func (s *adminService) existingTopics(ctx context.Context) ([]string, error) {
	topics, err := s.getTopics(ctx)
	if err != nil {
		return nil, err
	}
	if err := ensureTopicExists(topics, s.o); err != nil {
		return nil, err
	}
	return topics, nil
}
