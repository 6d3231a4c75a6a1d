// Package handler turns decoded Kafka requests into calls on the broker's parts (replica manager, metadata cache,
// ZooKeeper metadata) and builds the responses, one file per API family. Error codes are Kafka's, mapped in
// errors.go.
package handler

import (
	"log/slog"
	"math/rand/v2"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kafkaserver/controller"
	"github.com/zkafka/zkafka/kafkaserver/dtoken"
	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
	"github.com/zkafka/zkafka/kafkaserver/features"
	"github.com/zkafka/zkafka/kafkaserver/fetchsession"
	"github.com/zkafka/zkafka/kafkaserver/group"
	"github.com/zkafka/zkafka/kafkaserver/loggers"
	"github.com/zkafka/zkafka/kafkaserver/metrics"
	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kafkaserver/txn"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/kwire"
)

// Config is what the handlers need from the broker.
type Config struct {
	BrokerID  int32
	ClusterID string
	Props     *serverprops.Config
	ZK        *zkmeta.Client
	Replicas  *replica.Manager
	// Group is the group coordinator; nil leaves the group APIs unregistered.
	Group *group.Coordinator
	// ProducerIDs hands out producer ids; nil leaves InitProducerId unregistered.
	ProducerIDs *group.ProducerIDManager
	// Txn is the transaction coordinator; nil leaves the transaction APIs unregistered and InitProducerId refusing
	// transactional ids.
	Txn *txn.Coordinator
	// Controller is this broker's controller runtime; nil leaves the controller admin APIs unregistered.
	Controller *controller.Controller
	// DynConfig holds the dynamic broker configs; nil serves Props as they are.
	DynConfig *dynconfig.Manager
	// Loggers are the broker's named loggers, the BROKER_LOGGER config resource; nil refuses that resource.
	Loggers *loggers.Registry
	// Stats counts what produce and fetch requests move (BrokerTopicMetrics); nil counts into a value of its own.
	Stats *metrics.TopicStats
	// Quotas are the client quotas (producer_byte_rate, consumer_byte_rate, controller_mutation_rate); nil enforces
	// none.
	Quotas *quota.ClientQuotas
	// Features is the controller's feature versioning (UpdateFeatures); nil leaves UpdateFeatures unregistered.
	Features *features.Versioning
	// Authorizer is AclAuthorizer (authorizer.class.name); nil allows every request, as Kafka without one.
	Authorizer *acl.Authorizer
	// Tokens is the delegation token manager; nil (or one without a secret key) answers the token APIs
	// DELEGATION_TOKEN_AUTH_DISABLED.
	Tokens *dtoken.Manager
	// Seed seeds the random start index of replica assignment (Kafka draws it from a Random).
	Seed   uint64
	Logger *slog.Logger
}

// Handlers serves the broker's Kafka APIs.
type Handlers struct {
	cfg    Config
	stats  *metrics.TopicStats
	zk     *zkmeta.Client
	rm     *replica.Manager
	cache  *replica.MetadataCache
	props  *serverprops.Config
	logger *slog.Logger

	rndMu sync.Mutex
	rnd   *rand.Rand

	fetchSessions *fetchsession.Cache
}

// New returns the handlers for cfg.
func New(cfg Config) *Handlers {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Stats == nil {
		cfg.Stats = metrics.NewTopicStats()
	}
	return &Handlers{
		cfg: cfg, stats: cfg.Stats, zk: cfg.ZK, rm: cfg.Replicas, cache: cfg.Replicas.Cache(), props: cfg.Props, logger: cfg.Logger,
		rnd: rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.BrokerID))),
		fetchSessions: fetchsession.NewCache(int(cfg.Props.MaxIncrementalFetchSessionCacheSlots),
			fetchsession.DefaultEvictionMs, cfg.Seed^uint64(cfg.BrokerID)),
	}
}

// Register adds every API the broker serves to mux. Version ranges are Kafka 2.8's; kwire intersects them with
// its table.
func (h *Handlers) Register(mux *kwire.Mux) {
	// Appends must keep the client's order on a connection.
	mux.Handle(kmsg.Produce.Int16(), 0, 9, h.produce, kwire.Serial())
	// A fetch runs on its connection's reader, as Kafka runs every request (the channel muted meanwhile): consumers
	// keep one fetch in flight per connection, and the hop to a goroutine of its own cost 20-30 us of a fetch's
	// time to first byte on a 2-core VM.
	mux.Handle(kmsg.Fetch.Int16(), 0, 12, h.fetch, kwire.Serial())
	mux.Handle(kmsg.ListOffsets.Int16(), 0, 6, h.listOffsets)
	mux.Handle(kmsg.Metadata.Int16(), 0, 11, h.metadata)
	mux.Handle(kmsg.LeaderAndISR.Int16(), 0, 5, h.leaderAndIsr, kwire.Serial())
	mux.Handle(kmsg.StopReplica.Int16(), 0, 3, h.stopReplica, kwire.Serial())
	mux.Handle(kmsg.UpdateMetadata.Int16(), 0, 7, h.updateMetadata, kwire.Serial())
	mux.Handle(kmsg.FindCoordinator.Int16(), 0, 3, h.findCoordinator)
	mux.Handle(kmsg.CreateTopics.Int16(), 0, 7, h.createTopics)
	mux.Handle(kmsg.DeleteTopics.Int16(), 0, 6, h.deleteTopics)
	mux.Handle(kmsg.CreatePartitions.Int16(), 0, 3, h.createPartitions)
	mux.Handle(kmsg.DescribeConfigs.Int16(), 0, 4, h.describeConfigs)
	mux.Handle(kmsg.AlterConfigs.Int16(), 0, 2, h.alterConfigs)
	mux.Handle(kmsg.DescribeClientQuotas.Int16(), 0, 1, h.describeClientQuotas)
	mux.Handle(kmsg.AlterClientQuotas.Int16(), 0, 1, h.alterClientQuotas)
	mux.Handle(kmsg.IncrementalAlterConfigs.Int16(), 0, 1, h.incrementalAlterConfigs)
	mux.Handle(kmsg.DescribeCluster.Int16(), 0, 0, h.describeCluster)
	h.registerGroup(mux)
	h.registerProducer(mux)
	h.registerTxn(mux)
	h.registerLogAPIs(mux)
	h.registerControllerAdmin(mux)
	h.registerOffsetDelete(mux)
	h.registerControlledShutdown(mux)
	h.registerScramCredentials(mux)
	h.registerACLs(mux)
	h.registerFeatures(mux)
	h.registerDelegationTokens(mux)
}
