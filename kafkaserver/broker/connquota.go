package broker

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/connquota"
	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
	"github.com/zkafka/zkafka/kwire"
)

// ipConnectionRate is QuotaConfigs.IP_CONNECTION_RATE_OVERRIDE_CONFIG, the key of an /config/ips/<ip> entity.
const ipConnectionRate = "connection_creation_rate"

// newConnQuotas is SocketServer's ConnectionQuotas for the broker's listeners.
func newConnQuotas(cfg *serverprops.Config, logger *slog.Logger) (*connquota.Quotas, error) {
	limits, err := connLimits(cfg)
	if err != nil {
		return nil, err
	}
	window, _ := cfg.Int("quota.window.size.seconds")
	samples, _ := cfg.Int("quota.window.num")
	listeners := map[string]connquota.ListenerLimits{}
	for _, l := range cfg.Listeners {
		listeners[l.Name] = listenerConnLimits(cfg, l.Name)
	}
	return connquota.New(connquota.Config{Limits: limits, Listeners: listeners,
		InterBrokerListener: cfg.InterBrokerListenerName, QuotaWindow: time.Duration(window) * time.Second,
		QuotaSamples: int(samples), Logger: logger}), nil
}

// connLimits are the broker-wide limits of cfg, the override hosts resolved as InetAddress.getByName does.
func connLimits(cfg *serverprops.Config) (connquota.Limits, error) {
	rate, _ := cfg.Int("max.connection.creation.rate")
	l := connquota.Limits{MaxPerIP: int(cfg.MaxConnectionsPerIP), MaxConnections: int(cfg.MaxConnections),
		MaxCreationRate: int(rate), PerIPOverrides: map[netip.Addr]int{}}
	for host, n := range cfg.MaxConnectionsPerIPOverrides {
		addr, err := resolveHost(host)
		if err != nil {
			return connquota.Limits{}, fmt.Errorf("%s: %w", serverprops.MaxConnectionsPerIPOverrides, err)
		}
		l.PerIPOverrides[addr] = int(n)
	}
	return l, nil
}

// listenerConnLimits are a listener's max.connections and max.connection.creation.rate as its
// ListenerConnectionQuota reads them: listener.name.<listener>.<key> over the broker-wide value.
func listenerConnLimits(cfg *serverprops.Config, listener string) connquota.ListenerLimits {
	get := func(name string) int {
		v, _ := cfg.ListenerConfig(listener, name)
		n, err := strconv.Atoi(v)
		if err != nil {
			return math.MaxInt32
		}
		return n
	}
	return connquota.ListenerLimits{MaxConnections: get(serverprops.MaxConnections),
		MaxCreationRate: get("max.connection.creation.rate")}
}

// resolveHost is InetAddress.getByName: an address literal as is, a host name's first address (IPv4 first, as
// Java prefers without java.net.preferIPv6Addresses).
func resolveHost(host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap(), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("unable to resolve address %s: %v", host, err)
	}
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return a.Unmap(), nil
		}
	}
	return addrs[0], nil
}

// applyConnLimits is SocketServer.reconfigure and each ListenerConnectionQuota.reconfigure for a dynamic broker
// config change.
func (b *Broker) applyConnLimits(next *serverprops.Config) {
	limits, err := connLimits(next)
	if err != nil {
		b.logger.Error("connection limits not updated", "err", err)
		return
	}
	b.connQuotas.SetLimits(limits)
	for _, l := range next.Listeners {
		b.connQuotas.SetListenerLimits(l.Name, listenerConnLimits(next, l.Name))
	}
}

// applyIPQuota is IpConfigHandler: the connection creation rate of one IP (or of every IP, <default>), from its
// /config/ips entity (none when the entity is gone).
func (b *Broker) applyIPQuota(ip string, config map[string]string) error {
	var rate *int
	if v, ok := config[ipConnectionRate]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%s of %s: %w", ipConnectionRate, ip, err)
		}
		rate = &n
	}
	if ip == dynconfig.DefaultEntity {
		b.connQuotas.SetIPRate(nil, rate)
		return nil
	}
	addr, err := resolveHost(ip)
	if err != nil {
		return fmt.Errorf("Unable to resolve address %s", ip) //nolint:staticcheck // Kafka's message
	}
	b.connQuotas.SetIPRate(&addr, rate)
	return nil
}

// connAdmitter lets a listener consult the connection quotas.
type connAdmitter struct{ q *connquota.Quotas }

var _ kwire.Admitter = connAdmitter{}

func (a connAdmitter) Admit(ctx context.Context, listener string, addr netip.Addr) (kwire.Admission, error) {
	v, err := a.q.Admit(ctx, listener, addr)
	if err != nil {
		return kwire.Admission{}, err
	}
	switch v.Kind {
	case connquota.TooMany:
		// InetAddress.toString of an accepted socket's address: no host name, then the address.
		return kwire.Admission{Refused: true, Reason: fmt.Sprintf(
			"Rejected connection from /%s, address already has the configured maximum of %d connections.", addr, v.Max)}, nil
	case connquota.Throttled:
		return kwire.Admission{CloseAt: v.CloseAt}, nil
	}
	return kwire.Admission{}, nil
}

func (a connAdmitter) Release(listener string, addr netip.Addr) { a.q.Release(listener, addr) }
func (a connAdmitter) Exceeded(listener string) bool            { return a.q.Exceeded(listener) }
