package broker

import (
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// cleanerConfig is LogCleaner.cleanerConfig: the log cleaner's settings in cfg.
func cleanerConfig(cfg *serverprops.Config) klog.CleanerConfig {
	return klog.CleanerConfig{Enable: cfg.LogCleanerEnable, Threads: int(cfg.LogCleanerThreads),
		DedupeBufferSize: cfg.LogCleanerDedupeBufferSize, IoBufferLoadFactor: cfg.LogCleanerIoBufferLoadFactor,
		BackoffMs: cfg.LogCleanerBackoffMs, IoMaxBytesPerSecond: cfg.LogCleanerIoMaxBytesPerSecond}
}

// cleanerReconfigurableConfigs is LogCleaner.ReconfigurableConfigs: a change of any of them restarts its threads.
var cleanerReconfigurableConfigs = []string{"log.cleaner.threads", "log.cleaner.dedupe.buffer.size",
	"log.cleaner.io.buffer.load.factor", "log.cleaner.io.buffer.size", "message.max.bytes",
	"log.cleaner.io.max.bytes.per.second", "log.cleaner.backoff.ms"}

// cleanerChanged is DynamicBrokerConfig.needsReconfiguration for the log cleaner.
func cleanerChanged(prev, next *serverprops.Config) bool {
	return dynconfig.KeysChanged(prev, next, cleanerReconfigurableConfigs...)
}

// reconfigurables are the broker's parts that check a new config before it is taken, as Kafka's Reconfigurables
// and BrokerReconfigurables: the listeners' SSL stores and, while it runs, the log cleaner.
type reconfigurables struct{ b *Broker }

func (r reconfigurables) ValidateReconfiguration(next *serverprops.Config) error {
	if err := r.b.stores.ValidateReconfiguration(next); err != nil {
		return err
	}
	if c := r.cleaner(); c != nil && cleanerChanged(r.b.dyn.Current(), next) {
		return c.ValidateReconfiguration(int(next.LogCleanerThreads))
	}
	return nil
}

func (r reconfigurables) ReloadFiles(next *serverprops.Config) error {
	return r.b.stores.ReloadFiles(next)
}

// cleaner is the running log cleaner: none before the logs are open or with log.cleaner.enable off, when Kafka
// registers no LogCleaner.
func (r reconfigurables) cleaner() *klog.Cleaner {
	if r.b.logs == nil {
		return nil
	}
	return r.b.logs.Cleaner()
}

// reconfigureCleaner is LogCleaner.reconfigure on a taken broker config change that touches its keys.
func (b *Broker) reconfigureCleaner(prev, next *serverprops.Config) {
	c := reconfigurables{b}.cleaner()
	if c == nil || !cleanerChanged(prev, next) {
		return
	}
	if err := c.Reconfigure(cleanerConfig(next)); err != nil {
		b.logger.Error("log cleaner not reconfigured", "err", err)
	}
}
