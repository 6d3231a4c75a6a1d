package features

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

type fr = zkmeta.FinalizedRange
type vr = zkmeta.VersionRange

// Each of validateFeatureUpdate's refusals, with Kafka 2.8's messages, and the updates it accepts.
func TestPlan(t *testing.T) {
	existing := map[string]fr{"a": {MinLevel: 2, MaxLevel: 4}, "b": {MinLevel: 1, MaxLevel: 1}}
	supported := map[string]vr{"a": {Min: 2, Max: 6}, "c": {Min: 1, Max: 3}, "d": {Min: 3, Max: 5}}
	cases := []struct {
		u    Update
		code int16
		msg  string
	}{
		{Update{Feature: ""}, kerr.InvalidRequest.Code, "Feature name can not be empty."},
		{Update{Feature: "z", AllowDowngrade: true}, kerr.InvalidRequest.Code, "Can not delete non-existing finalized feature."},
		{Update{Feature: "a", MaxVersionLevel: -1}, kerr.InvalidRequest.Code,
			"Can not provide maxVersionLevel: -1 less than 1 without setting the allowDowngrade flag to true in the request."},
		{Update{Feature: "a", MaxVersionLevel: 4}, kerr.InvalidRequest.Code,
			"Can not upgrade a finalized feature from existing maxVersionLevel:4 to the same value."},
		{Update{Feature: "a", MaxVersionLevel: 4, AllowDowngrade: true}, kerr.InvalidRequest.Code,
			"Can not downgrade a finalized feature from existing maxVersionLevel:4 to the same value."},
		{Update{Feature: "a", MaxVersionLevel: 3}, kerr.InvalidRequest.Code,
			"Can not downgrade finalized feature from existing maxVersionLevel:4 to provided maxVersionLevel:3 without setting the allowDowngrade flag in the request."},
		{Update{Feature: "a", MaxVersionLevel: 5, AllowDowngrade: true}, kerr.InvalidRequest.Code,
			"When the allowDowngrade flag set in the request, the provided maxVersionLevel:5 can not be greater than existing maxVersionLevel:4."},
		{Update{Feature: "a", MaxVersionLevel: 1, AllowDowngrade: true}, kerr.InvalidRequest.Code,
			"Can not downgrade finalized feature to maxVersionLevel:1 because it's lower than the existing minVersionLevel:2."},
		{Update{Feature: "b", MaxVersionLevel: 2}, kerr.InvalidRequest.Code,
			"Could not apply finalized feature update because the provided feature is not supported."},
		{Update{Feature: "d", MaxVersionLevel: 2}, kerr.InvalidRequest.Code,
			"Could not apply finalized feature update because the provided maxVersionLevel:2 is lower than the supported minVersion:3."},
		{Update{Feature: "c", MaxVersionLevel: 3}, kerr.InvalidRequest.Code,
			"Could not apply finalized feature update because brokers were found to have incompatible versions for the feature."},
		{Update{Feature: "a", MaxVersionLevel: 6}, 0, "NONE"},
		{Update{Feature: "a", MaxVersionLevel: 3, AllowDowngrade: true}, 0, "NONE"},
		{Update{Feature: "b", AllowDowngrade: true}, 0, "NONE"},
		{Update{Feature: "d", MaxVersionLevel: 4}, 0, "NONE"},
	}
	// Broker 2 supports c only up to 2, so c at 3 is refused; d and a are within every broker's range.
	brokers := []map[string]vr{supported, {"a": {Min: 1, Max: 6}, "c": {Min: 1, Max: 2}, "d": {Min: 1, Max: 5}}}
	for _, c := range cases {
		target, res := Plan([]Update{c.u}, existing, supported, brokers)
		if len(res) != 1 || res[0].Feature != c.u.Feature || res[0].Code != c.code || res[0].Message != c.msg {
			t.Errorf("%+v: %+v", c.u, res)
			continue
		}
		if c.code != 0 {
			if len(target) != len(existing) || target["a"] != existing["a"] || target["b"] != existing["b"] {
				t.Errorf("%+v: refused update changed the target: %v", c.u, target)
			}
		}
	}
	target, res := Plan([]Update{{Feature: "a", MaxVersionLevel: 6}, {Feature: "b", AllowDowngrade: true},
		{Feature: "d", MaxVersionLevel: 4}, {Feature: "z", AllowDowngrade: true}}, existing, supported, brokers)
	want := map[string]fr{"a": {MinLevel: 2, MaxLevel: 6}, "d": {MinLevel: 3, MaxLevel: 4}}
	if len(target) != len(want) || target["a"] != want["a"] || target["d"] != want["d"] {
		t.Errorf("target %v, want %v", target, want)
	}
	if len(res) != 4 {
		t.Errorf("results %+v", res)
	}
	if existing["a"].MaxLevel != 4 || len(existing) != 2 {
		t.Errorf("Plan changed the existing features: %v", existing)
	}
}

func TestCache(t *testing.T) {
	c := NewCache(map[string]vr{"a": {Min: 1, Max: 3}})
	if _, e, ok := c.Get(); ok || e != -1 {
		t.Fatalf("empty cache: %d %v", e, ok)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- c.WaitEpoch(ctx, 2) }()
	if err := c.Update(map[string]fr{"a": {MinLevel: 1, MaxLevel: 2}}, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(map[string]fr{"a": {MinLevel: 1, MaxLevel: 3}}, 2); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("WaitEpoch: %v", err)
	}
	if err := c.Update(map[string]fr{}, 1); err == nil || !strings.Contains(err.Error(), "invalid epoch") {
		t.Errorf("epoch going back: %v", err)
	}
	for _, bad := range []map[string]fr{{"a": {MinLevel: 1, MaxLevel: 4}}, {"b": {MinLevel: 1, MaxLevel: 1}}} {
		if err := c.Update(bad, 3); err == nil || !strings.Contains(err.Error(), "feature compatibility checks failed") {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if fs, e, ok := c.Get(); !ok || e != 2 || fs["a"].MaxLevel != 3 {
		t.Errorf("after refusals: %v %d %v", fs, e, ok)
	}
	c.Clear()
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := c.WaitEpoch(short, 0); err == nil {
		t.Error("WaitEpoch on a cleared cache returned")
	}
}

func TestDecode(t *testing.T) {
	if _, err := Decode([]byte(`{"version":1,"status":1,"features":{"a":{"min_version_level":0,"max_version_level":1}}}`)); err == nil {
		t.Error("min level 0 accepted")
	}
	if _, err := Decode([]byte(`{"version":1,"status":1,"features":{"a":{"min_version_level":2,"max_version_level":1}}}`)); err == nil {
		t.Error("max below min accepted")
	}
	f, err := Decode([]byte(`{"features":{"a":{"min_version_level":1,"max_version_level":2}},"version":1,"status":1}`))
	if err != nil || f.Features["a"] != (fr{MinLevel: 1, MaxLevel: 2}) {
		t.Errorf("%+v %v", f, err)
	}
}
