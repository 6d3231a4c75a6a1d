package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/controller"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// API delivers the controller's requests (the controller.BrokerAPI methods): requests for this broker go straight
// to its replica manager; requests for other brokers go over the network to their inter-broker listener.
type API struct {
	self     int32
	rm       *replica.Manager
	zk       *zkmeta.Client
	listener string
	logger   *slog.Logger
	// opts are extra client options for the remote brokers (SASL on a SASL_PLAINTEXT inter-broker listener).
	opts []kgo.Opt

	mu      sync.Mutex
	clients map[remoteKey]*remote
}

// remoteKey names a connection to another broker: the controller's and the broker's own requests share one
// (channel ""), each replica fetcher has its own (channel "fetcher-N"), as each of Kafka's ReplicaFetcherThreads
// does, so that one fetcher's long poll does not hold up another's behind it on the same connection.
type remoteKey struct {
	broker  int32
	channel string
}

var _ controller.BrokerAPI = (*API)(nil)

type remote struct {
	addr string
	cl   *kgo.Client
}

func newAPI(self int32, rm *replica.Manager, zk *zkmeta.Client, listener string, logger *slog.Logger, opts ...kgo.Opt) *API {
	return &API{self: self, rm: rm, zk: zk, listener: listener, logger: logger, opts: opts, clients: map[remoteKey]*remote{}}
}

// LeaderAndIsr sends a LeaderAndIsr request to brokerID.
func (a *API) LeaderAndIsr(ctx context.Context, brokerID int32, req *kmsg.LeaderAndISRRequest) (*kmsg.LeaderAndISRResponse, error) {
	if brokerID == a.self {
		return a.rm.BecomeLeaderOrFollower(req), nil
	}
	resp, err := a.send(ctx, brokerID, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.LeaderAndISRResponse), nil
}

// UpdateMetadata sends an UpdateMetadata request to brokerID.
func (a *API) UpdateMetadata(ctx context.Context, brokerID int32, req *kmsg.UpdateMetadataRequest) (*kmsg.UpdateMetadataResponse, error) {
	if brokerID == a.self {
		return a.rm.UpdateMetadata(req), nil
	}
	resp, err := a.send(ctx, brokerID, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.UpdateMetadataResponse), nil
}

// StopReplica sends a StopReplica request to brokerID.
func (a *API) StopReplica(ctx context.Context, brokerID int32, req *kmsg.StopReplicaRequest) (*kmsg.StopReplicaResponse, error) {
	if brokerID == a.self {
		return a.rm.StopReplicas(req), nil
	}
	resp, err := a.send(ctx, brokerID, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.StopReplicaResponse), nil
}

// ControlledShutdown sends this broker's ControlledShutdown request to the controller in broker controllerID.
func (a *API) ControlledShutdown(ctx context.Context, controllerID int32, req *kmsg.ControlledShutdownRequest) (*kmsg.ControlledShutdownResponse, error) {
	resp, err := a.send(ctx, controllerID, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.ControlledShutdownResponse), nil
}

// send delivers req to a remote broker's inter-broker endpoint (read from its registration). The version is the
// highest both sides support. TODO: pin the version the controller chose for the cluster's IBP.
func (a *API) send(ctx context.Context, brokerID int32, req kmsg.Request) (kmsg.Response, error) {
	return a.sendOn(ctx, remoteKey{brokerID, ""}, req)
}

// fetcherSend is how replica fetcher id reaches its leaders: over a connection of its own to each.
func (a *API) fetcherSend(id int32) replica.Send {
	channel := fmt.Sprintf("fetcher-%d", id)
	return func(ctx context.Context, brokerID int32, req kmsg.Request) (kmsg.Response, error) {
		return a.sendOn(ctx, remoteKey{brokerID, channel}, req)
	}
}

func (a *API) sendOn(ctx context.Context, key remoteKey, req kmsg.Request) (kmsg.Response, error) {
	brokerID := key.broker
	cl, err := a.client(key)
	if err != nil {
		return nil, err
	}
	seeds := cl.SeedBrokers()
	if len(seeds) == 0 {
		return nil, fmt.Errorf("broker %d: no connection", brokerID)
	}
	resp, err := seeds[0].Request(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("request %s to broker %d: %w", kmsg.NameForKey(req.Key()), brokerID, err)
	}
	return resp, nil
}

func (a *API) client(key remoteKey) (*kgo.Client, error) {
	addr, err := a.address(key)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := a.clients[key]; ok {
		if r.addr == addr {
			return r.cl, nil
		}
		r.cl.Close()
	}
	id := fmt.Sprintf("broker-%d-controller", a.self)
	if key.channel != "" {
		id = fmt.Sprintf("broker-%d-%s", a.self, key.channel) // Kafka's fetcher threads' client id
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ClientID(id)}, a.opts...)...)
	if err != nil {
		return nil, fmt.Errorf("client for broker %d: %w", key.broker, err)
	}
	a.clients[key] = &remote{addr: addr, cl: cl}
	return cl, nil
}

// address finds the broker's inter-broker endpoint. Fetchers take it from the metadata cache, as Kafka's do, so
// that replication goes on without a ZooKeeper read per fetch and while ZooKeeper is away; the controller's
// requests, and a broker the cache does not know yet, read its registration.
func (a *API) address(key remoteKey) (string, error) {
	if key.channel != "" {
		if b, ok := a.rm.Cache().Broker(key.broker); ok {
			if e, ok := b.Endpoint(a.listener); ok {
				return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))), nil
			}
		}
	}
	info, ok, err := a.zk.GetBroker(key.broker)
	if err != nil {
		return "", fmt.Errorf("registration of broker %d: %w", key.broker, err)
	}
	if !ok {
		return "", fmt.Errorf("broker %d is not registered", key.broker)
	}
	for _, e := range info.Endpoints {
		if e.Listener == a.listener {
			return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))), nil
		}
	}
	return "", fmt.Errorf("broker %d has no %s endpoint", key.broker, a.listener)
}

func (a *API) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, r := range a.clients {
		r.cl.Close()
		delete(a.clients, id)
	}
}
