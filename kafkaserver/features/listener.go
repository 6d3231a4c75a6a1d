package features

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// Listen is FinalizedFeatureChangeListener: it loads /feature into the cache before returning (an error then
// stops the broker's start, as initOrThrow) and follows every later change, a new session included. A change the
// cache refuses is fatal for a Kafka broker ("The broker will eventually exit"): it is sent on the returned
// channel, after which the listener stops.
func Listen(ctx context.Context, zc *zkmeta.Client, cache *Cache, logger *slog.Logger) (<-chan error, error) {
	ch, err := zc.WatchData(ctx, zkmeta.FeaturePath)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", zkmeta.FeaturePath, err)
	}
	first, ok := <-ch
	if !ok {
		return nil, fmt.Errorf("watch %s: %w", zkmeta.FeaturePath, context.Cause(ctx))
	}
	if err := apply(cache, first, logger); err != nil {
		return nil, err
	}
	fatal := make(chan error, 1)
	go func() {
		for ev := range ch {
			switch ev.Type {
			case zkmeta.WatchCreated:
				logger.Info("Feature ZK node created", "path", zkmeta.FeaturePath)
			case zkmeta.WatchDeleted:
				logger.Warn("Feature ZK node deleted", "path", zkmeta.FeaturePath)
			case zkmeta.WatchDataChanged:
				logger.Info("Feature ZK node updated", "path", zkmeta.FeaturePath)
			}
			if err := apply(cache, ev, logger); err != nil {
				logger.Error("Failed to process feature ZK node change event. The broker will eventually exit.", "err", err)
				fatal <- err
				return
			}
		}
	}()
	return fatal, nil
}

// apply is FeatureCacheUpdater.updateLatestOrThrow for one state of /feature.
func apply(cache *Cache, ev zkmeta.WatchEvent, logger *slog.Logger) error {
	if !ev.Exists || ev.Stat == nil {
		logger.Info("Feature ZK node does not exist", "path", zkmeta.FeaturePath)
		cache.Clear()
		return nil
	}
	f, err := Decode(ev.Data)
	if err != nil {
		logger.Error("Unable to deserialize feature ZK node", "path", zkmeta.FeaturePath, "err", err)
		cache.Clear()
		return nil
	}
	if f.Status == zkmeta.FeatureDisabled {
		logger.Info("Feature ZK node is in disabled status.", "path", zkmeta.FeaturePath)
		cache.Clear()
		return nil
	}
	if err := cache.Update(f.Features, int64(ev.Stat.Version)); err != nil {
		return err
	}
	logger.Info("Updated finalized feature cache", "features", describe(f.Features, int64(ev.Stat.Version)))
	return nil
}

// Decode is FeatureZNode.decode: the znode's JSON with every finalized range valid.
func Decode(b []byte) (zkmeta.FeatureZNode, error) {
	f, err := zkmeta.DecodeFeatureZNode(b)
	if err != nil {
		return f, err
	}
	for _, n := range sortedKeys(f.Features) {
		if r := f.Features[n]; !validRange(r) {
			return f, fmt.Errorf("unable to convert to finalized features: %s has %s", n, finalizedString(r))
		}
	}
	return f, nil
}
