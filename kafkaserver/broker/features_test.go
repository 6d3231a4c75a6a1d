package broker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// updateFeatures sends UpdateFeatures v0 to broker b.
func updateFeatures(t *testing.T, cl *kgo.Client, b *Broker, updates ...kmsg.UpdateFeaturesRequestFeatureUpdate) *kmsg.UpdateFeaturesResponse {
	t.Helper()
	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.TimeoutMillis, req.FeatureUpdates = 10000, updates
	resp, err := req.RequestWith(ctxT(t), cl.Broker(int(b.ID())))
	if err != nil {
		t.Fatalf("UpdateFeatures: %v", err)
	}
	return resp
}

func featureUpdate(name string, level int16, downgrade bool) kmsg.UpdateFeaturesRequestFeatureUpdate {
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.AllowDowngrade = name, level, downgrade
	return u
}

func finalizedEpoch(t *testing.T, cl *kgo.Client, b *Broker) (int64, []kmsg.ApiVersionsResponseFinalizedFeature) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "test", "1"
	resp, err := req.RequestWith(ctxT(t), cl.Broker(int(b.ID())))
	if err != nil || resp.Version != 3 {
		t.Fatalf("ApiVersions: %v (v%d)", err, resp.GetVersion())
	}
	return resp.FinalizedFeaturesEpoch, resp.FinalizedFeatures
}

// Feature versioning (KIP-584) as a Kafka 2.8 broker has it: the controller makes /feature enabled with no features
// (its byte layout Kafka's), ApiVersions v3 carries its epoch, and UpdateFeatures refuses every update as Kafka's
// controller does for a broker that supports no feature, NOT_CONTROLLER from the other broker. A finalized feature
// written later stops the brokers (fatal, as Kafka's listener), and a broker will not start with one.
func TestFeatureVersioning(t *testing.T) {
	c := newCluster(t)
	b0, b1, cl := twoBrokers(t, c, nil, nil)
	zc := b0.ZK()
	data, st, err := zc.GetDataAndStat(zkmeta.FeaturePath)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `{"features":{},"version":1,"status":1}`; got != want {
		t.Errorf("/feature = %s, want %s", got, want)
	}
	for _, b := range []*Broker{b0, b1} {
		c.waitFor("feature cache", func() bool {
			e, fs := finalizedEpoch(t, cl, b)
			return e == int64(st.Version) && len(fs) == 0
		})
	}

	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	resp := updateFeatures(t, cl, b1, featureUpdate("metadata.version", 1, false))
	if resp.ErrorCode != kerr.NotController.Code || str(resp.ErrorMessage) != "This is not the correct controller for this cluster." ||
		len(resp.Results) != 0 {
		t.Errorf("non-controller: %d %s %+v", resp.ErrorCode, str(resp.ErrorMessage), resp.Results)
	}
	resp = updateFeatures(t, cl, b0,
		featureUpdate("metadata.version", 2, false),
		featureUpdate("", 1, false),
		featureUpdate("gone", 0, true),
		featureUpdate("low", 0, false))
	if resp.ErrorCode != 0 || resp.ErrorMessage != nil {
		t.Errorf("top level: %d %s", resp.ErrorCode, str(resp.ErrorMessage))
	}
	want := map[string]string{
		"metadata.version": "Could not apply finalized feature update because the provided feature is not supported.",
		"":                 "Feature name can not be empty.",
		"gone":             "Can not delete non-existing finalized feature.",
		"low":              "Can not provide maxVersionLevel: 0 less than 1 without setting the allowDowngrade flag to true in the request.",
	}
	if len(resp.Results) != len(want) {
		t.Errorf("results %+v", resp.Results)
	}
	for _, r := range resp.Results {
		if r.ErrorCode != kerr.InvalidRequest.Code || str(r.ErrorMessage) != want[r.Feature] {
			t.Errorf("%q: %d %s", r.Feature, r.ErrorCode, str(r.ErrorMessage))
		}
	}
	if d2, st2, _ := zc.GetDataAndStat(zkmeta.FeaturePath); string(d2) != string(data) || st2.Version != st.Version {
		t.Errorf("/feature changed: %s v%d", d2, st2.Version)
	}

	// A finalized feature neither broker supports: both stop, as Kafka's brokers exit.
	if _, err := zc.Set(zkmeta.FeaturePath, []byte(`{"version":1,"status":1,"features":{"metadata.version":{"min_version_level":1,"max_version_level":1}}}`),
		zkmeta.MatchAnyVersion); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*Broker{b0, b1} {
		select {
		case err := <-b.Fatal():
			if !strings.Contains(err.Error(), "{feature=metadata.version, reason='Unsupported feature'}") {
				t.Errorf("fatal: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("broker %d did not stop on an unsupported finalized feature", b.ID())
		}
		_ = b.Close()
	}
	// Nor does a broker start with one.
	nb := New(c.config(fastShutdown), nil)
	err = nb.Start(context.Background())
	if err == nil {
		_ = nb.Close()
		t.Fatal("broker started with an unsupported finalized feature")
	}
	if !strings.Contains(err.Error(), "feature compatibility checks failed") {
		t.Errorf("start: %v", err)
	}
}

// Below inter.broker.protocol.version 2.7-IV0 feature versioning is off: the controller makes /feature disabled,
// ApiVersions has no finalized features, UpdateFeatures says so; a disabled /feature's features are cleared, and
// a finalized feature there does not stop the broker (it does not listen).
func TestFeatureVersioningDisabled(t *testing.T) {
	c := newCluster(t)
	zc0, err := zkmeta.Connect(c.zk+"/kafka", 6*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zc0.Close()
	if err := zc0.CreateTopLevelPaths(); err != nil {
		t.Fatal(err)
	}
	if err := zc0.CreateFeatureZNode(zkmeta.FeatureZNode{Status: zkmeta.FeatureDisabled,
		Features: map[string]zkmeta.FinalizedRange{"x": {MinLevel: 1, MaxLevel: 1}}}); err != nil {
		t.Fatal(err)
	}
	b := c.start("inter.broker.protocol.version=2.6")
	cl := c.client()
	c.waitFor("/feature cleared", func() bool {
		d, _, err := zc0.GetDataAndStat(zkmeta.FeaturePath)
		return err == nil && string(d) == `{"features":{},"version":1,"status":0}`
	})
	if e, fs := finalizedEpoch(t, cl, b); e != -1 || len(fs) != 0 {
		t.Errorf("ApiVersions: epoch %d features %+v", e, fs)
	}
	resp := updateFeatures(t, cl, b, featureUpdate("x", 1, false))
	if resp.ErrorCode != kerr.InvalidRequest.Code || resp.ErrorMessage == nil || *resp.ErrorMessage != "Feature versioning system is disabled." {
		t.Errorf("UpdateFeatures: %d %v", resp.ErrorCode, resp.ErrorMessage)
	}
}
