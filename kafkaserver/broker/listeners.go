package broker

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"time"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
	"github.com/zkafka/zkafka/kafkaserver/sasl"
	"github.com/zkafka/zkafka/kafkaserver/tlsconf"
	"github.com/zkafka/zkafka/kwire"
)

// listenerTLS is an SSL or SASL_SSL listener's server TLS and principal mapping (zero for the others).
type listenerTLS struct {
	tls    *tlsconf.Dynamic
	mapper *tlsconf.PrincipalMapper
}

// newListenerTLS builds l's TLS from cfg; a bad store is an error, as SocketServer's channel builder fails.
func newListenerTLS(cfg *serverprops.Config, l serverprops.Listener) (listenerTLS, error) {
	if !serverprops.UsesTLS(l.SecurityProtocol) {
		return listenerTLS{}, nil
	}
	settings := cfg.ListenerSSL(l.Name)
	d, err := tlsconf.NewServerTLS(settings, l.Name == cfg.InterBrokerListenerName)
	if err != nil {
		return listenerTLS{}, fmt.Errorf("listener %s: %w", l, err)
	}
	m, err := tlsconf.NewPrincipalMapper(settings.PrincipalMappingRules)
	if err != nil {
		return listenerTLS{}, fmt.Errorf("listener %s: %w", l, err)
	}
	return listenerTLS{tls: d, mapper: m}, nil
}

// startListener opens l (SocketServer's acceptor and processors for it) with cfg's settings and serves it.
func (b *Broker) startListener(cfg *serverprops.Config, l serverprops.Listener, lt listenerTLS) error {
	kc := kwire.Config{
		Addr: l.Address(), ListenerName: l.Name, MaxRequestBytes: cfg.SocketRequestMaxBytes,
		ConnectionsMaxIdle: time.Duration(cfg.ConnectionsMaxIdleMs) * time.Millisecond,
		Logger:             b.named("kafka.network.SocketServer"),
		SendBufferBytes:    int(cfg.SocketSendBufferBytes), ReceiveBufferBytes: int(cfg.SocketReceiveBufferBytes),
		Admission: connAdmitter{b.connQuotas}, Handled: b.handlers.Handled, RequestMetrics: b.reqMetrics,
		ApiVersionsHook: b.finalizedFeatures,
	}
	if lt.tls != nil {
		kc.TLS, kc.TLSPrincipal = lt.tls.Config(), lt.mapper.Name
	}
	if l.SecurityProtocol == serverprops.SaslPlaintext || l.SecurityProtocol == serverprops.SaslSSL {
		// The JAAS file comes as Kafka's scripts pass it: -Djava.security.auth.login.config in KAFKA_OPTS.
		var err error
		if kc.SASL, err = sasl.ForListener(cfg, l.Name, sasl.ListenerOptions{
			JaasFile: b.jvm[serverprops.JavaLoginConfig], SystemProps: b.jvm, Credentials: b.creds, Tokens: b.tokens,
			Logger: b.named("org.apache.kafka.common.security.authenticator.SaslServerAuthenticator"),
		}); err != nil {
			return fmt.Errorf("listener %s: %w", l, err)
		}
	}
	s, err := kwire.Listen(kc, b.mux)
	if err != nil {
		return fmt.Errorf("listener %s: %w", l, err)
	}
	if lt.tls != nil {
		b.stores.add(l.Name, lt.tls)
	}
	b.serversMu.Lock()
	b.servers[l.Name] = s
	b.serversMu.Unlock()
	b.logger.Info("listening", "listener", l.Name, "addr", s.Addr().String())
	return nil
}

// stopListener closes a listener and its connections (SocketServer.removeListeners).
func (b *Broker) stopListener(name string) error {
	b.serversMu.Lock()
	s := b.servers[name]
	delete(b.servers, name)
	b.serversMu.Unlock()
	if s == nil {
		return nil
	}
	err := s.Close()
	b.stores.remove(name)
	b.connQuotas.RemoveListener(name)
	b.logger.Info("stopped listener", "listener", name)
	return err
}

// server is the running server of a listener.
func (b *Broker) server(name string) *kwire.Server {
	b.serversMu.Lock()
	defer b.serversMu.Unlock()
	return b.servers[name]
}

// runningServers are the listeners' servers, by listener name.
func (b *Broker) runningServers() map[string]*kwire.Server {
	b.serversMu.Lock()
	defer b.serversMu.Unlock()
	return maps.Clone(b.servers)
}

// reconfigureListeners is DynamicListenerConfig.reconfigure, after the dynamic config manager took next (its
// validation has passed): the listeners next drops are closed, the SSL stores of the others reconfigured, the
// listeners it adds opened, and the registration in /brokers/ids/<id> rewritten with next's advertised
// listeners, which the controller sends on to every broker (processBrokerModification). A listener that
// cannot open is logged and left out, as Kafka's reconfigure failure is.
func (b *Broker) reconfigureListeners(prev, next *serverprops.Config) {
	if !dynconfig.ListenersChanged(prev, next) {
		if err := b.stores.apply(next); err != nil {
			b.logger.Error("SSL stores not reconfigured", "err", err)
		}
		return
	}
	keep := map[string]bool{}
	for _, l := range next.Listeners {
		keep[l.Name] = true
	}
	running := b.runningServers()
	for _, name := range slices.Sorted(maps.Keys(running)) {
		if !keep[name] {
			if err := b.stopListener(name); err != nil {
				b.logger.Warn("close listener", "listener", name, "err", err)
			}
		}
	}
	if err := b.stores.apply(next); err != nil {
		b.logger.Error("SSL stores not reconfigured", "err", err)
	}
	for _, l := range next.Listeners {
		if running[l.Name] != nil {
			continue
		}
		lt, err := newListenerTLS(next, l)
		if err == nil {
			err = b.startListener(next, l, lt)
		}
		if err != nil {
			b.logger.Error("listener not added", "listener", l.Name, "err", err)
		}
	}
	if err := b.updateBrokerInfo(); err != nil {
		b.logger.Error("broker registration not updated", "err", err)
	}
}

// updateBrokerInfo rewrites this broker's registration from the current config (KafkaController.updateBrokerInfo).
func (b *Broker) updateBrokerInfo() error {
	info, err := b.brokerInfo()
	if err != nil {
		return err
	}
	if err := b.zk.UpdateBrokerInfo(info); err != nil {
		return fmt.Errorf("update /brokers/ids/%d: %w", b.brokerID, err)
	}
	b.logger.Info("updated broker registration", "endpoints", len(info.Endpoints))
	return nil
}

// closeListeners closes every listener, as KafkaServer.shutdown stops the socket server first.
func (b *Broker) closeListeners() error {
	var errs []error
	for name, s := range b.runningServers() {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close listener %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// boundPort is the port a listener is bound to (0 when it is not running).
func (b *Broker) boundPort(name string) int32 {
	if s := b.server(name); s != nil {
		return int32(s.Addr().(*net.TCPAddr).Port)
	}
	return 0
}
