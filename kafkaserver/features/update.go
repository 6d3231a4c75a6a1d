package features

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// Update is one FeatureUpdateKey of an UpdateFeatures request.
type Update struct {
	Feature         string
	MaxVersionLevel int16
	AllowDowngrade  bool
}

// IsDelete is UpdateFeaturesRequest.isDeleteRequest.
func (u Update) IsDelete() bool { return u.MaxVersionLevel < 1 && u.AllowDowngrade }

// Result is one feature's outcome. A successful update's message is "NONE", as Kafka's ApiError(Errors.NONE).
type Result struct {
	Feature string
	Code    int16
	Message string
}

// Plan is the validation of KafkaController.processFeatureUpdatesWithActiveController: each update checked against
// the existing finalized features (validateFeatureUpdate), the supported ones and the live brokers' supported
// features; the features to write and each feature's result, in the order Kafka's answer lists them. A later update
// of the same feature replaces the earlier one's result, as Kafka's map does.
func Plan(updates []Update, existing map[string]zkmeta.FinalizedRange, supported map[string]zkmeta.VersionRange,
	brokers []map[string]zkmeta.VersionRange) (map[string]zkmeta.FinalizedRange, []Result) {
	target := maps.Clone(existing)
	if target == nil {
		target = map[string]zkmeta.FinalizedRange{}
	}
	results := map[string]Result{}
	var names []string
	for _, u := range updates {
		old, has := existing[u.Feature]
		r, del, msg := validate(u, old, has, supported, brokers)
		switch {
		case msg != "":
			results[u.Feature] = Result{Feature: u.Feature, Code: kerr.InvalidRequest.Code, Message: msg}
		case del:
			delete(target, u.Feature)
			results[u.Feature] = Result{Feature: u.Feature, Message: "NONE"}
		default:
			target[u.Feature] = r
			results[u.Feature] = Result{Feature: u.Feature, Message: "NONE"}
		}
		names = append(names, u.Feature)
	}
	out := make([]Result, 0, len(results))
	for _, n := range zkmeta.ScalaMutableMapOrder(names) {
		out = append(out, results[n])
	}
	return target, out
}

// validate is validateFeatureUpdate: the new range, or del for a deletion, or Kafka's message for an invalid update.
func validate(u Update, old zkmeta.FinalizedRange, has bool, supported map[string]zkmeta.VersionRange,
	brokers []map[string]zkmeta.VersionRange) (r zkmeta.FinalizedRange, del bool, msg string) {
	switch {
	case u.Feature == "":
		return r, false, "Feature name can not be empty."
	case u.IsDelete():
		if !has {
			return r, false, "Can not delete non-existing finalized feature."
		}
		return r, true, ""
	case u.MaxVersionLevel < 1:
		return r, false, fmt.Sprintf("Can not provide maxVersionLevel: %d less than 1 without setting the allowDowngrade flag to true in the request.",
			u.MaxVersionLevel)
	case has && u.MaxVersionLevel == old.MaxLevel:
		verb := "upgrade"
		if u.AllowDowngrade {
			verb = "downgrade"
		}
		return r, false, fmt.Sprintf("Can not %s a finalized feature from existing maxVersionLevel:%d to the same value.", verb, old.MaxLevel)
	case has && u.MaxVersionLevel < old.MaxLevel && !u.AllowDowngrade:
		return r, false, fmt.Sprintf("Can not downgrade finalized feature from existing maxVersionLevel:%d to provided maxVersionLevel:%d without setting the allowDowngrade flag in the request.",
			old.MaxLevel, u.MaxVersionLevel)
	case has && u.AllowDowngrade && u.MaxVersionLevel > old.MaxLevel:
		return r, false, fmt.Sprintf("When the allowDowngrade flag set in the request, the provided maxVersionLevel:%d can not be greater than existing maxVersionLevel:%d.",
			u.MaxVersionLevel, old.MaxLevel)
	case has && u.MaxVersionLevel < old.MinLevel:
		return r, false, fmt.Sprintf("Can not downgrade finalized feature to maxVersionLevel:%d because it's lower than the existing minVersionLevel:%d.",
			u.MaxVersionLevel, old.MinLevel)
	}
	// newFinalizedVersionRangeOrIncompatibilityError.
	s, ok := supported[u.Feature]
	if !ok {
		return r, false, "Could not apply finalized feature update because the provided feature is not supported."
	}
	r = zkmeta.FinalizedRange{MinLevel: s.Min, MaxLevel: u.MaxVersionLevel}
	if !validRange(r) {
		return r, false, fmt.Sprintf("Could not apply finalized feature update because the provided maxVersionLevel:%d is lower than the supported minVersion:%d.",
			u.MaxVersionLevel, s.Min)
	}
	for _, b := range brokers {
		if len(Incompatible(b, map[string]zkmeta.FinalizedRange{u.Feature: r})) > 0 {
			return r, false, "Could not apply finalized feature update because brokers were found to have incompatible versions for the feature."
		}
	}
	return r, false, ""
}

// Versioning is the controller's side of feature versioning: /feature set up at each failover and UpdateFeatures,
// one at a time (Kafka runs both on its controller's event thread).
type Versioning struct {
	zk      *zkmeta.Client
	cache   *Cache
	enabled bool // inter.broker.protocol.version >= 2.7-IV0 (KafkaConfig.isFeatureVersioningSupported)
	wait    time.Duration
	log     *slog.Logger

	mu sync.Mutex
}

// NewVersioning returns the controller's feature versioning; cache is this broker's own, wait bounds the wait for
// it after a failover's write (zookeeper.connection.timeout.ms, as Kafka).
func NewVersioning(zc *zkmeta.Client, cache *Cache, enabled bool, wait time.Duration, logger *slog.Logger) *Versioning {
	return &Versioning{zk: zc, cache: cache, enabled: enabled, wait: wait, log: logger}
}

