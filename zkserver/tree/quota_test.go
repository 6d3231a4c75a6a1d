package tree

import (
	"maps"
	"reflect"
	"testing"

	"github.com/zkafka/zkafka/jute"
)

func TestParseStatsStrict(t *testing.T) {
	for _, c := range []struct {
		in   string
		want statsTrack // nil: Apache's StatsTrack throws
	}{
		{"", statsTrack{}},
		{",,;", statsTrack{}},
		{"count=1,bytes=2", statsTrack{"count": 1, "bytes": 2}},
		{"count=-1,bytes=-1=;byteHardLimit=6;countHardLimit=3",
			statsTrack{"count": -1, "bytes": -1, "byteHardLimit": 6, "countHardLimit": 3}},
		{"count==5;bytes=+7=", statsTrack{"count": -1, "bytes": 7}},
		{"count=1,,;bytes=2;", statsTrack{"count": 1, "bytes": 2}},
		{"garbage", nil},
		{"count=", nil},
		{",count=5", nil},
		{"count=abc", nil},
		{"count=99999999999999999999", nil},
	} {
		got, ok := parseStatsStrict([]byte(c.in))
		if (c.want == nil) != !ok || (ok && !maps.Equal(got, c.want)) {
			t.Errorf("%q: %v %v, want %v", c.in, got, ok, c.want)
		}
	}
}

func TestCheckQuota(t *testing.T) {
	h := newHarness(t, Options{})
	h.create(0, "/q", "ab", false)
	h.create(0, "/q/sub", "", false)
	h.create(0, "/zookeeper/quota/q", "", false)
	h.create(0, "/zookeeper/quota/q/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=6;countHardLimit=3", false)
	h.create(0, "/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0", false)
	// Stats now count=2,bytes=2.
	for _, c := range []struct {
		path         string
		bytes, count int64
		want         QuotaCheck
	}{
		{"/other", 100, 1, QuotaCheck{}},
		{"/q/a", 0, 1, QuotaCheck{Prefix: "/q"}},
		{"/q/sub/a", 4, 1, QuotaCheck{Prefix: "/q"}},
		{"/q/a", 0, 2, QuotaCheck{Prefix: "/q", Exceeded: true,
			Warnings: []string{"Quota exceeded: /q [current count=4, hardCountLimit=3]"}}},
		// The count fails first; the bytes are not looked at.
		{"/q/a", 100, 2, QuotaCheck{Prefix: "/q", Exceeded: true,
			Warnings: []string{"Quota exceeded: /q [current count=4, hardCountLimit=3]"}}},
		{"/q", 5, 0, QuotaCheck{Prefix: "/q", Exceeded: true,
			Warnings: []string{"Quota exceeded: /q [current bytes=7, hardByteLimit=6]"}}},
		{"/q", -2, 0, QuotaCheck{Prefix: "/q"}},
	} {
		if got := h.tr.CheckQuota(c.path, c.bytes, c.count); !reflect.DeepEqual(got, c.want) {
			t.Errorf("CheckQuota(%s, %d, %d) = %+v, want %+v", c.path, c.bytes, c.count, got, c.want)
		}
	}

	// Soft limits only warn; a hard limit of -1 leaves the soft one in force.
	setData := func(path, data string) {
		h.apply(0, jute.OpSetData, &jute.SetDataTxn{Path: path, Data: []byte(data), Version: -1})
	}
	setData("/zookeeper/quota/q/zookeeper_limits", "count=2,bytes=2=;countHardLimit=-1")
	want := QuotaCheck{Prefix: "/q", Warnings: []string{"Quota exceeded: /q [current count=3, softCountLimit=2]",
		"Quota exceeded: /q [current bytes=3, softByteLimit=2]"}}
	if got := h.tr.CheckQuota("/q/x", 1, 1); !reflect.DeepEqual(got, want) {
		t.Errorf("soft: %+v", got)
	}
	setData("/zookeeper/quota/q/zookeeper_limits", "count=2,bytes")
	if got := h.tr.CheckQuota("/q/x", 1, 1); !got.Malformed || got.Exceeded {
		t.Errorf("malformed limits: %+v", got)
	}

	// Metrics: limits (hard over soft) and usage summed by top-level name.
	setData("/zookeeper/quota/q/zookeeper_limits", "count=10,bytes=-1=;byteHardLimit=100")
	h.create(0, "/zookeeper/quota/q/sub", "", false)
	h.create(0, "/zookeeper/quota/q/sub/zookeeper_limits", "count=5,bytes=50", false)
	h.create(0, "/zookeeper/quota/q/sub/zookeeper_stats", "count=0,bytes=0", false)
	m := h.tr.QuotaMetrics()
	if m.CountLimit["q"] != 15 || m.BytesLimit["q"] != 150 || m.CountUsage["q"] != 3 || m.BytesUsage["q"] != 2 ||
		len(m.CountLimit) != 1 {
		t.Errorf("metrics %+v", m)
	}
	if TopNamespace("/a/b") != "a" || TopNamespace("/") != "" || TopNamespace("/a") != "a" {
		t.Error("TopNamespace")
	}
}
