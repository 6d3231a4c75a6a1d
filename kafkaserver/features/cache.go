// Package features is Kafka 2.8's feature versioning (KIP-584) on a ZooKeeper-mode broker: the finalized features
// in /feature, the cache each broker keeps of them (served in ApiVersions v3), and the controller's
// UpdateFeatures.
package features

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// Supported is what this broker supports: nothing, as Kafka 2.8's BrokerFeatures.createDefault (its broker
// registration carries an empty "features" map too).
func Supported() map[string]zkmeta.VersionRange { return map[string]zkmeta.VersionRange{} }

// Cache is FinalizedFeatureCache: the finalized features of an enabled /feature and their epoch (the znode's
// version), empty while /feature is absent or disabled.
type Cache struct {
	supported map[string]zkmeta.VersionRange

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on each update: wakes WaitEpoch
	set      bool
	features map[string]zkmeta.FinalizedRange
	epoch    int64
}

// NewCache returns an empty cache checking updates against the broker's supported features.
func NewCache(supported map[string]zkmeta.VersionRange) *Cache {
	return &Cache{supported: supported, changed: make(chan struct{})}
}

// Get returns the finalized features and their epoch; ok is false while the cache is empty.
func (c *Cache) Get() (features map[string]zkmeta.FinalizedRange, epoch int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.set {
		return nil, -1, false
	}
	out := make(map[string]zkmeta.FinalizedRange, len(c.features))
	for n, r := range c.features {
		out[n] = r
	}
	return out, c.epoch, true
}

// Clear empties the cache (/feature absent, disabled or unreadable).
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set, c.features, c.epoch = false, nil, -1
	c.wake()
}

// Update is FinalizedFeatureCache.updateOrThrow: refused when the epoch goes back or a finalized feature is one
// the broker does not support in that range (a Kafka broker then exits).
func (c *Cache) Update(features map[string]zkmeta.FinalizedRange, epoch int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	latest := describe(features, epoch)
	if c.set && c.epoch > epoch {
		return fmt.Errorf("FinalizedFeatureCache update failed due to invalid epoch in new %s. The existing cache contents are %s.",
			latest, describe(c.features, c.epoch))
	}
	if bad := Incompatible(c.supported, features); len(bad) > 0 {
		return fmt.Errorf("FinalizedFeatureCache update failed since feature compatibility checks failed! Supported %s has incompatibilities with the latest %s: %s",
			describeSupported(c.supported), latest, strings.Join(bad, ", "))
	}
	c.set, c.features, c.epoch = true, features, epoch
	c.wake()
	return nil
}

func (c *Cache) wake() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// WaitEpoch is waitUntilEpochOrThrow: it returns once the cache holds epoch or a later one.
func (c *Cache) WaitEpoch(ctx context.Context, epoch int64) error {
	for {
		c.mu.Lock()
		done, changed := c.set && c.epoch >= epoch, c.changed
		c.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the finalized feature cache to reach epoch %d: %w", epoch, ctx.Err())
		}
	}
}

// Incompatible lists, as BrokerFeatures.incompatibleFeatures does in its log line, the finalized features a broker
// with these supported features cannot run with: unknown ones, and ranges outside the supported range.
func Incompatible(supported map[string]zkmeta.VersionRange, finalized map[string]zkmeta.FinalizedRange) []string {
	var bad []string
	for _, n := range sortedKeys(finalized) {
		f := finalized[n]
		s, ok := supported[n]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("{feature=%s, reason='Unsupported feature'}", n))
		case f.MinLevel < s.Min || f.MaxLevel > s.Max:
			bad = append(bad, fmt.Sprintf("{feature=%s, reason='%s is incompatible with %s'}", n, finalizedString(f), supportedString(s)))
		}
	}
	return bad
}

// validRange is FinalizedVersionRange's constructor check: levels start at 1 and max is not below min.
func validRange(r zkmeta.FinalizedRange) bool { return r.MinLevel >= 1 && r.MaxLevel >= r.MinLevel }

func finalizedString(r zkmeta.FinalizedRange) string {
	return fmt.Sprintf("FinalizedVersionRange[min_version_level:%d, max_version_level:%d]", r.MinLevel, r.MaxLevel)
}

func supportedString(r zkmeta.VersionRange) string {
	return fmt.Sprintf("SupportedVersionRange[min_version:%d, max_version:%d]", r.Min, r.Max)
}

func describe(features map[string]zkmeta.FinalizedRange, epoch int64) string {
	parts := make([]string, 0, len(features))
	for _, n := range sortedKeys(features) {
		parts = append(parts, fmt.Sprintf("(%s -> %s)", n, finalizedString(features[n])))
	}
	return fmt.Sprintf("FinalizedFeaturesAndEpoch(features=Features{%s}, epoch=%d)", strings.Join(parts, ", "), epoch)
}

func describeSupported(features map[string]zkmeta.VersionRange) string {
	parts := make([]string, 0, len(features))
	for _, n := range sortedKeys(features) {
		parts = append(parts, fmt.Sprintf("(%s -> %s)", n, supportedString(features[n])))
	}
	return "Features{" + strings.Join(parts, ", ") + "}"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
