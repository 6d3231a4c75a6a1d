package broker

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/tlsconf"
)

// listenerStores are the TLS stores of the broker's SSL and SASL_SSL listeners and of its own client on the
// inter-broker listener, which dynamic broker configs (listener.name.<l>.ssl.keystore.* and truststore.*)
// replace while it runs: Kafka's SslFactory reconfigurables. It is the dynamic config manager's Reconfigurable.
type listenerStores struct {
	mu          sync.Mutex                  // guards servers: listeners come and go with dynamic updates
	servers     map[string]*tlsconf.Dynamic // by listener name
	client      *tlsconf.Dynamic            // nil unless the inter-broker listener uses TLS
	interBroker string                      // the inter-broker listener's name
	logf        func(msg string, args ...any)
}

// each calls f with every store, its listener and the listener's settings in next.
func (s *listenerStores) each(next *serverprops.Config, f func(name string, d *tlsconf.Dynamic, set serverprops.SSLSettings) error) error {
	s.mu.Lock()
	servers := maps.Clone(s.servers)
	s.mu.Unlock()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(servers)) {
		if err := f(name, servers[name], next.ListenerSSL(name)); err != nil {
			errs = append(errs, fmt.Errorf("listener %s: %w", name, err))
		}
	}
	if s.client != nil {
		if err := f(s.interBroker, s.client, next.ListenerSSL(s.interBroker)); err != nil {
			errs = append(errs, fmt.Errorf("inter-broker client on %s: %w", s.interBroker, err))
		}
	}
	return errors.Join(errs...)
}

// add and remove follow listeners added and removed.
func (s *listenerStores) add(name string, d *tlsconf.Dynamic) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servers[name] = d
}

func (s *listenerStores) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.servers, name)
}

// ValidateReconfiguration checks the stores next changes (DynamicBrokerConfig.processListenerReconfigurable with
// validateOnly).
func (s *listenerStores) ValidateReconfiguration(next *serverprops.Config) error {
	return s.each(next, func(_ string, d *tlsconf.Dynamic, set serverprops.SSLSettings) error {
		if !d.StoresChanged(set) {
			return nil
		}
		return d.Validate(set)
	})
}

// ReloadFiles reads again the store files that next leaves named as they are but that changed on disk
// (reloadUpdatedFilesWithoutConfigChange).
func (s *listenerStores) ReloadFiles(next *serverprops.Config) error {
	return s.each(next, func(name string, d *tlsconf.Dynamic, set serverprops.SSLSettings) error {
		if d.StoresChanged(set) {
			return nil // the config change itself replaces these stores
		}
		changed, err := d.Reconfigure(set)
		if changed {
			s.logf("reloaded changed SSL store files", "listener", name, "subject", subject(d))
		}
		return err
	})
}

// apply makes the stores next changes current, once the dynamic config manager has taken next.
func (s *listenerStores) apply(next *serverprops.Config) error {
	return s.each(next, func(name string, d *tlsconf.Dynamic, set serverprops.SSLSettings) error {
		if !d.StoresChanged(set) {
			return nil
		}
		changed, err := d.Reconfigure(set)
		if changed {
			s.logf("created new SSL engine builder", "listener", name, "keystore", set.KeystoreLocation,
				"truststore", set.TruststoreLocation, "subject", subject(d))
		}
		return err
	})
}

func subject(d *tlsconf.Dynamic) string {
	if c := d.Certificate(); c != nil {
		return c.Subject.String()
	}
	return ""
}