// Enabled reports whether feature versioning is on (UpdateFeatures otherwise answers INVALID_REQUEST).
func (v *Versioning) Enabled() bool { return v.enabled }

// SetUp is maybeSetupFeatureVersioning, run first in each controller failover: an absent /feature is created
// enabled with the supported features finalized (none), a disabled one enabled with no features, an enabled one
// kept; with versioning off /feature is made disabled with no features.
func (v *Versioning) SetUp(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	cur, _, exists, err := v.zk.GetFeatureZNode()
	if err != nil {
		// Unreadable JSON fails the failover, as FeatureZNode.decode's exception does.
		return fmt.Errorf("read %s: %w", zkmeta.FeaturePath, err)
	}
	var next zkmeta.FeatureZNode
	switch {
	case !v.enabled:
		next = zkmeta.FeatureZNode{Status: zkmeta.FeatureDisabled}
		if exists && cur.Status == zkmeta.FeatureDisabled && len(cur.Features) > 0 {
			v.log.Warn("FeatureZNode with disabled status contains non-empty features", "features", describe(cur.Features, -1))
		}
	case !exists:
		next = zkmeta.FeatureZNode{Status: zkmeta.FeatureEnabled, Features: defaultFinalized(Supported())}
	case cur.Status == zkmeta.FeatureEnabled:
		next = cur
	default:
		if len(cur.Features) > 0 {
			v.log.Warn("FeatureZNode with disabled status contains non-empty features", "features", describe(cur.Features, -1))
		}
		next = zkmeta.FeatureZNode{Status: zkmeta.FeatureEnabled}
	}
	if exists && next.Status == cur.Status && maps.Equal(next.Features, cur.Features) {
		return nil
	}
	var version int32 // a znode just created is at version 0
	if exists {
		v.log.Info("Updating FeatureZNode", "path", zkmeta.FeaturePath, "status", next.Status)
		version, err = v.zk.UpdateFeatureZNode(next)
	} else {
		v.log.Info("Creating FeatureZNode", "path", zkmeta.FeaturePath, "status", next.Status)
		err = v.zk.CreateFeatureZNode(next)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", zkmeta.FeaturePath, err)
	}
	if !v.enabled {
		return nil // the listener clears the cache; nothing to wait for, as Kafka
	}
	wctx, cancel := context.WithTimeout(ctx, v.wait)
	defer cancel()
	return v.cache.WaitEpoch(wctx, int64(version))
}

// defaultFinalized is BrokerFeatures.defaultFinalizedFeatures: every supported feature finalized at its range.
func defaultFinalized(supported map[string]zkmeta.VersionRange) map[string]zkmeta.FinalizedRange {
	out := make(map[string]zkmeta.FinalizedRange, len(supported))
	for n, r := range supported {
		out[n] = zkmeta.FinalizedRange{MinLevel: r.Min, MaxLevel: r.Max}
	}
	return out
}

// Update applies an UpdateFeatures request on the controller: the valid updates written to /feature in one
// write, waited for in the cache up to timeout; if that fails, the features that had passed validation answer
// FEATURE_UPDATE_FAILED.
func (v *Versioning) Update(ctx context.Context, updates []Update, timeout time.Duration) []Result {
	v.mu.Lock()
	defer v.mu.Unlock()
	existing, _, _ := v.cache.Get()
	if existing == nil {
		existing = map[string]zkmeta.FinalizedRange{}
	}
	var brokers []map[string]zkmeta.VersionRange
	supported := Supported()
	if needsBrokers(updates, supported) {
		infos, err := v.zk.GetAllBrokers()
		if err != nil {
			return failed(updates, err, v.log)
		}
		for _, b := range infos {
			brokers = append(brokers, b.Features)
		}
	}
	target, results := Plan(updates, existing, supported, brokers)
	if maps.Equal(target, existing) {
		return results
	}
	err := func() error {
		version, err := v.zk.UpdateFeatureZNode(zkmeta.FeatureZNode{Status: zkmeta.FeatureEnabled, Features: target})
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return v.cache.WaitEpoch(wctx, int64(version))
	}()
	if err != nil {
		v.log.Warn("Processing of feature updates failed", "err", err)
		for i := range results {
			if results[i].Code == 0 {
				results[i].Code, results[i].Message = kerr.FeatureUpdateFailed.Code, featureUpdateFailedMessage
			}
		}
	}
	return results
}

// featureUpdateFailedMessage is Errors.FEATURE_UPDATE_FAILED's message, what ApiError(FEATURE_UPDATE_FAILED) carries.
const featureUpdateFailedMessage = "Unable to update finalized features due to an unexpected server error."

// needsBrokers reports whether some update reaches the live brokers' compatibility check (a supported feature).
func needsBrokers(updates []Update, supported map[string]zkmeta.VersionRange) bool {
	for _, u := range updates {
		if _, ok := supported[u.Feature]; ok && !u.IsDelete() {
			return true
		}
	}
	return false
}

// failed answers every update with FEATURE_UPDATE_FAILED when the controller could not read what it needed.
func failed(updates []Update, err error, logger *slog.Logger) []Result {
	logger.Warn("Processing of feature updates failed", "err", err)
	var names []string
	for _, u := range updates {
		names = append(names, u.Feature)
	}
	var out []Result
	for _, n := range zkmeta.ScalaMutableMapOrder(names) {
		out = append(out, Result{Feature: n, Code: kerr.FeatureUpdateFailed.Code, Message: featureUpdateFailedMessage})
	}
	return out
}
